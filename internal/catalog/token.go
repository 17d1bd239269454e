package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Tokens are the API tokens kept in the catalog store, so that every
// replica sharing the store accepts the same ones: a token created or
// revoked through any replica (or the CLI) takes effect everywhere at the
// next refresh of the replicas' token sets.
type Tokens interface {
	// AddToken stores t (its ID, creation and revocation times are set by
	// the store) and returns it as stored.
	AddToken(ctx context.Context, t Token) (Token, error)
	// Tokens returns every token, active and revoked, by id.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes the active token with the given id; an error
	// wrapping ErrTokenNotFound when there is none.
	RevokeToken(ctx context.Context, id int64) error
	// RevokeTokenByName revokes the active token named name.
	RevokeTokenByName(ctx context.Context, name string) error
	// ImportTokens stores tokens kept elsewhere (a replica's local file),
	// with their creation and revocation times, skipping those whose hash
	// is already stored or whose name is taken by another active token.
	// It returns how many it stored.
	ImportTokens(ctx context.Context, tokens []Token) (int, error)
}

// Token scopes: what a token may be used for.
const (
	// ScopeMCP lets a token call the MCP endpoint (the default).
	ScopeMCP = "mcp"
	// ScopeMetrics lets a token read /metrics.
	ScopeMetrics = "metrics"
	// ScopeAdmin is reserved for the admin console.
	ScopeAdmin = "admin"
)

// Scopes lists the known scopes.
var Scopes = []string{ScopeMCP, ScopeMetrics, ScopeAdmin}

// ErrTokenNotFound is returned when no active token matches a revocation.
var ErrTokenNotFound = errors.New("no active token with that name or id")

// Token is a stored API token. Only the SHA-256 hash of the secret is
// kept: the secret itself is shown once, when the token is created.
type Token struct {
	ID   int64
	Name string
	// Hash is the hex SHA-256 of the whole token string.
	Hash string
	// AllDatasets grants every dataset, including ones added later;
	// otherwise only Datasets.
	AllDatasets bool
	Datasets    []int64
	// Scopes say what the token may be used for; empty means [ScopeMCP]
	// (tokens made before scopes existed).
	Scopes    []string
	CreatedAt time.Time
	// RevokedAt is zero while the token is active.
	RevokedAt time.Time
}

// Active reports whether t may still be used.
func (t Token) Active() bool { return t.RevokedAt.IsZero() }

// HasScope reports whether t may be used for scope.
func (t Token) HasScope(scope string) bool {
	if len(t.Scopes) == 0 {
		return scope == ScopeMCP
	}
	return slices.Contains(t.Scopes, scope)
}

// ValidateToken checks a token before it is stored.
func ValidateToken(t Token) error {
	if t.Name == "" || t.Hash == "" {
		return errors.New("add token: name and hash are required")
	}
	for _, s := range t.Scopes {
		if !slices.Contains(Scopes, s) {
			return fmt.Errorf("unknown token scope %q (known: %s)", s, strings.Join(Scopes, ", "))
		}
	}
	return nil
}

// CheckTokenName refuses names that could be mistaken for an id or that
// would garble a listing.
func CheckTokenName(name string) error {
	if name == "" {
		return errors.New("token name is empty")
	}
	if len(name) > 100 {
		return errors.New("token name longer than 100 characters")
	}
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return fmt.Errorf("token name %q is a number; names must not look like ids", name)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_.@", r) {
			return fmt.Errorf("token name %q contains %q", name, r)
		}
	}
	return nil
}

// tokenAllDatasets is how an all-datasets grant is stored in the datasets
// column.
const tokenAllDatasets = `"all"`

// EncodeTokenGrant returns the stored form of t's datasets and scopes.
func EncodeTokenGrant(t Token) (datasets, scopes string) {
	datasets = tokenAllDatasets
	if !t.AllDatasets {
		ids := make([]string, len(t.Datasets))
		for i, id := range t.Datasets {
			ids[i] = fmt.Sprint(id)
		}
		datasets = "[" + strings.Join(ids, ",") + "]"
	}
	sc := t.Scopes
	if len(sc) == 0 {
		sc = []string{ScopeMCP}
	}
	return datasets, strings.Join(sc, " ")
}

// DecodeTokenGrant sets t's datasets and scopes from their stored form.
func DecodeTokenGrant(t *Token, datasets, scopes string) error {
	t.AllDatasets, t.Datasets = false, []int64{}
	if datasets == tokenAllDatasets {
		t.AllDatasets, t.Datasets = true, nil
	} else {
		inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(datasets), "["), "]"))
		for _, f := range strings.Split(inner, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			var id int64
			if _, err := fmt.Sscan(f, &id); err != nil {
				return fmt.Errorf("token %d: decode datasets %q", t.ID, datasets)
			}
			t.Datasets = append(t.Datasets, id)
		}
	}
	t.Scopes = strings.Fields(scopes)
	return nil
}

// DescribeGrant says which datasets t may query, for listings: "all
// datasets", "no dataset" or "datasets 1, 4".
func DescribeGrant(t Token) string {
	if t.AllDatasets {
		return "all datasets"
	}
	if len(t.Datasets) == 0 {
		return "no dataset"
	}
	ids := make([]string, len(t.Datasets))
	for i, id := range t.Datasets {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return "datasets " + strings.Join(ids, ", ")
}
