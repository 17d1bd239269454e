package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// CookieName is the session cookie.
const CookieName = "mcpa_admin"

// keyMeta is the catalog meta key holding the session signing key, shared
// by every replica using the same store.
const keyMeta = "admin_session_key"

// session is a visitor's signed cookie.
type session struct {
	Nonce     string
	Principal string // "" before sign-in
	TokenID   int64  // the admin token signed in with; 0 when open
	Expires   time.Time
	// Open marks the session of an open console (loopback, no auth).
	Open bool
}

// SignedIn reports whether the session may use the console.
func (s *session) SignedIn() bool { return s != nil && (s.Open || s.Principal != "") }

// keyRing holds the signing key, re-read from the store when a cookie does
// not verify (another replica may have created the key at the same moment
// as this one, and the store kept the other's).
type keyRing struct {
	store catalog.Store
	mu    sync.Mutex
	key   []byte
	read  time.Time
}

func newKeyRing(ctx context.Context, store catalog.Store) (*keyRing, error) {
	k := &keyRing{store: store}
	v, err := store.Meta(ctx, keyMeta)
	if err != nil {
		return nil, fmt.Errorf("admin console: read the session key: %w", err)
	}
	if v == "" {
		b := make([]byte, 32)
		rand.Read(b)
		if err := store.SetMeta(ctx, keyMeta, hex.EncodeToString(b)); err != nil {
			return nil, fmt.Errorf("admin console: store the session key: %w", err)
		}
		if v, err = store.Meta(ctx, keyMeta); err != nil {
			return nil, fmt.Errorf("admin console: read the session key: %w", err)
		}
	}
	if k.key, err = hex.DecodeString(v); err != nil || len(k.key) < 16 {
		return nil, fmt.Errorf("admin console: the stored session key is malformed")
	}
	k.read = time.Now()
	return k, nil
}

func (k *keyRing) current() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key
}

// reread fetches the key again, at most every 10 s.
func (k *keyRing) reread(ctx context.Context) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if time.Since(k.read) < 10*time.Second {
		return false
	}
	k.read = time.Now()
	v, err := k.store.Meta(ctx, keyMeta)
	if err != nil {
		return false
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) < 16 || hmac.Equal(b, k.key) {
		return false
	}
	k.key = b
	return true
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// csrf is the CSRF token of a session: bound to its nonce, so it changes
// at every sign-in and cannot be guessed without the key.
func (k *keyRing) csrf(nonce string) string {
	return base64.RawURLEncoding.EncodeToString(mac(k.current(), "csrf", nonce)[:20])
}

func (k *keyRing) checkCSRF(nonce, got string) bool {
	want := k.csrf(nonce)
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// encode returns the cookie value of s.
func (k *keyRing) encode(s session) string {
	open := "0"
	if s.Open {
		open = "1"
	}
	payload := strings.Join([]string{"v1", s.Nonce, strconv.FormatInt(s.TokenID, 10), strconv.FormatInt(s.Expires.Unix(), 10), open, s.Principal}, "|")
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(k.current(), "session", p))
}

// decode verifies a cookie value and returns its session.
func (k *keyRing) decode(ctx context.Context, v string, now time.Time) (*session, bool) {
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return nil, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return nil, false
	}
	if !hmac.Equal(got, mac(k.current(), "session", p)) {
		if !k.reread(ctx) || !hmac.Equal(got, mac(k.current(), "session", p)) {
			return nil, false
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, false
	}
	f := strings.SplitN(string(raw), "|", 6)
	if len(f) != 6 || f[0] != "v1" {
		return nil, false
	}
	id, err1 := strconv.ParseInt(f[2], 10, 64)
	exp, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	s := &session{Nonce: f[1], TokenID: id, Expires: time.Unix(exp, 0), Open: f[4] == "1", Principal: f[5]}
	if !now.Before(s.Expires) {
		return nil, false
	}
	return s, true
}

func newNonce() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secure reports whether the request came over TLS, directly or through a
// proxy that says so.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, s session) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: c.keys.encode(s), Path: Prefix, Expires: s.Expires,
		MaxAge: int(time.Until(s.Expires).Seconds()), HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode,
	})
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteStrictMode})
}

// cookieSession returns the request's valid session, or nil.
func (c *Console) cookieSession(r *http.Request) *session {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	s, ok := c.keys.decode(r.Context(), ck.Value, c.now())
	if !ok {
		return nil
	}
	return s
}

// access is how the console admits visitors right now.
type access int

const (
	accessOpen    access = iota // loopback, no tokens, no OAuth
	accessSignIn                // an admin token is needed
	accessRefused               // no auth on a non-loopback listener
)

func (c *Console) access(ctx context.Context) access {
	if c.opts.Auth != nil && c.opts.Auth.Required(ctx) {
		return accessSignIn
	}
	if c.opts.Loopback {
		return accessOpen
	}
	return accessRefused
}

