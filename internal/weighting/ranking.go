package weighting

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// weightRanking makes ORDER BY and HAVING act on weighted figures: "the top 10
// cities by order value" are the ten with the largest projected value, not the
// largest sample sums, and HAVING COUNT(*) > 5000000 keeps groups of more than
// five million people. An ordinal or output name that points at an aggregate
// entry is pointed at its weighted twin; any other expression over aggregates
// gets its aggregates replaced by their weighted forms. What has no weighted
// form (MIN, MAX) stays as written. In HAVING, the answer's base column name
// (n) means the unweighted base, so the analyst can still filter on sample
// size. The notes say what was done.
func (r *rewriter) weightRanking(p *plan) {
	sel := p.sel
	var ranked []string
	for _, s := range sel.SortClause {
		sb := s.GetSortBy()
		if sb == nil {
			continue
		}
		if i, ok := ordinal(sb.Node, p.analyst); ok {
			if twin, has := p.twinOf[i]; has {
				sb.Node = intConst(int64(position(sel, twin)))
				ranked = append(ranked, twin)
			}
			continue
		}
		if cr := sb.Node.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
			if i := analystNamed(sel, p.analyst, fields(cr)[0]); i >= 0 {
				if twin, has := p.twinOf[i]; has {
					sb.Node = colRef(twin)
					ranked = append(ranked, twin)
				}
			}
			continue
		}
		if !hasAggregate([]*pg.Node{sb.Node}) {
			continue
		}
		// The expression of an entry with a twin: order by the twin's column.
		if i := analystWithExpr(sel, p.analyst, sb.Node); i >= 0 {
			if twin, has := p.twinOf[i]; has {
				sb.Node = colRef(twin)
				ranked = append(ranked, twin)
				continue
			}
		}
		if twin, reasons := r.twinExpr(p, sb.Node); twin != nil && len(reasons) == 0 {
			what := "weighted expression"
			if fc := sb.Node.GetFuncCall(); fc != nil && isAggregate(fc) {
				what = "weighted " + describeAggregate(fc)
			}
			sb.Node = twin
			ranked = append(ranked, what)
		}
	}
	having := false
	if sel.HavingClause != nil {
		counts := r.countThresholds(p, sel.HavingClause)
		h := sel.HavingClause
		if twin, reasons := r.twinExpr(p, h); twin != nil && len(reasons) == 0 {
			h, having = twin, hasAggregate([]*pg.Node{sel.HavingClause})
		}
		// After the twins: the base stays the unweighted count it names.
		sel.HavingClause = r.baseInHaving(p, h)
		if having && len(counts) > 0 {
			r.note(fmt.Sprintf("HAVING %s compared projected people (weighted counts), not panelists; to filter on the unweighted base instead, write HAVING %s >= %d (panelists in the group)",
				strings.Join(counts, ", "), p.baseCol, r.minBase))
		}
	}
	limit := sel.LimitCount != nil && sel.LimitCount.GetAConst() != nil && !sel.LimitCount.GetAConst().Isnull
	switch {
	case len(ranked) > 0 && having:
		r.note(fmt.Sprintf("ORDER BY ranks by the weighted figures (%s) and HAVING filters on them, not on the unweighted sample", strings.Join(dedupe(ranked), ", ")))
	case len(ranked) > 0 && limit:
		r.note(fmt.Sprintf("ORDER BY and LIMIT rank by the weighted figures (%s), not by the unweighted sample", strings.Join(dedupe(ranked), ", ")))
	case len(ranked) > 0:
		r.note(fmt.Sprintf("ORDER BY ranks by the weighted figures (%s), not by the unweighted sample", strings.Join(dedupe(ranked), ", ")))
	case having:
		r.note("HAVING filters on the weighted figures, not on the unweighted sample")
	}
	if slicesContains(r.addedNames(p), "weighted_pct") && (sel.HavingClause != nil || limit) {
		r.note("weighted_pct is a share of everyone the WHERE keeps, before HAVING or LIMIT dropped any group")
	}
}

// ordinal returns the 0-based index of an ORDER BY ordinal within the analyst's
// first n entries.
func ordinal(n *pg.Node, entries int) (int, bool) {
	c := n.GetAConst()
	if c == nil || c.GetIval() == nil {
		return 0, false
	}
	i := int(c.GetIval().Ival)
	return i - 1, i >= 1 && i <= entries
}

