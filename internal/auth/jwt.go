package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // SHA-256 for RS256, PS256, ES256
	_ "crypto/sha512" // SHA-384 and SHA-512
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/config"
)

// errInvalid marks a token that is not acceptable; its text says why and
// may be shown to the client.
type errInvalid struct{ reason string }

func (e *errInvalid) Error() string { return e.reason }

func invalid(format string, args ...any) error {
	return &errInvalid{reason: fmt.Sprintf(format, args...)}
}

// maxJWT bounds the size of a token we are willing to parse.
const maxJWT = 16 << 10

// jwtVerifier validates access tokens of one issuer. Verified tokens are
// remembered (by hash) until they expire, at most for cacheFor, so a client
// reusing its token pays for the signature check once, not per request.
type jwtVerifier struct {
	cfg  Config
	keys *keySet
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]cachedClaims // by token hash; bounded by maxCached
}

type cachedClaims struct {
	claims claims
	until  time.Time
}

const (
	cacheFor  = 5 * time.Minute
	maxCached = 10000
)

// verifyCached is verify with the cache of verified tokens.
func (v *jwtVerifier) verifyCached(ctx context.Context, token string) (claims, error) {
	key := HashToken(token)
	now := v.now()
	v.mu.Lock()
	c, ok := v.cache[key]
	v.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.claims, nil
	}
	cl, err := v.verify(ctx, token)
	if err != nil {
		return cl, err
	}
	until := now.Add(cacheFor)
	if exp := cl.Expiry.Add(v.cfg.ClockSkew); exp.Before(until) {
		until = exp
	}
	v.mu.Lock()
	if v.cache == nil || len(v.cache) >= maxCached {
		v.cache = make(map[string]cachedClaims) // simplest bound: start over
	}
	v.cache[key] = cachedClaims{claims: cl, until: until}
	v.mu.Unlock()
	return cl, nil
}

// claims are the parts of a JWT payload we read.
type claims struct {
	Subject  string
	Expiry   time.Time
	Grant    Grant
	ClientID string
	// Admin is set by the admin claim (Config.AdminClaim).
	Admin bool
}