// loopbackHost reports whether the request was addressed to a loopback
// name: an open console must not answer a DNS-rebinding page.
func loopbackHost(r *http.Request) bool {
	host := r.Host
	if h, _, ok := strings.Cut(strings.TrimPrefix(host, "["), "]"); ok {
		host = h
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return auth.IsLoopbackHost(host)
}

const openPrincipal = "local (open console)"

// authed admits signed-in visitors (or, on an open console, anyone on
// loopback) and checks the CSRF token of every POST.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		s := c.cookieSession(r)
		switch c.access(ctx) {
		case accessRefused:
			c.fail(w, r, nil, http.StatusForbidden, "The admin console is closed: this server listens beyond loopback without any auth. "+
				"Create an admin token (mcp-analytics tokens create --name admin --scopes admin) and sign in with it.")
			return
		case accessOpen:
			if !loopbackHost(r) {
				c.fail(w, r, nil, http.StatusForbidden, "An open console answers only requests addressed to localhost.")
				return
			}
			if s == nil || !s.Open {
				if r.Method == http.MethodPost {
					c.fail(w, r, nil, http.StatusForbidden, "The form expired; reload the page and try again.")
					return
				}
				s = &session{Nonce: newNonce(), Principal: openPrincipal, Open: true, Expires: c.now().Add(c.opts.SessionTTL)}
				c.setCookie(w, r, *s)
			}
		case accessSignIn:
			if s == nil || s.Open || s.Principal == "" || !c.stillAdmin(ctx, s) {
				if r.Method != http.MethodGet {
					c.fail(w, r, nil, http.StatusForbidden, "Sign in first.")
					return
				}
				http.Redirect(w, r, Prefix+"/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
		}
		if r.Method == http.MethodPost && !c.keys.checkCSRF(s.Nonce, r.PostFormValue("csrf")) {
			c.log.InfoContext(ctx, "refused an admin form without a valid CSRF token", "path", r.URL.Path, "principal", s.Principal)
			c.fail(w, r, s, http.StatusForbidden, "The form expired or came from another site (missing or wrong CSRF token). Reload the page and try again.")
			return
		}
		h(w, r, s)
	})
}

// stillAdmin reports whether a signed-in session may go on. For an API
// token: the token is still active with the admin scope (revoking it ends
// its console sessions too). For an OAuth subject: the session's expiry,
// which is the JWT's, was checked when the cookie was read.
func (c *Console) stillAdmin(ctx context.Context, s *session) bool {
	if s.TokenID == 0 {
		return strings.HasPrefix(s.Principal, "oauth:")
	}
	return c.tokenStillAdmin(ctx, s.TokenID)
}

func (c *Console) tokenStillAdmin(ctx context.Context, id int64) bool {
	tokens, err := c.opts.Store.Tokens(ctx)
	if err != nil {
		c.log.WarnContext(ctx, "read tokens to check a session", "err", err)
		return false
	}
	for _, t := range tokens {
		if t.ID == id {
			return t.Active() && t.HasScope(catalog.ScopeAdmin)
		}
	}
	return false
}

type signinData struct {
	Next, Err string
}

func (d signinData) FormError() string { return d.Err }

// signinPage shows the sign-in form, with a pre-session cookie whose
// nonce the form's CSRF token is bound to.
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.showSignin(w, r, http.StatusOK, "")
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if c.access(r.Context()) != accessSignIn {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
		return
	}
	s := c.cookieSession(r)
	if s == nil || s.Open {
		s = &session{Nonce: newNonce(), Expires: c.now().Add(time.Hour)}
		c.setCookie(w, r, *s)
	}
	c.render(w, r, s, status, "signin", "Sign in", signinData{Next: safeNext(r.FormValue("next")), Err: msg})
}

// safeNext keeps a redirect target inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "/"
	}
	return next
}

func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if c.access(ctx) != accessSignIn {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
		return
	}
	pre := c.cookieSession(r)
	if pre == nil || !c.keys.checkCSRF(pre.Nonce, r.PostFormValue("csrf")) {
		c.fail(w, r, nil, http.StatusForbidden, "The sign-in form expired or came from another site (missing or wrong CSRF token). Reload it and try again.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		c.showSignin(w, r, http.StatusBadRequest, "Paste an API token with the admin scope.")
		return
	}
	ti, err := c.opts.Auth.Verify(ctx, token)
	if err != nil {
		c.log.InfoContext(ctx, "admin sign-in refused", "remote", r.RemoteAddr, "reason", err)
		c.showSignin(w, r, http.StatusUnauthorized, "That token is unknown or revoked.")
		return
	}
	g, _ := auth.GrantOf(ti)
	if !g.HasScope(catalog.ScopeAdmin) {
		c.log.InfoContext(ctx, "admin sign-in without the admin scope", "remote", r.RemoteAddr, "subject", g.Subject)
		c.showSignin(w, r, http.StatusForbidden, "This token lacks the admin scope (mcp-analytics tokens create --scopes admin, or an OAuth token with the admin claim).")
		return
	}
	s := session{Nonce: newNonce(), Principal: g.Principal, Expires: c.now().Add(c.opts.SessionTTL)}
	if id, isToken := strings.CutPrefix(ti.UserID, "token:"); isToken {
		s.TokenID, _ = strconv.ParseInt(id, 10, 64)
	} else if !ti.Expiration.IsZero() && ti.Expiration.Before(s.Expires) {
		// An OAuth session ends with its JWT: the console cannot ask the
		// identity provider again.
		s.Expires = ti.Expiration
	}
	c.setCookie(w, r, s)
	c.log.InfoContext(ctx, "admin signed in", "principal", g.Principal, "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request) {
	s := c.cookieSession(r)
	if s == nil || !c.keys.checkCSRF(s.Nonce, r.PostFormValue("csrf")) {
		c.fail(w, r, nil, http.StatusForbidden, "The form expired (missing or wrong CSRF token). Reload the page and try again.")
		return
	}
	c.clearCookie(w, r)
	if s.Open {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Prefix+"/signin?done=signedout", http.StatusSeeOther)
}
