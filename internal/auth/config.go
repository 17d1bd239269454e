package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config holds the HTTP auth settings. It is loaded from MCPA_AUTH_*
// environment variables ([Config.LoadEnv]) and serve's flags.
type Config struct {
	// Issuer enables OAuth resource-server mode: the exact "iss" of
	// accepted JWTs, and the authorization server advertised in the
	// protected resource metadata. (MCPA_AUTH_ISSUER)
	Issuer string
	// JWKSURL is where the issuer publishes its signing keys; required with
	// Issuer. It must be https unless it points at a loopback host.
	// (MCPA_AUTH_JWKS_URL)
	JWKSURL string
	// Resource is the public URL of the MCP endpoint, e.g.
	// https://analytics.example.com/mcp: the "resource" of the protected
	// resource metadata; required with Issuer. (MCPA_AUTH_RESOURCE)
	Resource string
	// Audience is the "aud" a JWT must carry; default Resource (RFC 8707).
	// (MCPA_AUTH_AUDIENCE)
	Audience string
	// DatasetsClaim names the JWT claim listing the dataset ids the caller
	// may see: a JSON array of numbers or strings, or a string of ids
	// separated by spaces or commas; "*" or "all" grants every dataset. A
	// token without the claim sees no dataset. Default "mcpa_datasets".
	// (MCPA_AUTH_DATASETS_CLAIM)
	DatasetsClaim string
	// AdminClaim names the JWT claim that lets its subject sign in to the
	// admin console: the claim must be true (or "true"). Default
	// "mcpa_admin". (MCPA_AUTH_ADMIN_CLAIM)
	AdminClaim string
	// Scopes are advertised as scopes_supported in the metadata.
	// (MCPA_AUTH_SCOPES, separated by spaces or commas)
	Scopes []string
	// ClockSkew is the tolerance on exp and nbf; default 60s.
	ClockSkew time.Duration
	// TokenRefresh bounds how long a token created or revoked by another
	// process goes unnoticed; default 2s. (MCPA_AUTH_TOKEN_REFRESH)
	TokenRefresh time.Duration
	// AllowedOrigins are browser origins (scheme://host[:port]) allowed to
	// call the endpoint cross-origin. (MCPA_AUTH_ALLOWED_ORIGINS)
	AllowedOrigins []string
	// AllowUnauthenticated lets the server listen on a non-loopback address
	// without any auth. (MCPA_AUTH_ALLOW_UNAUTHENTICATED)
	AllowUnauthenticated bool
	// Required demands a token even before the first one exists, so a
	// fresh deployment starts locked (every call 401) instead of open or
	// refusing to start; tokens created later with "mcp-analytics tokens
	// create" are accepted within TokenRefresh. (MCPA_AUTH_REQUIRED)
	Required bool
}

// OAuth reports whether resource-server mode is configured.
func (c Config) OAuth() bool { return c.Issuer != "" }

func (c Config) withDefaults() Config {
	if c.Audience == "" {
		c.Audience = c.Resource
	}
	if c.DatasetsClaim == "" {
		c.DatasetsClaim = "mcpa_datasets"
	}
	if c.AdminClaim == "" {
		c.AdminClaim = "mcpa_admin"
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = 60 * time.Second
	}
	if c.TokenRefresh == 0 {
		c.TokenRefresh = 2 * time.Second
	}
	return c
}

// LoadEnv overrides c with the MCPA_AUTH_* variables present in environ
// ("KEY=value" strings).
func (c *Config) LoadEnv(environ []string) error {
	var errs []error
	for _, kv := range environ {
		key, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(key, "MCPA_AUTH_") {
			continue
		}
		switch key {
		case "MCPA_AUTH_ISSUER":
			c.Issuer = v
		case "MCPA_AUTH_JWKS_URL":
			c.JWKSURL = v
		case "MCPA_AUTH_RESOURCE":
			c.Resource = v
		case "MCPA_AUTH_AUDIENCE":
			c.Audience = v
		case "MCPA_AUTH_DATASETS_CLAIM":
			c.DatasetsClaim = v
		case "MCPA_AUTH_ADMIN_CLAIM":
			c.AdminClaim = v
		case "MCPA_AUTH_SCOPES":
			c.Scopes = SplitList(v)
		case "MCPA_AUTH_ALLOWED_ORIGINS":
			c.AllowedOrigins = SplitList(v)
		case "MCPA_AUTH_TOKEN_REFRESH":
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
			c.TokenRefresh = d
		case "MCPA_AUTH_REQUIRED":
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
			c.Required = b
		case "MCPA_AUTH_ALLOW_UNAUTHENTICATED":
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
			c.AllowUnauthenticated = b
		default:
			errs = append(errs, fmt.Errorf("unknown variable %s", key))
		}
	}
	return errors.Join(errs...)
}

// SplitList splits a list written with spaces or commas.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.OAuth() {
		if _, err := parseURL("issuer", c.Issuer, false); err != nil {
			errs = append(errs, err)
		}
		if c.JWKSURL == "" {
			errs = append(errs, errors.New("auth: a JWKS URL is required with an issuer (MCPA_AUTH_JWKS_URL)"))
		} else if _, err := parseURL("JWKS URL", c.JWKSURL, true); err != nil {
			errs = append(errs, err)
		}
		if c.Resource == "" {
			errs = append(errs, errors.New("auth: the public URL of the MCP endpoint is required with an issuer (MCPA_AUTH_RESOURCE), e.g. https://analytics.example.com/mcp"))
		} else if _, err := parseURL("resource", c.Resource, false); err != nil {
			errs = append(errs, err)
		}
	} else if c.JWKSURL != "" || c.Audience != "" || c.Resource != "" {
		errs = append(errs, errors.New("auth: OAuth settings given without an issuer (MCPA_AUTH_ISSUER)"))
	}
	for _, o := range c.AllowedOrigins {
		if _, err := ParseOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	if c.TokenRefresh < 0 || c.ClockSkew < 0 {
		errs = append(errs, errors.New("auth: durations must not be negative"))
	}
	return errors.Join(errs...)
}

// parseURL checks an absolute http(s) URL; with httpsOnly, plain http is
// allowed only for loopback hosts (tests, local identity providers).
func parseURL(what, s string, httpsOnly bool) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("auth: %s %q is not an absolute http(s) URL", what, s)
	}
	if httpsOnly && u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("auth: %s %q must use https", what, s)
	}
	return u, nil
}

// ParseOrigin normalises a browser origin: scheme://host[:port] with no
// path, lower-cased.
func ParseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("auth: allowed origin %q is not scheme://host[:port]", s)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// IsLoopbackHost reports whether host (a name or IP, without port) is the
// local machine: localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
