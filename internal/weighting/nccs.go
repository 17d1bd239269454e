package weighting

import (
	pg "github.com/pganalyze/pg_query_go/v6"
)

// mergeNCCS replaces the NCCS column where sel selects, groups, filters groups or
// orders by it with a CASE through the merge map, so merged classes are re-aggregated
// (one A row, not an A row and an A1 row). WHERE and the arguments of aggregates keep
// the raw labels. It reports whether anything was replaced.
func (r *rewriter) mergeNCCS(sel *pg.SelectStmt, sc *scope) bool {
	if len(r.mergeGroups()) == 0 {
		return false
	}
	merged := false
	replace := func(n *pg.Node) {
		walkExprOutsideAggregates(n, func(x *pg.Node) bool {
			cr := x.GetColumnRef()
			if cr == nil {
				return true
			}
			if r.isNCCSRef(cr, sc) {
				x.Node = r.nccsCase(clone(x)).Node
				merged = true
			}
			return false
		})
	}
	outputs := map[string]bool{}
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil || rt.Val == nil {
			continue
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && rt.Name == "" && r.isNCCSRef(cr, sc) {
			f := fields(cr)
			rt.Name = f[len(f)-1]
		}
		outputs[targetName(rt)] = true
		replace(rt.Val)
	}
	for _, g := range sel.GroupClause {
		if g.GetAConst() == nil {
			replace(g)
		}
	}
	if sel.HavingClause != nil {
		replace(sel.HavingClause)
	}
	for _, s := range sel.SortClause {
		sb := s.GetSortBy()
		if sb == nil {
			continue
		}
		if cr := sb.Node.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && outputs[fields(cr)[0]] {
			continue // ORDER BY an output name: that output is already merged
		}
		replace(sb.Node)
	}
	return merged
}

func (r *rewriter) isNCCSRef(cr *pg.ColumnRef, sc *scope) bool {
	f := fields(cr)
	if f[len(f)-1] != r.nccs {
		return false
	}
	if sc.resolve(f) != nil {
		return true
	}
	// A table the schema does not describe: trust the name when it is the only one.
	return len(sc.items) == 1 && sc.items[0].cols == nil
}

// nccsCase builds CASE WHEN col IN ('A', 'A1') THEN 'A' ... ELSE col END.
func (r *rewriter) nccsCase(col *pg.Node) *pg.Node {
	groups := r.mergeGroups()
	whens := make([]*pg.Node, 0, len(groups))
	for _, g := range groups {
		list := make([]*pg.Node, len(g.raw))
		for i, raw := range g.raw {
			list[i] = strConst(raw)
		}
		in := pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_IN, []*pg.Node{str("=")}, clone(col), pg.MakeListNode(list), -1)
		whens = append(whens, pg.MakeCaseWhenNode(in, strConst(g.label), -1))
	}
	c := pg.MakeCaseExprNode(nil, whens, -1)
	c.GetCaseExpr().Defresult = col
	return c
}
