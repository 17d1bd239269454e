package analysis_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
)

// shapeCases are questions an assistant asks again and again with other
// values, each with the values to try. Values 0, 1, ordinals and limits
// are among them on purpose: they must never be filled into a template
// made for other values.
var shapeCases = []struct {
	name   string
	format string
	values [][]any
}{
	{"primary-key lookup", "SELECT * FROM users WHERE user_id = %v",
		[][]any{{17}, {4242}, {99}, {1}, {0}, {2}, {123456789}}},
	{"filtered split", "SELECT gender, COUNT(*) FROM users WHERE age > %v AND city = %v GROUP BY gender",
		[][]any{{30, "'Mumbai'"}, {45, "'Delhi'"}, {18, "'O''Brien'"}, {1, "''"}, {77, "'Pune'"}}},
	{"ordinals and limits", "SELECT city, COUNT(*) FROM users WHERE age BETWEEN %v AND %v GROUP BY %v ORDER BY %v DESC LIMIT %v",
		[][]any{{25, 34, 1, 2, 5}, {35, 44, 1, 2, 10}, {18, 24, 1, 1, 3}, {2, 99, 1, 2, 2000}}},
	{"proportion", "SELECT nccs, AVG(CASE WHEN gender = %v THEN %v ELSE %v END) AS share FROM users WHERE age >= %v GROUP BY nccs",
		[][]any{{"'Female'", 2, 5, 30}, {"'Male'", 3, 7, 40}, {"'Female'", 1, 0, 30}, {"'Male'", 1, 0, 50}, {"'Female'", 1.0, 0.0, 30}, {"'x'", 2.5, 7.5, 30}}},
	{"age bands", "SELECT CASE WHEN age < %v THEN %v WHEN age < %v THEN %v ELSE %v END AS band, COUNT(*) FROM users GROUP BY band",
		[][]any{{25, "'young'", 45, "'mid'", "'old'"}, {30, "'a'", 50, "'b'", "'c'"}, {35, "'18-34'", 55, "'35-54'", "'55+'"}}},
	{"rounded mean", "SELECT spend_quartile, ROUND(AVG(total_spend), %v) AS avg_spend FROM users WHERE total_spend > %v GROUP BY spend_quartile",
		[][]any{{2, 100.5}, {3, 250.25}, {0, 99.5}, {1, 10.75}, {4, 12.5}}},
	{"reach of apps", "SELECT app_name, COUNT(DISTINCT user_id) AS reach FROM app_usage WHERE usage_minutes > %v AND app_name <> %v GROUP BY app_name ORDER BY reach DESC LIMIT %v",
		[][]any{{10, "'YouTube'", 5}, {30, "'Netflix'", 5}, {60, "'x'", 3}}},
	{"having", "SELECT city, COUNT(*) FROM users WHERE age > %v GROUP BY city HAVING COUNT(*) > %v",
		[][]any{{20, 50}, {30, 10}, {25, 1}, {25, 0}}},
	{"share of total", "SELECT nccs, 100.0 * COUNT(*) / SUM(COUNT(*)) OVER () AS pct FROM users WHERE age > %v GROUP BY nccs",
		[][]any{{20}, {30}, {40}}},
	{"two stages", "WITH per_user AS (SELECT user_id, SUM(usage_minutes) AS total FROM app_usage WHERE usage_minutes > %v GROUP BY user_id) SELECT AVG(total) FROM per_user WHERE total > %v",
		[][]any{{5, 100}, {10, 250}, {15, 2}}},
	{"raw rows", "SELECT user_id, city FROM users WHERE city IN (%v, %v) AND age > %v ORDER BY user_id LIMIT %v",
		[][]any{{"'Mumbai'", "'Pune'", 30, 5}, {"'Delhi'", "'Goa'", 40, 7}}},
	{"interval", "SELECT COUNT(*) FROM users WHERE last_active_date >= CURRENT_DATE - INTERVAL %v AND age > %v",
		[][]any{{"'30 days'", 20}, {"'7 days'", 30}, {"'1 year'", 40}}},
	// Hostile contents stay inside their string: the filled-in plan is the
	// plan of the text, guard included.
	{"hostile strings", "SELECT gender, COUNT(*) FROM users WHERE city = %v GROUP BY gender",
		[][]any{{"'Mumbai'"}, {"'Pune'"}, {"'x'' OR 1=1 --'"}, {`''`}, {"'*/ DROP TABLE users; --'"}, {"'$$'"}, {"'é''s'"}}},
	{"a literal label", "SELECT %v AS query_num, COUNT(*) FROM users WHERE age > %v",
		[][]any{{"'1'", 30}, {"'2'", 40}, {"'gender split'", 50}}},
}

// TestService_ShapeTemplatesMatchPlans plans every variant of every case
// twice, in order, through the service's caches (after the second variant
// of a shape its template is used) and checks each plan against planning
// the text from scratch, on both engines and with every option.
func TestService_ShapeTemplatesMatchPlans(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	for _, e := range engines {
		h, err := f.Registry.Open(ctx, e.sample)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Release)
		templated := 0
		for _, opts := range []analysis.Request{
			{ApplyWeights: true, MergeNCCS: true},
			{ApplyWeights: true, MergeNCCS: true, StandardErrors: true},
			{ApplyWeights: false, MergeNCCS: false},
			{ApplyWeights: true, MergeNCCS: true, MaxRows: 3},
		} {
			for _, c := range shapeCases {
				for round := range 2 { // the second round hits the plan cache
					for _, v := range c.values {
						req := opts
						req.DatasetID = e.sample
						req.Query = fmt.Sprintf(c.format, v...)
						want, wantErr := analysis.Plan(h, req)
						got, fromTemplate, err := f.Service.PlanTemplated(h, req)
						if (err != nil) != (wantErr != nil) {
							t.Fatalf("%s/%s %q: error %v, from scratch %v", e.name, c.name, req.Query, err, wantErr)
						}
						if wantErr != nil {
							t.Fatalf("%s/%s %q: %v", e.name, c.name, req.Query, wantErr)
						}
						if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
							t.Errorf("%s/%s round %d %q (template %v):\n got %+v\nwant %+v", e.name, c.name, round, req.Query, fromTemplate, got, want)
						}
						if fromTemplate {
							templated++
						}
					}
				}
			}
		}
		// Most variants differ only in values that cannot change the plan.
		t.Logf("%s: %d plans came from templates", e.name, templated)
		if templated < 110 {
			t.Errorf("%s: only %d plans came from templates", e.name, templated)
		}
	}
}
