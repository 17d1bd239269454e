package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
)

// issuer is a test identity provider: it holds signing keys, serves them
// as a JWKS and signs tokens.
type issuer struct {
	t       testing.TB
	srv     *httptest.Server
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	keys    atomic.Value // []map[string]string served
	fetches atomic.Int32
}

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	iss := &issuer{t: t}
	var err error
	if iss.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if iss.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	iss.keys.Store([]map[string]string{rsaJWK("rsa-1", &iss.rsa.PublicKey), ecJWK("ec-1", &iss.ec.PublicKey)})
	iss.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": iss.keys.Load()})
	}))
	t.Cleanup(iss.srv.Close)
	return iss
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]string {
	b, _ := k.Bytes() // 0x04 || X || Y
	return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(b[1:33]), "y": b64(b[33:])}
}

// sign makes a JWT with the given header fields and claims, signed by the
// issuer's RSA key (RS256) or EC key (ES256).
func (iss *issuer) sign(alg, kid string, claims map[string]any) string {
	iss.t.Helper()
	h, _ := json.Marshal(map[string]any{"alg": alg, "kid": kid, "typ": "JWT"})
	p, _ := json.Marshal(claims)
	signed := b64(h) + "." + b64(p)
	digest := sha256.Sum256([]byte(signed))
	var sig []byte
	var err error
	switch alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, iss.rsa, crypto.SHA256, digest[:])
	case "ES256":
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, iss.ec, digest[:])
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	default:
		sig = []byte("x")
	}
	if err != nil {
		iss.t.Fatal(err)
	}
	return signed + "." + b64(sig)
}

const resource = "https://analytics.example.com/mcp"

func (iss *issuer) config() Config {
	return Config{Issuer: "https://idp.example.com", JWKSURL: iss.srv.URL + "/jwks", Resource: resource}
}

