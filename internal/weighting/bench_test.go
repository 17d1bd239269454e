package weighting

import (
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// seedQueries are the aggregated queries of the seed's examples (shared/seed).
var seedQueries = []string{
	"SELECT gender, COUNT(*) FROM users GROUP BY gender",
	"SELECT age, COUNT(*) FROM users GROUP BY age",
	"SELECT city, COUNT(*) FROM users GROUP BY city ORDER BY COUNT(*) DESC LIMIT 10",
	"SELECT nccs, COUNT(*) FROM users GROUP BY nccs",
	"SELECT app_name, SUM(usage_minutes) FROM app_usage GROUP BY app_name ORDER BY SUM(usage_minutes) DESC LIMIT 10",
	"SELECT spend_quartile, AVG(total_spend) FROM users GROUP BY spend_quartile",
	"SELECT COUNT(*) FROM users WHERE last_active_date >= CURRENT_DATE - INTERVAL '30 days'",
	"SELECT COUNT(*) as user_count FROM users",
	seedAgeGroups,
}

// BenchmarkRewrite measures parse + rewrite + deparse; one op is one query. The
// cases are the typical grouped count, the seed's queries in turn (with the
// design's constants subqueries, as served with them known, and with the
// optional standard errors), and the same
// queries on the unweighted path (apply_weights=false, merge_nccs=false), which the
// integrator takes for every query with weights off.
func BenchmarkRewrite(b *testing.B) {
	weighted := Options{Roles: panelRoles(), Schema: panelSchema(), Aggregated: true, Weights: true, MergeNCCS: true}
	unweighted := weighted
	unweighted.Weights, unweighted.MergeNCCS = false, false
	// As the server runs it: the design's constants known (dataset.Handle.Panel).
	served := weighted
	served.Panel = &Panel{N: 2000, SumW: 380000, SumW2: 231181047}
	withSE := served
	withSE.StandardErrors = true
	cases := []struct {
		name    string
		queries []string
		opts    Options
	}{
		{"gender_count", seedQueries[:1], weighted},
		{"seed", seedQueries, weighted},
		{"seed_served", seedQueries, served},
		{"seed_served_with_standard_errors", seedQueries, withSE},
		{"unweighted_seed", seedQueries, unweighted},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				tree, err := pg.Parse(c.queries[i%len(c.queries)])
				if err != nil {
					b.Fatal(err)
				}
				res, err := Rewrite(tree, c.opts)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := pg.Deparse(res.Tree); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
