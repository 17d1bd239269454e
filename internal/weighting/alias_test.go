package weighting

import (
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// seedAgeGroups is the seed's example whose alias age_group shadows users.age_group.
const seedAgeGroups = "SELECT CASE WHEN age < 25 THEN '18-24' WHEN age < 35 THEN '25-34' WHEN age < 45 THEN '35-44' WHEN age < 55 THEN '45-54' ELSE '55+' END as age_group, COUNT(*) as count FROM users GROUP BY age_group"

// TestRewrite_GroupByOutputAlias runs the seed's age-group query on both engines,
// weighted and not: as written the databases reject it (they group by the input
// column users.age_group); rewritten it gives the five CASE groups, which together
// hold every panelist.
func TestRewrite_GroupByOutputAlias(t *testing.T) {
	engines := []struct {
		name string
		open func(*testing.T) runner
	}{{"postgres", postgresPanel}, {"duckdb", duckdbPanel}}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			run := eng.open(t)
			panel := run(t, "SELECT COUNT(*) AS n FROM users")[0]["n"].(float64)
			for _, weights := range []bool{false, true} {
				tree, err := pg.Parse(seedAgeGroups + " ORDER BY age_group")
				if err != nil {
					t.Fatal(err)
				}
				res, err := Rewrite(tree, Options{Roles: panelRoles(), Schema: panelSchema(), Aggregated: true, Weights: weights})
				if err != nil {
					t.Fatal(err)
				}
				if !hasNote(res, "GROUP BY age_group uses the output column age_group (the CASE expression), not users.age_group") {
					t.Errorf("weights=%v: notes %q lack the GROUP BY note", weights, res.Notes)
				}
				sql, err := pg.Deparse(res.Tree)
				if err != nil {
					t.Fatal(err)
				}
				rows := run(t, sql)
				want := []string{"18-24", "25-34", "35-44", "45-54", "55+"}
				if len(rows) != len(want) {
					t.Fatalf("weights=%v: got %d groups, want %d", weights, len(rows), len(want))
				}
				sum := 0.0
				for i, r := range rows {
					if r["age_group"] != want[i] {
						t.Errorf("weights=%v: row %d is %v, want %s (ordered by the output column)", weights, i, r["age_group"], want[i])
					}
					sum += r["count"].(float64)
				}
				if sum != panel {
					t.Errorf("weights=%v: counts sum to %v, want the panel's %v", weights, sum, panel)
				}
			}
		})
	}
}

// TestRewrite_UnweightedFastPath checks that with weights and NCCS merging off,
// Rewrite hands back the caller's tree untouched unless a GROUP BY name needs fixing.
func TestRewrite_UnweightedFastPath(t *testing.T) {
	opts := Options{Roles: panelRoles(), Schema: panelSchema(), Aggregated: true}
	tests := []struct {
		query string
		same  bool // the input tree comes back as is
	}{
		{"SELECT gender, COUNT(*) FROM users GROUP BY gender", true},
		{"SELECT nccs, COUNT(*) FROM users GROUP BY nccs", true},
		{"SELECT upper(city) AS town, COUNT(*) FROM users GROUP BY town", true},
		{seedAgeGroups, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			tree, err := pg.Parse(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			before, err := pg.Deparse(tree)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Rewrite(tree, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Tree == tree; got != tt.same {
				t.Errorf("Tree is the input: %v, want %v", got, tt.same)
			}
			if res.Applied || res.NCCSMerged {
				t.Errorf("Applied %v, NCCSMerged %v; want neither", res.Applied, res.NCCSMerged)
			}
			after, err := pg.Deparse(tree)
			if err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Errorf("input tree was mutated:\n%s\n%s", before, after)
			}
		})
	}
}

func hasNote(res *Result, want string) bool {
	for _, n := range res.Notes {
		if strings.Contains(n, want) {
			return true
		}
	}
	return false
}
