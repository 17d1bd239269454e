package weighting

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// shadowedGroup is a bare GROUP BY name that PostgreSQL and DuckDB would resolve to
// an input column although the select list gives that name to another expression.
type shadowedGroup struct {
	index  int // position in GroupClause
	target int // position in TargetList
	note   string
}

// shadowedGroups finds the GROUP BY entries of sel that name an input column and,
// at the same time, a select-list alias of a different expression:
//
//	SELECT CASE WHEN age < 25 THEN '18-24' ... END AS age_group, COUNT(*)
//	FROM users GROUP BY age_group
//
// The databases group by the input column users.age_group (and then reject the CASE
// over age); the analyst means the output column. ORDER BY needs no such fix: a bare
// ORDER BY name already resolves to the output column first.
func (r *rewriter) shadowedGroups(sel *pg.SelectStmt, sc *scope) []shadowedGroup {
	var out []shadowedGroup
	for i, g := range sel.GroupClause {
		cr := g.GetColumnRef()
		if cr == nil || len(cr.Fields) != 1 || cr.Fields[0].GetString_() == nil {
			continue
		}
		name := cr.Fields[0].GetString_().Sval
		j, rt := targetNamed(sel.TargetList, name)
		if rt == nil || isColumnNamed(rt.Val, name) || hasAggregateOrWindow(rt.Val) {
			continue
		}
		it := sc.resolve([]string{strings.ToLower(name)})
		if it == nil {
			continue // not an input column: the databases already use the output column
		}
		out = append(out, shadowedGroup{
			index:  i,
			target: j,
			note: fmt.Sprintf("GROUP BY %s uses the output column %s (%s), not %s.%s",
				name, name, describeExpr(rt.Val), it.alias, strings.ToLower(name)),
		})
	}
	return out
}

// groupByOutputs points each shadowed GROUP BY entry at its select-list entry: by
// ordinal when no star precedes it (so the ordinal is its output position), else by
// a copy of the expression.
func (r *rewriter) groupByOutputs(sel *pg.SelectStmt, fixes []shadowedGroup) {
	for _, f := range fixes {
		star := false
		for _, t := range sel.TargetList[:f.target] {
			star = star || isStar(t.GetResTarget().GetVal())
		}
		if star {
			sel.GroupClause[f.index] = clone(sel.TargetList[f.target].GetResTarget().Val)
		} else {
			sel.GroupClause[f.index] = intConst(int64(f.target + 1))
		}
		r.note(f.note)
	}
}

// targetNamed returns the select-list entry with the explicit alias name.
func targetNamed(targets []*pg.Node, name string) (int, *pg.ResTarget) {
	for i, t := range targets {
		if rt := t.GetResTarget(); rt != nil && rt.Name == name && rt.Val != nil {
			return i, rt
		}
	}
	return -1, nil
}

// isColumnNamed reports whether n is a plain reference to a column called name
// (qualified or not).
func isColumnNamed(n *pg.Node, name string) bool {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) == 0 {
		return false
	}
	return cr.Fields[len(cr.Fields)-1].GetString_().GetSval() == name
}

func isStar(n *pg.Node) bool {
	cr := n.GetColumnRef()
	return cr != nil && len(cr.Fields) > 0 && cr.Fields[len(cr.Fields)-1].GetAStar() != nil
}

func hasAggregateOrWindow(n *pg.Node) bool {
	found := false
	walkExpr(n, func(x *pg.Node) bool {
		if fc := x.GetFuncCall(); fc != nil && (fc.Over != nil || isAggregate(fc)) {
			found = true
		}
		return !found
	})
	return found
}

// describeExpr names an expression for a note: "the CASE expression".
func describeExpr(n *pg.Node) string {
	switch {
	case n.GetCaseExpr() != nil:
		return "the CASE expression"
	case n.GetFuncCall() != nil:
		return "the " + funcName(n.GetFuncCall()) + "(…) expression"
	case n.GetColumnRef() != nil:
		return "column " + strings.Join(fields(n.GetColumnRef()), ".")
	case n.GetTypeCast() != nil:
		return "the cast expression"
	}
	return "the expression"
}

// nestedShadowed reports whether a SELECT inside stmt (a CTE or a sub-query)
// has a GROUP BY name that the databases would resolve to an input column
// although its select list gives the name to another expression.
func (r *rewriter) nestedShadowed(stmt *pg.Node) bool {
	found := false
	r.eachNested(stmt, func(sel *pg.SelectStmt, sc *scope) {
		found = found || hasBareGroupName(sel) && len(r.shadowedGroups(sel, sc)) > 0
	})
	return found
}

// fixNested points the shadowed GROUP BY names of every SELECT inside stmt at
// their output columns, as Rewrite does for the top level: the analyst means
// the output column there too.
func (r *rewriter) fixNested(stmt *pg.Node) {
	r.eachNested(stmt, func(sel *pg.SelectStmt, sc *scope) {
		if hasBareGroupName(sel) {
			r.groupByOutputs(sel, r.shadowedGroups(sel, sc))
		}
	})
}

// eachNested calls fn for every SELECT below the top level of stmt with its
// scope (CTE names resolved through every WITH of the statement).
func (r *rewriter) eachNested(stmt *pg.Node, fn func(*pg.SelectStmt, *scope)) {
	selects := allSelects(stmt)
	ctes := map[string]*pg.CommonTableExpr{}
	for _, sel := range selects {
		if sel.WithClause != nil {
			for _, c := range sel.WithClause.Ctes {
				if cte := c.GetCommonTableExpr(); cte != nil {
					ctes[strings.ToLower(cte.Ctename)] = cte
				}
			}
		}
	}
	top := stmt.GetSelectStmt()
	for _, sel := range selects {
		if sel == top || sel.Op != pg.SetOperation_SETOP_NONE {
			continue
		}
		fn(sel, r.scopeWith(sel, ctes))
	}
}
