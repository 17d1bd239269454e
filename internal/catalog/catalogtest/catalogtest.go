// Package catalogtest is the test suite every [catalog.Store] passes. Each
// store package runs it against its own backend, so the SQLite and
// PostgreSQL stores behave the same way.
package catalogtest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// Backend is one empty catalog location (a file, a database) that several
// stores can open at once, as several processes would.
type Backend struct {
	// Open opens a new store on the location, applying migrations. It may
	// be called concurrently.
	Open func(t *testing.T) catalog.Store
	// RawDSN returns the connection string of dataset id as stored, so
	// the suite can check it is sealed.
	RawDSN func(t *testing.T, id int64) string
}

// Run runs the suite. newBackend returns a fresh, empty backend per test.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		run  func(t *testing.T, b Backend)
	}{
		{"ConcurrentMigrations", testConcurrentMigrations},
		{"Lifecycle", testLifecycle},
		{"SealedDSN", testSealedDSN},
		{"ExplicitID", testExplicitID},
		{"Meta", testMeta},
		{"Profile", testProfile},
		{"Descriptions", testDescriptions},
		{"Import", testImport},
		{"QueryLog", testQueryLog},
		{"QueryLogAggregate", testQueryLogAggregate},
		{"Tokens", testTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newBackend(t)) })
	}
}

func open(t *testing.T, b Backend) catalog.Store {
	t.Helper()
	s := b.Open(t)
	if s != nil { // Open reported its error (it may run on another goroutine, so it cannot stop the test)
		t.Cleanup(func() { s.Close() })
	}
	return s
}

// testConcurrentMigrations opens four stores on an empty backend at once,
// as replicas starting together do: all succeed and agree.
func testConcurrentMigrations(t *testing.T, b Backend) {
	var wg sync.WaitGroup
	stores := make([]catalog.Store, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i] = open(t, b)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ctx := context.Background()
	d, err := stores[0].Add(ctx, catalog.Dataset{Name: "A", Driver: catalog.DriverDuckDB, DSN: "/a.duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if got, err := s.Get(ctx, d.ID); err != nil || got.Name != "A" {
			t.Errorf("store %d: Get = %+v, %v", i, got, err)
		}
	}
}

