package significance

import (
	"fmt"
	"math"
)

// Cell holds the sufficient statistics of one crosstab cell: the
// respondents of the base whose row category and group are the cell's. Each
// respondent is in exactly one cell, which is why these three sums carry
// everything the tests need, the design covariance of all the cell
// proportions included.
type Cell struct {
	N     int64   // respondents with a positive weight
	SumW  float64 // Σw
	SumW2 float64 // Σw²
}

// check reports sums that no set of positively weighted respondents has.
func (c Cell) check() error {
	if c.N < 0 || !(c.SumW >= 0) || !(c.SumW2 >= 0) || math.IsInf(c.SumW, 0) || math.IsInf(c.SumW2, 0) || (c.N == 0) != (c.SumW == 0) {
		return fmt.Errorf("n %d, Σw %v, Σw² %v: need n ≥ 0, and Σw > 0 exactly when n > 0", c.N, c.SumW, c.SumW2)
	}
	return nil
}

// Crosstab is a two-way table to test: column percentages of each row
// category within each group (the compare_by column), as R's
//
//	svyby(~I(R == k), ~G, des, svymean)
//
// computes them for des = svydesign(ids = ~1, weights = ~w), plus the
// Total column and svychisq(~R + G, des).
//
// The base is the union of the cells: a respondent in no cell (a NULL row
// category the caller leaves out, someone the WHERE drops) is outside it, as
// if the design were subset() to the cells. Weights may be in any unit
// (scaled to people or not); counts and their standard errors come out in
// the same unit.
type Crosstab struct {
	// Rows are the row categories and Groups the compared groups, in any
	// order: groups are lettered in the sort order of their values, but
	// results stay parallel to the input.
	Rows   []any
	Groups []any
	// Cells[i][j] is row category i within group j; a combination nobody
	// answered is a zero Cell.
	Cells [][]Cell
	// Bases, when set, are the groups' bases (one per group): the
	// denominators of the column percentages. Set them when the rows are
	// not exclusive, when a respondent can be in several rows (reach of each
	// app by town class: one 0/1 indicator per row, R's svyby(~I(app_k),
	// ~G, des, svymean) row by row). The base is then the union of the
	// Bases, and there is no test of independence. When nil, every
	// respondent is in exactly one row and the bases are the column sums.
	Bases []Cell
	Options
}

// CellResult is one cell's figures and letters.
type CellResult struct {
	N int64 // respondents in the cell
	// WeightedCount is Σw, with R's svytotal standard error.
	WeightedCount   float64
	SEWeightedCount float64
	// Pct is the column percentage 100·Σw(cell)/Σw(group), with its
	// standard error in percentage points.
	Pct   float64
	SEPct float64
	Marks
}

// TotalCell is one row category over the whole base: the Total column.
type TotalCell struct {
	N               int64 // respondents of the row category
	WeightedCount   float64
	SEWeightedCount float64
	Pct             float64 // of the whole base
	SEPct           float64
}

// CrosstabResult is the answer to [Crosstab.Compare]. Groups, Cells and
// Total are parallel to the input; Pairs are row by row in input order, each
// row's pairs in letter order.
type CrosstabResult struct {
	// Options are those used, defaults filled in.
	Options Options
	Groups  []Group
	Cells   [][]CellResult
	Total   []TotalCell
	// Base is the whole base (the Total column's figures): N, weighted
	// base with its standard error, effective base. Its Letter is empty.
	Base  Group
	Pairs []Pair
	// PairsTested is m, the number of pairs tested in each row.
	PairsTested int
	// Overall is the Rao–Scott test of independence, nil when it cannot be
	// computed; OverallNote then says why.
	Overall     *Overall
	OverallNote string

	// order lists the group indexes in letter order.
	order []int
}

