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
}

// BenchmarkRewrite measures parse + rewrite + deparse of the seed's queries; one op
// is one query.
func BenchmarkRewrite(b *testing.B) {
	opts := Options{Roles: panelRoles(), Schema: panelSchema(), Aggregated: true, Weights: true, MergeNCCS: true}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tree, err := pg.Parse(seedQueries[i%len(seedQueries)])
		if err != nil {
			b.Fatal(err)
		}
		res, err := Rewrite(tree, opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pg.Deparse(res.Tree); err != nil {
			b.Fatal(err)
		}
	}
}
