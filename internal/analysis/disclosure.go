package analysis

import (
	"fmt"
	"slices"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// suppress applies disclosure control to an aggregated answer: a row behind
// fewer distinct panelists than the dataset's min_cell keeps its group labels,
// but every other value is blanked, here and in structuredContent, and a note
// says how many rows were. Fifty orders of one panelist are one panelist: the
// count is of the respondent key, not of rows. The hidden count an unweighted
// answer carried for this is dropped.
func suppress(t *result.Table, r *result.Result, plan QueryPlan) {
	col := slices.IndexFunc(t.Columns, func(c result.Column) bool { return c.Name == plan.Added.Cell })
	if plan.MinCell <= 0 || col < 0 {
		return
	}
	keep := make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		keep[i] = slices.Contains(plan.Groups, c.Name) || c.Name == plan.Added.Total
	}
	mark := fmt.Sprintf("suppressed (n < %d)", plan.MinCell)
	for i, row := range t.Rows {
		if n, ok := count(row[col]); ok && n >= int64(plan.MinCell) {
			continue
		}
		for j := range row {
			if !keep[j] {
				row[j] = nil
			}
		}
		r.Suppressed = append(r.Suppressed, i)
		if r.Significance != nil && i < len(r.Significance.Letters) {
			r.Significance.Letters[i] = nil
		}
	}
	if plan.Added.Cell == cellColumn {
		t.Columns = slices.Delete(t.Columns, col, col+1)
		for i, row := range t.Rows {
			t.Rows[i] = slices.Delete(row, col, col+1)
		}
	}
	if k := len(r.Suppressed); k > 0 {
		r.SuppressedMark = mark
		rows := "rows are"
		if k == 1 {
			rows = "row is"
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%d %s %s: fewer than %d panelists are behind them (the dataset's minimum cell size), so only their labels are shown.", k, rows, mark, plan.MinCell))
	}
}

// cellColumn is the hidden column the rewrite adds to an unweighted
// aggregated answer to count its panelists per row.
const cellColumn = "mcpa_cell"

func count(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), true
	}
	return 0, false
}

// totalsLast moves the Total rows, which the SQL returns first so the row cap
// can never drop them, after the groups.
func totalsLast(t *result.Table, name string) {
	col := slices.IndexFunc(t.Columns, func(c result.Column) bool { return c.Name == name })
	if col < 0 {
		return
	}
	rows := make([][]any, 0, len(t.Rows))
	var totals [][]any
	for _, row := range t.Rows {
		if b, _ := row[col].(bool); b {
			totals = append(totals, row)
		} else {
			rows = append(rows, row)
		}
	}
	t.Rows = append(rows, totals...)
}
