package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/demo"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
)

func runDemo(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "load" {
		return &UsageError{Message: "missing subcommand", Hint: "mcp-analytics demo load --dsn postgres://user@host/db"}
	}
	fs := newFlagSet("demo load", env)
	var common commonFlags
	common.register(fs)
	var cat catalogFlags
	cat.registerStore(fs)
	dsn := fs.String("dsn", "", "PostgreSQL database to load the demo datasets into (default: the catalog's database when the catalog is PostgreSQL)")
	users := fs.Int("users", 0, "panelists in the first dataset (default 20000)")
	noRegister := fs.Bool("no-register", false, "load the data only; do not add the datasets to the catalog")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cat = cat.resolve(env.Environ)
	if *dsn == "" && isPostgresURL(cat.store) {
		*dsn = cat.store
	}
	if *dsn == "" {
		return &UsageError{Message: "--dsn is required", Hint: "mcp-analytics demo load --dsn postgres://postgres@127.0.0.1:5432/postgres"}
	}
	cfg, err := common.load(env)
	if err != nil {
		return err
	}
	var store provision.Store
	if !*noRegister {
		s, err := openCatalog(ctx, cfg, cat)
		if err != nil {
			return err
		}
		defer s.Close()
		// Loading again is a no-op: deployments run this at every start.
		list, err := s.List(ctx)
		if err != nil {
			return err
		}
		for _, d := range list {
			if d.Driver == catalog.DriverPostgres && d.Name == "Sample Dataset (PostgreSQL)" {
				fmt.Fprintf(env.Stderr, "the demo is already loaded and registered (dataset %d %q); nothing to do\n", d.ID, d.Name)
				return nil
			}
		}
		store = s
	}
	list, err := provision.DemoPostgres(ctx, store, *dsn, demo.Options{Users: *users, Anchor: time.Now()}, env.Stderr)
	if err != nil {
		return err
	}
	for _, d := range list {
		fmt.Fprintln(env.Stdout, d.ID)
	}
	return nil
}
