package weighting

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// Names of the wrapper's relations and columns.
const (
	resultAlias  = "mcpa_r"   // the grouped query, wrapped
	uniAlias     = "mcpa_uni" // the per-group reach universes
	outputPrefix = "mcpa_o"   // mcpa_o1…: the wrapped query's own columns
	hiddenPrefix = "mcpa_x"   // mcpa_x1…: figures the wrapper needs but the answer does not show
)

// universeJoin describes the reach universes of a query grouped by panelist
// attributes: one aggregate over the weights table (after the query's
// user-level filters), grouped by the same expressions.
type universeJoin struct {
	from   *pg.Node   // the weights table's FROM entry
	alias  string     // its alias
	conds  []*pg.Node // the WHERE's conditions on it alone
	groups []*pg.Node // the user-level group expressions, over alias
	level2 []*pg.Node // the same groups as the grouped query computes them
	// totalIdx is the group rolled up in Total rows, when it is a panelist
	// attribute (-1 otherwise): the universes then have Total rows too.
	totalIdx int
}

// needsWrap reports whether the grouped query must be wrapped: to join the
// per-group universes, which only exist once the groups do; and, with a
// HAVING, so that HAVING drops groups after every share and window was
// computed over all the groups the WHERE keeps (a share is of everyone the
// WHERE keeps).
func (p *plan) needsWrap() bool {
	return p.uni != nil || p.sel.HavingClause != nil || p.totals != nil && p.sel.LimitCount != nil
}

