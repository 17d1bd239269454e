package analysis

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/significance"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

// compare runs the tests compare_by asked for on the sufficient statistics
// the weighted SQL returned in hidden columns (see weighting.Compare), puts
// the significance block on r, and drops those columns. It runs before
// disclosure control, which then blanks the letters of suppressed rows.
func compare(t *result.Table, r *result.Result, plan QueryPlan, req Request) error {
	spec := plan.Compare
	col := func(name string) int {
		if name == "" {
			return -1
		}
		return slices.IndexFunc(t.Columns, func(c result.Column) bool { return c.Name == name })
	}
	g, total := col(spec.Column), col(plan.Added.Total)
	n, sw, sw2 := col(spec.N), col(spec.SumW), col(spec.SumW2)
	if g < 0 || n < 0 || sw < 0 || sw2 < 0 {
		return errors.New("compare: the answer lacks the columns the tests need")
	}
	var rowCols []int
	for _, name := range spec.Rows {
		if i := col(name); i >= 0 {
			rowCols = append(rowCols, i)
		}
	}
	opts := significance.Options{NDesign: plan.NDesign, Alpha: req.Alpha, Bonferroni: req.Correction == "bonferroni", MinBase: int64(plan.MinBase)}
	isTotal := func(row []any) bool {
		b, _ := value(row, total).(bool)
		return b
	}
	var block significance.Significance
	switch spec.Kind {
	case weighting.CompareCrosstab, weighting.CompareReach:
		var rows, groups []any
		rowOf, groupOf := map[string]int{}, map[string]int{}
		key := func(row []any) string {
			parts := make([]string, len(rowCols))
			for i, c := range rowCols {
				parts[i] = fmt.Sprintf("%T:%v", row[c], row[c])
			}
			return strings.Join(parts, "\x00")
		}
		for _, row := range t.Rows {
			if isTotal(row) {
				continue
			}
			if _, ok := rowOf[key(row)]; !ok {
				rowOf[key(row)] = len(rows)
				rows = append(rows, rowLabel(row, rowCols))
			}
			gk := fmt.Sprintf("%T:%v", row[g], row[g])
			if _, ok := groupOf[gk]; !ok {
				groupOf[gk] = len(groups)
				groups = append(groups, row[g])
			}
		}
		x := significance.Crosstab{Rows: rows, Groups: groups, Cells: make([][]significance.Cell, len(rows)), Options: opts}
		for i := range x.Cells {
			x.Cells[i] = make([]significance.Cell, len(groups))
		}
		if spec.Kind == weighting.CompareReach {
			x.Bases = make([]significance.Cell, len(groups))
		}
		refs := make([]significance.CellRef, len(t.Rows))
		for k, row := range t.Rows {
			refs[k] = significance.CellRef{Row: -1, Group: -1}
			if isTotal(row) {
				continue
			}
			i, j := rowOf[key(row)], groupOf[fmt.Sprintf("%T:%v", row[g], row[g])]
			refs[k] = significance.CellRef{Row: i, Group: j}
			x.Cells[i][j] = significance.Cell{N: integer(row[n]), SumW: float(row[sw]), SumW2: float(row[sw2])}
			if x.Bases != nil {
				x.Bases[j] = significance.Cell{N: integer(value(row, col(spec.BaseN))), SumW: float(value(row, col(spec.BaseW))), SumW2: float(value(row, col(spec.BaseW2)))}
			}
		}
		res, err := x.Compare()
		if err != nil {
			return &InputError{Message: fmt.Sprintf("compare_by %q: %v", spec.Column, err)}
		}
		block = res.Significance(spec.Column, spec.Measure, refs)
		if plan.MinCell > 0 {
			// A pair's z says how a cell compares: not for a cell that
			// disclosure control hides.
			small := func(i, j int) bool { return x.Cells[i][j].N < int64(plan.MinCell) }
			block.Pairs = slices.DeleteFunc(block.Pairs, func(p significance.Pair) bool {
				return p.RowIndex >= 0 && (small(p.RowIndex, p.GIndex) || small(p.RowIndex, p.HIndex))
			})
		}
	case weighting.CompareMeans:
		if len(rowCols) > 0 {
			return &InputError{Message: fmt.Sprintf("compare_by %q compares a mean across one grouping column: group by %s alone, or run one query per value of %s", spec.Column, spec.Column, strings.Join(spec.Rows, ", "))}
		}
		mean, se := col(spec.Measure), col("se_"+spec.Measure)
		if mean < 0 || se < 0 {
			return errors.New("compare: the answer lacks the mean or its standard error")
		}
		var m significance.Means
		m.Options = opts
		rowsOf := make([]int, len(t.Rows))
		for k, row := range t.Rows {
			rowsOf[k] = -1
			if isTotal(row) {
				continue
			}
			rowsOf[k] = len(m.Groups)
			m.Groups = append(m.Groups, significance.MeanGroup{Value: row[g], N: integer(row[n]), SumW: float(row[sw]), SumW2: float(row[sw2]),
				Mean: float(row[mean]), SE: float(row[se])})
		}
		res, err := m.Compare()
		if err != nil {
			return &InputError{Message: fmt.Sprintf("compare_by %q: %v", spec.Column, err)}
		}
		block = res.Significance(spec.Column, spec.Measure, rowsOf)
	default:
		return fmt.Errorf("compare: unknown kind %q", spec.Kind)
	}
	r.Significance = &block
	hidden := []string{spec.N, spec.SumW, spec.SumW2, spec.BaseN, spec.BaseW, spec.BaseW2}
	for _, name := range hidden {
		if name == "" {
			continue
		}
		if i := col(name); i >= 0 {
			t.Columns = slices.Delete(t.Columns, i, i+1)
			for k, row := range t.Rows {
				t.Rows[k] = slices.Delete(row, i, i+1)
			}
		}
	}
	r.Weighting.AddedColumns = slices.DeleteFunc(slices.Clone(r.Weighting.AddedColumns), func(c string) bool { return slices.Contains(hidden, c) })
	r.Notes = append(r.Notes, compareNote(block))
	return nil
}

