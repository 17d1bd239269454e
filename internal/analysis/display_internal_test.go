package analysis

import (
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

// panelHandle is a dataset handle for pure tests: users, orders with ₹
// amounts, and refunds whose amount has another unit.
func panelHandle(withRefunds bool) *dataset.Handle {
	h := &dataset.Handle{
		Tables: []source.Table{
			{Name: "users", Columns: []source.Column{{Name: "user_id"}, {Name: "weight"}, {Name: "gender"}, {Name: "total_spend"}}},
			{Name: "orders", Columns: []source.Column{{Name: "order_id"}, {Name: "user_id"}, {Name: "amount"}, {Name: "order_date", Type: "date"}}},
		},
		Units: map[string]string{"orders.amount": "₹", "users.total_spend": "₹"},
		DateRanges: []dataset.DateRange{
			{Table: "orders", Column: "order_date", From: "2025-07-16", To: "2026-06-20"},
		},
	}
	h.Roles.Roles = weighting.Roles{WeightColumn: "weight", WeightsTable: "users", RespondentKey: "user_id"}
	if withRefunds {
		h.Tables = append(h.Tables, source.Table{Name: "refunds", Columns: []source.Column{{Name: "amount"}}})
		h.Units["refunds.amount"] = "paise"
	}
	return h
}

func TestDisplay_kinds(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		columns []string
		added   []string
		want    []string // kind/unit per column
		refunds bool
	}{
		{"weighted counts and shares", "SELECT gender, COUNT(*) FROM users GROUP BY 1",
			[]string{"gender", "count", "weighted_count", "se_weighted_count", "weighted_pct", "se_weighted_pct", "moe_pct", "n", "n_eff", "low_base"},
			[]string{"weighted_count", "se_weighted_count", "weighted_pct", "se_weighted_pct", "moe_pct", "n", "n_eff", "low_base"},
			[]string{"/", "count/", "count/", "count/", "percent/", "percent/", "percent/", "count/", "count/", "/"}, false},
		{"the base renamed beside an analyst's n", "SELECT gender, COUNT(*) AS n FROM users GROUP BY 1",
			[]string{"gender", "n", "weighted_count", "n_2"}, []string{"weighted_count", "n_2"},
			[]string{"/", "count/", "count/", "count/"}, false},
		{"money: sums, means, their errors, a 0/1 mean's margin", "SELECT gender, SUM(amount), AVG(amount), AVG(CASE WHEN amount > 500 THEN 1 ELSE 0 END) AS big FROM orders GROUP BY 1",
			[]string{"gender", "sum", "avg", "big", "weighted_sum_amount", "weighted_avg_amount", "se_weighted_avg_amount", "weighted_avg_big", "moe_weighted_avg_big"},
			[]string{"weighted_sum_amount", "weighted_avg_amount", "se_weighted_avg_amount", "weighted_avg_big", "moe_weighted_avg_big"},
			[]string{"/", "total/₹", "mean/₹", "mean/", "total/₹", "mean/₹", "mean/₹", "mean/", "mean/"}, false},
		{"DuckDB's names for unnamed aggregates", "SELECT category, COUNT(*), SUM(o.amount) FROM orders o GROUP BY 1",
			[]string{"category", "count_star()", "sum(o.amount)"}, nil,
			[]string{"/", "count/", "total/₹"}, false},
		{"a weighted twin of an alias", "SELECT gender, SUM(amount * 1.18) AS gross FROM orders GROUP BY 1",
			[]string{"gender", "gross", "weighted_gross"}, []string{"weighted_gross"},
			[]string{"/", "total/", "total/"}, false},
		{"reach", "SELECT gender, COUNT(DISTINCT user_id) AS buyers FROM orders GROUP BY 1",
			[]string{"gender", "buyers", "weighted_reach", "reach_pct", "moe_reach_pct"}, []string{"weighted_reach", "reach_pct", "moe_reach_pct"},
			[]string{"/", "count/", "count/", "percent/", "percent/"}, false},
		{"raw rows", "SELECT order_id, user_id, amount, order_date FROM orders",
			[]string{"order_id", "user_id", "amount", "order_date"}, nil,
			[]string{"id/", "id/", "/₹", "/"}, false},
		{"a star", "SELECT * FROM users",
			[]string{"user_id", "weight", "gender", "total_spend"}, nil,
			[]string{"id/", "/", "/", "/₹"}, false},
		{"a unit two tables disagree on is no unit", "SELECT SUM(amount) AS s FROM orders",
			[]string{"s"}, nil, []string{"total/"}, true},
		{"an analyst's percentage", "SELECT gender, 100.0 * COUNT(*) / SUM(COUNT(*)) OVER () AS pct FROM users GROUP BY 1",
			[]string{"gender", "pct"}, nil, []string{"/", "percent/"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := sqlguard.Trace(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			r := result.Result{OK: true, Aggregated: true, Weighting: result.Weighting{AddedColumns: tt.added}}
			for _, c := range tt.columns {
				r.Columns = append(r.Columns, result.Column{Name: c})
			}
			display(panelHandle(tt.refunds), QueryPlan{Lineage: l}, &r)
			for i, c := range r.Columns {
				if got := string(c.Kind) + "/" + c.Unit; got != tt.want[i] {
					t.Errorf("%s: %s, want %s", c.Name, got, tt.want[i])
				}
			}
		})
	}
}

func TestDisplay_partialMonths(t *testing.T) {
	l, err := sqlguard.Trace("SELECT date_trunc('month', order_date) AS m, COUNT(*) FROM orders GROUP BY 1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		months []any
		want   string
	}{
		{"both ends partial", []any{"2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z", "2026-06-01T00:00:00Z"},
			"Partial month: 2025-07 holds data from 2025-07-16 on only (16 of 31 days); 2026-06 holds data up to 2026-06-20 only (20 of 30 days). Its totals"},
		{"text months", []any{"2025-09", "2026-06"}, "Partial month: 2026-06 holds data up to 2026-06-20 only (20 of 30 days)."},
		{"whole months only", []any{"2025-08-01", "2025-09-01"}, ""},
		{"not months", []any{"2025-08-01", "2025-08-02"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := result.Result{OK: true, Aggregated: true, Columns: []result.Column{{Name: "m", Type: "date"}, {Name: "count"}}}
			for _, m := range tt.months {
				r.Rows = append(r.Rows, []any{m, int64(10)})
			}
			display(panelHandle(false), QueryPlan{Lineage: l}, &r)
			got := strings.Join(r.Notes, "\n")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("notes %q, want %q", got, tt.want)
			}
		})
	}
}
