package analysis_test

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// Cell formats of the Markdown, as an analyst pasting an answer expects.
var (
	dateCell     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	monthCell    = regexp.MustCompile(`^\d{4}-\d{2}-01$`)
	wholeCell    = regexp.MustCompile(`^-?\d{1,3}(,\d{3})*$`)
	rupeesCell   = regexp.MustCompile(`^₹\d{1,3}(,\d{3})*$`)
	paiseCell    = regexp.MustCompile(`^₹\d{1,3}(,\d{3})*\.\d{2}$`)
	percentCell  = regexp.MustCompile(`^\d{1,3}\.\d{1,2}$`)
	idCell       = regexp.MustCompile(`^\d+$`)
	meanCell     = regexp.MustCompile(`^(\d{1,3}(,\d{3})*\.\d{2}|0\.\d{3,})$`)
	rupeeAnyCell = regexp.MustCompile(`^-?₹`)
)

// TestService_ReadableAnswers asks everyday questions on both engines and
// checks how the Markdown writes each column (people whole, percentages
// with fixed decimals, money in ₹, identifiers bare, months as dates),
// that the structured rows keep their raw values, and that the two
// engines' tables read the same, unnamed columns included.
func TestService_ReadableAnswers(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	cases := []struct {
		name  string
		query string
		cells map[string]*regexp.Regexp // column → every cell's format
		kinds map[string]result.Kind
		units map[string]string
	}{
		{
			name:  "monthly orders with their value, named",
			query: "SELECT date_trunc('month', order_date) AS month, COUNT(*) AS orders, SUM(amount) AS revenue FROM orders GROUP BY 1 ORDER BY 1",
			cells: map[string]*regexp.Regexp{"month": monthCell, "orders": wholeCell, "revenue": rupeesCell,
				"weighted_count": wholeCell, "weighted_sum_amount": rupeesCell, "n": wholeCell, "n_eff": wholeCell},
			kinds: map[string]result.Kind{"orders": result.KindCount, "revenue": result.KindTotal, "weighted_count": result.KindCount,
				"weighted_sum_amount": result.KindTotal, "n": result.KindCount, "n_eff": result.KindCount},
			units: map[string]string{"revenue": "₹", "weighted_sum_amount": "₹", "orders": ""},
		},
		{
			name:  "monthly orders, unnamed columns",
			query: "SELECT date_trunc('month', order_date), COUNT(*), SUM(amount), AVG(amount) FROM orders GROUP BY 1 ORDER BY 1",
			cells: map[string]*regexp.Regexp{"weighted_sum_amount": rupeesCell, "weighted_avg_amount": paiseCell},
		},
		{
			name:  "shares of people",
			query: "SELECT gender, COUNT(*) FROM users GROUP BY gender ORDER BY gender",
			cells: map[string]*regexp.Regexp{"weighted_count": wholeCell, "weighted_pct": percentCell, "moe_pct": percentCell, "n_eff": wholeCell},
			kinds: map[string]result.Kind{"weighted_pct": result.KindPercent, "moe_pct": result.KindPercent},
		},
		{
			name:  "reach",
			query: "SELECT app_name, COUNT(DISTINCT user_id) AS users FROM app_usage GROUP BY 1 ORDER BY 1",
			cells: map[string]*regexp.Regexp{"users": wholeCell, "weighted_reach": wholeCell, "reach_pct": percentCell, "moe_reach_pct": percentCell},
			kinds: map[string]result.Kind{"users": result.KindCount, "weighted_reach": result.KindCount, "reach_pct": result.KindPercent},
		},
		{
			name:  "mean spend per panelist through a CTE",
			query: "WITH per_user AS (SELECT user_id, SUM(amount) AS spend FROM orders GROUP BY user_id) SELECT u.gender, AVG(p.spend) AS avg_spend FROM per_user p JOIN users u ON u.user_id = p.user_id GROUP BY 1 ORDER BY 1",
			cells: map[string]*regexp.Regexp{"avg_spend": paiseCell},
			kinds: map[string]result.Kind{"avg_spend": result.KindMean},
			units: map[string]string{"avg_spend": "₹"},
		},
		{
			name:  "raw rows: identifiers bare, amounts in rupees, dates",
			query: "SELECT order_id, user_id, amount, order_date FROM orders ORDER BY order_id DESC",
			cells: map[string]*regexp.Regexp{"order_id": idCell, "user_id": idCell, "amount": rupeesCell, "order_date": dateCell},
			kinds: map[string]result.Kind{"order_id": result.KindID, "user_id": result.KindID},
			units: map[string]string{"amount": "₹", "order_date": ""},
		},
		{
			name:  "a sample of users",
			query: "SELECT * FROM users ORDER BY user_id DESC",
			cells: map[string]*regexp.Regexp{"user_id": idCell, "total_spend": rupeeAnyCell, "last_active_date": dateCell, "signup_date": dateCell},
			units: map[string]string{"total_spend": "₹", "weight": ""},
		},
		{
			name:  "the largest order id is an id",
			query: "SELECT category, MAX(order_id) AS last_order FROM orders GROUP BY 1 ORDER BY 1",
			cells: map[string]*regexp.Regexp{"last_order": idCell},
			kinds: map[string]result.Kind{"last_order": result.KindID},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bodies []string
			for _, e := range engines {
				r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: c.query, ApplyWeights: true, MergeNCCS: true})
				if !r.OK {
					t.Fatalf("%s: %s", e.name, r.Error)
				}
				cells := markdownCells(t, r)
				for col, re := range c.cells {
					got, ok := cells[col]
					if !ok {
						t.Errorf("%s: no column %s in %v", e.name, col, r.Columns)
						continue
					}
					for _, cell := range got {
						if !re.MatchString(cell) {
							t.Errorf("%s: %s cell %q does not match %s", e.name, col, cell, re)
							break
						}
					}
				}
				for col, kind := range c.kinds {
					if i := columnIndex(r, col); i < 0 || r.Columns[i].Kind != kind {
						t.Errorf("%s: column %s kind = %v, want %q", e.name, col, r.Columns, kind)
					}
				}
				for col, unit := range c.units {
					if i := columnIndex(r, col); i < 0 || r.Columns[i].Unit != unit {
						t.Errorf("%s: column %s unit = %v, want %q", e.name, col, r.Columns, unit)
					}
				}
				// structuredContent keeps raw numbers: no formatted strings.
				for _, row := range r.Rows {
					for j, v := range row {
						if s, ok := v.(string); ok && (strings.HasPrefix(s, "₹") || r.Columns[j].Kind != "" && strings.Contains(s, ",")) {
							t.Fatalf("%s: structured value %q of %s is formatted", e.name, s, r.Columns[j].Name)
						}
					}
				}
				bodies = append(bodies, tableBody(r))
			}
			if !sameTables(bodies[0], bodies[1]) {
				t.Errorf("the engines' tables differ:\nduckdb:\n%s\npostgres:\n%s", bodies[0], bodies[1])
			}
		})
	}
}

