package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
)

// Realm is the realm of our WWW-Authenticate challenges.
const Realm = "mcp-analytics"

// MetadataPath is where the protected resource metadata is served (RFC
// 9728 §3); clients also try it with the resource's path appended.
const MetadataPath = "/.well-known/oauth-protected-resource"

// Grant is what a verified token may see.
type Grant struct {
	// Subject names the caller in logs: "token 3 (analyst)" or the JWT's
	// issuer and subject.
	Subject string
	// Principal names the caller in the query log: "token:<name>" for an
	// API token, "oauth:<subject>" (or the client id) for a JWT.
	Principal string
	// Scopes say what the credential may be used for ([catalog.ScopeMCP],
	// [catalog.ScopeMetrics]...). OAuth tokens get ScopeMCP.
	Scopes []string
	// All grants every dataset, including ones added later.
	All bool
	// Datasets are the visible dataset ids when All is false.
	Datasets []int64
}

// Scope returns the dataset scope of g; nil means every dataset.
func (g Grant) Scope() dataset.Scope {
	if g.All {
		return nil
	}
	s := make(dataset.Scope, len(g.Datasets))
	for _, id := range g.Datasets {
		s[id] = true
	}
	return s
}

// grantKey is the key of a Grant in [sdkauth.TokenInfo.Extra].
const grantKey = "mcpa_grant"

// HasScope reports whether g may be used for scope.
func (g Grant) HasScope(scope string) bool { return slices.Contains(g.Scopes, scope) }

// TokenStore is where API tokens are kept: the catalog store.
type TokenStore interface {
	Tokens(ctx context.Context) ([]catalog.Token, error)
}

// Authenticator verifies bearer tokens. It is safe for concurrent use.
type Authenticator struct {
	cfg   Config
	store TokenStore
	jwt   *jwtVerifier // nil without OAuth
	log   *slog.Logger
	now   func() time.Time

	mu       sync.Mutex
	byHash   map[string]catalog.Token // active tokens
	anyToken bool                     // the catalog holds a token, active or revoked
	loaded   time.Time
}

