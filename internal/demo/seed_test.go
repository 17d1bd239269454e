package demo

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
)

// resultSet is a query's answer with values normalised across engines:
// nil, int64, float64 (also for decimals), string, or another type as the
// driver returned it.
type resultSet struct {
	columns []string
	rows    [][]any
}

// queryFunc runs sql on dataset 1 or 2 of one engine.
type queryFunc func(dataset int, sql string) (resultSet, error)

// seedQuery is one SQL statement of the seed document
// (shared/seed/000_*.txt), the dataset it names, and what a plausible answer
// on the demo data looks like.
type seedQuery struct {
	label   string
	dataset int
	sql     string
	// wantErr is a fragment of the error both engines give, for the
	// statements that must fail.
	wantErr string
	check   func(t *testing.T, rs resultSet, f facts)
}

// facts are what the checks compare answers with.
type facts struct {
	users, streamingUsers, streamingEvents int
}

// seedQueries lists every SQL statement of the seed document, in the order
// it gives them, and the five-query performance example expanded.
func seedQueries() []seedQuery {
	qs := []seedQuery{
		{label: "tool arguments: Gender Distribution", dataset: 1,
			sql:   "SELECT gender, COUNT(*) FROM users GROUP BY gender",
			check: wantGender},
		{label: "tool arguments: Age Distribution", dataset: 1,
			sql:   "SELECT age, COUNT(*) FROM users GROUP BY age",
			check: wantAges},
		{label: "example 1: Gender Distribution", dataset: 1,
			sql:   "SELECT gender, COUNT(*) as count FROM users GROUP BY gender",
			check: wantGender},
		{label: "example 1: Age Distribution (CASE shadowed by the age_group column)", dataset: 1,
			// GROUP BY age_group names the users column, not the CASE alias, in
			// PostgreSQL and DuckDB alike, so this statement cannot run on any
			// table that has an age_group column — and the seed's own
			// "SELECT age_group, COUNT(*) FROM users GROUP BY age_group" needs
			// one. The error is the databases', kept here as documentation.
			sql:     "SELECT CASE WHEN age < 25 THEN '18-24' WHEN age < 35 THEN '25-34' WHEN age < 45 THEN '35-44' WHEN age < 55 THEN '45-54' ELSE '55+' END as age_group, COUNT(*) as count FROM users GROUP BY age_group",
			wantErr: "must appear in the GROUP BY clause"},
		{label: "example 1: Age Distribution grouped by position", dataset: 1,
			// The same question as the analyst meant it: the seed's CASE with
			// GROUP BY 1 instead of the shadowed name.
			sql: "SELECT CASE WHEN age < 25 THEN '18-24' WHEN age < 35 THEN '25-34' WHEN age < 45 THEN '35-44' WHEN age < 55 THEN '45-54' ELSE '55+' END as age_group, COUNT(*) as count FROM users GROUP BY 1",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantGroups(t, rs, "18-24", "25-34", "35-44", "45-54", "55+")
				wantTotal(t, rs, 1, f.users)
			}},
		{label: "example 2: Dataset 1 - User Count", dataset: 1,
			sql:   "SELECT COUNT(*) as user_count FROM users",
			check: func(t *testing.T, rs resultSet, f facts) { wantSingle(t, rs, f.users) }},
		{label: "example 2: Dataset 2 - User Count", dataset: 2,
			sql:   "SELECT COUNT(*) as user_count FROM users",
			check: func(t *testing.T, rs resultSet, f facts) { wantSingle(t, rs, f.streamingUsers) }},
		{label: "example 3: Gender", dataset: 1,
			sql:   "SELECT gender, COUNT(*) FROM users GROUP BY gender",
			check: wantGender},
		{label: "example 3: Age", dataset: 1,
			sql: "SELECT age_group, COUNT(*) FROM users GROUP BY age_group",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantGroups(t, rs, "15-24", "25-34", "35-44", "45-54", "55+")
				wantTotal(t, rs, 1, f.users)
			}},
		{label: "example 3: Top Cities", dataset: 1,
			sql: "SELECT city, COUNT(*) FROM users GROUP BY city ORDER BY COUNT(*) DESC LIMIT 10",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantRows(t, rs, 10)
				wantDescending(t, rs, 1)
				if top := rs.rows[0][0]; top != "Mumbai" && top != "Delhi" {
					t.Errorf("top city = %v, want Mumbai or Delhi", top)
				}
			}},
		{label: "example 3: NCCS", dataset: 1,
			sql: "SELECT nccs, COUNT(*) FROM users GROUP BY nccs",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantGroups(t, rs, nil, "A", "A1", "B", "C", "D", "E")
				wantTotal(t, rs, 1, f.users)
			}},
		{label: "example 3: Devices", dataset: 1,
			sql:   "SELECT device_type, COUNT(*) FROM users GROUP BY device_type",
			check: func(t *testing.T, rs resultSet, f facts) { wantGroups(t, rs, "desktop", "mobile", "tablet") }},
		{label: "example 3: Top Apps", dataset: 1,
			sql: "SELECT app_name, SUM(usage_minutes) FROM app_usage GROUP BY app_name ORDER BY SUM(usage_minutes) DESC LIMIT 10",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantRows(t, rs, 10)
				wantDescending(t, rs, 1)
				if top := rs.rows[0][0]; top != "YouTube" && top != "WhatsApp" {
					t.Errorf("top app = %v, want YouTube or WhatsApp", top)
				}
			}},
		{label: "example 3: Spend", dataset: 1,
			sql: "SELECT spend_quartile, AVG(total_spend) FROM users GROUP BY spend_quartile",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantLabels(t, rs, "Q1", "Q2", "Q3", "Q4")
				rows := sortedRows(rs)
				for i := 1; i < len(rows); i++ {
					if number(t, rows[i][1]) < number(t, rows[i-1][1]) {
						t.Errorf("AVG(total_spend) of %v < that of %v", rows[i][0], rows[i-1][0])
					}
				}
				if q4 := number(t, rows[3][1]); q4 < 1000 {
					t.Errorf("AVG(total_spend) of Q4 = %v rupees, want a realistic > 1000", q4)
				}
			}},
		{label: "example 3: Active Users (30d)", dataset: 1,
			sql: "SELECT COUNT(*) FROM users WHERE last_active_date >= CURRENT_DATE - INTERVAL '30 days'",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantRows(t, rs, 1)
				if n := number(t, rs.rows[0][0]); n <= float64(f.users)/3 || n >= float64(f.users) {
					t.Errorf("active users = %v, want more than a third of %d and fewer than all", n, f.users)
				}
			}},
		{label: "example 3: Platform", dataset: 1,
			sql:   "SELECT platform, COUNT(*) FROM users GROUP BY platform",
			check: func(t *testing.T, rs resultSet, f facts) { wantGroups(t, rs, "android", "ios", "web") }},
		{label: "example 3: Subscriptions", dataset: 1,
			sql:   "SELECT subscription_type, COUNT(*) FROM users GROUP BY subscription_type",
			check: func(t *testing.T, rs resultSet, f facts) { wantGroups(t, rs, "basic", "free", "premium") }},
		{label: "error handling: Users", dataset: 1,
			sql: "SELECT * FROM users LIMIT 5",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantRows(t, rs, 5)
				if len(rs.columns) != 16 {
					t.Errorf("users has %d columns, want 16", len(rs.columns))
				}
			}},
		{label: "error handling: Invalid", dataset: 1,
			sql:     "SELECT * FROM invalid_table",
			wantErr: "invalid_table"},
		{label: "error handling: Orders", dataset: 1,
			sql: "SELECT * FROM orders LIMIT 5",
			check: func(t *testing.T, rs resultSet, f facts) {
				wantRows(t, rs, 5)
				for _, r := range rs.rows {
					if a := number(t, r[2]); a <= 0 {
						t.Errorf("order amount %v, want > 0", a)
					}
				}
			}},
		{label: "testing 1: Total Users", dataset: 1,
			sql:   "SELECT COUNT(*) FROM users",
			check: func(t *testing.T, rs resultSet, f facts) { wantSingle(t, rs, f.users) }},
		{label: "testing 3: Dataset 2 Events", dataset: 2,
			sql:   "SELECT COUNT(*) FROM events",
			check: func(t *testing.T, rs resultSet, f facts) { wantSingle(t, rs, f.streamingEvents) }},
	}
	for i := 1; i <= 10; i++ {
		want := fmt.Sprint(i)
		qs = append(qs, seedQuery{
			label:   "testing 5: Query " + want,
			dataset: 1,
			sql:     fmt.Sprintf("SELECT '%d' as query_num, COUNT(*) FROM users", i),
			check: func(t *testing.T, rs resultSet, f facts) {
				wantRows(t, rs, 1)
				if got := rs.rows[0][0]; got != want {
					t.Errorf("query_num = %v, want %q", got, want)
				}
				if n := number(t, rs.rows[0][1]); n != float64(f.users) {
					t.Errorf("count = %v, want %d", n, f.users)
				}
			}})
	}
	return qs
}

