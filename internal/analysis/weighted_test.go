package analysis_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// TestService_WeightedFiguresOnTheDemo asks weighted questions the way an
// assistant does and checks the added figures against plain SQL that
// computes them independently, on both engines.
func TestService_WeightedFiguresOnTheDemo(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	cases := []struct {
		name     string
		question string // what the assistant sends (weighted by the server)
		column   string // the added column to check
		check    string // plain SQL giving key, expected value (weights used by hand: left as written)
	}{
		{"weighted count by gender (people)", "SELECT gender, COUNT(*) FROM users GROUP BY gender", "weighted_count",
			"SELECT gender, SUM(weight) * 1000 FROM users GROUP BY gender"},
		{"weighted share by merged NCCS", "SELECT nccs, COUNT(*) FROM users GROUP BY nccs", "weighted_pct",
			"SELECT CASE WHEN nccs IN ('A', 'A1') THEN 'A' WHEN nccs IN ('C', 'D', 'E') THEN 'C/D/E' ELSE nccs END AS k, 100.0 * SUM(weight) / (SELECT SUM(weight) FROM users) FROM users GROUP BY 1"},
		{"reach counts each panelist once", "SELECT app_name, COUNT(DISTINCT user_id) FROM app_usage GROUP BY app_name", "weighted_reach",
			"SELECT x.app_name, SUM(u.weight) * 1000 FROM (SELECT DISTINCT app_name, user_id FROM app_usage) x JOIN users u ON u.user_id = x.user_id GROUP BY x.app_name"},
		{"weighted mean spend by age group", "SELECT age_group, AVG(total_spend) FROM users GROUP BY age_group", "weighted_avg_total_spend",
			"SELECT age_group, SUM(weight * total_spend) / SUM(weight) FROM users GROUP BY age_group"},
		{"projected event volume", "SELECT app_name, COUNT(*) FROM app_usage GROUP BY app_name", "weighted_count",
			"SELECT e.app_name, SUM(u.weight) * 1000 FROM app_usage e JOIN users u ON u.user_id = e.user_id GROUP BY e.app_name"},
	}
	for _, e := range engines {
		for _, c := range cases {
			t.Run(e.name+"/"+c.name, func(t *testing.T) {
				got := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: c.question, ApplyWeights: true, MergeNCCS: true})
				want := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: c.check, ApplyWeights: true})
				if !got.OK || !want.OK {
					t.Fatalf("query failed: %q / %q", got.Error, want.Error)
				}
				if !got.Weighting.Applied {
					t.Fatalf("weights not applied: %s", got.Weighting.ReasonIfNot)
				}
				if want.Weighting.Applied {
					t.Fatalf("the check SQL uses the weight column by hand and must be left as written")
				}
				idx := columnIndex(got, c.column)
				if idx < 0 {
					t.Fatalf("no column %s in %v", c.column, got.Columns)
				}
				expected := map[string]float64{}
				for _, row := range want.Rows {
					expected[fmt.Sprint(row[0])] = toFloat(row[1])
				}
				if len(got.Rows) != len(expected) {
					t.Errorf("%d groups, want %d", len(got.Rows), len(expected))
				}
				for _, row := range got.Rows {
					k := fmt.Sprint(row[0])
					w, ok := expected[k]
					if !ok {
						t.Errorf("unexpected group %q", k)
						continue
					}
					if g := toFloat(row[idx]); math.Abs(g-w) > 1e-6*math.Max(1, math.Abs(w)) {
						t.Errorf("%s %s = %v, want %v", k, c.column, g, w)
					}
				}
			})
		}
	}
}

