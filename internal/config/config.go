// Package config holds the server's settings. They are layered: Default,
// then a YAML file (unknown keys are errors), then MCPA_* environment
// variables, then command-line flags (applied by the cli package). ${VAR}
// references in the YAML file are expanded from the environment so secrets
// need not be written into it. Validate reports every problem at once.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of one server process.
type Config struct {
	// Listen is the HTTP address; loopback unless configured otherwise.
	Listen string `yaml:"listen"`
	// DataDir holds the catalog, the demo databases and other local state.
	DataDir string `yaml:"data_dir"`
	// Stateless serves Streamable HTTP without sessions, so several replicas
	// can sit behind a load balancer.
	Stateless bool `yaml:"stateless"`
	// Demo generates the demo datasets into DuckDB on first start.
	Demo bool `yaml:"demo"`
	// Log configures log/slog.
	Log Log `yaml:"log"`
	// Limits are the defaults for every dataset (SPEC §3).
	Limits Limits `yaml:"limits"`
	// CatalogPoll is how often the catalog is checked for changes made by
	// other processes (datasets added, changed or removed).
	CatalogPoll time.Duration `yaml:"catalog_poll"`
	// ResultCacheTTL keeps answers this long (same dataset version, SQL
	// and row cap); 0, the default, turns the result cache off.
	ResultCacheTTL time.Duration `yaml:"result_cache_ttl"`
	// Auth configures who may call the server (SECURITY.md). MCPA_AUTH_*
	// variables and serve's --auth-* flags override it.
	Auth Auth `yaml:"auth"`
	// ShutdownGrace is how long in-flight calls may run after SIGTERM or
	// SIGINT before they are cancelled (in the database too).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// MetricsListen is a separate address serving /metrics without auth
	// (for a Prometheus on a private network); "" serves /metrics only on
	// the main address, where it needs a metrics token once auth is on.
	MetricsListen string `yaml:"metrics_listen"`
	// QueryLog configures the query log.
	QueryLog QueryLog `yaml:"query_log"`
}

// QueryLog configures the query log kept in the catalog store.
type QueryLog struct {
	// Retention is how long records are kept; the server prunes older
	// ones hourly. 0 keeps them forever.
	Retention time.Duration `yaml:"retention"`
}

// Auth holds the HTTP auth settings (SECURITY.md): the one type for them,
// read from the YAML file, the MCPA_AUTH_* variables and serve's --auth-*
// flags, validated and used by package auth. API tokens need no settings;
// OAuth 2.1 resource-server mode is enabled by Issuer.
type Auth struct {
	// Issuer enables OAuth resource-server mode: the exact "iss" of
	// accepted JWTs, and the authorization server advertised in the
	// protected resource metadata. (MCPA_AUTH_ISSUER)
	Issuer string `yaml:"issuer"`
	// JWKSURL is where the issuer publishes its signing keys; required with
	// Issuer. It must be https unless it points at a loopback host.
	// (MCPA_AUTH_JWKS_URL)
	JWKSURL string `yaml:"jwks_url"`
	// Resource is the public URL of the MCP endpoint, e.g.
	// https://analytics.example.com/mcp: the "resource" of the protected
	// resource metadata; required with Issuer. (MCPA_AUTH_RESOURCE)
	Resource string `yaml:"resource"`
	// Audience is the "aud" a JWT must carry; default Resource (RFC 8707).
	// (MCPA_AUTH_AUDIENCE)
	Audience string `yaml:"audience"`
	// DatasetsClaim names the JWT claim listing the dataset ids the caller
	// may see: a JSON array of numbers or strings, or a string of ids
	// separated by spaces or commas; "*" or "all" grants every dataset. A
	// token without the claim sees no dataset. Default "mcpa_datasets".
	// (MCPA_AUTH_DATASETS_CLAIM)
	DatasetsClaim string `yaml:"datasets_claim"`
	// AdminClaim names the JWT claim that lets its subject sign in to the
	// admin console: the claim must be true (or "true"). Default
	// "mcpa_admin". (MCPA_AUTH_ADMIN_CLAIM)
	AdminClaim string `yaml:"admin_claim"`
	// Scopes are advertised as scopes_supported in the metadata.
	// (MCPA_AUTH_SCOPES, separated by spaces or commas)
	Scopes []string `yaml:"scopes"`
	// AllowedOrigins are browser origins (scheme://host[:port]) allowed to
	// call the endpoint cross-origin. (MCPA_AUTH_ALLOWED_ORIGINS)
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowUnauthenticated lets the server listen on a non-loopback address
	// without any auth. (MCPA_AUTH_ALLOW_UNAUTHENTICATED)
	AllowUnauthenticated bool `yaml:"allow_unauthenticated"`
	// Required demands a token even before the first one exists, so a
	// fresh deployment starts locked (every call 401) instead of open or
	// refusing to start; tokens created later with "mcp-analytics tokens
	// create" are accepted within TokenRefresh. (MCPA_AUTH_REQUIRED)
	Required bool `yaml:"required"`
	// TokenRefresh bounds how long a token created or revoked by another
	// process goes unnoticed; default 2s. (MCPA_AUTH_TOKEN_REFRESH)
	TokenRefresh time.Duration `yaml:"token_refresh"`
	// ClockSkew is the tolerance on exp and nbf; default 60s.
	// (MCPA_AUTH_CLOCK_SKEW)
	ClockSkew time.Duration `yaml:"clock_skew"`
}