// wrap turns the grouped query of p (in stmt) into
//
//	SELECT <the answer's columns> FROM (<grouped query without HAVING, ORDER BY, LIMIT>) mcpa_r
//	  [LEFT JOIN (<universes>) mcpa_uni ON <group> IS NOT DISTINCT FROM …]
//	WHERE <HAVING> ORDER BY … LIMIT …
//
// Every aggregate, window and level-2 column the outer query needs is lifted
// into a hidden column of the grouped query. Output names, their order and
// ORDER BY ordinals are unchanged.
func (r *rewriter) wrap(stmt *pg.Node, p *plan) {
	sel := p.sel
	inner := &pg.SelectStmt{
		FromClause:   sel.FromClause,
		GroupClause:  sel.GroupClause,
		WindowClause: sel.WindowClause,
		Op:           pg.SetOperation_SETOP_NONE,
		LimitOption:  pg.LimitOption_LIMIT_OPTION_DEFAULT,
	}
	w := &lifter{inner: inner, seen: map[string]string{}, groups: map[string]bool{}}
	for _, g := range sel.GroupClause {
		w.groups[canon(resolveGroupExpr(g, sel.TargetList))] = true
	}
	outer := &pg.SelectStmt{
		WithClause:  sel.WithClause,
		LimitCount:  sel.LimitCount,
		LimitOffset: sel.LimitOffset,
		LimitOption: sel.LimitOption,
		Op:          pg.SetOperation_SETOP_NONE,
	}
	outputs := map[string]bool{}
	for i, t := range sel.TargetList {
		rt := t.GetResTarget()
		name := targetName(rt)
		outputs[name] = true
		if mentions(rt.Val, uniAlias) {
			outer.TargetList = append(outer.TargetList, resTarget(name, w.lift(rt.Val)))
			continue
		}
		col := fmt.Sprintf("%s%d", outputPrefix, i+1)
		inner.TargetList = append(inner.TargetList, resTarget(col, rt.Val))
		if k := canon(rt.Val); w.seen[k] == "" {
			w.seen[k] = col // a figure the outer query needs again is read from its column
		}
		outer.TargetList = append(outer.TargetList, resTarget(name, colRef(resultAlias, col)))
	}
	var keep []*pg.Node // what the outer WHERE keeps of the groups
	if sel.HavingClause != nil {
		keep = append(keep, w.lift(sel.HavingClause))
	}
	if t := p.totals; t != nil && sel.LimitCount != nil {
		// LIMIT ranks the groups only: a rank within group rows (those HAVING
		// keeps), and the Total rows always stay.
		keep = append(keep, w.rankLimit(sel, t, outer))
		outer.LimitCount, outer.LimitOffset = nil, nil
		outer.LimitOption = pg.LimitOption_LIMIT_OPTION_DEFAULT
	}
	if len(keep) > 0 {
		outer.WhereClause = and(keep...)
		if t := p.totals; t != nil {
			outer.WhereClause = &pg.Node{Node: &pg.Node_BoolExpr{BoolExpr: &pg.BoolExpr{Boolop: pg.BoolExprType_OR_EXPR,
				Args: []*pg.Node{w.lift(t.flag), outer.WhereClause}, Location: -1}}}
		}
	}
	for _, s := range sel.SortClause {
		sb := s.GetSortBy()
		switch cr := sb.Node.GetColumnRef(); {
		case sb.Node.GetAConst() != nil:
		case cr != nil && len(cr.Fields) == 1 && outputs[fields(cr)[0]]:
		default:
			sb.Node = w.lift(sb.Node)
		}
		outer.SortClause = append(outer.SortClause, s)
	}
	from := subselect(inner, resultAlias)
	if u := p.uni; u != nil {
		uni := &pg.SelectStmt{
			FromClause:  []*pg.Node{clone(u.from)},
			WhereClause: andOrNil(cloneAll(u.conds)),
			Op:          pg.SetOperation_SETOP_NONE,
			LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT,
		}
		var on []*pg.Node
		for i, g := range u.groups {
			name := groupCol(i)
			uni.TargetList = append(uni.TargetList, resTarget(name, clone(g)))
			uni.GroupClause = append(uni.GroupClause, intConst(int64(i+1)))
			on = append(on, &pg.Node{Node: &pg.Node_AExpr{AExpr: &pg.A_Expr{
				Kind: pg.A_Expr_Kind_AEXPR_NOT_DISTINCT, Name: []*pg.Node{str("=")},
				Lexpr: colRef(uniAlias, name), Rexpr: w.lift(u.level2[i]), Location: -1,
			}}})
		}
		we := func() *pg.Node { return r.weightExpr(colRef(u.alias, r.weight)) }
		uni.TargetList = append(uni.TargetList,
			resTarget(universeCol, funcCall("sum", we())),
			resTarget(universe2Col, funcCall("sum", binOp("*", we(), we()))),
			resTarget(universeN, funcCall("count", we())))
		if t := p.totals; t != nil && u.totalIdx >= 0 {
			// The Total rows' universe: the same panelists, the rolled-up
			// attribute rolled up too. Per group first, then GROUPING SETS
			// over the group rows: PostgreSQL never aggregates GROUPING
			// SETS in parallel, and the universe reads every panelist.
			refs := make([]*pg.Node, len(u.groups))
			outer := &pg.SelectStmt{Op: pg.SetOperation_SETOP_NONE, LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT}
			for i := range u.groups {
				refs[i] = colRef(preAlias, groupCol(i))
				outer.TargetList = append(outer.TargetList, resTarget(groupCol(i), clone(refs[i])))
			}
			outer.TargetList = append(outer.TargetList,
				resTarget(totalCol, groupingFunc(clone(refs[u.totalIdx]))),
				resTarget(universeCol, funcCall("sum", colRef(preAlias, universeCol))),
				resTarget(universe2Col, funcCall("sum", colRef(preAlias, universe2Col))),
				resTarget(universeN, castBigint(funcCall("sum", colRef(preAlias, universeN)))))
			outer.FromClause = []*pg.Node{subselect(uni, preAlias)}
			outer.GroupClause = []*pg.Node{groupingSets(refs, dropAt(refs, u.totalIdx))}
			uni = outer
			on = append(on, binOp("=", binOp("=", colRef(uniAlias, totalCol), intConst(1)), w.lift(t.flag)))
		}
		from = pg.MakeJoinExprNode(pg.JoinType_JOIN_LEFT, from, subselect(uni, uniAlias), and(on...))
	}
	outer.FromClause = []*pg.Node{from}
	stmt.Node = &pg.Node_SelectStmt{SelectStmt: outer}
	p.sel = outer
}

