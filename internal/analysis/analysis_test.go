package analysis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// engines are the demo datasets of one fixture, by engine.
var engines = []struct {
	name              string
	sample, streaming int64
}{
	{"duckdb", apptest.DuckSample, apptest.DuckStreaming},
	{"postgres", apptest.PostgresSample, apptest.PostgresStreaming},
}

// seedQueries are the SQL statements of the seed document
// (shared/seed/000_*.txt), with the dataset they name (1 = sample, 2 =
// streaming) and a check of a plausible answer on the demo panel.
var seedQueries = []struct {
	label   string
	dataset int
	sql     string
	rows    func(n int) bool
}{
	{"Gender Distribution", 1, "SELECT gender, COUNT(*) as count FROM users GROUP BY gender", eq(3)},
	{"Age Distribution (CASE)", 1, "SELECT CASE WHEN age < 25 THEN '18-24' WHEN age < 35 THEN '25-34' WHEN age < 45 THEN '35-44' WHEN age < 55 THEN '45-54' ELSE '55+' END as age_group, COUNT(*) as count FROM users GROUP BY age_group", eq(5)},
	{"Dataset 1 - User Count", 1, "SELECT COUNT(*) as user_count FROM users", eq(1)},
	{"Dataset 2 - User Count", 2, "SELECT COUNT(*) as user_count FROM users", eq(1)},
	{"Gender", 1, "SELECT gender, COUNT(*) FROM users GROUP BY gender", eq(3)},
	{"Age", 1, "SELECT age_group, COUNT(*) FROM users GROUP BY age_group", eq(5)},
	{"Top Cities", 1, "SELECT city, COUNT(*) FROM users GROUP BY city ORDER BY COUNT(*) DESC LIMIT 10", eq(10)},
	{"NCCS", 1, "SELECT nccs, COUNT(*) FROM users GROUP BY nccs", between(3, 4)},
	{"Devices", 1, "SELECT device_type, COUNT(*) FROM users GROUP BY device_type", eq(3)},
	{"Top Apps", 1, "SELECT app_name, SUM(usage_minutes) FROM app_usage GROUP BY app_name ORDER BY SUM(usage_minutes) DESC LIMIT 10", eq(10)},
	{"Spend", 1, "SELECT spend_quartile, AVG(total_spend) FROM users GROUP BY spend_quartile", eq(4)},
	{"Active Users (30d)", 1, "SELECT COUNT(*) FROM users WHERE last_active_date >= CURRENT_DATE - INTERVAL '30 days'", eq(1)},
	{"Platform", 1, "SELECT platform, COUNT(*) FROM users GROUP BY platform", eq(3)},
	{"Subscriptions", 1, "SELECT subscription_type, COUNT(*) FROM users GROUP BY subscription_type", eq(3)},
	{"Users", 1, "SELECT * FROM users LIMIT 5", eq(5)},
	{"Orders", 1, "SELECT * FROM orders LIMIT 5", eq(5)},
	{"Total Users", 1, "SELECT COUNT(*) FROM users", eq(1)},
	{"Age (raw ages)", 1, "SELECT age, COUNT(*) FROM users GROUP BY age", between(50, 60)},
	{"Dataset 2 Events", 2, "SELECT COUNT(*) FROM events", eq(1)},
	{"Query 1", 1, "SELECT '1' as query_num, COUNT(*) FROM users", eq(1)},
}

func eq(n int) func(int) bool           { return func(got int) bool { return got == n } }
func between(lo, hi int) func(int) bool { return func(got int) bool { return got >= lo && got <= hi } }

