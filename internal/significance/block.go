package significance

// Significance is the "significance" block of a tool result's
// structuredContent, the shape the chart view (web/result-view) reads:
// groups with their letters, one entry of Letters per result row, every
// pair's test and the overall test. Build it with
// [CrosstabResult.Significance] or [MeansResult.Significance].
type Significance struct {
	CompareBy string  `json:"compare_by" jsonschema:"the grouping column whose groups are compared"`
	Alpha     float64 `json:"alpha" jsonschema:"two-sided significance level of the pairwise tests"`
	// Correction is "none" or "bonferroni"; Letters follow it.
	Correction string `json:"correction" jsonschema:"none or bonferroni (within a row)"`
	// Measure is the result column whose values are compared.
	Measure string `json:"measure" jsonschema:"the result column that is compared"`
	// Test is "column proportions" (a crosstab) or "means".
	Test    string `json:"test" jsonschema:"what is compared: column proportions (crosstab) or means"`
	MinBase int64  `json:"min_base" jsonschema:"groups with a smaller unweighted base are not tested"`
	// PairsTested is m of the Bonferroni correction (per row of a crosstab).
	PairsTested int `json:"pairs_tested" jsonschema:"number of pairs tested (in each row of a crosstab): the m of the Bonferroni correction"`
	// Groups are in letter order.
	Groups []Group `json:"groups" jsonschema:"the compared groups in letter order"`
	// Letters has one entry per result row: the letters of the groups the
	// row's figure is significantly higher than ("" when none), null for a
	// row that is not tested (a group below the minimum base, a Total row).
	Letters []*string `json:"letters" jsonschema:"per result row: letters of the groups this figure is significantly higher than; empty when none; null when not tested or a Total row"`
	Pairs   []Pair    `json:"pairs" jsonschema:"every pair of groups (per row of a crosstab) with z and p"`
	// Overall is null when the overall test cannot be computed; OverallNote
	// then says why.
	Overall     *Overall `json:"overall" jsonschema:"the overall test: Rao-Scott F for a crosstab, Wald F for means"`
	OverallNote string   `json:"overall_note,omitempty" jsonschema:"why there is no overall test"`
}

// CellRef points a result row at a crosstab cell: Row indexes
// [Crosstab.Rows] and Group indexes [Crosstab.Groups]. A row with no cell
// (a Total row) has a negative Row or Group.
type CellRef struct {
	Row, Group int
}

// Significance builds the structuredContent block for a result whose rows
// show the crosstab's cells as rows says (one CellRef per result row).
// compareBy names the grouping column and measure the column compared (the
// column percentage).
func (r *CrosstabResult) Significance(compareBy, measure string, rows []CellRef) Significance {
	s := newBlock(r.Options, r.Groups, r.order, compareBy, measure, "column proportions", r.PairsTested, r.Pairs, r.Overall, r.OverallNote)
	s.Letters = make([]*string, len(rows))
	for i, ref := range rows {
		if ref.Row < 0 || ref.Group < 0 || ref.Row >= len(r.Cells) || ref.Group >= len(r.Groups) {
			continue
		}
		s.Letters[i] = r.Cells[ref.Row][ref.Group].letters(r.Options.Bonferroni)
	}
	return s
}

// Significance builds the structuredContent block for a result whose row i
// shows group rows[i] (an index of [Means.Groups]; negative for a Total
// row). compareBy names the grouping column and measure the mean's column.
func (r *MeansResult) Significance(compareBy, measure string, rows []int) Significance {
	s := newBlock(r.Options, r.Groups, r.order, compareBy, measure, "means", r.PairsTested, r.Pairs, r.Overall, r.OverallNote)
	s.Letters = make([]*string, len(rows))
	for i, g := range rows {
		if g < 0 || g >= len(r.Estimates) {
			continue
		}
		s.Letters[i] = r.Estimates[g].letters(r.Options.Bonferroni)
	}
	return s
}

// letters returns the marks' letters under the chosen correction, nil when
// the estimate is not tested.
func (m Marks) letters(bonferroni bool) *string {
	if !m.Tested {
		return nil
	}
	l := m.Letters
	if bonferroni {
		l = m.LettersBonferroni
	}
	return &l
}

func newBlock(o Options, groups []Group, order []int, compareBy, measure, test string, m int, pairs []Pair, overall *Overall, note string) Significance {
	s := Significance{
		CompareBy: compareBy, Alpha: o.Alpha, Correction: o.correction(), Measure: measure, Test: test,
		MinBase: o.MinBase, PairsTested: m, Groups: make([]Group, len(order)), Pairs: pairs,
		Overall: overall, OverallNote: note,
	}
	if s.Pairs == nil {
		s.Pairs = []Pair{}
	}
	for k, i := range order {
		s.Groups[k] = groups[i]
	}
	return s
}