// OAuth reports whether resource-server mode is configured.
func (a Auth) OAuth() bool { return a.Issuer != "" }

// SplitList splits a list written with spaces or commas.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Limits bound what one query may cost and return (SPEC §3).
type Limits struct {
	RawRows        int `yaml:"raw_rows"`
	AggregatedRows int `yaml:"aggregated_rows"`
	MaxQueries     int `yaml:"max_queries"`
	MaxConcurrent  int `yaml:"max_concurrent"`
	// MaxConcurrentPerClient is how many of the MaxConcurrent slots one
	// client (a token, or an MCP session without auth) may hold at once;
	// 0 means half of MaxConcurrent (at least 1).
	MaxConcurrentPerClient int           `yaml:"max_concurrent_per_client"`
	PoolMinConns           int           `yaml:"pool_min_conns"`
	PoolMaxConns           int           `yaml:"pool_max_conns"`
	PoolIdle               time.Duration `yaml:"pool_idle"`
	QueryTimeout           time.Duration `yaml:"query_timeout"`
	ConnectTimeout         time.Duration `yaml:"connect_timeout"`
	MaxQueryBytes          int           `yaml:"max_query_bytes"`
	MaxAnswerBytes         int           `yaml:"max_answer_bytes"`
	MaxCellChars           int           `yaml:"max_cell_chars"`
	// MaxResultBytes bounds the row data one query reads from its
	// database; past it reading stops (the answer says so), so one giant
	// value cannot be read whole into memory.
	MaxResultBytes int `yaml:"max_result_bytes"`
	// MinCell is the minimum cell size of disclosure control: a row of an
	// aggregated answer behind fewer distinct panelists keeps its labels
	// but loses its figures. 0 switches it off.
	MinCell int `yaml:"min_cell"`
	// WorkMem and MaxParallelWorkersPerGather are set on every pooled
	// PostgreSQL connection (see session.go); "" and nil leave the
	// database's defaults.
	WorkMem                     string `yaml:"work_mem"`
	MaxParallelWorkersPerGather *int   `yaml:"max_parallel_workers_per_gather"`
}

// Default returns the configuration used when nothing is configured.
func Default() Config {
	return Config{
		Listen:        "127.0.0.1:8000",
		DataDir:       defaultDataDir(),
		Demo:          true,
		Log:           Log{Level: "info", Format: "text"},
		Limits:        DefaultLimits(),
		CatalogPoll:   2 * time.Second,
		ShutdownGrace: 25 * time.Second,
		QueryLog:      QueryLog{Retention: 90 * 24 * time.Hour},
	}
}

