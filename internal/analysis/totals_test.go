package analysis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// totalsCase is an event question asked with Total rows, and its Total rows
// weighted by hand.
type totalsCase struct {
	name      string
	streaming bool
	question  string
	// expect gives the Total rows: one per value of keys (the grouping
	// columns that are not rolled up), or one row when keys is empty. Its
	// columns are compared with the answer's Total rows by name.
	expect string
	keys   []string
}

// totalsCases are event questions whose Total rows must count each panelist
// once, however many groups their events fall in: the two-level rewrite
// re-aggregates its per-(group, panelist) rows per panelist for them (a
// UNION ALL over level 1), or, when the groups come from the weights table
// (a panelist attribute), reduces the events per panelist before joining it
// and rolls the Total up over the panelists.
var totalsCases = []totalsCase{
	{
		name:     "sessions and minutes by app (events alone)",
		question: "SELECT app_name, COUNT(*) AS sessions, SUM(usage_minutes) AS minutes FROM app_usage GROUP BY app_name ORDER BY minutes DESC LIMIT 3",
		expect: `SELECT COUNT(*) AS sessions, SUM(a.usage_minutes) AS minutes, SUM(u.weight) * 1000 AS weighted_count, 100.0 AS weighted_pct,
				SUM(a.usage_minutes * u.weight) * 1000 AS weighted_sum_usage_minutes, COUNT(DISTINCT a.user_id) AS n,
				(SELECT power(SUM(weight), 2) / SUM(weight * weight) FROM users WHERE user_id IN (SELECT user_id FROM app_usage)) AS n_eff
			FROM app_usage a LEFT JOIN users u ON u.user_id = a.user_id`,
	},
	{
		name:     "mean minutes per session by app",
		question: "SELECT app_name, AVG(usage_minutes) AS avg_minutes FROM app_usage GROUP BY app_name",
		expect: `SELECT AVG(a.usage_minutes) AS avg_minutes,
				SUM(a.usage_minutes * u.weight) / SUM(CASE WHEN a.usage_minutes IS NOT NULL THEN u.weight END) AS weighted_avg_usage_minutes,
				COUNT(DISTINCT a.user_id) AS n
			FROM app_usage a LEFT JOIN users u ON u.user_id = a.user_id`,
	},
	{
		name:     "shortest and longest session by app",
		question: "SELECT app_name, MIN(usage_minutes) AS shortest, MAX(usage_minutes) AS longest FROM app_usage GROUP BY app_name",
		expect:   `SELECT MIN(usage_minutes) AS shortest, MAX(usage_minutes) AS longest, COUNT(DISTINCT user_id) AS n FROM app_usage`,
	},
	{
		name:     "app reach by month (an expression of the events)",
		question: "SELECT EXTRACT(MONTH FROM event_date) AS month, COUNT(DISTINCT user_id) AS reach FROM app_usage GROUP BY 1",
		expect: `SELECT COUNT(*) AS reach, SUM(u.weight) * 1000 AS weighted_reach, 100.0 * SUM(u.weight) / (SELECT SUM(weight) FROM users) AS reach_pct, COUNT(*) AS n
			FROM (SELECT DISTINCT user_id FROM app_usage) x JOIN users u ON u.user_id = x.user_id`,
	},
	{
		name:     "sessions by app × gender: a Total per gender",
		question: "SELECT a.app_name, u.gender, COUNT(*) AS sessions FROM app_usage a JOIN users u ON u.user_id = a.user_id GROUP BY 1, 2",
		expect: `SELECT u.gender, COUNT(*) AS sessions, SUM(u.weight) * 1000 AS weighted_count, COUNT(DISTINCT a.user_id) AS n
			FROM app_usage a JOIN users u ON u.user_id = a.user_id GROUP BY u.gender`,
		keys: []string{"gender"},
	},
	{
		name:     "sessions and minutes by age group (events joined to users)",
		question: "SELECT u.age_group, COUNT(*) AS sessions, SUM(a.usage_minutes) AS minutes FROM app_usage a JOIN users u ON u.user_id = a.user_id GROUP BY u.age_group",
		expect: `SELECT COUNT(*) AS sessions, SUM(a.usage_minutes) AS minutes, SUM(u.weight) * 1000 AS weighted_count, 100.0 AS weighted_pct,
				SUM(a.usage_minutes * u.weight) * 1000 AS weighted_sum_usage_minutes, COUNT(DISTINCT a.user_id) AS n,
				(SELECT power(SUM(weight), 2) / SUM(weight * weight) FROM users WHERE user_id IN (SELECT user_id FROM app_usage)) AS n_eff
			FROM app_usage a JOIN users u ON u.user_id = a.user_id`,
	},
	{
		name:     "minutes by gender, joined in WHERE, filtered on both tables",
		question: "SELECT u.gender, SUM(a.usage_minutes) AS minutes FROM app_usage a, users u WHERE a.user_id = u.user_id AND a.app_name = 'YouTube' AND u.town_class = 'Metro' GROUP BY u.gender",
		expect: `SELECT SUM(a.usage_minutes) AS minutes, SUM(a.usage_minutes * u.weight) * 1000 AS weighted_sum_usage_minutes, COUNT(DISTINCT a.user_id) AS n
			FROM app_usage a JOIN users u ON u.user_id = a.user_id WHERE a.app_name = 'YouTube' AND u.town_class = 'Metro'`,
	},
	{
		name:     "sessions by age group since signing up (a condition on both tables)",
		question: "SELECT u.age_group, COUNT(*) AS sessions FROM app_usage a JOIN users u ON u.user_id = a.user_id WHERE a.event_date >= u.signup_date GROUP BY u.age_group",
		expect: `SELECT COUNT(*) AS sessions, SUM(u.weight) * 1000 AS weighted_count, COUNT(DISTINCT a.user_id) AS n
			FROM app_usage a JOIN users u ON u.user_id = a.user_id WHERE a.event_date >= u.signup_date`,
	},
	{
		name:     "YouTube reach by merged NCCS in metros",
		question: "SELECT u.nccs, COUNT(DISTINCT a.user_id) AS reach FROM app_usage a JOIN users u ON u.user_id = a.user_id WHERE a.app_name = 'YouTube' AND u.town_class = 'Metro' GROUP BY u.nccs",
		expect: `SELECT COUNT(*) AS reach, SUM(u.weight) * 1000 AS weighted_reach,
				100.0 * SUM(u.weight) / (SELECT SUM(weight) FROM users WHERE town_class = 'Metro') AS reach_pct, COUNT(*) AS n
			FROM users u WHERE u.town_class = 'Metro' AND u.user_id IN (SELECT user_id FROM app_usage WHERE app_name = 'YouTube')`,
	},
	{
		name:      "purchases by merged NCCS on the Streaming Panel",
		streaming: true,
		question:  "SELECT u.nccs, COUNT(*) AS purchases FROM events e JOIN users u ON u.user_id = e.user_id WHERE e.event_type = 'purchase' GROUP BY u.nccs",
		expect: `SELECT COUNT(*) AS purchases, SUM(u.weight) * 1000 AS weighted_count, COUNT(DISTINCT e.user_id) AS n
			FROM events e JOIN users u ON u.user_id = e.user_id WHERE e.event_type = 'purchase'`,
	},
}

