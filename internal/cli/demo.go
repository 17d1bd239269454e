package cli

import (
	"context"
	"fmt"
	"time"

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
	dsn := fs.String("dsn", "", "PostgreSQL database to load the demo datasets into (required)")
	users := fs.Int("users", 0, "panelists in the first dataset (default 20000)")
	noRegister := fs.Bool("no-register", false, "load the data only; do not add the datasets to the catalog")
	if err := parse(fs, args[1:]); err != nil {
		return err
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
		s, err := openStore(ctx, cfg.DataDir)
		if err != nil {
			return err
		}
		defer s.Close()
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