// Compare computes the crosstab's figures, pairwise column-proportion tests,
// letters, Total column and overall test.
func (x *Crosstab) Compare() (*CrosstabResult, error) {
	if len(x.Rows) == 0 || len(x.Groups) == 0 {
		return nil, fmt.Errorf("crosstab: %d row categories and %d groups: need at least one of each", len(x.Rows), len(x.Groups))
	}
	if len(x.Cells) != len(x.Rows) {
		return nil, fmt.Errorf("crosstab: %d rows of cells for %d row categories", len(x.Cells), len(x.Rows))
	}
	groups, order, err := newGroups(x.Groups)
	if err != nil {
		return nil, fmt.Errorf("crosstab: %w", err)
	}
	// Group (column) sums and the base.
	gw := make([]float64, len(groups))
	gw2 := make([]float64, len(groups))
	var base Group
	var baseW2 float64
	for i, row := range x.Cells {
		if len(row) != len(groups) {
			return nil, fmt.Errorf("crosstab: row %d has %d cells for %d groups", i+1, len(row), len(groups))
		}
		for j, c := range row {
			if err := c.check(); err != nil {
				return nil, fmt.Errorf("crosstab: cell (%v, %v): %w", x.Rows[i], x.Groups[j], err)
			}
			groups[j].N += c.N
			gw[j] += c.SumW
			gw2[j] += c.SumW2
		}
	}
	if x.Bases != nil {
		if len(x.Bases) != len(groups) {
			return nil, fmt.Errorf("crosstab: %d bases for %d groups", len(x.Bases), len(groups))
		}
		for j, b := range x.Bases {
			if err := b.check(); err != nil {
				return nil, fmt.Errorf("crosstab: base of group %v: %w", x.Groups[j], err)
			}
			// A row can hold at most the whole base (rounding aside).
			for i, row := range x.Cells {
				if c := row[j]; c.N > b.N || c.SumW > b.SumW*(1+1e-12) || c.SumW2 > b.SumW2*(1+1e-12) {
					return nil, fmt.Errorf("crosstab: cell (%v, %v) is larger than its group's base", x.Rows[i], x.Groups[j])
				}
			}
			groups[j].N, gw[j], gw2[j] = b.N, b.SumW, b.SumW2
		}
	}
	for j := range groups {
		if groups[j].N == 0 {
			return nil, fmt.Errorf("crosstab: group %v has no respondents", groups[j].Value)
		}
		base.N += groups[j].N
		base.WeightedBase += gw[j]
		baseW2 += gw2[j]
	}
	o, err := x.Options.resolve(base.N)
	if err != nil {
		return nil, fmt.Errorf("crosstab: %w", err)
	}
	for j := range groups {
		g := &groups[j]
		g.Tested = g.N >= o.MinBase
		g.WeightedBase = gw[j]
		g.SEWeightedBase = seTotal(gw[j], gw2[j], o.NDesign)
		g.NEff = kish(gw[j], gw2[j])
	}
	base.SEWeightedBase = seTotal(base.WeightedBase, baseW2, o.NDesign)
	base.NEff = kish(base.WeightedBase, baseW2)

	r := &CrosstabResult{Options: o, Groups: groups, Base: base, order: order,
		Cells: make([][]CellResult, len(x.Rows)), Total: make([]TotalCell, len(x.Rows))}
	for i, row := range x.Cells {
		r.Cells[i] = make([]CellResult, len(groups))
		c := comparison{row: x.Rows[i], rowIndex: i, estimate: make([]float64, len(groups)), se: make([]float64, len(groups))}
		var rowN int64
		var rowW, rowW2 float64
		for j, cell := range row {
			p, se := domainShare(cell.SumW, cell.SumW2, gw[j], gw2[j], o.NDesign)
			r.Cells[i][j] = CellResult{N: cell.N, WeightedCount: cell.SumW, SEWeightedCount: seTotal(cell.SumW, cell.SumW2, o.NDesign),
				Pct: 100 * p, SEPct: 100 * se}
			c.estimate[j], c.se[j] = 100*p, 100*se
			rowN += cell.N
			rowW += cell.SumW
			rowW2 += cell.SumW2
		}
		p, se := domainShare(rowW, rowW2, base.WeightedBase, baseW2, o.NDesign)
		r.Total[i] = TotalCell{N: rowN, WeightedCount: rowW, SEWeightedCount: seTotal(rowW, rowW2, o.NDesign), Pct: 100 * p, SEPct: 100 * se}
		pairs, marks := compareRow(groups, order, c, o)
		for j := range marks {
			r.Cells[i][j].Marks = marks[j]
		}
		r.Pairs = append(r.Pairs, pairs...)
	}
	for _, g := range groups {
		if g.Tested {
			r.PairsTested++
		}
	}
	r.PairsTested = r.PairsTested * (r.PairsTested - 1) / 2
	if x.Bases != nil {
		r.OverallNote = "no test of independence: a respondent can be in several rows"
		return r, nil
	}
	r.Overall, r.OverallNote = raoScott(x.Cells, o.NDesign)
	return r, nil
}

// domainShare returns the share p = t/W of a sub-domain with Σw = t and
// Σw² = t2 within a domain with Σw = W and Σw² = W2, and its standard error
// as R's svymean of the 0/1 indicator over the domain gives it:
//
//	√(n/(n−1)·((1−p)²·t2 + p²·(W2 − t2))) / W
//
// with n the whole design: each respondent's influence value is
// w·(y − p)/W inside the domain and 0 outside, and these sum to zero.
func domainShare(t, t2, w, w2 float64, n int64) (p, se float64) {
	if w <= 0 {
		return math.NaN(), math.NaN()
	}
	p = t / w
	nf := float64(n)
	q := 1 - p
	v := nf / (nf - 1) * (q*q*t2 + p*p*math.Max(0, w2-t2))
	return p, math.Sqrt(v) / w
}
