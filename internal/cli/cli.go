// Package cli implements the mcp-analytics command line: one file per
// subcommand, each with its own flag set. Run is the whole program; main
// only wires it to the process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/pgstore"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/executor"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = ""

// version returns the build's version: the one set at build time, else the
// module version the Go toolchain recorded (a tag, or a pseudo-version such
// as v0.0.0-20261202050700-1a2b3c4d5e6f), else the VCS revision and commit
// time it recorded ("1a2b3c4d5e6f 2026-12-02T05:07:00Z", "+dirty" for
// uncommitted changes), else "dev" (go run, which records neither).
func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return buildVersion(bi)
}

func buildVersion(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	v := rev[:min(12, len(rev))]
	if at != "" {
		v += " " + at
	}
	if dirty {
		v += " +dirty"
	}
	return v
}

// Env is what a command sees of its process.
type Env struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Environ []string
}

// UsageError is a mistake in the command line; Run prints it with a hint.
type UsageError struct {
	Message string
	Hint    string
}

func (e *UsageError) Error() string { return e.Message }

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve the MCP tools over Streamable HTTP (default) or stdio", runServe},
		{"query", "run one query through the same pipeline and print the Markdown", runQuery},
		{"datasets", "manage datasets (add|import|update|list|remove|test|profile|describe)", runDatasets},
		{"demo", "load the demo datasets into PostgreSQL (demo load --dsn URL)", runDemo},
		{"bench", "measure per-call overhead, multi-query speedup and load against raw pgx", runBench},
		{"tokens", "create, list or revoke API tokens (create|list|revoke)", runTokens},
		{"log", "list or follow the query log: every tool call, filtered, as a table, JSON lines or CSV", runLog},
		{"version", "print the version", runVersion},
	}
}

// Run runs the command line args (without the program name) and returns
// the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		if err == nil || errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue *UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(env.Stderr, "mcp-analytics %s: %s\n", c.name, ue.Message)
			if ue.Hint != "" {
				fmt.Fprintf(env.Stderr, "hint: %s\n", ue.Hint)
			}
			return 2
		}
		fmt.Fprintf(env.Stderr, "mcp-analytics %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(env.Stderr, "mcp-analytics: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mcp-analytics: survey-weighted, read-only analytics for AI assistants over MCP.")
	fmt.Fprintln(w, "\nUsage: mcp-analytics <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mcp-analytics <command> -h' for a command's flags.")
}

// commonFlags are the flags every command that reads the catalog takes.
type commonFlags struct {
	configPath string
	dataDir    string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", "", "YAML configuration file")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (catalog, demo databases); default ~/.mcp-analytics")
}

// catalogFlags say where the catalog is and what to provision into it.
// Their defaults come from MCPA_STORE and MCPA_PROVISION.
type catalogFlags struct {
	store     string
	provision string
	environ   []string
}

func (c *catalogFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "", "catalog store: a postgres:// URL shared by several replicas, or a SQLite file (default: catalog.sqlite in the data directory; env MCPA_STORE)")
	fs.StringVar(&c.provision, "provision", "", "datasets.yaml to apply at start, idempotently (env MCPA_PROVISION)")
}

// registerStore registers --store only (commands that provision nothing).
func (c *catalogFlags) registerStore(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "", "catalog store: a postgres:// URL shared by several replicas, or a SQLite file (default: catalog.sqlite in the data directory; env MCPA_STORE)")
}

// resolve fills what the flags left empty from environ.
func (c catalogFlags) resolve(environ []string) catalogFlags {
	c.environ = environ
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "MCPA_STORE="); ok && c.store == "" {
			c.store = v
		}
		if v, ok := strings.CutPrefix(kv, "MCPA_PROVISION="); ok && c.provision == "" {
			c.provision = v
		}
	}
	return c
}

// load returns the configuration: defaults, the YAML file, MCPA_* variables,
// then the flags.
func (c *commonFlags) load(env Env) (config.Config, error) {
	if c.configPath == "" {
		for _, kv := range env.Environ {
			if v, ok := strings.CutPrefix(kv, "MCPA_CONFIG="); ok {
				c.configPath = v
			}
		}
	}
	cfg, err := config.Load(c.configPath, env.Environ)
	if err != nil {
		return cfg, err
	}
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	return cfg, nil
}

