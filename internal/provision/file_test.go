package provision

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
)

const provisionYAML = `
datasets:
  - id: 10
    name: Panel 2026
    driver: postgres
    dsn: postgres://reader:${PANEL_PW}@db.internal/panel
    description: The 2026 panel.
    roles: {weight_column: wt, weight_scale: 1000}
    limits: {raw_rows: 3, query_timeout: 30s}
    dictionary:
      - {table: users, column: wt, description: Projection weight.}
    dictionary_file: dict.csv
  - name: Export
    driver: duckdb
    dsn: /data/export.duckdb
`

func TestApplyFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlitestore.Open(ctx, filepath.Join(dir, "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	path := filepath.Join(dir, "datasets.yaml")
	os.WriteFile(path, []byte(provisionYAML), 0o600)
	os.WriteFile(filepath.Join(dir, "dict.csv"), []byte("table,column,description\nusers,,One row per panelist.\n"), 0o600)
	env := []string{"PANEL_PW=s3cret"}

	actions := func(cs []Change) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Name+":"+c.Action)
		}
		return strings.Join(s, " ")
	}
	first, err := ApplyFile(ctx, store, path, env)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(first); got != "Panel 2026:added Export:added" || first[0].ID != 10 || first[1].ID != 11 {
		t.Errorf("first apply: %s (ids %d, %d); want both added, ids 10 and 11", got, first[0].ID, first[1].ID)
	}
	again, err := ApplyFile(ctx, store, path, env)
	if err != nil || actions(again) != "Panel 2026:unchanged Export:unchanged" {
		t.Errorf("second apply: %s, %v; want both unchanged", actions(again), err)
	}
	got, _ := store.Get(ctx, 10)
	if got.DSN != "postgres://reader:s3cret@db.internal/panel" || got.Settings.Roles.WeightScale != 1000 || got.Settings.Limits.QueryTimeout.Seconds() != 30 {
		t.Errorf("stored dataset = %+v", got)
	}
	descs, _ := store.Descriptions(ctx, 10)
	want := []catalog.Description{{Table: "users", Description: "One row per panelist."}, {Table: "users", Column: "wt", Description: "Projection weight."}}
	if diff := cmp.Diff(want, descs); diff != "" {
		t.Errorf("descriptions (-want +got):\n%s", diff)
	}
	changed, err := ApplyFile(ctx, store, path, []string{"PANEL_PW=rotated"})
	if err != nil || actions(changed) != "Panel 2026:updated Export:unchanged" {
		t.Errorf("apply after a password change: %s, %v", actions(changed), err)
	}

	bad := []struct{ name, yaml, env, want string }{
		{"unknown key", "datasets:\n  - name: A\n    driver: duckdb\n    dsn: /a\n    colour: red\n", "", "field colour not found"},
		{"unset variable", "datasets:\n  - name: A\n    driver: postgres\n    dsn: postgres://u:${NOPE}@h/db\n", "", "NOPE"},
		{"invalid dataset", "datasets:\n  - name: A\n    driver: mysql\n    dsn: x\n", "", "driver must be"},
		{"repeated name", "datasets:\n  - {name: A, driver: duckdb, dsn: /a}\n  - {name: A, driver: duckdb, dsn: /b}\n", "", "repeated"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile([]byte(tt.yaml), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseFile: err = %v, want %q", err, tt.want)
			}
		})
	}
}