// runSeed runs every seed statement and every example of ds through query
// and checks the answers.
func runSeed(t *testing.T, query queryFunc, datasets []Dataset) {
	t.Helper()
	f := facts{users: tableLen(datasets[0], "users"), streamingUsers: tableLen(datasets[1], "users"),
		streamingEvents: tableLen(datasets[1], "events")}
	for _, q := range seedQueries() {
		t.Run(q.label, func(t *testing.T) {
			rs, err := query(q.dataset, q.sql)
			if q.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), q.wantErr) {
					t.Fatalf("%s\nerror = %v, want one containing %q", q.sql, err, q.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\n%v", q.sql, err)
			}
			q.check(t, rs, f)
		})
	}
	for i, ds := range datasets {
		for _, ex := range ds.Examples {
			t.Run("example query: "+ds.Name+": "+ex.Label, func(t *testing.T) {
				rs, err := query(i+1, ex.SQL)
				if err != nil {
					t.Fatalf("%s\n%v", ex.SQL, err)
				}
				if len(rs.rows) == 0 {
					t.Errorf("%s returned no rows", ex.SQL)
				}
			})
		}
	}
}

func tableLen(ds Dataset, name string) int {
	t, _ := ds.Table(name)
	return len(t.Rows)
}

func wantRows(t *testing.T, rs resultSet, n int) {
	t.Helper()
	if len(rs.rows) != n {
		t.Fatalf("got %d rows, want %d: %v", len(rs.rows), n, rs.rows)
	}
}

