package sqlitestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token is a stored API token. Only the SHA-256 hash of the secret is kept:
// the secret itself is shown once, when the token is created.
type Token struct {
	ID   int64
	Name string
	// Hash is the hex SHA-256 of the whole token string.
	Hash string
	// AllDatasets grants every dataset, including ones added later;
	// otherwise only Datasets.
	AllDatasets bool
	Datasets    []int64
	CreatedAt   time.Time
	// RevokedAt is zero while the token is active.
	RevokedAt time.Time
}

// ErrTokenNotFound is returned when no active token matches a revocation.
var ErrTokenNotFound = errors.New("no active token with that name or id")

// Active reports whether t may still be used.
func (t Token) Active() bool { return t.RevokedAt.IsZero() }

// tokensSchema is the tokens migration. It is idempotent and runs before
// every token operation, so it works on a catalog created before tokens
// existed. A name is unique among active tokens only: a revoked name can be
// reused.
const tokensSchema = `
CREATE TABLE IF NOT EXISTS tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	datasets   TEXT NOT NULL,
	created_at TEXT NOT NULL,
	revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
`

// MigrateTokens creates the tokens table when it is missing.
func (s *Store) MigrateTokens(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, tokensSchema); err != nil {
		return fmt.Errorf("migrate tokens table: %w", err)
	}
	return nil
}

// allDatasets is how an all-datasets grant is stored in the datasets column.
const allDatasets = `"all"`

// AddToken stores t (without its ID, creation and revocation times) and
// returns it as stored.
func (s *Store) AddToken(ctx context.Context, t Token) (Token, error) {
	if err := s.MigrateTokens(ctx); err != nil {
		return t, err
	}
	if t.Name == "" || t.Hash == "" {
		return t, errors.New("add token: name and hash are required")
	}
	datasets := allDatasets
	if !t.AllDatasets {
		if t.Datasets == nil {
			t.Datasets = []int64{}
		}
		b, err := json.Marshal(t.Datasets)
		if err != nil {
			return t, fmt.Errorf("encode token datasets: %w", err)
		}
		datasets = string(b)
	}
	now := time.Now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO tokens (name, hash, datasets, created_at) VALUES (?, ?, ?, ?)`,
		t.Name, t.Hash, datasets, now.Format(time.RFC3339Nano))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed: tokens.name") {
			return t, fmt.Errorf("an active token named %q already exists", t.Name)
		}
		return t, fmt.Errorf("add token: %w", err)
	}
	if t.ID, err = res.LastInsertId(); err != nil {
		return t, fmt.Errorf("add token: %w", err)
	}
	t.CreatedAt, t.RevokedAt = now, time.Time{}
	return t, nil
}

// Tokens returns every token, active and revoked, by id.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	if err := s.MigrateTokens(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, hash, datasets, created_at, COALESCE(revoked_at, '') FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var datasets, created, revoked string
		if err := rows.Scan(&t.ID, &t.Name, &t.Hash, &datasets, &created, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		if datasets == allDatasets {
			t.AllDatasets = true
		} else if err := json.Unmarshal([]byte(datasets), &t.Datasets); err != nil {
			return nil, fmt.Errorf("token %d: decode datasets: %w", t.ID, err)
		}
		t.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		if revoked != "" {
			t.RevokedAt, _ = time.Parse(time.RFC3339Nano, revoked)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes the active token with the given id. Revoking is
// final; the record stays for the audit trail.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.revoke(ctx, `id = ?`, id, fmt.Sprintf("token %d", id))
}

// RevokeTokenByName revokes the active token named name.
func (s *Store) RevokeTokenByName(ctx context.Context, name string) error {
	return s.revoke(ctx, `name = ?`, name, fmt.Sprintf("token %q", name))
}

func (s *Store) revoke(ctx context.Context, where string, arg any, what string) error {
	if err := s.MigrateTokens(ctx); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND `+where,
		time.Now().UTC().Format(time.RFC3339Nano), arg)
	if err != nil {
		return fmt.Errorf("revoke %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke %s: %w", what, ErrTokenNotFound)
	}
	return nil
}
