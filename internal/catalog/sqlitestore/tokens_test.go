package sqlitestore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// oldTokens is the tokens table as "tokens create" made it on first use,
// before it was a migration and before scopes existed.
const oldTokens = `
CREATE TABLE tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	datasets   TEXT NOT NULL,
	created_at TEXT NOT NULL,
	revoked_at TEXT
);
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
INSERT INTO tokens (name, hash, datasets, created_at) VALUES ('analyst', 'h1', '[2,1]', '2025-06-01T10:00:00Z');
INSERT INTO tokens (name, hash, datasets, created_at, revoked_at) VALUES ('gone', 'h2', '"all"', '2025-06-01T10:00:00Z', '2025-07-01T10:00:00Z');
`

// TestOpen_AdoptsOldTokens opens a catalog whose tokens table was made
// before migration 0004: its tokens keep working, as MCP tokens.
func TestOpen_AdoptsOldTokens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.sqlite")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(schema + oldTokens); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name     string
		All      bool
		Datasets []int64
		Active   bool
		MCP      bool
		Metrics  bool
	}
	var rows []row
	for _, tk := range got {
		rows = append(rows, row{tk.Name, tk.AllDatasets, tk.Datasets, tk.Active(), tk.HasScope(catalog.ScopeMCP), tk.HasScope(catalog.ScopeMetrics)})
	}
	want := []row{{"analyst", false, []int64{2, 1}, true, true, false}, {"gone", true, nil, false, true, false}}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("tokens after migration (-want +got):\n%s", d)
	}
	if v, err := s.Version(ctx); err != nil || v != 0 {
		t.Errorf("dataset version after the tokens migration = %d, %v; want 0 (tokens do not touch datasets)", v, err)
	}
}