// compareNote is the one note under a lettered table: what was tested, how,
// and which groups were not.
func compareNote(b significance.Significance) string {
	var letters []string
	var untested []string
	for _, g := range b.Groups {
		label := fmt.Sprintf("%s = %s", g.Letter, valueText(g.Value))
		if !g.Tested {
			label += fmt.Sprintf(" (n = %d, not tested)", g.N)
			untested = append(untested, valueText(g.Value))
		}
		letters = append(letters, label)
	}
	test := "column proportions"
	if b.Test == "means" {
		test = "means"
	}
	correction := "no correction"
	if b.Correction == "bonferroni" {
		correction = "Bonferroni-corrected within each row"
	}
	s := fmt.Sprintf("Significance (%s by %s): %s. A letter on %s marks a figure significantly higher than that group's (two-sided z test on the linearised standard errors, α = %g, %s); groups below n = %d are not tested.",
		test, b.CompareBy, strings.Join(letters, ", "), b.Measure, b.Alpha, correction, b.MinBase)
	switch o := b.Overall; {
	case o != nil && b.Test == "means":
		s += fmt.Sprintf(" Overall Wald F = %.3g on %s and %s df, p %s.", o.F, dfText(o.DF1), dfText(o.DF2), pText(o.P))
	case o != nil:
		s += fmt.Sprintf(" Overall Rao–Scott F = %.3g on %s and %s df, p %s.", o.F, dfText(o.DF1), dfText(o.DF2), pText(o.P))
	case b.OverallNote != "":
		s += " No overall test: " + b.OverallNote + "."
	}
	return s
}

func pText(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("= %.3f", p)
}

// dfText writes degrees of freedom: Rao–Scott's are not whole numbers.
func dfText(df float64) string {
	if df >= 100 {
		return fmt.Sprintf("%.0f", df)
	}
	return fmt.Sprintf("%.2f", df)
}

func valueText(v any) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(v)
}

// rowLabel is a crosstab row's label: its grouping values, joined.
func rowLabel(row []any, cols []int) any {
	if len(cols) == 1 {
		return row[cols[0]]
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = valueText(row[c])
	}
	return strings.Join(parts, " × ")
}

func value(row []any, i int) any {
	if i < 0 || i >= len(row) {
		return nil
	}
	return row[i]
}

func integer(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

func float(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}