// markdownCells renders r's table as the tools do and returns each
// column's cells as written.
func markdownCells(t *testing.T, r result.Result) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(render.Table(r.Columns, r.Rows, render.Options{})), "\n")
	out := map[string][]string{}
	for _, line := range lines[2:] {
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != len(r.Columns) {
			t.Fatalf("row %q has %d cells for %d columns", line, len(cells), len(r.Columns))
		}
		for i, c := range cells {
			out[r.Columns[i].Name] = append(out[r.Columns[i].Name], strings.TrimSpace(c))
		}
	}
	return out
}

// tableBody is the rendered table without its header: the engines may
// name an unnamed column differently, the values must read the same.
func tableBody(r result.Result) string {
	lines := strings.Split(render.Table(r.Columns, r.Rows, render.Options{}), "\n")
	var b strings.Builder
	for _, line := range lines[2:] {
		b.WriteString(strings.Join(strings.Fields(line), " ") + "\n")
	}
	return b.String()
}

// sameTables reports whether two rendered table bodies read the same:
// cell for cell, but for weighted figures whose last shown digit differs
// because the engines add floats in another order (226,034,610 against
// 226,034,611 people).
func sameTables(a, b string) bool {
	ra, rb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		ca, cb := strings.Split(ra[i], " | "), strings.Split(rb[i], " | ")
		if len(ca) != len(cb) {
			return false
		}
		for j := range ca {
			if ca[j] == cb[j] {
				continue
			}
			x, okx := cellNumber(ca[j])
			y, oky := cellNumber(cb[j])
			if !okx || !oky || math.Abs(x-y) > math.Max(1e-9*math.Abs(x), 1.0001*lastDigit(ca[j])) {
				return false
			}
		}
	}
	return true
}

func cellNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.NewReplacer(",", "", "₹", "", "|", "", " ", "").Replace(s), 64)
	return f, err == nil
}

// lastDigit is the value of the last digit a cell shows: 1 for 1,234, 0.01
// for 12.34.
func lastDigit(s string) float64 {
	s = strings.Trim(s, "| ")
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return math.Pow(10, -float64(len(s)-i-1))
	}
	return 1
}

