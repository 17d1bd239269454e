package dataset_test

import (
	"context"
	"math"
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
