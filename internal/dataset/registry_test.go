package dataset_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

func TestRegistry_Scope(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	if n := len(f.Registry.List(ctx)); n != 2 {
		t.Fatalf("unscoped List = %d datasets, want 2", n)
	}
	scoped := dataset.WithScope(ctx, dataset.Scope{2: true})
	list := f.Registry.List(scoped)
	if len(list) != 1 || list[0].ID != 2 {
		t.Errorf("scoped List = %v, want only dataset 2", list)
	}
	if _, err := f.Registry.Open(scoped, 1); !dataset.IsNotFound(err) {
		t.Errorf("Open outside scope: err = %v, want not found", err)
	}
	h, err := f.Registry.Open(scoped, 2)
	if err != nil {
		t.Fatal(err)
	}
	h.Release()
	if _, err := f.Registry.Open(dataset.WithScope(ctx, nil), 2); !dataset.IsNotFound(err) {
		t.Errorf("empty scope: err = %v, want not found", err)
	}
}

func TestRegistry_FollowsCatalog(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	h, err := f.Registry.Open(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if h.Roles.WeightColumn != "weight" || h.Roles.WeightsTable != "users" || h.Roles.RespondentKey != "user_id" || h.Roles.NCCSColumn != "nccs" {
		t.Errorf("detected roles = %+v", h.Roles.Roles)
	}
	f.UpdateDataset(t, 1, func(d *catalog.Dataset) { d.Description = "changed while in use" })
	// The handle taken before the change still works: in-flight queries finish.
	if _, err := h.Source.Query(ctx, "SELECT COUNT(*) FROM users", 1); err != nil {
		t.Errorf("query on a retired handle: %v", err)
	}
	h.Release()
	h2, err := f.Registry.Open(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Release()
	if h2.Dataset.Description != "changed while in use" {
		t.Errorf("description = %q: the change was not picked up", h2.Dataset.Description)
	}
	if err := f.Store.Remove(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := f.Registry.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Registry.Open(ctx, 2); !dataset.IsNotFound(err) {
		t.Errorf("removed dataset: err = %v, want not found", err)
	}
}

// TestRegistry_ProfileAndDictionary shows the data dictionary and a fresh
// profile reaching handles after the catalog changes, without reopening
// the dataset's source.
func TestRegistry_ProfileAndDictionary(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	h, err := f.Registry.Open(ctx, apptest.DuckSample)
	if err != nil {
		t.Fatal(err)
	}
	src := h.Source
	if h.Descriptions["users.weight"] == "" || h.Descriptions["users"] == "" {
		t.Errorf("the demo's dictionary was not imported: %v", h.Descriptions)
	}
	if h.Profile != nil {
		t.Errorf("profile before profiling = %+v, want nil", h.Profile)
	}
	h.Release()
	if err := f.Store.SetDescriptions(ctx, apptest.DuckSample, []catalog.Description{{Table: "users", Column: "weight", Description: "edited"}}); err != nil {
		t.Fatal(err)
	}
	p, err := f.Registry.Reprofile(ctx, apptest.DuckSample)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Registry.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	h, err = f.Registry.Open(ctx, apptest.DuckSample)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	if h.Descriptions["users.weight"] != "edited" {
		t.Errorf("edited description not seen: %q", h.Descriptions["users.weight"])
	}
	if h.Profile == nil || h.Profile.Method != p.Method || h.DateRange[1] != p.DateTo {
		t.Errorf("handle profile = %+v, date range %v; want the stored profile", h.Profile, h.DateRange)
	}
	if h.Source != src {
		t.Error("a profile or dictionary change reopened the dataset's source")
	}
}

func TestRegistry_Panel(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	h, err := f.Registry.Open(ctx, apptest.DuckSample)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	if h.Panel == nil {
		t.Fatal("Panel = nil for a weighted dataset, want the design's constants")
	}
	// Computed independently: every panelist with a positive weight.
	want, err := h.Source.Query(ctx, "SELECT COUNT(*), SUM(weight), SUM(weight * weight) FROM users WHERE weight > 0", 1)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := want.Rows[0][0].(int64)
	sw, _ := want.Rows[0][1].(float64)
	sw2, _ := want.Rows[0][2].(float64)
	if h.Panel.N != n || math.Abs(h.Panel.SumW-sw) > 1e-9*sw || math.Abs(h.Panel.SumW2-sw2) > 1e-9*sw2 {
		t.Errorf("Panel = %+v, want N=%d SumW=%g SumW2=%g", *h.Panel, n, sw, sw2)
	}
}

// TestRegistry_Warm opens the datasets before any question: afterwards
// the PostgreSQL datasets have pooled connections, and a dataset that
// cannot be reached neither blocks Warm nor stops the others.
func TestRegistry_Warm(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	unreachable, err := f.Store.Add(ctx, catalog.Dataset{Name: "Down", Driver: catalog.DriverPostgres,
		DSN: "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Registry.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(ctx, t, f.PostgresURL)
	defer conn.Close(ctx)
	pooled := func() int {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mcp-analytics'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := pooled(); n != 0 {
		t.Fatalf("%d connections before Warm, want none (datasets open lazily)", n)
	}
	f.Registry.Warm(ctx)
	if n := pooled(); n == 0 {
		t.Error("no pooled connection after Warm")
	}
	// Warming again does not try the unreachable dataset again; its first
	// call does, and says what is wrong.
	f.Registry.Warm(ctx)
	if _, err := f.Registry.Open(ctx, unreachable.ID); err == nil {
		t.Error("the unreachable dataset opened")
	}
}

// TestRegistry_SessionSettings shows a dataset's work_mem and
// max_parallel_workers_per_gather in effect on the server's own
// connections to it, and the database's defaults left alone when unset.
func TestRegistry_SessionSettings(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	var id int64
	for _, d := range f.Registry.List(ctx) {
		if d.Driver == catalog.DriverPostgres {
			id = d.ID
			break
		}
	}
	if id == 0 {
		t.Fatal("no PostgreSQL dataset in the fixture")
	}
	conn := pgtest.Connect(ctx, t, f.PostgresURL)
	defer conn.Close(ctx)
	var defaultWorkMem, defaultWorkers string
	if err := conn.QueryRow(ctx, "SELECT current_setting('work_mem'), current_setting('max_parallel_workers_per_gather')").Scan(&defaultWorkMem, &defaultWorkers); err != nil {
		t.Fatal(err)
	}
	show := func(setting string) string {
		t.Helper()
		h, err := f.Registry.Open(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Release()
		tbl, err := h.Source.Query(ctx, "SHOW "+setting, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(tbl.Rows) != 1 {
			t.Fatalf("SHOW %s: %d rows", setting, len(tbl.Rows))
		}
		s, _ := tbl.Rows[0][0].(string)
		return s
	}
	if got := show("work_mem"); got != defaultWorkMem {
		t.Errorf("work_mem unset: %q, want the database's %q", got, defaultWorkMem)
	}
	if got := show("max_parallel_workers_per_gather"); got != defaultWorkers {
		t.Errorf("max_parallel_workers_per_gather unset: %q, want the database's %q", got, defaultWorkers)
	}
	// Values that differ from any default, so that a setting not sent
	// cannot pass.
	workers := 0
	if defaultWorkers == "0" {
		workers = 1
	}
	f.UpdateDataset(t, id, func(d *catalog.Dataset) {
		d.Settings.Limits.WorkMem = "37MB"
		d.Settings.Limits.MaxParallelWorkersPerGather = &workers
	})
	if got := show("work_mem"); got != "37MB" {
		t.Errorf("work_mem = %q, want 37MB", got)
	}
	if got, want := show("max_parallel_workers_per_gather"), fmt.Sprint(workers); got != want {
		t.Errorf("max_parallel_workers_per_gather = %q, want %s", got, want)
	}
	// Other sessions of the database keep its defaults.
	var after string
	if err := conn.QueryRow(ctx, "SHOW work_mem").Scan(&after); err != nil || after != defaultWorkMem {
		t.Errorf("another session's work_mem = %q (%v), want %q", after, err, defaultWorkMem)
	}
}

func TestDataset_SessionSettingsValidated(t *testing.T) {
	two := 2
	tooMany := 5000
	tests := []struct {
		name string
		d    catalog.Dataset
		want string // "" valid
	}{
		{"valid", catalog.Dataset{Driver: catalog.DriverPostgres, Settings: catalog.Settings{Limits: catalog.Limits{WorkMem: "256MB", MaxParallelWorkersPerGather: &two}}}, ""},
		{"bare kB", catalog.Dataset{Driver: catalog.DriverPostgres, Settings: catalog.Settings{Limits: catalog.Limits{WorkMem: "65536"}}}, ""},
		{"lower-case unit", catalog.Dataset{Driver: catalog.DriverPostgres, Settings: catalog.Settings{Limits: catalog.Limits{WorkMem: "64mb"}}}, `work_mem: "64mb" is not a size`},
		{"too small", catalog.Dataset{Driver: catalog.DriverPostgres, Settings: catalog.Settings{Limits: catalog.Limits{WorkMem: "10kB"}}}, "less than PostgreSQL's minimum of 64kB"},
		{"too large", catalog.Dataset{Driver: catalog.DriverPostgres, Settings: catalog.Settings{Limits: catalog.Limits{WorkMem: "3TB"}}}, "more than PostgreSQL allows"},
		{"workers", catalog.Dataset{Driver: catalog.DriverPostgres, Settings: catalog.Settings{Limits: catalog.Limits{MaxParallelWorkersPerGather: &tooMany}}}, "max_parallel_workers_per_gather: must be between 0"},
		{"duckdb", catalog.Dataset{Driver: catalog.DriverDuckDB, Settings: catalog.Settings{Limits: catalog.Limits{WorkMem: "64MB"}}}, "for postgres datasets only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.Name = "Panel"
			if tt.d.Driver == catalog.DriverPostgres {
				tt.d.DSN = "postgres://localhost/db"
			} else {
				tt.d.DSN = "/tmp/panel.duckdb"
			}
			err := tt.d.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
