package sqlitestore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

func TestStore_Lifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.sqlite")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A second process (here: a second Store on the same file) sees changes.
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	v0, _ := other.Version(ctx)
	d, err := s.Add(ctx, catalog.Dataset{Name: "Panel", Driver: catalog.DriverPostgres, DSN: "postgres://u:secret@h/db",
		Settings: catalog.Settings{Roles: catalog.Roles{WeightScale: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != 1 {
		t.Errorf("first id = %d, want 1", d.ID)
	}
	v1, _ := other.Version(ctx)
	if v1 == v0 {
		t.Error("version did not change after Add")
	}
	got, err := other.Get(ctx, d.ID)
	if err != nil || got.Name != "Panel" || got.Settings.Roles.WeightScale != 1000 {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := s.Add(ctx, catalog.Dataset{Name: "Panel", Driver: catalog.DriverDuckDB, DSN: "x.duckdb"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate name: err = %v", err)
	}
	got.Description = "changed"
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if v2, _ := other.Version(ctx); v2 == v1 {
		t.Error("version did not change after Update")
	}
	if err := s.Remove(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, d.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Get after Remove: err = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, d.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("second Remove: err = %v, want ErrNotFound", err)
	}
}

func TestDataset_Validate(t *testing.T) {
	tests := []struct {
		name string
		d    catalog.Dataset
		want string
	}{
		{"ok postgres", catalog.Dataset{Name: "A", Driver: "postgres", DSN: "postgres://h/db"}, ""},
		{"ok duckdb", catalog.Dataset{Name: "Sample Dataset", Driver: "duckdb", DSN: "/data/a.duckdb"}, ""},
		{"bad driver", catalog.Dataset{Name: "A", Driver: "mysql", DSN: "x"}, "driver must be"},
		{"empty name", catalog.Dataset{Name: "", Driver: "duckdb", DSN: "x"}, "name must be"},
		{"bad dsn", catalog.Dataset{Name: "A", Driver: "postgres", DSN: "mysql://x"}, "postgres:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	tests := map[string]string{
		"postgres://alice:s3cr3t@db.example/panel?sslmode=require": "postgres://alice:***@db.example/panel?sslmode=require",
		"postgres://alice@db/panel":                                "postgres://alice@db/panel",
		"host=db user=alice password=s3cr3t dbname=panel":          "host=db user=alice password=*** dbname=panel",
		"/data/demo.duckdb":                                        "/data/demo.duckdb",
	}
	for in, want := range tests {
		if got := catalog.RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
