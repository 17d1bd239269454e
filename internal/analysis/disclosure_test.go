package analysis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
)

// TestService_DisclosureControl shows minimum-cell suppression (min_cell = 3,
// the default) on both engines: a row behind fewer than three distinct
// panelists keeps its labels and loses every figure, in the rows the tools
// return as structured content too; panelists are counted by the respondent
// key, so fifty events of one panelist are n = 1.
func TestService_DisclosureControl(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	// One panelist's own events, by app and day: every row is one panelist.
	var one int64
	for _, e := range engines {
		r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: "SELECT user_id FROM app_usage GROUP BY user_id ORDER BY COUNT(*) DESC, user_id LIMIT 1", MaxRows: 1})
		if !r.OK || len(r.Rows) != 1 {
			t.Fatalf("%s: busiest panelist: %v", e.name, r.Error)
		}
		one = r.Rows[0][0].(int64)
	}
	tests := []struct {
		name    string
		query   string
		weights bool
		// wantAll: every row is suppressed; else at least one is and at least one is not.
		wantAll bool
	}{
		{"respondent-level attributes, weighted", "SELECT signup_date, age, city, gender, COUNT(*), AVG(total_spend) FROM users GROUP BY 1, 2, 3, 4", true, true},
		{"respondent-level attributes, unweighted", "SELECT signup_date, age, city, gender, COUNT(*), AVG(total_spend) FROM users GROUP BY 1, 2, 3, 4", false, true},
		{"small and large groups, weighted", "SELECT age, city, COUNT(*), SUM(total_spend) FROM users GROUP BY age, city", true, false},
		{"small and large groups, unweighted", "SELECT age, city, COUNT(*), SUM(total_spend) FROM users GROUP BY age, city", false, false},
		{"many events of one panelist are n = 1, weighted", fmt.Sprintf("SELECT app_name, event_date, COUNT(*), SUM(usage_minutes) FROM app_usage WHERE user_id = %d GROUP BY 1, 2", one), true, true},
		{"many events of one panelist are n = 1, unweighted", fmt.Sprintf("SELECT app_name, COUNT(*), SUM(usage_minutes) FROM app_usage WHERE user_id = %d GROUP BY 1", one), false, true},
		{"an ungrouped count of one panelist", fmt.Sprintf("SELECT COUNT(*) FROM orders WHERE user_id = %d", one), false, true},
	}
	for _, e := range engines {
		for _, tt := range tests {
			t.Run(e.name+"/"+tt.name, func(t *testing.T) {
				r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: tt.query, ApplyWeights: tt.weights, MergeNCCS: true})
				if !r.OK {
					t.Fatalf("query failed: %s", r.Error)
				}
				if slices.ContainsFunc(r.Columns, func(c result.Column) bool { return strings.HasPrefix(c.Name, "mcpa_") }) {
					t.Fatalf("an internal column is shown: %v", r.Columns)
				}
				if len(r.Suppressed) == 0 || tt.wantAll && len(r.Suppressed) != len(r.Rows) || !tt.wantAll && len(r.Suppressed) == len(r.Rows) {
					t.Fatalf("%d of %d rows suppressed", len(r.Suppressed), len(r.Rows))
				}
				for _, i := range r.Suppressed {
					for j, c := range r.Columns {
						if !slices.Contains(r.GroupColumns, c.Name) && r.Rows[i][j] != nil {
							t.Fatalf("row %d column %s = %v: a suppressed row keeps only its labels", i, c.Name, r.Rows[i][j])
						}
					}
				}
				// Rows that are kept are behind at least three panelists.
				if n := slices.IndexFunc(r.Columns, func(c result.Column) bool { return c.Name == "n" }); n >= 0 {
					for i, row := range r.Rows {
						if !slices.Contains(r.Suppressed, i) && row[n].(int64) < 3 {
							t.Fatalf("row %d kept with n = %v", i, row[n])
						}
					}
				}
				if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "suppressed (n < 3)") }) {
					t.Fatalf("no suppression note: %q", r.Notes)
				}
			})
		}
		t.Run(e.name+"/a list of panelist ids is refused", func(t *testing.T) {
			r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: "SELECT city, string_agg(CAST(user_id AS TEXT), ',') FROM users GROUP BY city", ApplyWeights: true})
			if r.OK || !strings.Contains(r.Error, "respondent key") {
				t.Fatalf("want a refusal naming the respondent key, got ok=%v %q", r.OK, r.Error)
			}
		})
		t.Run(e.name+"/an aggregate over aggregates cannot be counted and is capped like raw rows", func(t *testing.T) {
			r := f.Service.Query(ctx, analysis.Request{DatasetID: e.sample, Query: "WITH c AS (SELECT city, COUNT(*) AS k FROM users GROUP BY city) SELECT k, COUNT(*) FROM c GROUP BY k", ApplyWeights: true})
			if !r.OK || r.RowLimit != 5 || !slices.ContainsFunc(r.Weighting.Notes, func(n string) bool { return strings.Contains(n, "cannot be counted") }) {
				t.Fatalf("ok=%v cap=%d notes=%q error=%q", r.OK, r.RowLimit, r.Weighting.Notes, r.Error)
			}
		})
	}
}

// TestService_DisclosureControlOff shows that min_cell = 0 switches
// suppression off, and that the guard refuses lists of keys whatever it says.
func TestService_DisclosureControlOff(t *testing.T) {
	limits := apptest.New(t, apptest.Options{}).Config.Limits
	limits.MinCell = 0
	f := apptest.New(t, apptest.Options{Limits: &limits})
	r := f.Service.Query(context.Background(), analysis.Request{DatasetID: apptest.DuckSample,
		Query: "SELECT signup_date, age, city, gender, COUNT(*) FROM users GROUP BY 1, 2, 3, 4", ApplyWeights: true})
	if !r.OK || len(r.Suppressed) != 0 {
		t.Fatalf("ok=%v suppressed=%d error=%q", r.OK, len(r.Suppressed), r.Error)
	}
	_, err := sqlguard.Check("SELECT array_agg(user_id) FROM users", sqlguard.Options{RespondentKeys: []string{"user_id"}})
	if err == nil {
		t.Fatal("a list of keys passed the guard")
	}
}
