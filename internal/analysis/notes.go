package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// lowBaseNote names the groups flagged low base, whole ("Other × Netflix
// (n = 26)"), so the model cannot miss them when it quotes the figures.
func lowBaseNote(t *result.Table, r *result.Result, plan QueryPlan) {
	col := func(name string) int {
		return slices.IndexFunc(t.Columns, func(c result.Column) bool { return c.Name == name })
	}
	flag, n := col(plan.Added.LowBase), col(plan.Added.Base)
	if flag < 0 {
		return
	}
	var groupCols []int
	for _, g := range plan.Groups {
		if i := col(g); i >= 0 {
			groupCols = append(groupCols, i)
		}
	}
	var groups []string
	for _, row := range t.Rows {
		if low, _ := row[flag].(bool); !low {
			continue
		}
		label := "all"
		if len(groupCols) > 0 {
			parts := make([]string, len(groupCols))
			for i, c := range groupCols {
				parts[i] = fmt.Sprint(row[c])
				if row[c] == nil {
					parts[i] = "NULL"
				}
			}
			label = strings.Join(parts, " × ")
		}
		if n >= 0 {
			label += fmt.Sprintf(" (n = %v)", row[n])
		}
		groups = append(groups, label)
	}
	if len(groups) == 0 {
		return
	}
	more := ""
	if len(groups) > 8 {
		more = fmt.Sprintf(" and %d more", len(groups)-8)
		groups = groups[:8]
	}
	r.Notes = append(r.Notes, fmt.Sprintf("⚠ Low base (unweighted n below %d), read with caution: %s%s.", plan.MinBase, strings.Join(groups, ", "), more))
}

// zeroWeightNote turns the column counting panelists whose weight is NULL or
// zero (left out of the weighted figures) into a note: the column is dropped
// when it is zero everywhere (the usual case), with its legend entry, and
// otherwise the note says how many panelists were left out.
func zeroWeightNote(t *result.Table, r *result.Result, name string) {
	col := slices.IndexFunc(t.Columns, func(c result.Column) bool { return c.Name == name })
	if col < 0 {
		return
	}
	var most int64
	for _, row := range t.Rows {
		if n, ok := row[col].(int64); ok && n > most {
			most = n
		}
	}
	if most > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("Up to %d panelists per row have a NULL or zero weight and are left out of the weighted figures (column %s).", most, name))
		return
	}
	t.Columns = slices.Delete(t.Columns, col, col+1)
	for i, row := range t.Rows {
		t.Rows[i] = slices.Delete(row, col, col+1)
	}
	r.Weighting.AddedColumns = slices.DeleteFunc(slices.Clone(r.Weighting.AddedColumns), func(c string) bool { return c == name })
	r.Weighting.Legend = slices.DeleteFunc(slices.Clone(r.Weighting.Legend), func(t result.Term) bool { return t.Column == name })
}