func testLifecycle(t *testing.T, b Backend) {
	ctx := context.Background()
	s, other := open(t, b), open(t, b)
	v0, err := other.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Add(ctx, catalog.Dataset{Name: "Panel", Driver: catalog.DriverPostgres, DSN: "postgres://u:secret@h/db",
		Settings: catalog.Settings{Roles: catalog.Roles{WeightScale: 1000}, Limits: catalog.Limits{QueryTimeout: 5 * time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != 1 || d.CreatedAt.IsZero() {
		t.Errorf("first dataset: id %d, created %v; want id 1 and a creation time", d.ID, d.CreatedAt)
	}
	v1, _ := other.Version(ctx)
	if v1 == v0 {
		t.Error("version did not change after Add")
	}
	got, err := other.Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got, cmp.Comparer(func(a, b time.Time) bool { return a.Sub(b).Abs() < time.Millisecond })); diff != "" {
		t.Errorf("Get differs from what Add returned (-added +got):\n%s", diff)
	}
	if _, err := s.Add(ctx, catalog.Dataset{Name: "Panel", Driver: catalog.DriverDuckDB, DSN: "x.duckdb"}); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("duplicate name: err = %v, want already exists", err)
	}
	if _, err := s.Add(ctx, catalog.Dataset{Name: "Bad", Driver: "mysql", DSN: "x"}); err == nil {
		t.Error("invalid dataset was added")
	}
	second, err := s.Add(ctx, catalog.Dataset{Name: "Second", Driver: catalog.DriverDuckDB, DSN: "/b.duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	got.Description = "changed"
	got.DSN = "postgres://u:other@h/db2"
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	v2, _ := other.Version(ctx)
	if v2 == v1 {
		t.Error("version did not change after Update")
	}
	list, err := other.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != d.ID || list[1].ID != second.ID || list[0].Description != "changed" || list[0].DSN != got.DSN {
		t.Errorf("List after Update = %+v", list)
	}
	if !list[0].UpdatedAt.After(d.UpdatedAt) && !list[0].UpdatedAt.Equal(d.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v before %v", list[0].UpdatedAt, d.UpdatedAt)
	}
	if err := s.Update(ctx, catalog.Dataset{ID: 99, Name: "X", Driver: catalog.DriverDuckDB, DSN: "/x"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Update of an unknown id: err = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if v3, _ := other.Version(ctx); v3 == v2 {
		t.Error("version did not change after Remove")
	}
	if _, err := other.Get(ctx, d.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Get after Remove: err = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, d.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("second Remove: err = %v, want ErrNotFound", err)
	}
	third, err := s.Add(ctx, catalog.Dataset{Name: "Third", Driver: catalog.DriverDuckDB, DSN: "/c.duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	if third.ID <= second.ID {
		t.Errorf("ids are reused: new id %d after %d", third.ID, second.ID)
	}
}

func testSealedDSN(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	const dsn = "postgres://reader:s3cretpw@db.internal/panel"
	d, err := s.Add(ctx, catalog.Dataset{Name: "Sealed", Driver: catalog.DriverPostgres, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	if raw := b.RawDSN(t, d.ID); strings.Contains(raw, "s3cretpw") || strings.Contains(raw, "reader") {
		t.Errorf("the connection string is stored in the clear: %q", raw)
	}
	got, err := open(t, b).Get(ctx, d.ID)
	if err != nil || got.DSN != dsn {
		t.Errorf("Get = %q, %v; want the plaintext DSN back", got.DSN, err)
	}
}

func testExplicitID(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	d, err := s.Add(ctx, catalog.Dataset{ID: 42, Name: "Pinned", Driver: catalog.DriverDuckDB, DSN: "/p.duckdb"})
	if err != nil || d.ID != 42 {
		t.Fatalf("Add with id 42 = %d, %v", d.ID, err)
	}
	if _, err := s.Add(ctx, catalog.Dataset{ID: 42, Name: "Other", Driver: catalog.DriverDuckDB, DSN: "/o.duckdb"}); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("second dataset with id 42: err = %v, want already exists", err)
	}
	next, err := s.Add(ctx, catalog.Dataset{Name: "Next", Driver: catalog.DriverDuckDB, DSN: "/n.duckdb"})
	if err != nil || next.ID <= 42 {
		t.Errorf("an automatic id after a pinned one = %d, %v; want > 42", next.ID, err)
	}
}

func testMeta(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	if v, err := s.Meta(ctx, "demo_generated"); err != nil || v != "" {
		t.Errorf("unset meta = %q, %v", v, err)
	}
	if err := s.SetMeta(ctx, "demo_generated", "yes"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "demo_generated", "again"); err != nil {
		t.Fatal(err)
	}
	if v, err := open(t, b).Meta(ctx, "demo_generated"); err != nil || v != "again" {
		t.Errorf("meta = %q, %v; want again", v, err)
	}
}

func testProfile(t *testing.T, b Backend) {
	ctx := context.Background()
	s, other := open(t, b), open(t, b)
	d, err := s.Add(ctx, catalog.Dataset{Name: "P", Driver: catalog.DriverDuckDB, DSN: "/p.duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Profile(ctx, d.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Profile before profiling: err = %v, want ErrNotFound", err)
	}
	p := catalog.Profile{DatasetID: d.ID, ProfiledAt: time.Now().UTC().Truncate(time.Millisecond), Method: "test", DateFrom: "2026-01-01", DateTo: "2026-03-31",
		Tables: []catalog.TableProfile{{Name: "users", Grain: "user level", RowEstimate: 2000, Columns: []catalog.ColumnProfile{
			{Name: "nccs", Type: "text", NullShare: 0.02, Distinct: 6, Top: []catalog.ValueShare{{Value: "B", Share: 0.3}, {Value: "A", Share: 0.2}}},
			{Name: "age", Type: "integer", Distinct: 56, Min: "15", Max: "70"},
		}}}}
	v0, _ := other.Version(ctx)
	if err := s.SaveProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if v1, _ := other.Version(ctx); v1 == v0 {
		t.Error("version did not change after SaveProfile")
	}
	got, err := other.Profile(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("stored profile differs (-saved +got):\n%s", diff)
	}
	p.Method = "again"
	if err := s.SaveProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.Profile(ctx, d.ID); got.Method != "again" {
		t.Errorf("profile not replaced: method %q", got.Method)
	}
	if err := s.SaveProfile(ctx, catalog.Profile{DatasetID: 999}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("profile of an unknown dataset: err = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Profile(ctx, d.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("profile after Remove: err = %v, want ErrNotFound", err)
	}
}

func testDescriptions(t *testing.T, b Backend) {
	ctx := context.Background()
	s, other := open(t, b), open(t, b)
	d, err := s.Add(ctx, catalog.Dataset{Name: "D", Driver: catalog.DriverDuckDB, DSN: "/d.duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	v0, _ := other.Version(ctx)
	if err := s.SetDescriptions(ctx, d.ID, []catalog.Description{
		{Table: "users", Description: "One row per panelist."},
		{Table: "users", Column: "nccs", Description: "Socio-economic class."},
		{Table: "users", Column: "age", Description: "Age in years."},
	}); err != nil {
		t.Fatal(err)
	}
	if v1, _ := other.Version(ctx); v1 == v0 {
		t.Error("version did not change after SetDescriptions")
	}
	// A later import replaces one entry, deletes another (empty text and
	// unit), gives a third a unit, adds a unit without a description and
	// leaves the rest.
	if err := s.SetDescriptions(ctx, d.ID, []catalog.Description{
		{Table: "users", Column: "nccs", Description: "NCCS class, A1..E."},
		{Table: "users", Column: "age", Description: ""},
		{Table: "orders", Column: "amount", Description: "Order value.", Unit: "₹"},
		{Table: "users", Column: "total_spend", Unit: "₹"},
	}); err != nil {
		t.Fatal(err)
	}
	v2, _ := other.Version(ctx)
	// Changing only a unit is a change too.
	if err := s.SetDescriptions(ctx, d.ID, []catalog.Description{{Table: "orders", Column: "amount", Description: "Order value.", Unit: "INR"}}); err != nil {
		t.Fatal(err)
	}
	if v3, _ := other.Version(ctx); v3 == v2 {
		t.Error("version did not change after a unit changed")
	}
	got, err := other.Descriptions(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.Description{
		{Table: "orders", Column: "amount", Description: "Order value.", Unit: "INR"},
		{Table: "users", Description: "One row per panelist."},
		{Table: "users", Column: "nccs", Description: "NCCS class, A1..E."},
		{Table: "users", Column: "total_spend", Unit: "₹"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("descriptions (-want +got):\n%s", diff)
	}
	if err := s.SetDescriptions(ctx, 999, want); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("descriptions of an unknown dataset: err = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Descriptions(ctx, d.ID); err != nil || len(got) != 0 {
		t.Errorf("descriptions after Remove = %v, %v", got, err)
	}
}

// testImport stores an import (dataset, codebook, descriptions) at once,
// replaces it, and checks a failed one leaves nothing behind.
func testImport(t *testing.T, b Backend) {
	ctx := context.Background()
	s, other := open(t, b), open(t, b)
	v0, _ := other.Version(ctx)
	cb := catalog.Codebook{ImportedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Tables: []catalog.TableCodebook{{
		Name: "users", Source: "users.sav", Format: "sav", Rows: 3,
		Variables: []catalog.Variable{{Column: "gender", Label: "Gender", Measure: "nominal",
			Values: []catalog.ValueLabel{{Code: "1", Label: "Male"}, {Code: "2", Label: "Female"}}, Missing: []string{"99"}, MissingRows: 1}},
	}}}
	d, err := s.SaveImport(ctx, catalog.Dataset{Name: "Wave 1", Driver: catalog.DriverDuckDB, DSN: "/imports/w1.duckdb"}, cb,
		[]catalog.Description{{Table: "users", Column: "gender", Description: "Gender."}})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == 0 {
		t.Fatal("SaveImport returned no id")
	}
	if v1, _ := other.Version(ctx); v1 == v0 {
		t.Error("version did not change after SaveImport")
	}
	got, err := other.Codebook(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	cb.DatasetID = d.ID
	if diff := cmp.Diff(cb, got); diff != "" {
		t.Errorf("codebook (-want +got):\n%s", diff)
	}
	if ds, err := other.Descriptions(ctx, d.ID); err != nil || len(ds) != 1 || ds[0].Description != "Gender." {
		t.Errorf("descriptions = %v, %v", ds, err)
	}

	// A new wave replaces file, codebook and descriptions in one step.
	before, _ := other.Get(ctx, d.ID)
	d.DSN = "/imports/w2.duckdb"
	cb.Tables[0].Rows = 5
	if _, err := s.SaveImport(ctx, d, cb, []catalog.Description{{Table: "users", Column: "gender", Description: "Gender, wave 2."}}); err != nil {
		t.Fatal(err)
	}
	after, _ := other.Get(ctx, d.ID)
	if after.DSN != "/imports/w2.duckdb" || !after.UpdatedAt.After(before.UpdatedAt) {
		t.Errorf("after a replace: %+v (before %+v)", after, before)
	}
	if got, _ := other.Codebook(ctx, d.ID); got.Tables[0].Rows != 5 {
		t.Errorf("codebook after a replace: %+v", got)
	}

	// A failed import (the name is taken) stores nothing.
	list0, _ := other.List(ctx)
	if _, err := s.SaveImport(ctx, catalog.Dataset{Name: "Wave 1", Driver: catalog.DriverDuckDB, DSN: "/imports/x.duckdb"}, cb, nil); err == nil {
		t.Error("SaveImport with a name already taken succeeded")
	}
	if list1, _ := other.List(ctx); len(list1) != len(list0) {
		t.Errorf("a failed import left a dataset: %v", list1)
	}
	if _, err := s.SaveImport(ctx, catalog.Dataset{ID: 999, Name: "Ghost", Driver: catalog.DriverDuckDB, DSN: "/g.duckdb"}, cb, nil); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("replacing an unknown dataset: err = %v, want ErrNotFound", err)
	}
	if _, err := other.Codebook(ctx, 999); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("codebook of an unknown dataset: err = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Codebook(ctx, d.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("codebook after Remove: err = %v, want ErrNotFound", err)
	}
}