func columnIndex(r result.Result, name string) int {
	return slices.IndexFunc(r.Columns, func(c result.Column) bool { return c.Name == name })
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// TestService_RoundingStillWorksWhenWeighted: the weighted twin of an
// aggregate is double precision, which PostgreSQL's round(x, n) does not
// take; the everyday ROUND(AVG(x), 2) must still run on both engines.
func TestService_RoundingStillWorksWhenWeighted(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	queries := []string{
		"SELECT age_group, ROUND(AVG(total_spend), 2) AS avg_spend FROM users GROUP BY 1",
		"SELECT nccs, COUNT(*) AS n_users, ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 1) AS pct FROM users GROUP BY nccs",
		"SELECT ROUND(SUM(amount), 0) FROM orders",
		"SELECT gender, TRUNC(AVG(age), 1) FROM users GROUP BY gender",
	}
	for _, e := range engines {
		for _, q := range queries {
			r := f.Service.Query(context.Background(), analysis.Request{DatasetID: e.sample, Query: q, ApplyWeights: true, MergeNCCS: true})
			if !r.OK || !r.Weighting.Applied {
				t.Errorf("%s: %s: ok=%v applied=%v error=%s reason=%s", e.name, q, r.OK, r.Weighting.Applied, r.Error, r.Weighting.ReasonIfNot)
			}
		}
	}
}

// TestService_StandardErrorsOnRequest: the standard errors of counts and
// shares are added when asked for; means always carry theirs.
func TestService_StandardErrorsOnRequest(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	for _, e := range engines {
		for _, want := range []bool{false, true} {
			r := f.Service.Query(context.Background(), analysis.Request{DatasetID: e.sample, ApplyWeights: true, MergeNCCS: true,
				StandardErrors: want, Query: "SELECT gender, COUNT(*), AVG(total_spend) FROM users GROUP BY gender"})
			if !r.OK {
				t.Fatalf("%s: %s", e.name, r.Error)
			}
			for _, col := range []string{"se_weighted_count", "se_weighted_pct"} {
				if got := columnIndex(r, col) >= 0; got != want {
					t.Errorf("%s standard_errors=%v: column %s present = %v", e.name, want, col, got)
				}
			}
			if columnIndex(r, "se_weighted_avg_total_spend") < 0 || columnIndex(r, "moe_pct") < 0 {
				t.Errorf("%s: the mean's standard error or the share's margin of error is missing: %v", e.name, r.Columns)
			}
		}
	}
}

// TestService_ReachWithinGroups: grouped by the panelists' own attributes,
// reach % is within each group (Netflix reach among women divides by the
// weight of women, after the user-level filters), as R's
// svyby(~used, ~gender, svymean) has it; grouped by an event attribute it
// divides by all panelists.
func TestService_ReachWithinGroups(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	cases := []struct {
		name, question, check string
	}{
		{"by gender",
			"SELECT u.gender, COUNT(DISTINCT a.user_id) FROM app_usage a JOIN users u ON u.user_id = a.user_id WHERE a.app_name = 'Netflix' GROUP BY u.gender",
			`SELECT g.gender, 100.0 * COALESCE(r.w, 0) / g.w FROM (SELECT gender, SUM(weight) AS w FROM users GROUP BY gender) g
			 LEFT JOIN (SELECT u.gender, SUM(u.weight) AS w FROM users u WHERE u.user_id IN (SELECT user_id FROM app_usage WHERE app_name = 'Netflix') GROUP BY u.gender) r ON r.gender = g.gender`},
		{"by age group among the young",
			"SELECT u.age_group, COUNT(DISTINCT a.user_id) FROM app_usage a JOIN users u ON u.user_id = a.user_id WHERE a.app_name = 'YouTube' AND u.age < 35 GROUP BY 1",
			`SELECT g.age_group, 100.0 * COALESCE(r.w, 0) / g.w FROM (SELECT age_group, SUM(weight) AS w FROM users WHERE age < 35 GROUP BY age_group) g
			 LEFT JOIN (SELECT u.age_group, SUM(u.weight) AS w FROM users u WHERE u.age < 35 AND u.user_id IN (SELECT user_id FROM app_usage WHERE app_name = 'YouTube') GROUP BY u.age_group) r ON r.age_group = g.age_group`},
		{"by app: all panelists",
			"SELECT app_name, COUNT(DISTINCT user_id) FROM app_usage GROUP BY app_name",
			`SELECT x.app_name, 100.0 * SUM(u.weight) / (SELECT SUM(weight) FROM users) FROM (SELECT DISTINCT app_name, user_id FROM app_usage) x JOIN users u ON u.user_id = x.user_id GROUP BY x.app_name`},
		// The key conditions are repeated on the weights table's join
		// (see weighting.joinUsers): the figures must not change.
		{"by app: a range of panelists",
			"SELECT app_name, COUNT(DISTINCT user_id) FROM app_usage WHERE user_id BETWEEN 200 AND 1200 AND user_id NOT IN (201, 202) GROUP BY app_name",
			`SELECT x.app_name, 100.0 * SUM(u.weight) / (SELECT SUM(weight) FROM users) FROM (SELECT DISTINCT app_name, user_id FROM app_usage WHERE user_id BETWEEN 200 AND 1200 AND user_id NOT IN (201, 202)) x JOIN users u ON u.user_id = x.user_id GROUP BY x.app_name`},
	}
	ctx := context.Background()
	for _, e := range engines {
		for _, c := range cases {
			t.Run(e.name+"/"+c.name, func(t *testing.T) {
				got := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: c.question, ApplyWeights: true, MergeNCCS: true})
				want := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: c.check})
				if se := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: c.question, ApplyWeights: true, StandardErrors: true}); !se.OK || columnIndex(se, "se_reach_pct") < 0 {
					t.Errorf("with standard errors: ok=%v %s", se.OK, se.Error)
				}
				if !got.OK || !want.OK {
					t.Fatalf("%q / %q", got.Error, want.Error)
				}
				idx := columnIndex(got, "reach_pct")
				if idx < 0 {
					t.Fatalf("no reach_pct in %v", got.Columns)
				}
				expected := map[string]float64{}
				for _, row := range want.Rows {
					expected[fmt.Sprint(row[0])] = toFloat(row[1])
				}
				for _, row := range got.Rows {
					k := fmt.Sprint(row[0])
					if w, g := expected[k], toFloat(row[idx]); math.Abs(g-w) > 1e-6*math.Max(1, math.Abs(w)) {
						t.Errorf("%s reach_pct = %v, want %v", k, g, w)
					}
				}
			})
		}
	}
}