// DefaultLimits returns SPEC §3's defaults.
func DefaultLimits() Limits {
	return Limits{
		RawRows:        5,
		AggregatedRows: 1000,
		MaxQueries:     30,
		MaxConcurrent:  10,
		PoolMinConns:   2,
		PoolMaxConns:   10,
		PoolIdle:       300 * time.Second,
		QueryTimeout:   60 * time.Second,
		ConnectTimeout: 30 * time.Second,
		MaxQueryBytes:  100 * 1024,
		MaxAnswerBytes: 256 * 1024,
		MaxCellChars:   200,
		MaxResultBytes: 4 << 20,
		MinCell:        3,
	}
}

func defaultDataDir() string {
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".mcp-analytics")
	}
	return ".mcp-analytics"
}

// Load returns Default overlaid with the YAML file at path (when path is not
// empty) and then with the MCPA_* variables of environ.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		if err := Decode(data, &cfg, environ); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := ApplyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Decode decodes YAML over cfg after expanding ${VAR} references from
// environ. Unknown keys are errors.
func Decode(data []byte, cfg *Config, environ []string) error {
	expanded, err := Expand(data, environ)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: nothing to overlay.
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("decode yaml: %w", err)
	}
	return nil
}

// Expand replaces ${VAR} and $VAR in data with values from environ, so
// secrets need not be written into files. A variable that is not set is an
// error rather than an empty string: a missing password should not turn
// into a silently different connection string.
func Expand(data []byte, environ []string) ([]byte, error) {
	env := envMap(environ)
	var missing []string
	expanded := os.Expand(string(data), func(name string) string {
		v, ok := env[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("environment variables referenced but not set: %s", strings.Join(missing, ", "))
	}
	return []byte(expanded), nil
}

// envVar binds one MCPA_* variable to a setting.
type envVar struct {
	name string
	set  func(c *Config, v string) error
}

func envVars() []envVar {
	str := func(p func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *p(c) = v; return nil }
	}
	integer := func(p func(*Config) *int) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not a whole number: %q", v)
			}
			*p(c) = n
			return nil
		}
	}
	boolean := func(p func(*Config) *bool) func(*Config, string) error {
		return func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("not true or false: %q", v)
			}
			*p(c) = b
			return nil
		}
	}
	list := func(p func(*Config) *[]string) func(*Config, string) error {
		return func(c *Config, v string) error { *p(c) = SplitList(v); return nil }
	}
	duration := func(p func(*Config) *time.Duration) func(*Config, string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("not a duration such as 60s: %q", v)
			}
			*p(c) = d
			return nil
		}
	}
	return []envVar{
		{"MCPA_LISTEN", str(func(c *Config) *string { return &c.Listen })},
		{"MCPA_DATA_DIR", str(func(c *Config) *string { return &c.DataDir })},
		{"MCPA_STATELESS", boolean(func(c *Config) *bool { return &c.Stateless })},
		{"MCPA_DEMO", boolean(func(c *Config) *bool { return &c.Demo })},
		{"MCPA_LOG_LEVEL", str(func(c *Config) *string { return &c.Log.Level })},
		{"MCPA_LOG_FORMAT", str(func(c *Config) *string { return &c.Log.Format })},
		{"MCPA_CATALOG_POLL", duration(func(c *Config) *time.Duration { return &c.CatalogPoll })},
		{"MCPA_RESULT_CACHE_TTL", duration(func(c *Config) *time.Duration { return &c.ResultCacheTTL })},
		{"MCPA_SHUTDOWN_GRACE", duration(func(c *Config) *time.Duration { return &c.ShutdownGrace })},
		{"MCPA_METRICS_LISTEN", str(func(c *Config) *string { return &c.MetricsListen })},
		{"MCPA_QUERY_LOG_RETENTION", duration(func(c *Config) *time.Duration { return &c.QueryLog.Retention })},
		{"MCPA_RAW_ROWS", integer(func(c *Config) *int { return &c.Limits.RawRows })},
		{"MCPA_AGGREGATED_ROWS", integer(func(c *Config) *int { return &c.Limits.AggregatedRows })},
		{"MCPA_MAX_QUERIES", integer(func(c *Config) *int { return &c.Limits.MaxQueries })},
		{"MCPA_MAX_CONCURRENT", integer(func(c *Config) *int { return &c.Limits.MaxConcurrent })},
		{"MCPA_MAX_CONCURRENT_PER_CLIENT", integer(func(c *Config) *int { return &c.Limits.MaxConcurrentPerClient })},
		{"MCPA_POOL_MIN_CONNS", integer(func(c *Config) *int { return &c.Limits.PoolMinConns })},
		{"MCPA_POOL_MAX_CONNS", integer(func(c *Config) *int { return &c.Limits.PoolMaxConns })},
		{"MCPA_POOL_IDLE", duration(func(c *Config) *time.Duration { return &c.Limits.PoolIdle })},
		{"MCPA_QUERY_TIMEOUT", duration(func(c *Config) *time.Duration { return &c.Limits.QueryTimeout })},
		{"MCPA_CONNECT_TIMEOUT", duration(func(c *Config) *time.Duration { return &c.Limits.ConnectTimeout })},
		{"MCPA_MAX_QUERY_BYTES", integer(func(c *Config) *int { return &c.Limits.MaxQueryBytes })},
		{"MCPA_MAX_ANSWER_BYTES", integer(func(c *Config) *int { return &c.Limits.MaxAnswerBytes })},
		{"MCPA_MAX_CELL_CHARS", integer(func(c *Config) *int { return &c.Limits.MaxCellChars })},
		{"MCPA_MAX_RESULT_BYTES", integer(func(c *Config) *int { return &c.Limits.MaxResultBytes })},
		{"MCPA_MIN_CELL", integer(func(c *Config) *int { return &c.Limits.MinCell })},
		{"MCPA_AUTH_ISSUER", str(func(c *Config) *string { return &c.Auth.Issuer })},
		{"MCPA_AUTH_JWKS_URL", str(func(c *Config) *string { return &c.Auth.JWKSURL })},
		{"MCPA_AUTH_RESOURCE", str(func(c *Config) *string { return &c.Auth.Resource })},
		{"MCPA_AUTH_AUDIENCE", str(func(c *Config) *string { return &c.Auth.Audience })},
		{"MCPA_AUTH_DATASETS_CLAIM", str(func(c *Config) *string { return &c.Auth.DatasetsClaim })},
		{"MCPA_AUTH_ADMIN_CLAIM", str(func(c *Config) *string { return &c.Auth.AdminClaim })},
		{"MCPA_AUTH_SCOPES", list(func(c *Config) *[]string { return &c.Auth.Scopes })},
		{"MCPA_AUTH_ALLOWED_ORIGINS", list(func(c *Config) *[]string { return &c.Auth.AllowedOrigins })},
		{"MCPA_AUTH_ALLOW_UNAUTHENTICATED", boolean(func(c *Config) *bool { return &c.Auth.AllowUnauthenticated })},
		{"MCPA_AUTH_REQUIRED", boolean(func(c *Config) *bool { return &c.Auth.Required })},
		{"MCPA_AUTH_TOKEN_REFRESH", duration(func(c *Config) *time.Duration { return &c.Auth.TokenRefresh })},
		{"MCPA_AUTH_CLOCK_SKEW", duration(func(c *Config) *time.Duration { return &c.Auth.ClockSkew })},
	}
}