func TestService_SeedQueries(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	for _, e := range engines {
		ids := map[int]int64{1: e.sample, 2: e.streaming}
		t.Run(e.name+"/query_dataset", func(t *testing.T) {
			for _, q := range seedQueries {
				r := f.Service.Query(ctx, analysis.Request{DatasetID: ids[q.dataset], Query: q.sql, Label: q.label, ApplyWeights: true, MergeNCCS: true})
				if !r.OK {
					t.Errorf("%s: %s", q.label, r.Error)
					continue
				}
				if !q.rows(r.RowCount) {
					t.Errorf("%s: %d rows, not plausible", q.label, r.RowCount)
				}
				checkCounts(t, q.label, r)
			}
		})
		t.Run(e.name+"/execute_multi_query", func(t *testing.T) {
			reqs := make([]analysis.Request, len(seedQueries))
			for i, q := range seedQueries {
				reqs[i] = analysis.Request{DatasetID: ids[q.dataset], Query: q.sql, Label: q.label, ApplyWeights: true, MergeNCCS: true}
			}
			m, err := f.Service.Multi(ctx, reqs)
			if err != nil {
				t.Fatal(err)
			}
			if m.Succeeded != len(seedQueries) || m.Failed != 0 {
				t.Errorf("succeeded %d, failed %d", m.Succeeded, m.Failed)
			}
			for i, r := range m.Results {
				if r.Label != seedQueries[i].label {
					t.Errorf("result %d is %q, want %q: not in request order", i, r.Label, seedQueries[i].label)
				}
				if !r.OK || !seedQueries[i].rows(r.RowCount) {
					t.Errorf("%s: ok=%v rows=%d error=%s", r.Label, r.OK, r.RowCount, r.Error)
				}
			}
		})
	}
}

// checkCounts checks that every integer count in a result is positive and
// no larger than the panel could give.
func checkCounts(t *testing.T, label string, r result.Result) {
	t.Helper()
	for _, row := range r.Rows {
		for i, v := range row {
			if n, ok := v.(int64); ok && strings.Contains(r.Columns[i].Name, "count") && (n < 0 || n > 1_000_000) {
				t.Errorf("%s: %s = %d is not plausible", label, r.Columns[i].Name, n)
			}
		}
	}
}

func TestService_MultiPartialFailure(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			m, err := f.Service.Multi(context.Background(), []analysis.Request{
				{DatasetID: e.sample, Query: "SELECT * FROM users LIMIT 5", Label: "Users"},
				{DatasetID: e.sample, Query: "SELECT * FROM invalid_table", Label: "Invalid"},
				{DatasetID: e.sample, Query: "SELECT * FROM orders LIMIT 5", Label: "Orders"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if m.Succeeded != 2 || m.Failed != 1 {
				t.Fatalf("succeeded %d failed %d, want 2 and 1", m.Succeeded, m.Failed)
			}
			got := []string{m.Results[0].Label, m.Results[1].Label, m.Results[2].Label}
			if fmt.Sprint(got) != "[Users Invalid Orders]" {
				t.Errorf("order %v", got)
			}
			if m.Results[1].OK || !strings.Contains(m.Results[1].Error, "invalid_table") {
				t.Errorf("invalid query: ok=%v error=%q", m.Results[1].OK, m.Results[1].Error)
			}
			if e.name == "postgres" && !strings.Contains(m.Results[1].Error, `relation "invalid_table" does not exist`) {
				t.Errorf("postgres error = %q, want the database's own message", m.Results[1].Error)
			}
			if m.Results[0].RowCount != 5 || m.Results[2].RowCount != 5 {
				t.Errorf("rows %d and %d, want 5 and 5", m.Results[0].RowCount, m.Results[2].RowCount)
			}
		})
	}
}

func TestService_MultiValidation(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	q := analysis.Request{DatasetID: 1, Query: "SELECT 1"}
	many := make([]analysis.Request, 31)
	for i := range many {
		many[i] = q
	}
	tests := []struct {
		name string
		reqs []analysis.Request
		want string
	}{
		{"none", nil, "At least 1 query required"},
		{"31", many, "Maximum 30 queries allowed per request"},
		{"missing query", []analysis.Request{q, {DatasetID: 1, Label: "Cities"}}, `Each query must have 'dataset_id' and 'query' fields: missing in entry 2 ("Cities")`},
		{"missing dataset", []analysis.Request{{Query: "SELECT 1"}}, "Each query must have 'dataset_id' and 'query' fields: missing in entry 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Service.Multi(context.Background(), tt.reqs)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
	if _, err := f.Service.Multi(context.Background(), many[:30]); err != nil {
		t.Errorf("30 queries rejected: %v", err)
	}
}