// claims returns valid claims for dataset 2, changed by the given pairs.
func claimsWith(kv ...any) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{"iss": "https://idp.example.com", "aud": resource, "sub": "alice", "exp": now + 300, "nbf": now - 10, "mcpa_datasets": []int{2}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func TestAuthenticator_VerifyJWT(t *testing.T) {
	iss := newIssuer(t)
	a, err := New(context.Background(), iss.config(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	tests := []struct {
		name  string
		token string
		grant *Grant // nil: rejected
		want  string // part of the rejection
	}{
		{"RS256", iss.sign("RS256", "rsa-1", claimsWith()), &Grant{Datasets: []int64{2}}, ""},
		{"ES256", iss.sign("ES256", "ec-1", claimsWith()), &Grant{Datasets: []int64{2}}, ""},
		{"audience in a list", iss.sign("RS256", "rsa-1", claimsWith("aud", []string{"other", resource})), &Grant{Datasets: []int64{2}}, ""},
		{"datasets as a string", iss.sign("RS256", "rsa-1", claimsWith("mcpa_datasets", "1, 2")), &Grant{Datasets: []int64{1, 2}}, ""},
		{"datasets as strings", iss.sign("RS256", "rsa-1", claimsWith("mcpa_datasets", []string{"3"})), &Grant{Datasets: []int64{3}}, ""},
		{"all datasets", iss.sign("RS256", "rsa-1", claimsWith("mcpa_datasets", "*")), &Grant{All: true}, ""},
		{"no datasets claim sees nothing", iss.sign("RS256", "rsa-1", claimsWith("mcpa_datasets", nil)), &Grant{Datasets: []int64{}}, ""},
		{"bad datasets claim", iss.sign("RS256", "rsa-1", claimsWith("mcpa_datasets", []any{1.5})), nil, "not a positive integer"},
		{"negative dataset", iss.sign("RS256", "rsa-1", claimsWith("mcpa_datasets", []int{-1})), nil, "not a positive integer"},
		{"expired", iss.sign("RS256", "rsa-1", claimsWith("exp", now-120)), nil, "token expired"},
		{"expired within clock skew", iss.sign("RS256", "rsa-1", claimsWith("exp", now-30)), &Grant{Datasets: []int64{2}}, ""},
		{"no expiry", iss.sign("RS256", "rsa-1", claimsWith("exp", nil)), nil, "no expiry"},
		{"not yet valid", iss.sign("RS256", "rsa-1", claimsWith("nbf", now+600)), nil, "not valid yet"},
		{"wrong issuer", iss.sign("RS256", "rsa-1", claimsWith("iss", "https://evil.example.com")), nil, "issuer"},
		{"wrong audience", iss.sign("RS256", "rsa-1", claimsWith("aud", "https://other.example.com/mcp")), nil, "audience"},
		{"no audience", iss.sign("RS256", "rsa-1", claimsWith("aud", nil)), nil, "audience"},
		{"alg none", iss.sign("none", "rsa-1", claimsWith()), nil, `unsupported JWT algorithm "none"`},
		{"alg HS256 (key confusion)", iss.sign("HS256", "rsa-1", claimsWith()), nil, `unsupported JWT algorithm "HS256"`},
		{"RS256 header on the EC key", iss.sign("RS256", "ec-1", claimsWith()), nil, "does not match"},
		{"unknown key id", iss.sign("RS256", "rsa-9", claimsWith()), nil, "unknown JWT key id"},
		{"tampered payload", tamper(iss.sign("RS256", "rsa-1", claimsWith())), nil, "bad JWT signature"},
		{"not a JWT", "hello", nil, "neither an API token nor a JWT"},
		{"garbage segments", "a.b.c", nil, "malformed"},
		{"unknown API token", TokenPrefix + "nope", nil, "unknown or revoked API token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti, err := a.Verify(context.Background(), tt.token)
			if tt.grant == nil {
				if !errors.Is(err, sdkauth.ErrInvalidToken) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want invalid token containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := ti.Extra[grantKey].(Grant)
			if d := cmp.Diff(*tt.grant, g, cmpIgnoreSubject); d != "" {
				t.Errorf("grant (-want +got):\n%s", d)
			}
			if ti.UserID != "oauth:alice" || ti.Expiration.IsZero() {
				t.Errorf("token info = %+v, want user oauth:alice with an expiry", ti)
			}
		})
	}
}

// TestAuthenticator_AdminClaim checks which JWTs carry the admin scope
// (the admin console's sign-in): only a true admin claim.
func TestAuthenticator_AdminClaim(t *testing.T) {
	iss := newIssuer(t)
	cfg := iss.config()
	a, err := New(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AdminClaim = "https://example.com/is_admin"
	custom, err := New(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		a     *Authenticator
		claim string
		value any
		admin bool
	}{
		{"true", a, "mcpa_admin", true, true},
		{"string true", a, "mcpa_admin", "TRUE", true},
		{"false", a, "mcpa_admin", false, false},
		{"absent", a, "other", true, false},
		{"not a boolean", a, "mcpa_admin", "yes", false},
		{"array", a, "mcpa_admin", []string{"true"}, false},
		{"custom claim", custom, "https://example.com/is_admin", true, true},
		{"default claim under a custom name", custom, "mcpa_admin", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ti, err := tt.a.Verify(context.Background(), iss.sign("RS256", "rsa-1", claimsWith(tt.claim, tt.value)))
			if err != nil {
				t.Fatal(err)
			}
			g, ok := GrantOf(ti)
			if !ok || g.HasScope(catalog.ScopeAdmin) != tt.admin || !g.HasScope(catalog.ScopeMCP) {
				t.Errorf("grant %+v: admin scope %v, want %v (and always mcp)", g, g.HasScope(catalog.ScopeAdmin), tt.admin)
			}
		})
	}
}

var cmpIgnoreSubject = cmp.Comparer(func(a, b Grant) bool {
	return a.All == b.All && cmp.Equal(a.Datasets, b.Datasets)
})

// tamper changes the payload of a signed token, keeping its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	p = []byte(strings.Replace(string(p), `"mcpa_datasets":[2]`, `"mcpa_datasets":[1]`, 1))
	return parts[0] + "." + b64(p) + "." + parts[2]
}

// TestAuthenticator_KeyRotation checks that a token signed by a key the
// cached JWKS does not hold makes the server fetch the JWKS again, but not
// more than once per refresh interval.
func TestAuthenticator_KeyRotation(t *testing.T) {
	iss := newIssuer(t)
	a, err := New(context.Background(), iss.config(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Verify(ctx, iss.sign("RS256", "rsa-1", claimsWith())); err != nil {
		t.Fatal(err)
	}
	if n := iss.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	// The identity provider rotates to a new key.
	newKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	iss.rsa = newKey
	iss.keys.Store([]map[string]string{rsaJWK("rsa-2", &newKey.PublicKey)})
	tok := iss.sign("RS256", "rsa-2", claimsWith())

	// Within the refresh interval the unknown kid is refused without a fetch.
	if _, err := a.Verify(ctx, tok); err == nil || iss.fetches.Load() != 1 {
		t.Fatalf("unknown kid right after a fetch: err = %v, fetches = %d", err, iss.fetches.Load())
	}
	a.jwt.keys.now = func() time.Time { return time.Now().Add(time.Minute) }
	if _, err := a.Verify(ctx, tok); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	for range 5 {
		a.Verify(ctx, iss.sign("RS256", "made-up", claimsWith()))
	}
	if n := iss.fetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (made-up key ids must not trigger fetches)", n)
	}
}

func newStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	s, err := newBenchStore(t)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newBenchStore(tb testing.TB) (*sqlitestore.Store, error) {
	s, err := sqlitestore.Open(context.Background(), filepath.Join(tb.TempDir(), "catalog.sqlite"))
	if err == nil {
		tb.Cleanup(func() { s.Close() })
	}
	return s, err
}

func tokenRecord(name, hash string) catalog.Token {
	return catalog.Token{Name: name, Hash: hash, AllDatasets: true}
}

func addToken(t *testing.T, s *sqlitestore.Store, name string, all bool, ids ...int64) (string, catalog.Token) {
	t.Helper()
	secret, hash := NewToken()
	tk, err := s.AddToken(context.Background(), catalog.Token{Name: name, Hash: hash, AllDatasets: all, Datasets: ids})
	if err != nil {
		t.Fatal(err)
	}
	return secret, tk
}

func TestAuthenticator_VerifyAPIToken(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a, err := New(ctx, Config{TokenRefresh: time.Hour}, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Required(ctx) {
		t.Fatal("auth required with no token and no OAuth")
	}
	// Created after the server started: found on the first miss.
	analyst, tk := addToken(t, s, "analyst", false, 2)
	admin, _ := addToken(t, s, "admin", true)
	a.loaded = a.loaded.Add(-time.Hour / 4)
	ti, err := a.Verify(ctx, analyst)
	if err != nil {
		t.Fatal(err)
	}
	if g := ti.Extra[grantKey].(Grant); !cmp.Equal(g.Datasets, []int64{2}) || g.All || ti.UserID != "token:"+itoa(tk.ID) {
		t.Errorf("analyst: %+v %+v", ti, g)
	}
	if !a.Required(ctx) {
		t.Error("auth not required although tokens exist")
	}
	ti, err = a.Verify(ctx, admin)
	if err != nil || !ti.Extra[grantKey].(Grant).All {
		t.Errorf("admin: %+v, %v", ti, err)
	}
	if _, err := a.Verify(ctx, analyst+"x"); !errors.Is(err, sdkauth.ErrInvalidToken) {
		t.Errorf("altered token: err = %v", err)
	}
	if _, err := a.Verify(ctx, "eyJhbGciOiJub25lIn0.e30."); !errors.Is(err, sdkauth.ErrInvalidToken) || !strings.Contains(err.Error(), "not an API token") {
		t.Errorf("JWT without OAuth: err = %v", err)
	}

	// Revoked: refused once the snapshot is refreshed.
	if err := s.RevokeTokenByName(ctx, "analyst"); err != nil {
		t.Fatal(err)
	}
	a.loaded = a.loaded.Add(-2 * time.Hour)
	if _, err := a.Verify(ctx, analyst); !errors.Is(err, sdkauth.ErrInvalidToken) {
		t.Errorf("revoked token: err = %v", err)
	}
	// Revoking every token keeps the endpoint locked.
	if err := s.RevokeTokenByName(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	a.loaded = a.loaded.Add(-2 * time.Hour)
	if !a.Required(ctx) {
		t.Error("auth no longer required after revoking every token")
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAuthenticator_Middleware(t *testing.T) {
	ctx := context.Background()
	iss := newIssuer(t)
	s := newStore(t)
	good, _ := addToken(t, s, "analyst", false, 1)
	a, err := New(ctx, iss.config(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen *sdkauth.TokenInfo
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = sdkauth.TokenInfoFromContext(r.Context())
		w.Write([]byte("ok"))
	}))
	meta := `resource_metadata="https://analytics.example.com/.well-known/oauth-protected-resource/mcp"`
	tests := []struct {
		name      string
		header    string
		code      int
		challenge string
	}{
		{"no header", "", 401, `Bearer realm="mcp-analytics", ` + meta},
		{"basic auth", "Basic dXNlcjpwYXNz", 401, `Bearer realm="mcp-analytics", ` + meta},
		{"empty bearer", "Bearer ", 401, `Bearer realm="mcp-analytics", ` + meta},
		{"unknown token", "Bearer " + TokenPrefix + "AAAA", 401, `Bearer realm="mcp-analytics", error="invalid_token", error_description="unknown or revoked API token", ` + meta},
		{"expired JWT", "Bearer " + iss.sign("ES256", "ec-1", claimsWith("exp", time.Now().Unix()-3600)), 401, `Bearer realm="mcp-analytics", error="invalid_token", error_description="token expired", ` + meta},
		{"API token", "Bearer " + good, 200, ""},
		{"lower-case scheme", "bearer " + good, 200, ""},
		{"JWT", "Bearer " + iss.sign("RS256", "rsa-1", claimsWith()), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			r := httptest.NewRequest("POST", "/mcp", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.code {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.code, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate =\n  %s\nwant\n  %s", got, tt.challenge)
			}
			if (tt.code == 200) != (seen != nil) {
				t.Errorf("handler saw token info %+v", seen)
			}
		})
	}
}

func TestAuthenticator_Metadata(t *testing.T) {
	iss := newIssuer(t)
	cfg := iss.config()
	cfg.Scopes = []string{"analytics:read"}
	a, err := New(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	a.MetadataHandler().ServeHTTP(w, httptest.NewRequest("GET", MetadataPath, nil))
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"resource":                 resource,
		"authorization_servers":    []any{"https://idp.example.com"},
		"scopes_supported":         []any{"analytics:read"},
		"bearer_methods_supported": []any{"header"},
		"resource_name":            "mcp-analytics",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("metadata (-want +got):\n%s", d)
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // "" valid
	}{
		{"nothing", Config{}, ""},
		{"oauth", Config{Issuer: "https://idp", JWKSURL: "https://idp/jwks", Resource: resource}, ""},
		{"oauth with a local http JWKS", Config{Issuer: "https://idp", JWKSURL: "http://127.0.0.1:9/jwks", Resource: resource}, ""},
		{"oauth without JWKS", Config{Issuer: "https://idp", Resource: resource}, "JWKS URL is required"},
		{"oauth with plain http JWKS", Config{Issuer: "https://idp", JWKSURL: "http://idp/jwks", Resource: resource}, "must use https"},
		{"oauth without resource", Config{Issuer: "https://idp", JWKSURL: "https://idp/jwks"}, "public URL of the MCP endpoint is required"},
		{"audience without issuer", Config{Audience: "x"}, "without an issuer"},
		{"bad origin", Config{AllowedOrigins: []string{"https://app.example.com/path"}}, "not scheme://host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.cfg)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseDatasets(t *testing.T) {
	tests := []struct {
		in   string
		all  bool
		ids  []int64
		fail bool
	}{
		{"all", true, nil, false},
		{"ALL", true, nil, false},
		{"1,2", false, []int64{1, 2}, false},
		{"3 1 3", false, []int64{3, 1}, false},
		{"", false, nil, true},
		{"1,x", false, nil, true},
		{"0", false, nil, true},
		{"-1", false, nil, true},
		{"99999999999999999999", false, nil, true},
	}
	for _, tt := range tests {
		all, ids, err := ParseDatasets(tt.in)
		if all != tt.all || !cmp.Equal(ids, tt.ids) || (err != nil) != tt.fail {
			t.Errorf("ParseDatasets(%q) = %v, %v, %v", tt.in, all, ids, err)
		}
	}
}

func TestNewToken(t *testing.T) {
	a, ha := NewToken()
	b, _ := NewToken()
	if a == b || !strings.HasPrefix(a, TokenPrefix) || len(a) != len(TokenPrefix)+43 {
		t.Errorf("tokens %q, %q: want distinct mcpa_ + 43 base64url characters", a, b)
	}
	if ha != HashToken(a) || len(ha) != 64 || strings.Contains(ha, a) {
		t.Errorf("hash %q of %q", ha, a)
	}
}

// TestAuthenticator_JWTCacheHonoursExpiry checks that a remembered token is
// refused once it expires.
func TestAuthenticator_JWTCacheHonoursExpiry(t *testing.T) {
	iss := newIssuer(t)
	a, err := New(context.Background(), iss.config(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.sign("ES256", "ec-1", claimsWith("exp", time.Now().Unix()+5))
	if _, err := a.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if len(a.jwt.cache) != 1 {
		t.Fatalf("cache holds %d tokens, want 1", len(a.jwt.cache))
	}
	later := func() time.Time { return time.Now().Add(2 * time.Minute) }
	a.jwt.now, a.jwt.keys.now = later, later
	if _, err := a.Verify(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "token expired") {
		t.Errorf("cached token after its expiry: err = %v", err)
	}
}
