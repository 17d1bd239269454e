package analysis_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// budget is each level's token budget (SPEC §6) at 4 characters a token.
var budget = [4]int{500, 2000, 5000, 10000}

// TestService_Context measures every level on the demo in both engines:
// each stays within the sum of its levels' budgets, holds what SPEC §6
// promises, and level 3's example queries run and are weighted right.
func TestService_Context(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	for _, id := range []int64{apptest.DuckSample, apptest.PostgresSample, apptest.DuckStreaming} {
		t.Run(fmt.Sprint("dataset ", id), func(t *testing.T) {
			total := 0
			for level := 0; level <= 3; level++ {
				doc, err := f.Service.Context(ctx, level, id, "")
				if err != nil {
					t.Fatal(err)
				}
				render.Context(&doc)
				total += budget[level]
				if doc.Tokens > total {
					t.Errorf("level %d: %d tokens, over the %d budget of levels 0..%d", level, doc.Tokens, total, level)
				}
				if os.Getenv("MCPA_SHOW_CONTEXT") != "" {
					t.Logf("level %d: %d tokens, truncated %v\n%s", level, doc.Tokens, doc.Truncated, doc.Markdown)
				}
				for _, want := range contextPromises(level, id) {
					if !strings.Contains(doc.Markdown, want) {
						t.Errorf("level %d lacks %q", level, want)
					}
				}
				if level == 3 {
					checkExamples(t, f, id, doc)
				}
			}
		})
	}
}

// contextPromises are texts each level must hold.
func contextPromises(level int, id int64) []string {
	promises := [][]string{
		{"execute_multi_query", "Weigh people, not events", "at most 5 rows", "C/D/E"},
		{"# Datasets", "Sample Dataset", "Streaming Panel", "weight: users.weight"},
		{"# Schema of dataset", "— **weight** — Projection weight", "(user level,", "(event level,"},
		{"# Details of dataset", "## Example queries", "| column | type | nulls |", "Sample rows:", "Profile: "},
	}
	var out []string
	for l := 0; l <= level; l++ {
		out = append(out, promises[l]...)
	}
	if level >= 3 && id != apptest.DuckStreaming {
		out = append(out, "A1") // NCCS top values in the profile
	}
	return out
}

// checkExamples runs level 3's examples: every one succeeds and is
// weighted, and a COUNT(*) split of the user-level table adds up to the
// whole weighted population.
func checkExamples(t *testing.T, f *apptest.Fixture, id int64, doc result.Context) {
	t.Helper()
	ctx := context.Background()
	if len(doc.Examples) < 4 {
		t.Errorf("level 3 has %d example queries, want at least 4: %+v", len(doc.Examples), doc.Examples)
	}
	total := f.Service.Query(ctx, analysis.Request{DatasetID: id, Query: "SELECT SUM(weight) AS w FROM users"})
	if !total.OK {
		t.Fatalf("total weight: %s", total.Error)
	}
	universe := total.Rows[0][0].(float64)
	splits := 0
	for _, e := range doc.Examples {
		if !strings.Contains(doc.Markdown, e.SQL) {
			t.Errorf("example not shown in the Markdown: %s", e.SQL)
		}
		r := f.Service.Query(ctx, analysis.Request{DatasetID: id, Query: e.SQL, ApplyWeights: true, MergeNCCS: true})
		if !r.OK || !r.Weighting.Applied {
			t.Errorf("example %q: ok %v, weighted %v, error %s", e.SQL, r.OK, r.Weighting.Applied, r.Error)
			continue
		}
		col := -1
		for i, c := range r.Columns {
			if c.Name == "weighted_count" {
				col = i
			}
		}
		if col < 0 || !strings.Contains(e.SQL, "COUNT(*) AS panelists FROM users") {
			continue
		}
		splits++
		var sum float64
		for _, row := range r.Rows {
			sum += row[col].(float64)
		}
		scale := r.Weighting.WeightScale
		if scale == 0 {
			scale = 1
		}
		// Panelists with a NULL NCCS fall out of no group: the groups
		// cover the whole weighted population.
		if math.Abs(sum/scale-universe) > 1e-6*universe {
			t.Errorf("example %q: weighted counts add up to %.3f (scale %g), want the universe %.3f", e.SQL, sum, scale, universe)
		}
	}
	if splits == 0 {
		t.Error("no example splits the user-level table with COUNT(*)")
	}
}

