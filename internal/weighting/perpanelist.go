package weighting

import (
	pg "github.com/pganalyze/pg_query_go/v6"
)

// perPanelistSplit is how an event query that joins the weights table only
// for panelist attributes divides: the conditions on the event table alone,
// those on the weights table alone, and the event table's FROM entry.
type perPanelistSplit struct {
	events      *item
	eventConds  []*pg.Node
	weightConds []*pg.Node
}

// splitPerPanelist reports whether the event query p (two-level, joining the
// weights table itself) reads the weights table only for what describes a
// panelist: the group expressions and conditions on its own columns, with
// the events joined on the key alone. Then the events can be reduced to one
// row per panelist before the join (see buildPerPanelist), as an analyst
// would write it:
//
//	SELECT u.age_group, COUNT(*), SUM(a.usage_minutes)
//	FROM app_usage a JOIN users u ON u.user_id = a.user_id GROUP BY u.age_group
//
// It returns nil when the query has any other shape: a group or an aggregate
// that mixes the two tables, a condition on both, an outer join, USING, a
// third relation or a sub-query in a condition.
func (r *rewriter) splitPerPanelist(p *plan) *perPanelistSplit {
	if p.wItem == nil || len(p.keyItems) != 1 || len(p.sc.items) != 2 || len(p.groupBy) == 0 {
		return nil
	}
	ev, w := p.keyItems[0], p.wItem
	var conds []*pg.Node
	switch from := p.sel.FromClause; {
	case len(from) == 2:
	case len(from) == 1 && from[0].GetJoinExpr() != nil:
		j := from[0].GetJoinExpr()
		if j.Jointype != pg.JoinType_JOIN_INNER || j.IsNatural || len(j.UsingClause) > 0 ||
			j.Alias != nil || j.Larg.GetJoinExpr() != nil || j.Rarg.GetJoinExpr() != nil {
			return nil
		}
		conds = conjuncts(j.Quals)
	default:
		return nil
	}
	conds = append(conds, conjuncts(p.sel.WhereClause)...)
	s := &perPanelistSplit{events: ev}
	joined := false
	for _, c := range conds {
		on, ok := aliasesOf(c)
		switch {
		case !ok:
			return nil
		case !joined && isKeyJoin(c, w.alias, ev.alias, r.key):
			joined = true
		case len(on) == 1 && on[ev.alias]:
			s.eventConds = append(s.eventConds, c)
		case len(on) == 1 && on[w.alias]:
			s.weightConds = append(s.weightConds, c)
		default:
			return nil // on both tables, on neither, or a second key equality
		}
	}
	if !joined {
		return nil
	}
	if !groupsOn(p.groupBy, w.alias) {
		return nil
	}
	for _, pt := range p.partials {
		fc := &pg.Node{Node: &pg.Node_FuncCall{FuncCall: pt.fc}}
		if on, ok := aliasesOf(fc); !ok || len(on) > 1 || len(on) == 1 && !on[ev.alias] {
			return nil
		}
	}
	return s
}

// aliasesOf returns the relations an expression of the query's scope refers
// to (its column references are qualified by then); ok is false when it holds
// a sub-query, whose own references are not the query's.
func aliasesOf(n *pg.Node) (on map[string]bool, ok bool) {
	on, ok = map[string]bool{}, true
	walk(n, func(x *pg.Node) bool {
		switch {
		case x.GetSubLink() != nil || x.GetSelectStmt() != nil:
			ok = false
		case x.GetColumnRef() != nil:
			f := fields(x.GetColumnRef())
			if len(f) != 2 {
				ok = false
			} else {
				on[f[0]] = true
			}
			return false
		}
		return ok
	})
	return on, ok
}

// groupsOn reports whether every group expression refers to the relation
// alias, and to no other.
func groupsOn(groups []*pg.Node, alias string) bool {
	for _, g := range groups {
		if on, ok := aliasesOf(g); !ok || len(on) != 1 || !on[alias] {
			return false
		}
	}
	return true
}

// isKeyJoin reports whether c is a.key = b.key, either way round.
func isKeyJoin(c *pg.Node, a, b, key string) bool {
	e := c.GetAExpr()
	if e == nil || e.Kind != pg.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || e.Name[0].GetString_().GetSval() != "=" {
		return false
	}
	l, rt := e.Lexpr.GetColumnRef(), e.Rexpr.GetColumnRef()
	if l == nil || rt == nil {
		return false
	}
	lf, rf := fields(l), fields(rt)
	if len(lf) != 2 || len(rf) != 2 || lf[1] != key || rf[1] != key {
		return false
	}
	return lf[0] == a && rf[0] == b || lf[0] == b && rf[0] == a
}

// buildPerPanelist builds mcpa_base of a two-level rewrite split by
// splitPerPanelist: level 1 reduces the event table alone to one row per
// panelist (its partials), and only those rows are joined to the weights
// table, which gives each one its weight and its groups:
//
//	SELECT <groups over u> AS mcpa_g1…, mcpa_e.mcpa_p, mcpa_e.<partials>, <weight of u> AS mcpa_w
//	FROM (SELECT a.user_id AS mcpa_p, <partials> FROM app_usage a WHERE <event conditions>
//	      GROUP BY 1) mcpa_e
//	JOIN users u ON u.user_id = mcpa_e.mcpa_p AND <weights-table conditions>
//
// The join stays inner, as the analyst wrote it: events of no known panelist
// are not counted. Each row of mcpa_base is one panelist, and the groups
// partition the panelists, so Total rows roll up at level 2 (perPanelist).
// At 20,000,000 events this joins a million rows instead of every event.
func (r *rewriter) buildPerPanelist(p *plan, parts []*partial, s *perPanelistSplit) {
	sel := p.sel
	l1 := &pg.SelectStmt{
		FromClause:  []*pg.Node{clone(s.events.node)},
		Op:          pg.SetOperation_SETOP_NONE,
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT,
		TargetList:  []*pg.Node{resTarget(panelistCol, colRef(s.events.alias, r.key))},
		GroupClause: []*pg.Node{intConst(1)},
	}
	if len(s.eventConds) > 0 {
		l1.WhereClause = and(cloneAll(s.eventConds)...)
	}
	for _, pt := range parts {
		l1.TargetList = append(l1.TargetList, pt.level1()...)
	}
	base := &pg.SelectStmt{Op: pg.SetOperation_SETOP_NONE, LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT}
	for i, g := range p.groupBy {
		base.TargetList = append(base.TargetList, resTarget(groupCol(i), clone(g)))
	}
	for _, t := range l1.TargetList {
		name := t.GetResTarget().Name
		base.TargetList = append(base.TargetList, resTarget(name, colRef(eventsAlias, name)))
	}
	base.TargetList = append(base.TargetList, resTarget(weightCol, r.weightExpr(colRef(p.wItem.alias, r.weight))))
	quals := append([]*pg.Node{binOp("=", colRef(p.wItem.alias, r.key), colRef(eventsAlias, panelistCol))}, cloneAll(s.weightConds)...)
	base.FromClause = []*pg.Node{pg.MakeJoinExprNode(pg.JoinType_JOIN_INNER,
		subselect(l1, eventsAlias), clone(p.wItem.node), and(quals...))}
	p.base, p.level1, p.perPanelist = base, l1, true
	sel.GroupClause = nil
	for i := range p.groupBy {
		sel.GroupClause = append(sel.GroupClause, colRef(baseAlias, groupCol(i)))
	}
	sel.FromClause = []*pg.Node{subselect(base, baseAlias)}
	sel.WhereClause = nil
}
