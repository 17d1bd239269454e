package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/config"
)

// Config is the auth settings type, declared once in package config (read
// from YAML, MCPA_AUTH_* and serve's flags); the alias keeps this package's
// code and tests short.
type Config = config.Auth

// withDefaults fills in the defaults of c's unset durations and names.
func withDefaults(c Config) Config {
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

// Validate reports every problem of c at once.
func Validate(c Config) error {
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
