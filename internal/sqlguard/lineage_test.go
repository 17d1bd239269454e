package sqlguard

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTrace(t *testing.T) {
	tests := []struct {
		name  string
		sql   string
		want  []Output
		inner map[string]Output
	}{
		{"plain aggregates", "SELECT category, COUNT(*), SUM(o.amount), AVG(amount) AS avg_order, MIN(order_date) FROM orders o GROUP BY 1",
			[]Output{{Name: "category", Column: "category"}, {Func: "count"}, {Func: "sum", Column: "amount"},
				{Name: "avg_order", Func: "avg", Column: "amount"}, {Func: "min", Column: "order_date"}}, nil},
		{"count of a column has no unit", "SELECT COUNT(DISTINCT user_id) AS users, COUNT(amount) FROM orders",
			[]Output{{Name: "users", Func: "count"}, {Func: "count"}}, nil},
		{"calls that keep the unit", "SELECT ROUND(AVG(amount)::numeric, 2) AS a, COALESCE(SUM(amount), 0) AS s, ROUND(SUM(amount) / 1000) AS k FROM orders",
			[]Output{{Name: "a", Func: "avg", Column: "amount"}, {Name: "s", Func: "sum", Column: "amount"}, {Name: "k"}}, nil},
		{"through a CTE", "WITH per_user AS (SELECT user_id, SUM(amount) AS spend, COUNT(*) AS orders FROM orders GROUP BY user_id) " +
			"SELECT AVG(spend), AVG(orders) AS avg_orders, MAX(p.spend) AS top FROM per_user p",
			[]Output{{Func: "avg", Column: "amount"}, {Name: "avg_orders", Func: "avg"}, {Name: "top", Func: "max", Column: "amount"}},
			map[string]Output{"user_id": {Name: "user_id", Column: "user_id"}, "spend": {Name: "spend", Func: "sum", Column: "amount"}, "orders": {Name: "orders", Func: "count"}}},
		{"a CTE column as it is", "WITH t AS (SELECT city, COUNT(*) AS n FROM users GROUP BY city) SELECT city, n FROM t ORDER BY n DESC",
			[]Output{{Name: "city", Column: "city"}, {Name: "n", Func: "count"}},
			map[string]Output{"city": {Name: "city", Column: "city"}, "n": {Name: "n", Func: "count"}}},
		{"through a subquery with renamed columns", "SELECT AVG(x) FROM (SELECT user_id, SUM(amount) FROM orders GROUP BY 1) AS s(u, x)",
			[]Output{{Func: "avg", Column: "amount"}},
			map[string]Output{"u": {Name: "u", Column: "user_id"}, "x": {Name: "x", Func: "sum", Column: "amount"}}},
		{"set operation: the left arm", "SELECT SUM(amount) AS v FROM orders UNION ALL SELECT COUNT(*) FROM users",
			[]Output{{Name: "v", Func: "sum", Column: "amount"}}, nil},
		{"a star leaves the columns to the database", "SELECT *, 1 AS one FROM users", nil, nil},
		{"arithmetic is no one column's unit", "SELECT SUM(amount) * 100.0 / SUM(SUM(amount)) OVER () AS pct FROM orders GROUP BY category",
			[]Output{{Name: "pct"}}, nil},
		{"window functions", "SELECT user_id, SUM(amount) OVER (PARTITION BY user_id) AS running, COUNT(*) OVER () FROM orders",
			[]Output{{Name: "user_id", Column: "user_id"}, {Name: "running", Func: "sum", Column: "amount", Window: true}, {Func: "count", Window: true}}, nil},
		{"percentile within group", "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS median FROM orders",
			[]Output{{Name: "median", Func: "percentile_cont", Column: "amount"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Trace(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Outputs); diff != "" {
				t.Errorf("Outputs (-want +got):\n%s", diff)
			}
			if tt.inner == nil {
				tt.inner = map[string]Output{}
			}

			if diff := cmp.Diff(tt.inner, got.Inner); diff != "" {
				t.Errorf("Inner (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Trace("SELECT FROM WHERE"); err == nil {
		t.Error("Trace of text that does not parse gave no error")
	}
}

func TestTrace_tables(t *testing.T) {
	got, err := Trace("WITH t AS (SELECT user_id FROM app_usage) SELECT COUNT(*) FROM t JOIN users u USING (user_id) JOIN Orders ON true")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"app_usage", "users", "orders"}, got.Tables); diff != "" {
		t.Errorf("Tables (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"u": "users"}, got.Aliases); diff != "" {
		t.Errorf("Aliases (-want +got):\n%s", diff)
	}
}

func TestSuggest(t *testing.T) {
	cols := []string{"user_id", "weight", "gender", "age", "age_group", "nccs", "city", "state", "town_class", "total_spend"}
	tests := []struct {
		name string
		want []string
	}{
		{"gendr", []string{"gender"}},
		{"GENDR", []string{"gender"}},
		{"gedner", []string{"gender"}},
		{"agegroup", []string{"age_group", "age"}},
		{"spend", []string{"total_spend"}},
		{"town", []string{"town_class"}},
		{"userid", []string{"user_id"}},
		{"ag", []string{"age"}},
		{"income", []string{}},
		{"gender", []string{}}, // the name itself is no suggestion
	}
	for _, tt := range tests {
		got := Suggest(tt.name, cols)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Suggest(%q) (-want +got):\n%s", tt.name, diff)
		}
	}
	if got := DidYouMean("userz", []string{"app_usage", "orders", "users"}); got != " (did you mean users?)" {
		t.Errorf("DidYouMean = %q", got)
	}
}
