package sqlitestore

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/catalogtest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/migrate"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
)

// schema is the catalog as written before versioned migrations and sealed
// connection strings existed: Open must adopt such a file.
const schema = `
CREATE TABLE IF NOT EXISTS datasets (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	driver      TEXT NOT NULL,
	dsn         TEXT NOT NULL,
	settings    TEXT NOT NULL DEFAULT '{}',
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', '0');
`

func TestStore_Suite(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalogtest.Backend {
		dir := t.TempDir()
		path := filepath.Join(dir, "catalog.sqlite")
		box, err := secret.Load(nil, dir)
		if err != nil {
			t.Fatal(err)
		}
		return catalogtest.Backend{
			Open: func(t *testing.T) catalog.Store {
				s, err := Open(context.Background(), path, WithBox(box))
				if err != nil {
					t.Error(err)
					return nil
				}
				return s
			},
			RawDSN: func(t *testing.T, id int64) string { return rawDSN(t, path, id) },
		}
	})
}

func rawDSN(t *testing.T, path string, id int64) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var dsn string
	if err := db.QueryRow(`SELECT dsn FROM datasets WHERE id = ?`, id).Scan(&dsn); err != nil {
		t.Fatal(err)
	}
	return dsn
}

// TestOpen_AdoptsOldCatalog opens a file written before migrations and
// sealing: its rows keep their ids and their connection strings are sealed.
func TestOpen_AdoptsOldCatalog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.sqlite")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(schema); err != nil {
		t.Fatal(err)
	}
	const dsn = "postgres://reader:s3cretpw@db/panel"
	if _, err := old.Exec(`INSERT INTO datasets (id, name, driver, dsn, created_at, updated_at) VALUES (7, 'Old', 'postgres', ?, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')`, dsn); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(ctx, path) // default key: a key file next to the catalog
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if raw := rawDSN(t, path, 7); strings.Contains(raw, "s3cretpw") {
		t.Errorf("plaintext connection string not sealed by Open: %q", raw)
	}
	got, err := s.Get(ctx, 7)
	if err != nil || got.DSN != dsn {
		t.Errorf("Get = %q, %v; want the original DSN", got.DSN, err)
	}
	// Reopening applies nothing twice.
	again, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	var n int
	list, _ := migrate.Load(migrations, "migrations")
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(list) {
		t.Errorf("schema_migrations rows = %d, %v; want %d (one per migration)", n, err, len(list))
	}
	// Opened with another key, the rows cannot be read: say so.
	other, _ := secret.Load(nil, t.TempDir())
	wrong, err := Open(ctx, path, WithBox(other))
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if _, err := wrong.List(ctx); err == nil || !strings.Contains(err.Error(), "another secret key") {
		t.Errorf("List with the wrong key: err = %v", err)
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
