package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/auth"
)

// idp is a test identity provider: an EC key served as a JWKS, signing
// ES256 tokens.
type idp struct {
	key *ecdsa.PrivateKey
	url string
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.PublicKey.Bytes()
	jwk := map[string]string{"kty": "EC", "kid": "k1", "crv": "P-256", "x": b64(b[1:33]), "y": b64(b[33:])}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk}})
	}))
	t.Cleanup(srv.Close)
	return &idp{key: k, url: srv.URL}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

const (
	issuerURL   = "https://idp.example.com"
	resourceURL = "https://analytics.example.com/mcp"
)

func (p *idp) config() auth.Config {
	return auth.Config{Issuer: issuerURL, JWKSURL: p.url + "/jwks", Resource: resourceURL}
}

func (p *idp) sign(t *testing.T, extra map[string]any) string {
	t.Helper()
	claims := map[string]any{"iss": issuerURL, "aud": resourceURL, "sub": "alice", "exp": time.Now().Add(10 * time.Minute).Unix(), "mcpa_datasets": "all"}
	for k, v := range extra {
		claims[k] = v
	}
	h, _ := json.Marshal(map[string]any{"alg": "ES256", "kid": "k1", "typ": "JWT"})
	pl, _ := json.Marshal(claims)
	signed := b64(h) + "." + b64(pl)
	digest := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, p.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + b64(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
}

// TestConsole_OAuthSignIn signs in with a JWT: only one carrying the admin
// claim gets in, its session ends with the JWT, and its actions are logged
// under the OAuth subject.
func TestConsole_OAuthSignIn(t *testing.T) {
	p := newIDP(t)
	s, _ := newStack(t, stackOptions{Auth: p.config()})
	b := s.browser(t)
	if pg := b.get("/admin/"); pg.status != http.StatusSeeOther {
		t.Fatalf("OAuth configured, no session: %d, want a redirect to sign-in", pg.status)
	}
	if pg := b.signIn(p.sign(t, nil)); pg.status != http.StatusForbidden || !strings.Contains(pg.body, "lacks the admin scope") {
		t.Errorf("JWT without the admin claim: %d", pg.status)
	}
	if pg := b.signIn(p.sign(t, map[string]any{"mcpa_admin": "no"})); pg.status != http.StatusForbidden {
		t.Errorf("JWT with mcpa_admin=\"no\": %d", pg.status)
	}
	exp := time.Now().Add(5 * time.Minute).Truncate(time.Second)
	pg := b.signIn(p.sign(t, map[string]any{"mcpa_admin": true, "exp": exp.Unix()}))
	if pg.status != http.StatusSeeOther {
		t.Fatalf("JWT with the admin claim: %d", pg.status)
	}
	c := sessionCookie(t, pg)
	checkCookie(t, c, false)
	if d := c.MaxAge - int(time.Until(exp).Seconds()); d < -2 || d > 2 {
		t.Errorf("session cookie max-age %d s, want the JWT's remaining %v", c.MaxAge, time.Until(exp).Round(time.Second))
	}
	csrf := b.csrf("/admin/tokens")
	if pg := b.post("/admin/tokens", map[string][]string{"csrf": {csrf}, "name": {"ci"}, "scope": {"metrics"}}); pg.status != http.StatusOK {
		t.Fatalf("create a token as an OAuth admin: %d", pg.status)
	}
	recs := s.adminRecords(t)
	if len(recs) != 1 || recs[0].Principal != "oauth:alice" || recs[0].Tool != "admin.token_created" {
		t.Errorf("admin events: %+v", recs)
	}
}