// testEventTotals asks each totals case on both engines, with and without
// Total rows: the Total rows match the hand-weighted ones, and asking for
// them changes no group row.
func testEventTotals(t *testing.T, f *apptest.Fixture) {
	ctx := context.Background()
	for _, e := range engines {
		for _, c := range totalsCases {
			t.Run(e.name+"/"+c.name, func(t *testing.T) {
				id := e.sample
				if c.streaming {
					id = e.streaming
				}
				want := handWeighted(ctx, t, f, id, c.expect)
				ac := analystCase{name: c.name, streaming: c.streaming, question: c.question}
				req := ac.request(e)
				plain := f.Service.Query(ctx, req)
				req.Totals = true
				got := f.Service.Query(ctx, req)
				for _, r := range []result.Result{plain, got} {
					if !r.OK || !r.Weighting.Applied {
						t.Fatalf("ok=%v weighted=%v: %s %s", r.OK, r.Weighting.Applied, r.Error, r.Weighting.ReasonIfNot)
					}
				}
				total := columnIndex(got, "is_total")
				if total < 0 {
					t.Fatalf("no is_total column in %v; notes %q", columnNames(got.Columns), answerNotes(got))
				}
				var totals [][]any
				for _, row := range got.Rows {
					if row[total] == true {
						totals = append(totals, row)
					}
				}
				if len(totals) != len(want.Rows) {
					t.Fatalf("%d Total rows, want %d", len(totals), len(want.Rows))
				}
				idx := make([]int, len(want.Columns))
				for i, col := range want.Columns {
					if idx[i] = columnIndex(got, col.Name); idx[i] < 0 {
						t.Fatalf("no column %q in the answer %v", col.Name, columnNames(got.Columns))
					}
				}
				for _, w := range want.Rows {
					k := keyOf(c.keys, want.Columns, w)
					i := slices.IndexFunc(totals, func(g []any) bool { return keyOf(c.keys, got.Columns, g) == k })
					if i < 0 {
						t.Errorf("no Total row for %s", k)
						continue
					}
					compareRow(t, "Total "+k, want.Columns, w, idx, totals[i])
				}

				// The groups are the same rows as without Total rows.
				a, b := sortedRows(withoutTotals(plain)), sortedRows(withoutTotals(got))
				if len(a) != len(b) {
					t.Fatalf("%d group rows with Total rows, %d without", len(b), len(a))
				}
				for i := range a {
					for j := range plain.Columns {
						if !same(a[i][j], b[i][j]) {
							t.Errorf("group row %v: %s = %v with Total rows, %v without", a[i], plain.Columns[j].Name, b[i][j], a[i][j])
						}
					}
				}
			})
		}
	}
}

// sortedRows sorts rows by their values, floating-point ones rounded, so
// that two answers computed in a different order line up.
func sortedRows(rows [][]any) [][]any {
	key := func(row []any) string {
		var k string
		for _, v := range row {
			if f, ok := v.(float64); ok {
				k += fmt.Sprintf("%.6g|", f)
			} else {
				k += fmt.Sprint(v, "|")
			}
		}
		return k
	}
	out := slices.Clone(rows)
	slices.SortFunc(out, func(x, y []any) int { return strings.Compare(key(x), key(y)) })
	return out
}
