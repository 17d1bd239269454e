package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// TestRunWeighted runs part "weighted" on a tiny panel in real PostgreSQL:
// every question is answered by our rewrite and by the expert SQL, and
// the answers agree figure by figure (RunWeighted fails otherwise). It
// checks what was measured, never how fast.
func TestRunWeighted(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	pgtest.Connect(ctx, t, dsn).Close(ctx)
	cfg := DefaultConfig()
	workers := 0
	cfg.DSN, cfg.Users, cfg.Events, cfg.WeightedReps = dsn, 2_000, 9_000, 2
	cfg.WorkMem, cfg.ParallelWorkers = "8MB", &workers
	cfg.Parts = []string{"weighted"}
	var progress strings.Builder
	cfg.Progress = &progress
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "generated a panel of 2000 users and 9000 events") {
		t.Errorf("progress does not say the panel was generated:\n%s", progress.String())
	}
	w := r.Weighted
	if w == nil || len(w.Rows) != len(weightedQuestions) || len(weightedQuestions) != 10 {
		t.Fatalf("weighted report: %+v", w)
	}
	if w.SessionWorkMem != "8MB" || w.SessionParallelWorkers != "0" {
		t.Errorf("the dataset's sessions ran with work_mem %q and %q parallel workers, want 8MB and 0", w.SessionWorkMem, w.SessionParallelWorkers)
	}
	for _, x := range w.Rows {
		if x.Rows < 2 || x.OursMS <= 0 || x.ExpertMS <= 0 || x.UnweightedMS <= 0 || x.OursToExpert <= 0 || x.OursMaxMS < x.OursMS {
			t.Errorf("%s: %+v", x.Question, x)
		}
	}
	md := r.Markdown()
	for _, want := range []string{"## Weighted answers: 2,000 users, 9,000 events", "| app reach (events) |", "≤ 1.25× expert SQL"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestSameAnswer shows the comparison of our answer with the expert's
// failing on a changed figure, a missing row and a missing column.
func TestSameAnswer(t *testing.T) {
	cols := []result.Column{{Name: "gender"}, {Name: "weighted_count"}, {Name: "n"}, {Name: "is_total"}}
	ours := result.Result{Columns: cols, GroupColumns: []string{"gender"}, Rows: [][]any{
		{"Female", 1500.25, int64(3), false}, {"Male", 1000.5, int64(2), false}, {nil, 2500.75, int64(5), true},
	}}
	// The expert's columns in another order, its numbers of other types.
	expert := func() *result.Table {
		return &result.Table{
			Columns: []result.Column{{Name: "is_total"}, {Name: "gender"}, {Name: "n"}, {Name: "weighted_count"}},
			Rows:    [][]any{{true, nil, 5.0, 2500.75 * (1 + 1e-13)}, {false, "Male", 2.0, 1000.5}, {false, "Female", 3.0, 1500.25}},
		}
	}
	if err := sameAnswer(ours, expert()); err != nil {
		t.Fatalf("equal answers: %v", err)
	}
	changed := expert()
	changed.Rows[1][3] = 1000.6
	missingRow := expert()
	missingRow.Rows = missingRow.Rows[:2]
	missingCol := expert()
	missingCol.Columns = missingCol.Columns[:3]
	for name, e := range map[string]*result.Table{"changed figure": changed, "missing row": missingRow, "missing column": missingCol} {
		if err := sameAnswer(ours, e); err == nil {
			t.Errorf("%s: no difference found", name)
		}
	}
}