// EnvNames lists the MCPA_* variables ApplyEnv understands.
func EnvNames() []string {
	var names []string
	for _, v := range envVars() {
		names = append(names, v.name)
	}
	return names
}

// ApplyEnv overlays the MCPA_* variables of environ on cfg.
func ApplyEnv(cfg *Config, environ []string) error {
	env := envMap(environ)
	var errs []error
	for _, v := range envVars() {
		val, ok := env[v.name]
		if !ok || val == "" {
			continue
		}
		if err := v.set(cfg, val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.name, err))
		}
	}
	// A misspelt auth variable would leave a server open that its operator
	// meant to lock, so an unknown MCPA_AUTH_* name is an error.
	known := EnvNames()
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "MCPA_AUTH_") && !slices.Contains(known, name) {
			errs = append(errs, fmt.Errorf("unknown variable %s", name))
		}
	}
	return errors.Join(errs...)
}

// Validate reports every setting that is out of range.
func (c Config) Validate() error {
	var errs []error
	bad := func(name string, format string, args ...any) {
		errs = append(errs, &Error{Setting: name, Problem: fmt.Sprintf(format, args...)})
	}
	if c.Listen == "" {
		bad("listen", "must not be empty")
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json, not %q", c.Log.Format)
	}
	if c.ResultCacheTTL < 0 {
		bad("result_cache_ttl", "must not be negative")
	}
	if c.ShutdownGrace < 0 {
		bad("shutdown_grace", "must not be negative")
	}
	if c.QueryLog.Retention < 0 {
		bad("query_log.retention", "must not be negative (0 keeps records forever)")
	}
	if c.CatalogPoll < 100*time.Millisecond {
		bad("catalog_poll", "must be at least 100ms")
	}
	l := c.Limits
	positive := []struct {
		name string
		v    int
	}{
		{"limits.raw_rows", l.RawRows}, {"limits.aggregated_rows", l.AggregatedRows},
		{"limits.max_queries", l.MaxQueries}, {"limits.max_concurrent", l.MaxConcurrent},
		{"limits.pool_max_conns", l.PoolMaxConns}, {"limits.max_query_bytes", l.MaxQueryBytes},
		{"limits.max_answer_bytes", l.MaxAnswerBytes}, {"limits.max_cell_chars", l.MaxCellChars},
		{"limits.max_result_bytes", l.MaxResultBytes},
	}
	for _, p := range positive {
		if p.v <= 0 {
			bad(p.name, "must be greater than 0, not %d", p.v)
		}
	}
	if l.MinCell < 0 {
		bad("limits.min_cell", "must be 0 (off) or more, not %d", l.MinCell)
	}
	if l.WorkMem != "" {
		if _, err := WorkMemKB(l.WorkMem); err != nil {
			bad("limits.work_mem", "%s", err.Error())
		}
	}
	if l.MaxParallelWorkersPerGather != nil {
		if err := CheckParallelWorkers(*l.MaxParallelWorkersPerGather); err != nil {
			bad("limits.max_parallel_workers_per_gather", "%s", err.Error())
		}
	}
	if l.MaxConcurrentPerClient < 0 || l.MaxConcurrentPerClient > l.MaxConcurrent {
		bad("limits.max_concurrent_per_client", "must be between 0 (half of max_concurrent) and max_concurrent (%d), not %d", l.MaxConcurrent, l.MaxConcurrentPerClient)
	}
	if l.PoolMinConns < 0 || l.PoolMinConns > l.PoolMaxConns {
		bad("limits.pool_min_conns", "must be between 0 and pool_max_conns (%d), not %d", l.PoolMaxConns, l.PoolMinConns)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"limits.query_timeout", l.QueryTimeout}, {"limits.connect_timeout", l.ConnectTimeout}, {"limits.pool_idle", l.PoolIdle}} {
		if d.v < time.Millisecond {
			bad(d.name, "must be at least 1ms, not %s", d.v)
		}
	}
	return errors.Join(errs...)
}

// Error is one invalid setting.
type Error struct {
	Setting string
	Problem string
}

func (e *Error) Error() string { return e.Setting + ": " + e.Problem }

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