func newFlagSet(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("mcp-analytics "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{Message: err.Error(), Hint: "see '" + fs.Name() + " -h'"}
	}
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	hopts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// app is the wiring shared by serve and query: catalog, registry, service.
type app struct {
	cfg   config.Config
	log   *slog.Logger
	store catalog.Store
	reg   *dataset.Registry
	svc   *analysis.Service
}

// importLocalTokens copies the API tokens of the data directory's SQLite
// catalog into store, a PostgreSQL catalog: tokens used to be kept in
// each replica's local file, and now live where every replica sees them.
// It is idempotent (a token already there, or whose name an active token
// holds, is skipped), so every start may run it.
func importLocalTokens(ctx context.Context, cfg config.Config, store catalog.Store, log *slog.Logger) error {
	path := catalogPath(cfg.DataDir)
	if _, err := os.Stat(path); err != nil {
		return nil // no local catalog: nothing to migrate
	}
	local, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("open the local catalog to migrate its tokens: %w", err)
	}
	defer local.Close()
	tokens, err := local.Tokens(ctx)
	if err != nil || len(tokens) == 0 {
		return err
	}
	n, err := store.ImportTokens(ctx, tokens)
	if err != nil {
		return fmt.Errorf("migrate local tokens into the catalog store: %w", err)
	}
	if n > 0 {
		log.Info("migrated API tokens from the local catalog into the shared store", "tokens", n, "from", path)
	}
	return nil
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func catalogPath(dataDir string) string { return filepath.Join(dataDir, "catalog.sqlite") }

// openStore opens the SQLite catalog in the data directory, creating both.
// Its secret key is MCPA_SECRET_KEY or the data directory's key file.
func openStore(ctx context.Context, dataDir string) (*sqlitestore.Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	return sqlitestore.Open(ctx, catalogPath(dataDir))
}

// openCatalog opens the catalog the flags name: PostgreSQL for a
// postgres:// URL, else SQLite (the data directory's file by default).
// Connection strings are sealed with MCPA_SECRET_KEY or the data
// directory's key file.
func openCatalog(ctx context.Context, cfg config.Config, cf catalogFlags) (catalog.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	box, err := secret.Load(cf.environ, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	switch {
	case isPostgresURL(cf.store):
		return pgstore.Open(ctx, cf.store, box)
	case cf.store == "":
		return sqlitestore.Open(ctx, catalogPath(cfg.DataDir), sqlitestore.WithBox(box))
	default:
		return sqlitestore.Open(ctx, strings.TrimPrefix(cf.store, "sqlite://"), sqlitestore.WithBox(box))
	}
}

// openApp opens the catalog, generates the demo and applies the
// provisioning file when asked, and builds the registry and service. The
// catalog flags default to MCPA_STORE / MCPA_PROVISION of the process.
func openApp(ctx context.Context, cfg config.Config, log *slog.Logger, progress io.Writer, flags ...catalogFlags) (*app, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	cf := catalogFlags{}.resolve(os.Environ())
	if len(flags) > 0 {
		cf = flags[0]
	}
	cat, err := openCatalog(ctx, cfg, cf)
	if err != nil {
		return nil, err
	}
	store := cat
	if _, shared := cat.(*pgstore.Store); shared {
		if err := importLocalTokens(ctx, cfg, cat, log); err != nil {
			cat.Close()
			return nil, err
		}
	}
	if cfg.Demo {
		if err := provision.EnsureDemo(ctx, store, cfg.DataDir, progress); err != nil {
			store.Close()
			return nil, err
		}
	}
	if cf.provision != "" {
		changes, err := provision.ApplyFile(ctx, store, cf.provision, cf.environ)
		if err != nil {
			store.Close()
			return nil, err
		}
		for _, c := range changes {
			log.Info("provisioned dataset", "dataset", c.ID, "name", c.Name, "action", c.Action)
		}
	}
	// The registry gets the catalog itself, so it can LISTEN when the
	// catalog is PostgreSQL.
	reg := dataset.New(cat, dataset.SourceOpener(log), cfg.Limits, log)
	if err := reg.Refresh(ctx); err != nil {
		store.Close()
		return nil, err
	}
	svc := analysis.New(reg, executor.New(cfg.Limits.MaxConcurrent, executor.PerClient(cfg.Limits.MaxConcurrentPerClient)), cfg.Limits.MaxQueries, log, analysis.WithResultCache(cfg.ResultCacheTTL))
	return &app{cfg: cfg, log: log, store: store, reg: reg, svc: svc}, nil
}

func (a *app) renderOptions() render.Options {
	return render.Options{MaxCell: a.cfg.Limits.MaxCellChars, MaxBytes: a.cfg.Limits.MaxAnswerBytes}
}

func (a *app) Close() {
	a.reg.Close()
	a.store.Close()
}