// New returns an Authenticator over the tokens of store (nil for none) and
// the OAuth settings of cfg. It reads the tokens once, so a catalog that
// cannot be read fails here rather than on the first request.
func New(ctx context.Context, cfg Config, store TokenStore, log *slog.Logger) (*Authenticator, error) {
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = withDefaults(cfg)
	a := &Authenticator{cfg: cfg, store: store, log: log.With("component", "auth"), now: time.Now}
	if cfg.OAuth() {
		a.jwt = &jwtVerifier{cfg: cfg, now: time.Now, keys: &keySet{
			url:        cfg.JWKSURL,
			client:     &http.Client{Timeout: 10 * time.Second},
			log:        a.log,
			maxAge:     time.Hour,
			minRefresh: 10 * time.Second,
			now:        time.Now,
		}}
	}
	if err := a.reload(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Config returns the settings in effect, defaults filled in.
func (a *Authenticator) Config() Config { return a.cfg }

// Required reports whether requests must carry a token: OAuth is
// configured, auth is required by configuration, or the catalog holds a
// token.
func (a *Authenticator) Required(ctx context.Context) bool {
	if a.jwt != nil || a.cfg.Required {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshLocked(ctx, false)
	return a.anyToken
}

// reload reads the tokens from the store.
func (a *Authenticator) reload(ctx context.Context) error {
	byHash := make(map[string]catalog.Token)
	anyToken := false
	if a.store != nil {
		tokens, err := a.store.Tokens(ctx)
		if err != nil {
			return fmt.Errorf("read API tokens: %w", err)
		}
		anyToken = len(tokens) > 0
		for _, t := range tokens {
			if t.Active() {
				byHash[t.Hash] = t
			}
		}
	}
	a.mu.Lock()
	a.byHash, a.anyToken, a.loaded = byHash, anyToken, a.now()
	a.mu.Unlock()
	return nil
}

// refreshLocked re-reads the tokens when the snapshot is older than
// TokenRefresh, or, after a miss, older than a quarter of it (a token just
// created works almost at once, while made-up tokens cost at most a few
// catalog reads a second). On failure the old snapshot stays in use.
func (a *Authenticator) refreshLocked(ctx context.Context, miss bool) {
	age := a.now().Sub(a.loaded)
	if age < a.cfg.TokenRefresh && !(miss && age >= a.cfg.TokenRefresh/4) {
		return
	}
	// Others keep using the current snapshot while this one reloads.
	a.loaded = a.now()
	a.mu.Unlock()
	err := a.reload(ctx)
	a.mu.Lock()
	if err != nil {
		a.log.WarnContext(ctx, "refresh API tokens; using the previous set", "err", err)
	}
}

// Verify checks one bearer token and returns what it grants. An error
// wrapping [sdkauth.ErrInvalidToken] means the token is not acceptable (its
// text may be shown to the client); any other error is ours.
func (a *Authenticator) Verify(ctx context.Context, token string) (*sdkauth.TokenInfo, error) {
	if isAPIToken(token) {
		hash := HashToken(token)
		a.mu.Lock()
		a.refreshLocked(ctx, false)
		t, ok := a.byHash[hash]
		if !ok {
			a.refreshLocked(ctx, true)
			t, ok = a.byHash[hash]
		}
		a.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("%w: unknown or revoked API token", sdkauth.ErrInvalidToken)
		}
		scopes := slices.Clone(t.Scopes)
		if len(scopes) == 0 {
			scopes = []string{catalog.ScopeMCP}
		}
		g := Grant{Subject: fmt.Sprintf("token %d (%s)", t.ID, t.Name), Principal: "token:" + t.Name, Scopes: scopes,
			All: t.AllDatasets, Datasets: slices.Clone(t.Datasets)}
		return &sdkauth.TokenInfo{UserID: "token:" + strconv.FormatInt(t.ID, 10), Extra: map[string]any{grantKey: g}}, nil
	}
	if a.jwt == nil {
		return nil, fmt.Errorf("%w: not an API token (they start with %q)", sdkauth.ErrInvalidToken, TokenPrefix)
	}
	c, err := a.jwt.verifyCached(ctx, token)
	if err != nil {
		var inv *errInvalid
		if errors.As(err, &inv) {
			return nil, fmt.Errorf("%w: %s", sdkauth.ErrInvalidToken, inv.reason)
		}
		return nil, err
	}
	// Bind sessions to the caller: the subject, else the client, else this
	// very token.
	user := c.Subject
	if user == "" {
		user = "client:" + c.ClientID
	}
	if c.Subject == "" && c.ClientID == "" {
		user = "jwt:" + HashToken(token)
	}
	c.Grant.Subject = a.cfg.Issuer + " " + user
	c.Grant.Principal = "oauth:" + user
	c.Grant.Scopes = []string{catalog.ScopeMCP}
	if c.Admin {
		c.Grant.Scopes = append(c.Grant.Scopes, catalog.ScopeAdmin)
	}
	return &sdkauth.TokenInfo{UserID: "oauth:" + user, Expiration: c.Expiry, Extra: map[string]any{grantKey: c.Grant}}, nil
}

// infoKey carries the verified token from Middleware to the SDK's
// RequireBearerToken, which makes it the request's TokenInfo.
type infoKey struct{}

// Middleware requires a valid bearer token on every request when
// [Authenticator.Required], answering 401 with a WWW-Authenticate
// challenge otherwise. A verified token reaches the MCP handlers as the
// go-sdk's TokenInfo (see [ScopeMiddleware]).
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	// The SDK's own middleware is what makes our TokenInfo visible to the
	// streamable transport (session binding, RequestExtra); it gets the
	// token we already verified.
	sdk := sdkauth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*sdkauth.TokenInfo, error) {
		if ti, ok := ctx.Value(infoKey{}).(*sdkauth.TokenInfo); ok {
			return ti, nil
		}
		return nil, sdkauth.ErrInvalidToken
	}, &sdkauth.RequireBearerTokenOptions{AllowMissingExpiration: true, ClockSkew: a.cfg.ClockSkew})(next)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !a.Required(ctx) {
			next.ServeHTTP(w, r)
			return
		}
		ti, ok := a.authenticate(w, r, catalog.ScopeMCP)
		if !ok {
			return
		}
		sdk.ServeHTTP(w, r.WithContext(context.WithValue(ctx, infoKey{}, ti)))
	})
}

// RequireScope serves next only to requests carrying a valid token with
// scope once auth is required ([Authenticator.Required]); /metrics is
// served this way with [catalog.ScopeMetrics]. Without auth it serves
// everyone, as /mcp does.
func (a *Authenticator) RequireScope(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Required(r.Context()) {
			if _, ok := a.authenticate(w, r, scope); !ok {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate verifies the request's bearer token and its scope,
// answering 401 (no or bad token), 403 (a good token without scope) or 503
// itself when it fails.
func (a *Authenticator) authenticate(w http.ResponseWriter, r *http.Request, scope string) (*sdkauth.TokenInfo, bool) {
	ctx := r.Context()
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		a.challenge(w, "", "missing bearer token: send 'Authorization: Bearer <token>'")
		return nil, false
	}
	ti, err := a.Verify(ctx, token)
	if err != nil {
		if errors.Is(err, sdkauth.ErrInvalidToken) {
			a.log.InfoContext(ctx, "rejected token", "remote", r.RemoteAddr, "reason", err)
			a.challenge(w, "invalid_token", strings.TrimPrefix(err.Error(), sdkauth.ErrInvalidToken.Error()+": "))
			return nil, false
		}
		a.log.ErrorContext(ctx, "verify token", "err", err)
		http.Error(w, "authorization is temporarily unavailable; try again later", http.StatusServiceUnavailable)
		return nil, false
	}
	if g, _ := ti.Extra[grantKey].(Grant); !g.HasScope(scope) {
		a.log.InfoContext(ctx, "token without the scope", "remote", r.RemoteAddr, "subject", g.Subject, "scope", scope)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer realm=%q, error=\"insufficient_scope\", scope=%q", Realm, scope))
		http.Error(w, "forbidden: this token lacks the "+scope+" scope (mcp-analytics tokens create --scopes "+scope+")", http.StatusForbidden)
		return nil, false
	}
	return ti, true
}

