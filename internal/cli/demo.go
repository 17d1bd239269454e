package cli

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/demo"
)

const demoMetaKey = "demo_generated"

// demoSettings are the catalog settings of a demo dataset: its weights are
// in thousands of people.
var demoSettings = catalog.Settings{Roles: catalog.Roles{WeightScale: 1000}}

// ensureDemo generates the demo datasets into DuckDB files in the data
// directory and registers them, once: removing them later is respected.
func ensureDemo(ctx context.Context, store *sqlitestore.Store, dataDir string, progress io.Writer) error {
	done, err := store.Meta(ctx, demoMetaKey)
	if err != nil || done != "" {
		return err
	}
	dir := filepath.Join(dataDir, "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	start := time.Now()
	fmt.Fprintln(progress, "generating the demo datasets (first start only)...")
	for _, ds := range demo.Generate(demo.Options{Anchor: time.Now()}) {
		path := filepath.Join(dir, slug(ds.Name)+".duckdb")
		if err := writeDuckDBFile(ctx, path, ds); err != nil {
			return err
		}
		if _, err := store.Add(ctx, catalog.Dataset{Name: ds.Name, Description: ds.Description, Driver: catalog.DriverDuckDB, DSN: path, Settings: demoSettings}); err != nil {
			return fmt.Errorf("register demo dataset: %w", err)
		}
	}
	fmt.Fprintf(progress, "demo datasets ready in %s\n", time.Since(start).Round(time.Millisecond))
	return store.SetMeta(ctx, demoMetaKey, time.Now().UTC().Format(time.RFC3339))
}

func writeDuckDBFile(ctx context.Context, path string, ds demo.Dataset) error {
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("replace %s: %w", p, err)
		}
	}
	connector, err := duckdbdrv.NewConnector(path, nil)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	if err := demo.WriteDuckDB(ctx, db, ds); err != nil {
		return fmt.Errorf("write demo dataset %q: %w", ds.Name, err)
	}
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

func slug(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), " ", "_")
}

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
	conn, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", catalog.RedactDSN(*dsn), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var store *sqlitestore.Store
	if !*noRegister {
		if store, err = openStore(ctx, cfg.DataDir); err != nil {
			return err
		}
		defer store.Close()
	}
	for _, ds := range demo.Generate(demo.Options{Users: *users, Anchor: time.Now()}) {
		schema := "demo_" + slug(ds.Name)
		start := time.Now()
		if err := demo.WritePostgres(ctx, conn, schema, ds); err != nil {
			return fmt.Errorf("load %q: %w", ds.Name, err)
		}
		fmt.Fprintf(env.Stderr, "loaded %q into schema %s: %d rows in %s\n", ds.Name, schema, ds.RowCount(), time.Since(start).Round(time.Millisecond))
		if store == nil {
			continue
		}
		d, err := store.Add(ctx, catalog.Dataset{Name: ds.Name + " (PostgreSQL)", Description: ds.Description,
			Driver: catalog.DriverPostgres, DSN: withSearchPath(*dsn, schema), Settings: demoSettings})
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, d.ID)
	}
	return nil
}

// withSearchPath points a connection string at a schema.
func withSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}
