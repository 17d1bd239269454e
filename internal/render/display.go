package render

import (
	"slices"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// display is what the Markdown table of a result shows beyond its values:
// columns it hides, text written instead of a blank cell, and text written
// after a cell's value. The zero value shows the values as they are.
type display struct {
	groups map[int]bool // the grouping columns, when known
	hide   map[int]bool
	blank  func(row, col int) string // for a nil cell; "" leaves NULL
	suffix func(row, col int) string
}

// displayOf is the display of a result: the is_total column is not shown
// (the Total rows read "Total" in the column they roll up); the blanked
// figures of a row disclosure control suppressed read as its mark
// ("suppressed (n < 3)"); significance letters follow the compared figure of
// each row, and each compared group's letter follows its label.
func displayOf(r result.Result) display {
	d := display{hide: map[int]bool{}}
	col := func(name string) int {
		return slices.IndexFunc(r.Columns, func(c result.Column) bool { return c.Name == name })
	}
	if i := col("is_total"); i >= 0 && r.Weighting.Applied {
		d.hide[i] = true
	}
	if len(r.GroupColumns) > 0 {
		d.groups = map[int]bool{}
		for _, name := range r.GroupColumns {
			if i := col(name); i >= 0 {
				d.groups[i] = true
			}
		}
	}
	if len(r.Suppressed) > 0 && r.SuppressedMark != "" {
		suppressed := map[int]bool{}
		for _, i := range r.Suppressed {
			suppressed[i] = true
		}
		labels := map[int]bool{}
		for _, name := range r.GroupColumns {
			labels[col(name)] = true
		}
		d.blank = func(row, c int) string {
			if suppressed[row] && !labels[c] && !d.hide[c] {
				return r.SuppressedMark
			}
			return ""
		}
	}
	if s := r.Significance; s != nil {
		measure, group := col(s.Measure), col(s.CompareBy)
		letterOf := map[string]string{}
		for _, g := range s.Groups {
			letterOf[groupKey(g.Value)] = g.Letter
		}
		d.suffix = func(row, c int) string {
			switch {
			case row >= len(r.Rows):
			case c == measure && row < len(s.Letters) && s.Letters[row] != nil:
				return *s.Letters[row]
			case c == group && r.Rows[row][c] != nil || c == group && !isTotal(r.Columns, r.Rows[row]):
				if l := letterOf[groupKey(r.Rows[row][c])]; l != "" {
					return "(" + l + ")"
				}
			}
			return ""
		}
	}
	return d
}

// groupKey identifies a group value across the JSON-ish types a row holds.
func groupKey(v any) string {
	if v == nil {
		return "\x00null"
	}
	return Number(v)
}