// rankLimit turns the grouped query's LIMIT (and OFFSET) into a condition on
// a hidden rank of each group row among the group rows HAVING keeps, in the
// query's order, so Total rows never take a place of the limit.
func (w *lifter) rankLimit(sel *pg.SelectStmt, t *totalsPlan, outer *pg.SelectStmt) *pg.Node {
	var order []*pg.Node
	for _, s := range sel.SortClause {
		sb := clone(s).GetSortBy()
		switch cr := sb.Node.GetColumnRef(); {
		case sb.Node.GetAConst() != nil && sb.Node.GetAConst().GetIval() != nil:
			i := int(sb.Node.GetAConst().GetIval().Ival) - 1
			if i < 0 || i >= len(sel.TargetList) {
				continue
			}
			sb.Node = clone(sel.TargetList[i].GetResTarget().Val)
		case cr != nil && len(cr.Fields) == 1:
			found := false
			for _, tg := range sel.TargetList {
				if rt := tg.GetResTarget(); targetName(rt) == fields(cr)[0] {
					sb.Node, found = clone(rt.Val), true
					break
				}
			}
			if !found {
				continue
			}
		}
		if canon(sb.Node) == canon(colRef(t.name)) {
			continue // the Total rows first: not a ranking of groups
		}
		order = append(order, &pg.Node{Node: &pg.Node_SortBy{SortBy: sb}})
	}
	part := []*pg.Node{clone(t.flag)}
	if sel.HavingClause != nil {
		part = append(part, clone(sel.HavingClause))
	}
	rank := funcCall("row_number")
	rank.GetFuncCall().Over = &pg.WindowDef{PartitionClause: part, OrderClause: order, FrameOptions: frameDefaults, Location: -1}
	r := w.lift(rank)
	var cond *pg.Node
	if outer.LimitOffset != nil {
		cond = binOp(">", clone(r), clone(outer.LimitOffset))
		limit := binOp("+", clone(outer.LimitCount), clone(outer.LimitOffset))
		return and(cond, binOp("<=", r, limit))
	}
	return binOp("<=", r, clone(outer.LimitCount))
}

// lifter moves level-2 expressions into hidden columns of the grouped query.
type lifter struct {
	inner  *pg.SelectStmt
	seen   map[string]string // canonical form -> column of the wrapped query
	groups map[string]bool   // canonical forms of the GROUP BY expressions
	hidden int
}

// lift returns e as the outer query computes it: every aggregate, window and
// column of mcpa_base in it is a column of the wrapped query.
func (w *lifter) lift(e *pg.Node) *pg.Node {
	c := clone(e)
	walkExpr(c, func(x *pg.Node) bool {
		k := canon(x)
		name, ok := w.seen[k]
		if !ok && !level2Only(x) && !w.groups[k] {
			return true
		}
		if !ok {
			w.hidden++
			name = fmt.Sprintf("%s%d", hiddenPrefix, w.hidden)
			w.seen[k] = name
			w.inner.TargetList = append(w.inner.TargetList, resTarget(name, clone(x)))
		}
		x.Node = colRef(resultAlias, name).Node
		return false
	})
	return c
}

// level2Only reports whether x can only be computed by the grouped query: an
// aggregate, a window, or a column of mcpa_base or of the rewrite's own.
func level2Only(x *pg.Node) bool {
	if fc := x.GetFuncCall(); fc != nil {
		return fc.Over != nil || isAggregate(fc)
	}
	if cr := x.GetColumnRef(); cr != nil {
		f := fields(cr)
		return len(f) == 2 && f[0] == baseAlias || len(f) == 1 && strings.HasPrefix(f[0], "mcpa_")
	}
	return false
}

// mentions reports whether n refers to a column of the relation alias.
func mentions(n *pg.Node, alias string) bool {
	found := false
	walkExpr(n, func(x *pg.Node) bool {
		if cr := x.GetColumnRef(); cr != nil {
			if f := fields(cr); len(f) == 2 && f[0] == alias {
				found = true
			}
		}
		return !found
	})
	return found
}
