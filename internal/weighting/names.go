package weighting

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// columnName is the name PostgreSQL gives an unnamed select-list entry
// (FigureColname in its parser): a column's own name, a function's name, the
// name inside a cast or a CASE's ELSE, a few keywords (coalesce, greatest,
// nullif, row, array, exists), and "?column?" for anything else. DuckDB names
// columns after their whole expression ("count_star()", "(1 + 2)"); answers give
// PostgreSQL's names on both engines.
func columnName(n *pg.Node) string {
	if name, strength := figureName(n); strength > 0 {
		return name
	}
	return "?column?"
}

// figureName returns a name for n and how strong it is: 2 for a name taken from
// the expression (a column, a function), 1 for a fallback (a type name, "case"),
// 0 for none.
func figureName(n *pg.Node) (string, int) {
	switch {
	case n == nil:
		return "", 0
	case n.GetColumnRef() != nil:
		f := fields(n.GetColumnRef())
		if last := f[len(f)-1]; last != "*" {
			return last, 2
		}
	case n.GetAIndirection() != nil:
		ind := n.GetAIndirection()
		for i := len(ind.Indirection) - 1; i >= 0; i-- {
			if s := ind.Indirection[i].GetString_(); s != nil {
				return strings.ToLower(s.Sval), 2
			}
		}
		return figureName(ind.Arg)
	case n.GetFuncCall() != nil:
		return funcName(n.GetFuncCall()), 2
	case n.GetAExpr() != nil:
		if n.GetAExpr().Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif", 2
		}
	case n.GetTypeCast() != nil:
		tc := n.GetTypeCast()
		if name, strength := figureName(tc.Arg); strength > 1 {
			return name, strength
		}
		if tc.TypeName != nil && len(tc.TypeName.Names) > 0 {
			return strings.ToLower(tc.TypeName.Names[len(tc.TypeName.Names)-1].GetString_().GetSval()), 1
		}
	case n.GetCollateClause() != nil:
		return figureName(n.GetCollateClause().Arg)
	case n.GetGroupingFunc() != nil:
		return "grouping", 2
	case n.GetSubLink() != nil:
		sl := n.GetSubLink()
		switch sl.SubLinkType {
		case pg.SubLinkType_EXISTS_SUBLINK:
			return "exists", 2
		case pg.SubLinkType_EXPR_SUBLINK, pg.SubLinkType_ARRAY_SUBLINK:
			if sel := sl.Subselect.GetSelectStmt(); sel != nil && len(sel.TargetList) > 0 {
				if rt := sel.TargetList[0].GetResTarget(); rt != nil {
					if rt.Name != "" {
						return strings.ToLower(rt.Name), 2
					}
					return figureName(rt.Val)
				}
			}
		}
	case n.GetCaseExpr() != nil:
		if name, strength := figureName(n.GetCaseExpr().Defresult); strength > 1 {
			return name, strength
		}
		return "case", 1
	case n.GetAArrayExpr() != nil:
		return "array", 2
	case n.GetRowExpr() != nil:
		return "row", 2
	case n.GetCoalesceExpr() != nil:
		return "coalesce", 2
	case n.GetMinMaxExpr() != nil:
		if n.GetMinMaxExpr().Op == pg.MinMaxOp_IS_LEAST {
			return "least", 2
		}
		return "greatest", 2
	case n.GetSqlvalueFunction() != nil:
		return sqlValueName(n.GetSqlvalueFunction().Op), 2
	}
	return "", 0
}

func sqlValueName(op pg.SQLValueFunctionOp) string {
	name := strings.ToLower(strings.TrimPrefix(op.String(), "SVFOP_"))
	name = strings.TrimSuffix(name, "_n")
	return name
}

// nameTargets gives every unnamed, non-star select-list entry of sel the name
// PostgreSQL would give it, so the rewrite can change the expression (a merged
// NCCS CASE, a weighted twin, a level-2 form) and the answer keeps its column
// names, on both engines.
func nameTargets(sel *pg.SelectStmt) {
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil || rt.Name != "" || rt.Val == nil || isStar(rt.Val) {
			continue
		}
		rt.Name = columnName(rt.Val)
	}
}