// position is the 1-based place of the output column name in sel's select list.
func position(sel *pg.SelectStmt, name string) int {
	for i, t := range sel.TargetList {
		if rt := t.GetResTarget(); rt != nil && rt.Name == name {
			return i + 1
		}
	}
	return 0
}

// analystNamed returns the index of the first of the analyst's entries whose
// output name is name, or -1.
func analystNamed(sel *pg.SelectStmt, entries int, name string) int {
	for i, t := range sel.TargetList[:entries] {
		if rt := t.GetResTarget(); rt != nil && targetName(rt) == name {
			return i
		}
	}
	return -1
}

// analystWithExpr returns the index of the first of the analyst's entries whose
// expression is e, or -1.
func analystWithExpr(sel *pg.SelectStmt, entries int, e *pg.Node) int {
	c := canon(e)
	for i, t := range sel.TargetList[:entries] {
		if rt := t.GetResTarget(); rt != nil && rt.Val != nil && canon(rt.Val) == c {
			return i
		}
	}
	return -1
}

// baseInHaving returns HAVING with every bare reference to the answer's base
// column (n, or n_2 when the analyst has an n) replaced by the unweighted base
// of panelists, so HAVING n >= 30 filters on sample size.
func (r *rewriter) baseInHaving(p *plan, having *pg.Node) *pg.Node {
	h := clone(having)
	walkExpr(h, func(x *pg.Node) bool {
		cr := x.GetColumnRef()
		if cr == nil {
			return true
		}
		if f := fields(cr); len(f) == 1 && (f[0] == p.baseCol || f[0] == "n") && p.sc.resolve(f) == nil {
			x.Node = funcCall("count", colRef(panelistCol)).Node
		}
		return false
	})
	return h
}

// countThresholds returns the comparisons of a count (COUNT(*), COUNT(col),
// COUNT(DISTINCT key)) with a number in HAVING, as the analyst wrote them:
// thresholds that read like a sample size but are compared with people once
// weighted.
func (r *rewriter) countThresholds(p *plan, having *pg.Node) []string {
	var out []string
	walkExpr(having, func(x *pg.Node) bool {
		e := x.GetAExpr()
		if e == nil || e.Kind != pg.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 {
			return true
		}
		switch e.Name[0].GetString_().GetSval() {
		case ">", ">=", "<", "<=", "=":
		default:
			return true
		}
		agg, num := e.Lexpr, e.Rexpr
		if isConst(agg) {
			agg, num = num, agg
		}
		fc := agg.GetFuncCall()
		if fc == nil || !isAggregate(fc) || !isConst(num) {
			return true
		}
		switch r.aggKind(p, fc) {
		case "count_star", "count", "reach":
			out = append(out, fmt.Sprintf("%s %s %s", describeAggregate(fc), e.Name[0].GetString_().GetSval(), constText(num)))
		}
		return false
	})
	return out
}

// describeAggregate writes an aggregate call the way an analyst reads it:
// COUNT(*), COUNT(DISTINCT user_id), SUM(amount).
func describeAggregate(fc *pg.FuncCall) string {
	name := strings.ToUpper(funcName(fc))
	if fc.AggStar {
		return name + "(*)"
	}
	var args []string
	for _, a := range fc.Args {
		if cr := a.GetColumnRef(); cr != nil {
			f := fields(cr)
			args = append(args, f[len(f)-1])
		} else {
			args = append(args, "…")
		}
	}
	distinct := ""
	if fc.AggDistinct {
		distinct = "DISTINCT "
	}
	return name + "(" + distinct + strings.Join(args, ", ") + ")"
}

// constText is the text of a numeric constant, possibly cast.
func constText(n *pg.Node) string {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	c := n.GetAConst()
	switch {
	case c.GetIval() != nil:
		return fmt.Sprint(c.GetIval().Ival)
	case c.GetFval() != nil:
		return c.GetFval().Fval
	}
	return "…"
}

func (r *rewriter) addedNames(p *plan) []string {
	names := make([]string, 0, len(p.added))
	for _, t := range p.added {
		names = append(names, t.GetResTarget().Name)
	}
	return names
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slicesContains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