// TestService_UnknownNames checks that an unknown column or table is
// explained the same way on both engines, with the closest names and the
// columns of the table the query reads, never with an internal alias.
func TestService_UnknownNames(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	cases := []struct {
		name, query string
		want        []string
		not         []string
	}{
		{"a typo in a grouped column", "SELECT gendr, COUNT(*) FROM users GROUP BY gendr",
			[]string{`column "gendr" does not exist — did you mean gender?`, "users has: user_id, weight, gender, age, age_group, nccs,"}, nil},
		{"a typo with an alias", "SELECT u.gendr FROM users u",
			[]string{`column "gendr" does not exist — did you mean gender?`, "users has: "}, nil},
		{"a typo on an event table that is weighted through users", "SELECT app_nme, COUNT(DISTINCT user_id) FROM app_usage GROUP BY 1",
			[]string{`column "app_nme" does not exist — did you mean app_name?`, "app_usage has: user_id, app_name, usage_minutes, event_date"}, []string{"users has"}},
		{"the qualifier picks the table", "SELECT o.amout, u.gender FROM orders o JOIN users u ON u.user_id = o.user_id",
			[]string{`column "amout" does not exist — did you mean amount?`, "orders has: order_id, user_id, amount, order_date, category"}, []string{"users has"}},
		{"a filter on a column no table has", "SELECT city, COUNT(*) FROM users WHERE income > 5 GROUP BY city",
			[]string{`column "income" does not exist.`, "users has: "}, []string{"did you mean"}},
		{"an unknown table", "SELECT * FROM userz",
			[]string{`relation "userz" does not exist in this dataset (did you mean users?)`, "app_usage, orders, users"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var msgs []string
			for _, e := range engines {
				r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: c.query, ApplyWeights: true, MergeNCCS: true})
				if r.OK {
					t.Fatalf("%s: the query ran", e.name)
				}
				for _, w := range c.want {
					if !strings.Contains(r.Error, w) {
						t.Errorf("%s: error %q lacks %q", e.name, r.Error, w)
					}
				}
				for _, w := range append(c.not, "mcpa_", "Binder", "Catalog Error") {
					if strings.Contains(r.Error, w) {
						t.Errorf("%s: error %q holds %q", e.name, r.Error, w)
					}
				}
				msgs = append(msgs, r.Error)
			}
			if msgs[0] != msgs[1] {
				t.Errorf("the engines explain it differently:\nduckdb:   %s\npostgres: %s", msgs[0], msgs[1])
			}
		})
	}
}

// TestService_ShowSQLOnFailure checks that show_sql returns the SQL that
// was sent when the database refuses it, in the structured result and in
// the Markdown of both tools, and nothing when nothing was sent.
func TestService_ShowSQLOnFailure(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			// Text that is no number: both engines refuse it as they run.
			failing := analysis.Request{DatasetID: e.sample, Query: "SELECT gender, COUNT(*), CAST(MIN(city) AS INTEGER) AS c FROM users GROUP BY gender", ApplyWeights: true, MergeNCCS: true, ShowSQL: true}
			r := f.Service.Query(ctx, failing)
			if r.OK {
				t.Fatal("the cast of a city to a number ran")
			}
			if !strings.Contains(r.SQL, "LIMIT 1001") || !strings.Contains(r.SQL, "weighted_count") {
				t.Errorf("sql = %q, want the weighted, capped SQL that was sent", r.SQL)
			}
			if md := render.Single(r, render.Options{}); !strings.Contains(md, "**SQL sent**:") || !strings.Contains(md, r.SQL) {
				t.Errorf("the Markdown lacks the SQL sent:\n%s", md)
			}
			m, err := f.Service.Multi(ctx, []analysis.Request{failing, {DatasetID: e.sample, Query: "DELETE FROM users", ShowSQL: true, Label: "refused"}})
			if err != nil {
				t.Fatal(err)
			}
			if m.Results[0].SQL != r.SQL {
				t.Errorf("multi: sql = %q, want %q", m.Results[0].SQL, r.SQL)
			}
			if m.Results[1].SQL != "" {
				t.Errorf("a refused query was not sent, but sql = %q", m.Results[1].SQL)
			}
			md := render.Multi(m, render.Options{})
			if strings.Count(md, "**SQL sent**:") != 1 || !strings.Contains(md, r.SQL) {
				t.Errorf("the multi-query Markdown shows the SQL sent %d times, want once:\n%s", strings.Count(md, "**SQL sent**:"), md)
			}
			without := failing
			without.ShowSQL = false
			if r := f.Service.Query(ctx, without); r.SQL != "" || strings.Contains(render.Single(r, render.Options{}), "SQL sent") {
				t.Errorf("without show_sql the SQL is shown: %q", r.SQL)
			}
		})
	}
}