func wantSingle(t *testing.T, rs resultSet, n int) {
	t.Helper()
	wantRows(t, rs, 1)
	if got := number(t, rs.rows[0][0]); got != float64(n) {
		t.Errorf("count = %v, want %d", got, n)
	}
}

// wantGroups checks that the first column holds exactly labels (in any
// order) and every count in the second is positive.
func wantGroups(t *testing.T, rs resultSet, labels ...any) {
	t.Helper()
	wantLabels(t, rs, labels...)
	for _, r := range rs.rows {
		if n := number(t, r[1]); n <= 0 {
			t.Errorf("count of %v = %v, want > 0", r[0], n)
		}
	}
}

// wantLabels checks that the first column holds exactly labels, in any order.
func wantLabels(t *testing.T, rs resultSet, labels ...any) {
	t.Helper()
	wantRows(t, rs, len(labels))
	var got []string
	for _, r := range rs.rows {
		got = append(got, fmt.Sprint(r[0]))
	}
	var want []string
	for _, l := range labels {
		want = append(want, fmt.Sprint(l))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("labels = %q, want %q", got, want)
	}
}

func wantTotal(t *testing.T, rs resultSet, col, n int) {
	t.Helper()
	total := 0.0
	for _, r := range rs.rows {
		total += number(t, r[col])
	}
	if total != float64(n) {
		t.Errorf("counts sum to %v, want %d", total, n)
	}
}

func wantDescending(t *testing.T, rs resultSet, col int) {
	t.Helper()
	for i := 1; i < len(rs.rows); i++ {
		if number(t, rs.rows[i][col]) > number(t, rs.rows[i-1][col]) {
			t.Errorf("row %d is larger than row %d: %v", i, i-1, rs.rows)
		}
	}
	if number(t, rs.rows[0][col]) <= 2*number(t, rs.rows[len(rs.rows)-1][col]) {
		t.Errorf("top row is not clearly ahead of the last (realistic skew): %v", rs.rows)
	}
}

func sortedRows(rs resultSet) [][]any {
	rows := slices.Clone(rs.rows)
	slices.SortFunc(rows, func(a, b []any) int { return strings.Compare(fmt.Sprint(a[0]), fmt.Sprint(b[0])) })
	return rows
}

func number(t *testing.T, v any) float64 {
	t.Helper()
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	case *big.Int: // DuckDB's SUM of integers is a HUGEINT
		f, _ := new(big.Float).SetInt(v).Float64()
		return f
	}
	t.Fatalf("value %v (%T) is not a number", v, v)
	return 0
}

func wantAges(t *testing.T, rs resultSet, f facts) {
	t.Helper()
	if len(rs.rows) < 40 || len(rs.rows) > 56 {
		t.Errorf("got %d distinct ages, want 40-56 (ages 15-70)", len(rs.rows))
	}
	for _, r := range rs.rows {
		if a := number(t, r[0]); a < 15 || a > 70 {
			t.Errorf("age %v outside 15-70", a)
		}
	}
	wantTotal(t, rs, 1, f.users)
}

func wantGender(t *testing.T, rs resultSet, f facts) {
	t.Helper()
	wantGroups(t, rs, "Female", "Male", "Other")
	wantTotal(t, rs, 1, f.users)
	for _, r := range rs.rows {
		if r[0] == "Other" {
			if share := number(t, r[1]) / float64(f.users); share < 0.005 || share > 0.03 {
				t.Errorf("Other is %.1f%% of users, want about 1-2%%", 100*share)
			}
		}
	}
}
