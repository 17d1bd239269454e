// Package apptest builds, for tests, a catalog holding the demo datasets in
// real engines, and the analysis service over it: datasets 1 and 2 in
// embedded DuckDB and, when asked, datasets 3 and 4 (the same data) in a
// fresh PostgreSQL database of the test's own.
package apptest

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/demo"
	"github.com/mcp-analytics/mcp-analytics/internal/executor"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
)

// Dataset ids of a fixture.
const (
	DuckSample        int64 = 1
	DuckStreaming     int64 = 2
	PostgresSample    int64 = 3
	PostgresStreaming int64 = 4
)

// Anchor is the fixed last day of the fixtures' data.
var Anchor = time.Now().UTC().Truncate(24 * time.Hour)

// Options shape a fixture.
type Options struct {
	Postgres bool           // also load the demo into PostgreSQL (datasets 3 and 4)
	Users    int            // panelists of the sample dataset; 0 means 2000
	Limits   *config.Limits // nil means config.DefaultLimits()
	Service  []analysis.Option
}

// Fixture is a ready analysis service over the demo datasets.
type Fixture struct {
	Dir         string
	Config      config.Config
	Store       *sqlitestore.Store
	Registry    *dataset.Registry
	Service     *analysis.Service
	PostgresURL string // the test's database holding the demo schemas
}

// New builds a fixture; everything is closed and dropped when the test ends.
func New(tb testing.TB, opts Options) *Fixture {
	tb.Helper()
	ctx := context.Background()
	f := &Fixture{Dir: tb.TempDir(), Config: config.Default()}
	f.Config.DataDir = f.Dir
	f.Config.Demo = false
	if opts.Limits != nil {
		f.Config.Limits = *opts.Limits
	}
	if opts.Users == 0 {
		opts.Users = 2000
	}
	store, err := sqlitestore.Open(ctx, filepath.Join(f.Dir, "catalog.sqlite"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	f.Store = store
	dopts := demo.Options{Users: opts.Users, Anchor: Anchor}
	if _, err := provision.DemoDuckDB(ctx, store, filepath.Join(f.Dir, "demo"), dopts); err != nil {
		tb.Fatal(err)
	}
	if opts.Postgres {
		f.PostgresURL = pgtest.NewDatabase(tb)
		pgtest.Connect(ctx, tb, f.PostgresURL) // skips or fails loudly when PostgreSQL is absent
		if _, err := provision.DemoPostgres(ctx, store, f.PostgresURL, dopts, discard{}); err != nil {
			tb.Fatal(err)
		}
	}
	// Pools may log after the test has ended, so logs are discarded rather
	// than sent to tb.Log.
	log := slog.New(slog.DiscardHandler)
	f.Registry = dataset.New(store, dataset.SourceOpener(log), f.Config.Limits, log)
	if err := f.Registry.Refresh(ctx); err != nil {
		tb.Fatal(err)
	}
	// Close the pools before the test's database is dropped.
	tb.Cleanup(f.Registry.Close)
	f.Service = analysis.New(f.Registry, executor.New(f.Config.Limits.MaxConcurrent, executor.PerClient(f.Config.Limits.MaxConcurrentPerClient)), f.Config.Limits.MaxQueries, log, opts.Service...)
	return f
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// UpdateDataset changes dataset id in the catalog with change and makes
// the registry pick the change up, as a running server would.
func (f *Fixture) UpdateDataset(tb testing.TB, id int64, change func(*catalog.Dataset)) {
	tb.Helper()
	ctx := context.Background()
	d, err := f.Store.Get(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	change(&d)
	if err := f.Store.Update(ctx, d); err != nil {
		tb.Fatal(err)
	}
	if err := f.Registry.Refresh(ctx); err != nil {
		tb.Fatal(err)
	}
}

// Bearer is an HTTP transport that sends Token as a bearer token with
// every request, for MCP clients of a server with tokens:
// &http.Client{Transport: apptest.Bearer{Token: token}}.
type Bearer struct{ Token string }

// RoundTrip sends a copy of r with the Authorization header set.
func (b Bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.Token)
	return http.DefaultTransport.RoundTrip(r)
}