// verify checks the signature, issuer, audience and validity period of
// token and returns its claims.
func (v *jwtVerifier) verify(ctx context.Context, token string) (claims, error) {
	var c claims
	if len(token) > maxJWT {
		return c, invalid("token too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, invalid("token is neither an API token nor a JWT")
	}
	var header struct {
		Alg  string   `json:"alg"`
		Kid  string   `json:"kid"`
		Typ  string   `json:"typ"`
		Crit []string `json:"crit"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return c, invalid("malformed JWT header")
	}
	if len(header.Crit) > 0 {
		return c, invalid("unsupported critical JWT header %q", header.Crit)
	}
	if t := strings.ToLower(header.Typ); t != "" && t != "jwt" && t != "at+jwt" && t != "application/at+jwt" {
		return c, invalid("unsupported JWT type %q", header.Typ)
	}
	alg, ok := algorithms[header.Alg]
	if !ok {
		return c, invalid("unsupported JWT algorithm %q", header.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return c, invalid("malformed JWT signature")
	}
	key, err := v.keys.key(ctx, header.Kid, header.Alg)
	if err != nil {
		return c, err
	}
	if err := alg.verify(key, []byte(parts[0]+"."+parts[1]), sig); err != nil {
		return c, err
	}

	var payload map[string]any
	if err := decodeSegment(parts[1], &payload); err != nil {
		return c, invalid("malformed JWT payload")
	}
	if iss, _ := payload["iss"].(string); iss != v.cfg.Issuer {
		return c, invalid("token issuer %q is not %q", iss, v.cfg.Issuer)
	}
	if !hasAudience(payload["aud"], v.cfg.Audience) {
		return c, invalid("token audience is not %q", v.cfg.Audience)
	}
	now := v.now()
	exp, ok := numericDate(payload["exp"])
	if !ok {
		return c, invalid("token has no expiry")
	}
	if now.After(exp.Add(v.cfg.ClockSkew)) {
		return c, invalid("token expired")
	}
	if nbf, ok := numericDate(payload["nbf"]); ok && now.Add(v.cfg.ClockSkew).Before(nbf) {
		return c, invalid("token not valid yet")
	} else if _, present := payload["nbf"]; present && !ok {
		return c, invalid("malformed nbf claim")
	}
	c.Expiry = exp
	c.Subject, _ = payload["sub"].(string)
	if s, ok := payload["client_id"].(string); ok {
		c.ClientID = s
	} else if s, ok := payload["azp"].(string); ok {
		c.ClientID = s
	}
	switch a := payload[v.cfg.AdminClaim].(type) {
	case bool:
		c.Admin = a
	case string:
		c.Admin = strings.EqualFold(a, "true")
	}
	c.Grant, err = grantFromClaim(payload[v.cfg.DatasetsClaim])
	if err != nil {
		return c, invalid("claim %s: %v", v.cfg.DatasetsClaim, err)
	}
	return c, nil
}

// decodeSegment decodes one base64url JWT segment holding a JSON object.
func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}

func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}

// numericDate reads a JWT NumericDate (seconds since the epoch, possibly
// fractional).
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}

// grantFromClaim reads the datasets claim: a JSON array of ids (numbers or
// numeric strings), or a string of ids separated by spaces or commas; "*" or
// "all" grants every dataset. A missing claim grants nothing.
func grantFromClaim(v any) (Grant, error) {
	var items []any
	switch x := v.(type) {
	case nil:
		return Grant{Datasets: []int64{}}, nil
	case string:
		for _, s := range config.SplitList(x) {
			items = append(items, s)
		}
	case []any:
		items = x
	case json.Number:
		items = []any{x}
	default:
		return Grant{}, fmt.Errorf("want a list of dataset ids, got %T", v)
	}
	g := Grant{Datasets: []int64{}}
	for _, it := range items {
		var s string
		switch x := it.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			return Grant{}, fmt.Errorf("dataset id %v is not a number", it)
		}
		if s == "*" || strings.EqualFold(s, "all") {
			return Grant{All: true}, nil
		}
		id, err := parseDatasetID(s)
		if err != nil {
			return Grant{}, err
		}
		g.Datasets = append(g.Datasets, id)
	}
	return g, nil
}

// algorithm verifies one JWS "alg".
type algorithm struct {
	hash  crypto.Hash
	kind  string // "RSA", "PSS" or "EC"
	curve elliptic.Curve
}

var algorithms = map[string]algorithm{
	"RS256": {crypto.SHA256, "RSA", nil},
	"RS384": {crypto.SHA384, "RSA", nil},
	"RS512": {crypto.SHA512, "RSA", nil},
	"PS256": {crypto.SHA256, "PSS", nil},
	"PS384": {crypto.SHA384, "PSS", nil},
	"PS512": {crypto.SHA512, "PSS", nil},
	"ES256": {crypto.SHA256, "EC", elliptic.P256()},
	"ES384": {crypto.SHA384, "EC", elliptic.P384()},
}

func (a algorithm) verify(key crypto.PublicKey, signed, sig []byte) error {
	h := a.hash.New()
	h.Write(signed)
	digest := h.Sum(nil)
	switch a.kind {
	case "RSA", "PSS":
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return invalid("JWT algorithm does not match its key")
		}
		var err error
		if a.kind == "RSA" {
			err = rsa.VerifyPKCS1v15(pub, a.hash, digest, sig)
		} else {
			err = rsa.VerifyPSS(pub, a.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		if err != nil {
			return invalid("bad JWT signature")
		}
		return nil
	case "EC":
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != a.curve {
			return invalid("JWT algorithm does not match its key")
		}
		size := (a.curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return invalid("bad JWT signature")
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(pub, digest, r, s) {
			return invalid("bad JWT signature")
		}
		return nil
	}
	return invalid("unsupported JWT algorithm")
}

// keySet is the issuer's JWKS, cached. It is fetched again when older than
// maxAge, or when a token names a key id it does not hold (key rotation) —
// but not more often than minRefresh, so tokens with made-up key ids cannot
// make us hammer the identity provider.
type keySet struct {
	url        string
	client     *http.Client
	log        *slog.Logger
	maxAge     time.Duration
	minRefresh time.Duration
	now        func() time.Time

	mu        sync.Mutex
	keys      map[string]jwk // by kid; nil until the first successful fetch
	fetched   time.Time      // last successful fetch
	attempted time.Time      // last fetch, successful or not
}

type jwk struct {
	alg string
	key crypto.PublicKey
}

func (s *keySet) key(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k, ok := s.lookup(kid)
	stale := s.keys == nil || now.Sub(s.fetched) > s.maxAge || !ok
	if stale && now.Sub(s.attempted) >= s.minRefresh {
		s.attempted = now
		if err := s.refresh(ctx); err != nil {
			s.log.WarnContext(ctx, "fetch JWKS", "url", s.url, "err", err)
		}
		k, ok = s.lookup(kid)
	}
	if s.keys == nil {
		return nil, errors.New("the identity provider's signing keys are unavailable")
	}
	if !ok {
		return nil, invalid("unknown JWT key id %q", kid)
	}
	if k.alg != "" && k.alg != alg {
		return nil, invalid("JWT algorithm %s does not match its key (%s)", alg, k.alg)
	}
	return k.key, nil
}

// lookup finds kid; a token without kid may use the only key of the set.
func (s *keySet) lookup(kid string) (jwk, bool) {
	if kid == "" && len(s.keys) == 1 {
		for _, k := range s.keys {
			return k, true
		}
	}
	k, ok := s.keys[kid]
	return k, ok
}

// refresh fetches the JWKS; on failure the previous keys are kept.
func (s *keySet) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			N   string `json:"n"`
			E   string `json:"e"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("decode JWKS: %w", err)
	}
	keys := make(map[string]jwk)
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := parseJWK(k.Kty, k.N, k.E, k.Crv, k.X, k.Y)
		if err != nil {
			s.log.WarnContext(ctx, "skip JWKS key", "kid", k.Kid, "err", err)
			continue
		}
		keys[k.Kid] = jwk{alg: k.Alg, key: pub}
	}
	s.keys = keys
	s.fetched = s.now()
	return nil
}

func parseJWK(kty, n, e, crv, x, y string) (crypto.PublicKey, error) {
	b64 := base64.RawURLEncoding
	switch kty {
	case "RSA":
		nb, err1 := b64.DecodeString(n)
		eb, err2 := b64.DecodeString(e)
		if err1 != nil || err2 != nil || len(eb) == 0 || len(eb) > 4 {
			return nil, errors.New("malformed RSA key")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
		if pub.N.BitLen() < 2048 {
			return nil, errors.New("RSA key shorter than 2048 bits")
		}
		return pub, nil
	case "EC":
		var curve elliptic.Curve
		switch crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return nil, fmt.Errorf("unsupported curve %q", crv)
		}
		xb, err1 := b64.DecodeString(x)
		yb, err2 := b64.DecodeString(y)
		size := (curve.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(xb) != size || len(yb) != size {
			return nil, errors.New("malformed EC key")
		}
		// Build the uncompressed point and let ecdsa check it is on the curve.
		point := append(append([]byte{4}, xb...), yb...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, fmt.Errorf("EC key: %w", err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("unsupported key type %q", kty)
}