// TestService_GroupByAliasInsideSubqueries shows that a GROUP BY naming a
// select-list alias inside a CTE or sub-query groups by that output column,
// as at the top level (the databases would take the input column of the same
// name, users.age_group, and reject the CASE), on both engines.
func TestService_GroupByAliasInsideSubqueries(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	for _, e := range engines {
		for _, q := range []string{
			"WITH t AS (SELECT CASE WHEN age < 30 THEN 'young' ELSE 'older' END AS age_group, user_id, COUNT(*) AS orders_placed FROM orders JOIN users USING (user_id) GROUP BY age_group, user_id) SELECT age_group, AVG(orders_placed) FROM t GROUP BY age_group",
			"SELECT age_group, SUM(k) FROM (SELECT CASE WHEN age < 30 THEN 'young' ELSE 'older' END AS age_group, COUNT(*) AS k FROM users GROUP BY age_group) s GROUP BY age_group",
		} {
			t.Run(e.name, func(t *testing.T) {
				r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: q, ApplyWeights: true, MergeNCCS: true})
				if !r.OK {
					t.Fatalf("%s: %s", q, r.Error)
				}
				var groups []string
				for _, row := range r.Rows {
					groups = append(groups, fmt.Sprint(row[0]))
				}
				slices.Sort(groups)
				if !slices.Equal(groups, []string{"older", "young"}) {
					t.Errorf("%s: groups %v, want older and young", q, groups)
				}
			})
		}
	}
}

// TestService_LowBaseNoteWhenTheNamesAreTaken: a query whose own columns
// are called n and low_base gets the rewrite's figures under other names,
// and the low-base note still finds them (it reads the names the rewrite
// chose, never guesses them).
func TestService_LowBaseNoteWhenTheNamesAreTaken(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	q := "SELECT city, COUNT(*) AS n, 0 AS low_base FROM users GROUP BY city"
	for _, e := range engines {
		r := f.Service.Query(context.Background(), analysis.Request{DatasetID: e.sample, Query: q, ApplyWeights: true, MergeNCCS: true})
		if !r.OK || !r.Weighting.Applied {
			t.Fatalf("%s: ok=%v applied=%v error=%s", e.name, r.OK, r.Weighting.Applied, r.Error)
		}
		// The analyst's n is the plain count; the rewrite's base has another
		// name, and its low-base flag too.
		names := make([]string, len(r.Columns))
		for i, c := range r.Columns {
			names[i] = c.Name
		}
		if slices.Index(names, "n") != 1 || slices.Index(names, "low_base") != 2 {
			t.Fatalf("%s: the query's own columns moved: %v", e.name, names)
		}
		flag := -1
		for i, name := range names {
			if i > 2 && strings.HasPrefix(name, "low_base") {
				flag = i
			}
		}
		if flag < 0 {
			t.Fatalf("%s: no low-base flag of the rewrite's among %v", e.name, names)
		}
		var low int
		for _, row := range r.Rows {
			if b, _ := row[flag].(bool); b {
				low++
			}
		}
		var note string
		for _, n := range r.Notes {
			if strings.HasPrefix(n, "⚠ Low base") {
				note = n
			}
		}
		if low == 0 || note == "" {
			t.Errorf("%s: %d groups flagged low base by %s, note %q; want both (demo cities under 30 panelists)", e.name, low, names[flag], note)
		}
	}
}