// bearer extracts the token of an "Authorization: Bearer" header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// challenge answers 401 with an RFC 6750 challenge: the realm, the error
// code when a token was sent, and in OAuth mode where the protected
// resource metadata is.
func (a *Authenticator) challenge(w http.ResponseWriter, code, msg string) {
	c := fmt.Sprintf("Bearer realm=%q", Realm)
	if code != "" {
		c += fmt.Sprintf(", error=%q, error_description=%q", code, sanitizeHeader(msg))
	}
	if u := a.MetadataURL(); u != "" {
		c += fmt.Sprintf(", resource_metadata=%q", u)
	}
	w.Header().Set("WWW-Authenticate", c)
	http.Error(w, "unauthorized: "+msg, http.StatusUnauthorized)
}

// sanitizeHeader keeps a message safe inside a quoted header parameter.
func sanitizeHeader(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '\''
		}
		return r
	}, s)
}

// MetadataURL is the URL of the protected resource metadata ("" without
// OAuth): the well-known path with the resource's path appended (RFC 9728
// §3.1).
func (a *Authenticator) MetadataURL() string {
	if a.jwt == nil {
		return ""
	}
	u, err := url.Parse(a.cfg.Resource)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + MetadataPath + strings.TrimSuffix(u.Path, "/")
}

// Metadata returns the protected resource metadata (nil without OAuth).
func (a *Authenticator) Metadata() *oauthex.ProtectedResourceMetadata {
	if a.jwt == nil {
		return nil
	}
	return &oauthex.ProtectedResourceMetadata{
		Resource:               a.cfg.Resource,
		AuthorizationServers:   []string{a.cfg.Issuer},
		ScopesSupported:        a.cfg.Scopes,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "mcp-analytics",
	}
}

// MetadataHandler serves [Authenticator.Metadata] (404 without OAuth).
func (a *Authenticator) MetadataHandler() http.Handler {
	m := a.Metadata()
	if m == nil {
		return http.NotFoundHandler()
	}
	return sdkauth.ProtectedResourceMetadataHandler(m)
}

// GrantFromRequest returns the grant of the token that carried req, if the
// request came through [Authenticator.Middleware]. A TokenInfo without a
// grant (set by some other middleware) grants nothing.
func GrantFromRequest(req mcp.Request) (Grant, bool) {
	extra := req.GetExtra()
	if extra == nil || extra.TokenInfo == nil {
		return Grant{}, false
	}
	g, ok := extra.TokenInfo.Extra[grantKey].(Grant)
	if !ok {
		return Grant{Subject: extra.TokenInfo.UserID, Datasets: []int64{}}, true
	}
	return g, true
}

// GrantOf returns the grant of a TokenInfo returned by
// [Authenticator.Verify].
func GrantOf(ti *sdkauth.TokenInfo) (Grant, bool) {
	if ti == nil {
		return Grant{}, false
	}
	g, ok := ti.Extra[grantKey].(Grant)
	return g, ok
}

// ScopeMiddleware is an MCP receiving middleware that narrows every call to
// the datasets of the token on the HTTP request carrying it. The scope comes
// from that request — not from the session's context, which holds whatever
// the session's first request had. Calls without a token (stdio, or HTTP
// without auth) are not narrowed.
func ScopeMiddleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if g, ok := GrantFromRequest(req); ok && !g.All {
			ctx = dataset.WithScope(ctx, g.Scope())
		}
		return next(ctx, method, req)
	}
}

// parseDatasetID reads a positive dataset id.
func parseDatasetID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("dataset id %q is not a positive integer", s)
	}
	return id, nil
}

// ParseDatasets reads a --datasets flag: "all", or dataset ids separated by
// commas or spaces.
func ParseDatasets(s string) (all bool, ids []int64, err error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return true, nil, nil
	}
	for _, f := range config.SplitList(s) {
		id, err := parseDatasetID(f)
		if err != nil {
			return false, nil, err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return false, nil, errors.New(`no dataset ids: give ids such as 1,2 or "all"`)
	}
	return false, ids, nil
}
