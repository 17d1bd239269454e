package weighting

import (
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// TestRewrite_StarMergesNCCS runs a raw SELECT * (as get_dataset_sample does) on both
// engines: the rewrite keeps every column and shows merged NCCS labels only.
func TestRewrite_StarMergesNCCS(t *testing.T) {
	const query = `SELECT * FROM "users" ORDER BY user_id LIMIT 200`
	engines := []struct {
		name string
		open func(*testing.T) runner
	}{{"postgres", postgresPanel}, {"duckdb", duckdbPanel}}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			run := eng.open(t)
			tree, err := pg.Parse(query)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Rewrite(tree, Options{Roles: panelRoles(), Schema: panelSchema(), Weights: true, MergeNCCS: true})
			if err != nil {
				t.Fatal(err)
			}
			if !res.NCCSMerged {
				t.Fatalf("NCCSMerged false; notes %q", res.Notes)
			}
			sql, err := pg.Deparse(res.Tree)
			if err != nil {
				t.Fatal(err)
			}
			raw, got := run(t, query), run(t, sql)
			if len(got) != len(raw) {
				t.Fatalf("got %d rows, want %d", len(got), len(raw))
			}
			merged := map[any]any{"A1": "A", "A": "A", "B": "B", "C": "C/D/E", "D": "C/D/E", "E": "C/D/E", nil: nil}
			sawA1 := false
			for i := range raw {
				if len(got[i]) != len(raw[i]) {
					t.Fatalf("row %d has %d columns, want %d", i, len(got[i]), len(raw[i]))
				}
				sawA1 = sawA1 || raw[i]["nccs"] == "A1"
				if want := merged[raw[i]["nccs"]]; got[i]["nccs"] != want {
					t.Errorf("user %v: nccs %v, want %v (raw %v)", raw[i]["user_id"], got[i]["nccs"], want, raw[i]["nccs"])
				}
				if got[i]["user_id"] != raw[i]["user_id"] || got[i]["weight"] != raw[i]["weight"] {
					t.Errorf("row %d: other columns changed", i)
				}
			}
			if !sawA1 {
				t.Error("sample has no A1 panelist: the test proves nothing")
			}
		})
	}
}
