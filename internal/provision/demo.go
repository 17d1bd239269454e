// Package provision puts datasets in place and registers them in the
// catalog: the demo panel written into DuckDB files (on first start) or into
// PostgreSQL schemas (mcp-analytics demo load).
package provision

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
	"github.com/mcp-analytics/mcp-analytics/internal/demo"
)

// Store is the part of a catalog store provisioning writes to.
type Store interface {
	Add(ctx context.Context, d catalog.Dataset) (catalog.Dataset, error)
	List(ctx context.Context) ([]catalog.Dataset, error)
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	SetDescriptions(ctx context.Context, datasetID int64, ds []catalog.Description) error
	Descriptions(ctx context.Context, datasetID int64) ([]catalog.Description, error)
}

const (
	demoMetaKey = "demo_generated"
	// demoUnitsKey marks a catalog whose demo datasets have the units of
	// their money columns in the dictionary (added after the demo was).
	demoUnitsKey = "demo_units"
)

// DemoSettings are the catalog settings of a demo dataset: its weights are
// in thousands of people.
var DemoSettings = catalog.Settings{Roles: catalog.Roles{WeightScale: 1000}}

// EnsureDemo generates the demo datasets into DuckDB files under
// dataDir/demo and registers them, once: a catalog that already had them
// (even if an operator removed them since) is left alone.
//
// A catalog whose demo datasets were registered before dictionaries had
// units gets the units of the demo's money columns once, so its answers
// show ₹ too; descriptions and units an operator set are kept.
func EnsureDemo(ctx context.Context, store Store, dataDir string, progress io.Writer) error {
	done, err := store.Meta(ctx, demoMetaKey)
	if err != nil {
		return err
	}
	if done != "" {
		return addDemoUnits(ctx, store, filepath.Join(dataDir, "demo"))
	}
	start := time.Now()
	fmt.Fprintln(progress, "generating the demo datasets (first start only)...")
	if _, err := DemoDuckDB(ctx, store, filepath.Join(dataDir, "demo"), demo.Options{Anchor: time.Now()}); err != nil {
		return err
	}
	fmt.Fprintf(progress, "demo datasets ready in %s\n", time.Since(start).Round(time.Millisecond))
	if err := store.SetMeta(ctx, demoUnitsKey, "1"); err != nil {
		return err
	}
	return store.SetMeta(ctx, demoMetaKey, time.Now().UTC().Format(time.RFC3339))
}

// addDemoUnits gives the demo datasets registered in dir, once, the units
// of the demo dictionary that their columns lack.
func addDemoUnits(ctx context.Context, store Store, dir string) error {
	if done, err := store.Meta(ctx, demoUnitsKey); err != nil || done != "" {
		return err
	}
	list, err := store.List(ctx)
	if err != nil {
		return err
	}
	// The dictionaries do not depend on the generated values: a one-user
	// panel gives the same tables and columns.
	for _, ds := range demo.Generate(demo.Options{Users: 1}) {
		path := filepath.Join(dir, slug(ds.Name)+".duckdb")
		for _, d := range list {
			if d.Driver != catalog.DriverDuckDB || d.DSN != path {
				continue
			}
			stored, err := store.Descriptions(ctx, d.ID)
			if err != nil {
				return err
			}
			have := map[[2]string]catalog.Description{}
			for _, s := range stored {
				have[[2]string{s.Table, s.Column}] = s
			}
			var add []catalog.Description
			for _, e := range Dictionary(ds) {
				s, ok := have[[2]string{e.Table, e.Column}]
				switch {
				case e.Unit == "" || ok && s.Unit != "":
				case ok:
					s.Unit = e.Unit
					add = append(add, s)
				default:
					add = append(add, e)
				}
			}
			if err := store.SetDescriptions(ctx, d.ID, add); err != nil {
				return fmt.Errorf("add units to demo dataset %d: %w", d.ID, err)
			}
		}
	}
	return store.SetMeta(ctx, demoUnitsKey, "1")
}

// DemoDuckDB writes the demo datasets into DuckDB files in dir (replacing
// any there) and registers them, in order.
func DemoDuckDB(ctx context.Context, store Store, dir string, opts demo.Options) ([]catalog.Dataset, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create demo directory: %w", err)
	}
	var out []catalog.Dataset
	for _, ds := range demo.Generate(opts) {
		path := filepath.Join(dir, slug(ds.Name)+".duckdb")
		if err := writeDuckDBFile(ctx, path, ds); err != nil {
			return nil, err
		}
		d, err := store.Add(ctx, catalog.Dataset{Name: ds.Name, Description: ds.Description, Driver: catalog.DriverDuckDB, DSN: path, Settings: DemoSettings})
		if err != nil {
			return nil, fmt.Errorf("register demo dataset: %w", err)
		}
		if err := store.SetDescriptions(ctx, d.ID, Dictionary(ds)); err != nil {
			return nil, fmt.Errorf("import the demo's data dictionary: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// DemoPostgres loads the demo datasets into schemas demo_<name> of the
// PostgreSQL database at dsn with COPY and, when store is not nil,
// registers them with a search_path pointing at their schema.
func DemoPostgres(ctx context.Context, store Store, dsn string, opts demo.Options, progress io.Writer) ([]catalog.Dataset, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", catalog.RedactDSN(dsn), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var out []catalog.Dataset
	for _, ds := range demo.Generate(opts) {
		schema := "demo_" + slug(ds.Name)
		start := time.Now()
		if err := demo.WritePostgres(ctx, conn, schema, ds); err != nil {
			return nil, fmt.Errorf("load %q: %w", ds.Name, err)
		}
		fmt.Fprintf(progress, "loaded %q into schema %s: %d rows in %s\n", ds.Name, schema, ds.RowCount(), time.Since(start).Round(time.Millisecond))
		if store == nil {
			continue
		}
		d, err := store.Add(ctx, catalog.Dataset{Name: ds.Name + " (PostgreSQL)", Description: ds.Description,
			Driver: catalog.DriverPostgres, DSN: WithSearchPath(dsn, schema), Settings: DemoSettings})
		if err != nil {
			return nil, err
		}
		if err := store.SetDescriptions(ctx, d.ID, Dictionary(ds)); err != nil {
			return nil, fmt.Errorf("import the demo's data dictionary: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Dictionary is the data dictionary of a demo dataset: its table and
// column descriptions, and the units of its money columns (₹).
func Dictionary(ds demo.Dataset) []catalog.Description {
	var out []catalog.Description
	for _, t := range ds.Tables {
		if t.Description != "" {
			out = append(out, catalog.Description{Table: t.Name, Description: t.Description})
		}
		for _, c := range t.Columns {
			if c.Description != "" || c.Unit != "" {
				out = append(out, catalog.Description{Table: t.Name, Column: c.Name, Description: c.Description, Unit: c.Unit})
			}
		}
	}
	return out
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

// WithSearchPath points a connection string at a schema.
func WithSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}