// TestService_WeightNotes checks what raw rows say about weights: nothing
// for plain rows or a sample, and that they are not weighted under rows
// of per-panelist aggregates, where a reader could take them for weighted
// figures.
func TestService_WeightNotes(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for _, r := range []result.Result{
				f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: "SELECT * FROM users", ApplyWeights: true, MergeNCCS: true}),
				f.Service.Sample(ctx, e.sample, "orders", 3),
			} {
				md := render.Single(r, render.Options{})
				if !r.OK || strings.Contains(md, "detected") || strings.Contains(md, "not weighted") || strings.Contains(md, "Weights not applied") {
					t.Errorf("raw rows speak of weights:\n%s", md)
				}
			}
			r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: "SELECT user_id, SUM(amount) AS spend FROM orders GROUP BY user_id", ApplyWeights: true})
			if md := render.Single(r, render.Options{}); !strings.Contains(md, "One row per panelist (grouped by user_id): these figures are not weighted.") {
				t.Errorf("per-panelist rows lack the note:\n%s", md)
			}
		})
	}
}

// TestService_PartialMonth checks the note under a monthly trend whose
// last month the data cover in part (the fixture's data end today), on
// both engines; and that a trend of whole months gets none.
func TestService_PartialMonth(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	end := apptest.Anchor
	days := time.Date(end.Year(), end.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	want := fmt.Sprintf("Partial month: %s holds data up to %s only (%d of %d days).", end.Format("2006-01"), end.Format(time.DateOnly), end.Day(), days)
	wholeMonthsOnly := fmt.Sprintf("SELECT date_trunc('month', order_date) AS m, COUNT(*) FROM orders WHERE order_date < DATE '%s' GROUP BY 1 ORDER BY 1",
		time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for _, q := range []string{
				"SELECT date_trunc('month', event_date) AS m, COUNT(*) FROM app_usage GROUP BY 1 ORDER BY 1",
				"SELECT strftime(order_date, '%Y-%m') AS m, COUNT(*) FROM orders GROUP BY 1 ORDER BY 1",
			} {
				if e.name == "postgres" && strings.Contains(q, "strftime") {
					q = "SELECT to_char(order_date, 'YYYY-MM') AS m, COUNT(*) FROM orders GROUP BY 1 ORDER BY 1"
				}
				r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: q, ApplyWeights: true})
				if !r.OK {
					t.Fatal(r.Error)
				}
				has := strings.Contains(strings.Join(r.Notes, "\n"), want)
				if partial := end.Day() < days; has != partial {
					t.Errorf("%s: notes %q; want the partial-month note %q: %v", q, r.Notes, want, partial)
				}
			}
			r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: wholeMonthsOnly, ApplyWeights: true})
			if !r.OK || strings.Contains(strings.Join(r.Notes, "\n"), "Partial month") {
				t.Errorf("whole months only: %q %q", r.Error, r.Notes)
			}
		})
	}
}

// TestService_DateRangesPerTable checks that the dataset list and the
// schema give each event table's own period, on both engines, against
// MIN and MAX asked of the tables themselves.
func TestService_DateRangesPerTable(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	list := f.Service.Datasets(ctx)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			var info result.DatasetInfo
			for _, d := range list.Datasets {
				if d.ID == e.sample {
					info = d
				}
			}
			got := map[string][2]string{}
			for _, r := range info.DateRanges {
				got[r.Table+"."+r.Column] = [2]string{r.From, r.To}
			}
			sc, err := f.Service.Schema(ctx, e.sample)
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []string{"app_usage.event_date", "orders.order_date", "users.signup_date", "users.last_active_date"} {
				table, col, _ := strings.Cut(tc, ".")
				r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: fmt.Sprintf("SELECT CAST(MIN(%s) AS DATE), CAST(MAX(%s) AS DATE) FROM %s", col, col, table)})
				if !r.OK {
					t.Fatal(r.Error)
				}
				want := [2]string{fmt.Sprint(r.Rows[0][0]), fmt.Sprint(r.Rows[0][1])}
				if got[tc] != want {
					t.Errorf("list: %s covers %v, want %v", tc, got[tc], want)
				}
				for _, ti := range sc.Tables {
					for _, ci := range ti.Columns {
						if ti.Name == table && ci.Name == col && [2]string{ci.DateFrom, ci.DateTo} != want {
							t.Errorf("schema: %s covers %s to %s, want %v", tc, ci.DateFrom, ci.DateTo, want)
						}
					}
				}
			}
			periods := render.EventPeriods(info.DateRanges, info.DateFrom, info.DateTo)
			if !strings.Contains(periods, "app_usage "+got["app_usage.event_date"][0]+" to ") || !strings.Contains(periods, "orders "+got["orders.order_date"][0]+" to ") || strings.Contains(periods, "users") {
				t.Errorf("event periods = %q", periods)
			}
		})
	}
}
