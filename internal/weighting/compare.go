package weighting

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// Kinds of comparison a compare_by asks for.
const (
	CompareCrosstab = "crosstab" // column percentages of panelists (COUNT(*) by two or more columns)
	CompareReach    = "reach"    // reach by a panelist attribute: one 0/1 indicator per row
	CompareMeans    = "means"    // a weighted mean (or proportion: the mean of a 0/1 indicator) per group
)

// Compare is what a compare_by asks the caller to test, and where the
// answer's rows hold the sufficient statistics the tests need
// (significance.Crosstab, significance.Means). The columns named N, SumW,
// SumW2 and Base* are hidden: the caller drops them after use.
type Compare struct {
	Kind    string
	Column  string   // the compare_by output column
	Measure string   // the output column whose values are compared
	Rows    []string // the other grouping columns: a crosstab's rows
	// Per row: panelists with a positive weight (and a non-NULL measure for
	// means), Σw and Σw² over them.
	N, SumW, SumW2 string
	// For reach, per row: the same over the row's whole group (its base).
	BaseN, BaseW, BaseW2 string
}

// Names of the hidden columns of a comparison.
const (
	statN      = "mcpa_sn"
	statW      = "mcpa_sw"
	statW2     = "mcpa_sw2"
	statBaseN  = "mcpa_bn"
	statBaseW  = "mcpa_bw"
	statBaseW2 = "mcpa_bw2"
	universeN  = "mcpa_un" // panelists with a positive weight in a universe
)

// comparison is the compare_by being planned.
type comparison struct {
	col  int      // index in plan.groupBy
	expr *pg.Node // the group expression as level 2 computes it
	spec *Compare
}

// startCompare finds the compare_by column among the grouping columns; the
// problem is words for the analyst when there is none.
func (r *rewriter) startCompare(p *plan) (*comparison, string) {
	name := r.opts.CompareBy
	for i, g := range p.groupNames {
		if g == name {
			return &comparison{col: i, expr: resolveGroupExpr(p.sel.GroupClause[i], p.sel.TargetList),
				spec: &Compare{Column: name}}, ""
		}
	}
	var cols []string
	for _, g := range p.groupNames {
		if g != "" {
			cols = append(cols, g)
		}
	}
	if len(cols) == 0 {
		return nil, fmt.Sprintf("compare_by %q needs a grouped query: GROUP BY the column whose groups you want compared", name)
	}
	return nil, fmt.Sprintf("compare_by %q is not a grouping column of the query; its grouping columns are %s", name, strings.Join(cols, ", "))
}

// finishCompare decides what is compared, once the weighted columns exist,
// and adds the hidden sufficient statistics; it returns the problem in words
// when the shape cannot be tested.
func (r *rewriter) finishCompare(p *plan, c *comparison, kinds map[int]string) string {
	spec := c.spec
	for i, g := range p.groupNames {
		if i != c.col && g != "" {
			spec.Rows = append(spec.Rows, g)
		}
	}
	w := r.w()
	switch {
	case hasKind(kinds, "reach"):
		if p.uni == nil || !r.sameAsUniverseGroup(p, c.col) {
			return fmt.Sprintf("compare_by %q cannot compare reach: reach is tested between groups of panelists, so compare_by must be a panelist attribute (a column of %s) that the query groups by", spec.Column, r.weightsTable)
		}
		spec.Kind, spec.Measure = CompareReach, "reach_pct"
		spec.N = p.add(statN, funcCall("count", w))
		spec.SumW = p.add(statW, funcCall("sum", w))
		spec.SumW2 = p.add(statW2, funcCall("sum", r.w2()))
		spec.BaseN = p.add(statBaseN, colRef(uniAlias, universeN))
		spec.BaseW = p.add(statBaseW, colRef(uniAlias, universeCol))
		spec.BaseW2 = p.add(statBaseW2, colRef(uniAlias, universe2Col))
	case hasKind(kinds, "count_star") && len(spec.Rows) > 0:
		if !p.panelists {
			return fmt.Sprintf("compare_by %q cannot compare event counts: the tests compare panelists; count panelists (COUNT(DISTINCT %s)) or group a users-level question", spec.Column, r.key)
		}
		spec.Kind, spec.Measure = CompareCrosstab, "weighted_pct"
		spec.N = p.add(statN, funcCall("count", w))
		spec.SumW = p.add(statW, funcCall("sum", w))
		spec.SumW2 = p.add(statW2, funcCall("sum", r.w2()))
	default:
		for i := 0; i < p.analyst; i++ {
			avg := avg0(p.sel.TargetList[i].GetResTarget().Val)
			if avg == nil || p.twinOf[i] == "" {
				continue
			}
			if !p.panelists {
				return fmt.Sprintf("compare_by %q cannot compare per-event means: the tests compare panelists; average a per-panelist figure (a CTE grouped by %s) instead", spec.Column, r.key)
			}
			spec.Kind, spec.Measure = CompareMeans, p.twinOf[i]
			has := func(v *pg.Node) *pg.Node { return caseWhen(notNull(clone(avg.Args[0])), v, nil) }
			spec.N = p.add(statN, funcCall("count", has(w)))
			spec.SumW = p.add(statW, funcCall("sum", has(w)))
			spec.SumW2 = p.add(statW2, funcCall("sum", has(r.w2())))
			break
		}
		if spec.Kind == "" {
			return fmt.Sprintf("compare_by %q has nothing to compare: it needs a crosstab (COUNT(*) grouped by %s and another column), reach (COUNT(DISTINCT %s)) by a panelist attribute, or an AVG per group (a mean, or the share of a 0/1 condition)", spec.Column, spec.Column, r.key)
		}
	}
	return ""
}

// sameAsUniverseGroup reports whether the plan's col-th group is one of the
// panelist attributes the reach universes are grouped by.
func (r *rewriter) sameAsUniverseGroup(p *plan, col int) bool {
	for _, g := range p.uni.groups {
		if canon(g) == canon(p.groupBy[col]) {
			return true
		}
	}
	return false
}

func hasKind(kinds map[int]string, kind string) bool {
	for _, k := range kinds {
		if k == kind {
			return true
		}
	}
	return false
}
