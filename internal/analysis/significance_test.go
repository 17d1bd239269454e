package analysis_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/executor"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/significance"
)

// sigRef is the part of significance/testdata/expected.json (R's survey
// package on the public reference panel) these tests read.
type sigRef struct {
	Questions []struct {
		ID            string `json:"id"`
		InputSQL      string `json:"input_sql"`
		RowVariable   string `json:"row_variable"`
		YVariable     string `json:"y_variable"`
		GroupVariable string `json:"group_variable"`
		Cells         []struct {
			Row               any     `json:"row"`
			Group             any     `json:"group"`
			NCell             int64   `json:"n_cell"`
			WeightedCount     float64 `json:"weighted_count"`
			WeightedPct       float64 `json:"weighted_pct"`
			WeightedMean      float64 `json:"weighted_mean"`
			SE                float64 `json:"se"`
			Letters           *string `json:"letters"`
			LettersBonferroni *string `json:"letters_bonferroni"`
		} `json:"cells"`
		Pairs []struct {
			Row         any      `json:"row"`
			G           any      `json:"g"`
			H           any      `json:"h"`
			Z           *float64 `json:"z"`
			P           *float64 `json:"p"`
			PBonferroni *float64 `json:"p_bonferroni"`
		} `json:"pairs"`
		Totals []struct {
			Row           any     `json:"row"`
			WeightedCount float64 `json:"weighted_count"`
			WeightedPct   float64 `json:"weighted_pct"`
			WeightedMean  float64 `json:"weighted_mean"`
			SE            float64 `json:"se"`
		} `json:"totals"`
		Overall struct {
			F, NDF, DDF, P float64
		} `json:"overall_test"`
	} `json:"questions"`
}

// TestService_CompareByReproducesR asks each question of the significance
// reference (a public panel, answers computed with R's survey package:
// svyby, svytotal, svychisq, regTermTest) through the whole pipeline, with
// compare_by, on DuckDB and PostgreSQL, and checks every cell, letter (with
// and without Bonferroni), pair, Total and overall test to 1e-6.
func TestService_CompareByReproducesR(t *testing.T) {
	dir := filepath.Join("..", "significance", "testdata")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref sigRef
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	svc := referencePanelService(t, filepath.Join(dir, "users.csv"))
	ctx := context.Background()
	for _, engine := range []struct {
		name string
		id   int64
	}{{"duckdb", 1}, {"postgres", 2}} {
		for _, q := range ref.Questions {
			for _, bonferroni := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/bonferroni=%v", engine.name, q.ID, bonferroni)
				t.Run(name, func(t *testing.T) {
					req := analysis.Request{DatasetID: engine.id, Query: q.InputSQL, ApplyWeights: true, MergeNCCS: true,
						Totals: true, CompareBy: q.GroupVariable}
					if bonferroni {
						req.Correction = "bonferroni"
					}
					r := svc.Query(ctx, req)
					if !r.OK {
						t.Fatalf("query failed: %s", r.Error)
					}
					if r.Significance == nil {
						t.Fatalf("no significance block; notes %q", r.Notes)
					}
					sig := r.Significance
					col := func(name string) int {
						return slices.IndexFunc(r.Columns, func(c result.Column) bool { return c.Name == name })
					}
					g, total := col(q.GroupVariable), col("is_total")
					rowCol := -1
					if q.RowVariable != "" {
						rowCol = col(q.RowVariable)
					}
					find := func(group, row any, isTotal bool) int {
						for i, rw := range r.Rows {
							if (rw[total] == true) != isTotal || !isTotal && fmt.Sprint(rw[g]) != fmt.Sprint(group) {
								continue
							}
							if rowCol >= 0 && fmt.Sprint(rw[rowCol]) != fmt.Sprint(row) {
								continue
							}
							return i
						}
						return -1
					}
					measure := col(sig.Measure)
					for _, c := range q.Cells {
						i := find(c.Group, c.Row, false)
						if i < 0 {
							t.Errorf("no row for group %v row %v", c.Group, c.Row)
							continue
						}
						if slices.Contains(r.Suppressed, i) {
							if c.NCell >= 3 {
								t.Errorf("group %v row %v suppressed with n_cell %d", c.Group, c.Row, c.NCell)
							}
							continue
						}
						want := c.WeightedPct
						if q.YVariable != "" {
							want = c.WeightedMean
							near(t, fmt.Sprintf("se of %v", c.Group), r.Rows[i][col("se_"+sig.Measure)], c.SE)
						} else {
							near(t, fmt.Sprintf("weighted_count of %v × %v", c.Group, c.Row), r.Rows[i][col("weighted_count")], c.WeightedCount)
						}
						near(t, fmt.Sprintf("%s of %v × %v", sig.Measure, c.Group, c.Row), r.Rows[i][measure], want)
						letters := c.Letters
						if bonferroni {
							letters = c.LettersBonferroni
						}
						if got := sig.Letters[i]; (got == nil) != (letters == nil) || got != nil && *got != *letters {
							t.Errorf("letters of %v × %v = %v, want %v", c.Group, c.Row, str(got), str(letters))
						}
					}
					for _, tot := range q.Totals {
						i := find(nil, tot.Row, true)
						if i < 0 {
							t.Errorf("no Total row for %v", tot.Row)
							continue
						}
						if q.YVariable != "" {
							near(t, "Total mean", r.Rows[i][measure], tot.WeightedMean)
							near(t, "Total se", r.Rows[i][col("se_"+sig.Measure)], tot.SE)
						} else {
							near(t, fmt.Sprintf("Total %% of %v", tot.Row), r.Rows[i][measure], tot.WeightedPct)
							near(t, fmt.Sprintf("Total count of %v", tot.Row), r.Rows[i][col("weighted_count")], tot.WeightedCount)
						}
						if sig.Letters[i] != nil {
							t.Errorf("a Total row has letters %q", *sig.Letters[i])
						}
					}
					pairs := 0
					for _, p := range q.Pairs {
						k := slices.IndexFunc(sig.Pairs, func(sp significance.Pair) bool {
							return fmt.Sprint(sp.Row) == fmt.Sprint(p.Row) && fmt.Sprint(sp.G) == fmt.Sprint(p.G) && fmt.Sprint(sp.H) == fmt.Sprint(p.H)
						})
						if k < 0 {
							continue // a pair involving a suppressed cell is left out
						}
						pairs++
						sp := sig.Pairs[k]
						nearPtr(t, fmt.Sprintf("z of %v: %v vs %v", p.Row, p.G, p.H), sp.Z, p.Z)
						nearPtr(t, fmt.Sprintf("p of %v: %v vs %v", p.Row, p.G, p.H), sp.P, p.P)
					}
					if pairs < len(q.Pairs)/2 {
						t.Errorf("only %d of %d pairs found", pairs, len(q.Pairs))
					}
					if sig.Overall == nil {
						t.Fatalf("no overall test: %s", sig.OverallNote)
					}
					near(t, "overall F", sig.Overall.F, q.Overall.F)
					near(t, "overall df1", sig.Overall.DF1, q.Overall.NDF)
					near(t, "overall df2", sig.Overall.DF2, q.Overall.DDF)
					near(t, "overall p", sig.Overall.P, q.Overall.P)
				})
			}
		}
	}
}