// TestService_ContextNarrowing shows level 3 narrowed to one table, and
// an unknown table answered with the list of tables.
func TestService_ContextNarrowing(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	doc, err := f.Service.Context(ctx, 3, apptest.DuckSample, "app_usage")
	if err != nil {
		t.Fatal(err)
	}
	render.Context(&doc)
	details := doc.Markdown[strings.Index(doc.Markdown, "# Details"):]
	if !strings.Contains(details, "## app_usage") || strings.Contains(details, "## orders") {
		t.Errorf("level 3 for app_usage shows other tables:\n%s", details)
	}
	for _, e := range doc.Examples {
		if !strings.Contains(e.SQL, "app_usage") {
			t.Errorf("example for another table: %s", e.SQL)
		}
	}
	// An unknown table is an error the caller can fix, naming the real ones.
	if _, err := f.Service.Context(ctx, 3, apptest.DuckSample, "nope"); err == nil ||
		!strings.Contains(err.Error(), `table "nope" not found`) || !strings.Contains(err.Error(), "app_usage, orders, users") {
		t.Errorf("unknown table: err = %v", err)
	}
	if _, err := f.Service.Context(ctx, 4, 0, ""); err == nil {
		t.Error("level 4 accepted")
	}
}

// TestService_SchemaAndList shows roles, grain, row estimates, dictionary
// descriptions, date range and profile status.
func TestService_SchemaAndList(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	list := f.Service.Datasets(ctx)
	if len(list.Datasets) != 2 || list.Datasets[0].Profile != "not profiled" || list.Datasets[0].DateTo == "" {
		t.Fatalf("list before profiling = %+v", list.Datasets)
	}
	if _, err := f.Registry.Reprofile(ctx, apptest.DuckSample); err != nil {
		t.Fatal(err)
	}
	if err := f.Registry.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	list = f.Service.Datasets(ctx)
	if d := list.Datasets[0]; !strings.HasPrefix(d.Profile, "profiled ") || d.Rows != 2000 || d.WeightColumn != "users.weight" || len(d.DateColumns) == 0 {
		t.Errorf("list after profiling = %+v", d)
	}
	sc, err := f.Service.Schema(ctx, apptest.DuckSample)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sc.Profile, "duckdb summarize") || sc.DateTo != apptest.Anchor.Format("2006-01-02") {
		t.Errorf("schema profile %q, date to %q", sc.Profile, sc.DateTo)
	}
	for _, tb := range sc.Tables {
		if tb.Description == "" {
			t.Errorf("table %s has no description", tb.Name)
		}
		for _, c := range tb.Columns {
			if c.Description == "" {
				t.Errorf("column %s.%s has no description", tb.Name, c.Name)
			}
			if tb.Name == "users" && c.Name == "nccs" && c.Role != "NCCS" {
				t.Errorf("users.nccs role = %q", c.Role)
			}
		}
	}
}

// TestService_ContextExamplesCached: level 3's example queries are run and
// checked once per version of the dataset and its profile; a second call
// runs only the sample rows, and a changed dataset runs them again.
func TestService_ContextExamplesCached(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	lookups := func() int64 { st := f.Service.Stats(); return st.PlanHits + st.PlanMisses }
	level3 := func() (result.Context, int64) {
		before := lookups()
		doc, err := f.Service.Context(ctx, 3, apptest.DuckSample, "")
		if err != nil {
			t.Fatal(err)
		}
		return doc, lookups() - before
	}
	first, ran1 := level3()
	second, ran2 := level3()
	if len(first.Examples) == 0 {
		t.Fatal("no examples at level 3")
	}
	if d := cmp.Diff(first.Examples, second.Examples); d != "" {
		t.Errorf("cached examples differ (-first +second):\n%s", d)
	}
	if ran2 > ran1-int64(len(first.Examples)) {
		t.Errorf("the second call ran %d queries, the first %d with %d examples: the examples ran again", ran2, ran1, len(first.Examples))
	}
	f.UpdateDataset(t, apptest.DuckSample, func(d *catalog.Dataset) { d.Description = "wave 2" })
	if _, ran3 := level3(); ran3 != ran1 {
		t.Errorf("after the dataset changed: %d queries, want %d as the first time", ran3, ran1)
	}
}