func str(s *string) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *s)
}

func near(t *testing.T, what string, got any, want float64) {
	t.Helper()
	g, ok := result.Float(got)
	if !ok || math.Abs(g-want) > 1e-6*math.Max(1e-12, math.Abs(want)) && math.Abs(g-want) > 1e-12 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func nearPtr(t *testing.T, what string, got, want *float64) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Errorf("%s = %v, want %v", what, got, want)
		return
	}
	if got != nil {
		near(t, what, *got, *want)
	}
}

// referencePanelService serves the reference panel's users table as dataset
// 1 (DuckDB) and dataset 2 (PostgreSQL), weights as they are (thousands).
func referencePanelService(t *testing.T, usersCSV string) *analysis.Service {
	t.Helper()
	ctx := context.Background()
	abs, err := filepath.Abs(usersCSV)
	if err != nil {
		t.Fatal(err)
	}
	const create = `CREATE TABLE users (user_id INTEGER PRIMARY KEY, gender TEXT NOT NULL, age INTEGER NOT NULL,
		age_group TEXT NOT NULL, nccs TEXT, city TEXT NOT NULL, state TEXT NOT NULL, town_class TEXT NOT NULL,
		device_type TEXT NOT NULL, platform TEXT NOT NULL, subscription_type TEXT NOT NULL,
		total_spend NUMERIC(12,2) NOT NULL, spend_quartile TEXT NOT NULL, last_active_date DATE NOT NULL,
		weight DOUBLE PRECISION NOT NULL)`
	dir := t.TempDir()
	duckPath := filepath.Join(dir, "panel.duckdb")
	db, err := sql.Open("duckdb", duckPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{create, fmt.Sprintf("INSERT INTO users SELECT * FROM read_csv('%s', header = true, nullstr = '')", abs)} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("duckdb: %v", err)
		}
	}
	db.Close()

	pgURL := pgtest.NewDatabase(t)
	conn := pgtest.Connect(ctx, t, pgURL)
	if _, err := conn.Exec(ctx, create); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(abs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := conn.PgConn().CopyFrom(ctx, f, "COPY users FROM STDIN WITH (FORMAT csv, HEADER true)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE users"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	store, err := sqlitestore.Open(ctx, filepath.Join(dir, "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, d := range []catalog.Dataset{
		{Name: "Reference DuckDB", Driver: catalog.DriverDuckDB, DSN: duckPath},
		{Name: "Reference PostgreSQL", Driver: catalog.DriverPostgres, DSN: pgURL},
	} {
		if _, err := store.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	limits := config.DefaultLimits()
	log := slog.New(slog.DiscardHandler)
	reg := dataset.New(store, dataset.SourceOpener(log), limits, log)
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	return analysis.New(reg, executor.New(limits.MaxConcurrent), limits.MaxQueries, log)
}
