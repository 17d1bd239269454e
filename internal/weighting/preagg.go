package weighting

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// Names of the per-group pre-aggregate.
const (
	preAlias  = "mcpa_g"  // the rows per group, before the Total rows are added
	prePrefix = "mcpa_ga" // mcpa_ga1…: its partial aggregates
)

// preAggregate computes a one-level grouped answer with Total rows in two
// steps when that gives the same figures:
//
//	SELECT <figures from re-aggregated partials> FROM (
//	  SELECT <groups>, <partials> FROM mcpa_base GROUP BY <groups>) mcpa_g
//	GROUP BY GROUPING SETS (<groups>, <groups but the rolled-up one>)
//
// PostgreSQL never aggregates GROUPING SETS in parallel, so over the weights
// table alone (a million panelists) the Total rows made the question about
// twice as slow. Grouped first, the scan and its aggregation run in parallel
// and the GROUPING SETS only meet one row per group. The groups partition
// the rows here (one row per panelist), so every figure re-aggregates: a sum
// is the sum of the groups' sums, a count their sum, a mean their sum of
// sums over their sum of counts, a minimum the least of the minimums.
//
// It is done only when every aggregate of the answer re-aggregates to the
// same value and type: COUNT, MIN, MAX, AVG, and SUM of the weighted
// figures (double precision: SUM of an integer column re-summed would turn
// bigint into numeric). Anything else (DISTINCT, FILTER, other aggregates,
// a column outside the groups and aggregates, a sub-query) keeps the plain
// GROUPING SETS.
func (r *rewriter) preAggregate(p *plan, exprs []*pg.Node, col int) {
	sel := p.sel
	if p.uni != nil || len(sel.WindowClause) > 0 || len(sel.DistinctClause) > 0 || len(exprs) == 0 {
		return
	}
	groups := map[string]int{}
	for i, g := range exprs {
		groups[canon(g)] = i
	}
	outputs := map[string]bool{}
	for _, t := range sel.TargetList {
		outputs[targetName(t.GetResTarget())] = true
	}
	inner := &pg.SelectStmt{
		FromClause:  sel.FromClause,
		WhereClause: sel.WhereClause,
		Op:          pg.SetOperation_SETOP_NONE,
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT,
	}
	refs := make([]*pg.Node, len(exprs))
	for i, g := range exprs {
		name := fmt.Sprintf("%s%d", groupPrefix, i+1)
		inner.TargetList = append(inner.TargetList, resTarget(name, clone(g)))
		inner.GroupClause = append(inner.GroupClause, clone(g))
		refs[i] = colRef(preAlias, name)
	}
	partials := map[string]string{} // canon of an inner aggregate -> its column
	partial := func(agg *pg.Node) *pg.Node {
		k := canon(agg)
		name, ok := partials[k]
		if !ok {
			name = fmt.Sprintf("%s%d", prePrefix, len(partials)+1)
			partials[k] = name
			inner.TargetList = append(inner.TargetList, resTarget(name, clone(agg)))
		}
		return colRef(preAlias, name)
	}
	ok := true
	// rewrite replaces, in n, the group expressions by the pre-aggregate's
	// group columns and each aggregate by its re-aggregation.
	rewrite := func(n *pg.Node, sorting bool) {
		walk(n, func(x *pg.Node) bool {
			if !ok {
				return false
			}
			if i, found := groups[canon(x)]; found {
				x.Node = clone(refs[i]).Node
				return false
			}
			switch {
			case x.GetSelectStmt() != nil || x.GetSubLink() != nil:
				ok = false
				return false
			case x.GetColumnRef() != nil:
				cr := x.GetColumnRef()
				if !sorting || len(cr.Fields) != 1 || !outputs[fields(cr)[0]] {
					ok = false
				}
				return false
			}
			fc := x.GetFuncCall()
			if fc == nil || !isAggregate(fc) {
				return true
			}
			re := r.reAggregate(fc, partial)
			if re == nil {
				ok = false
				return false
			}
			x.Node = re.Node
			return false
		})
	}
	targets := cloneAll(sel.TargetList)
	for _, t := range targets {
		rewrite(t.GetResTarget().Val, false)
	}
	var having *pg.Node
	if sel.HavingClause != nil {
		having = clone(sel.HavingClause)
		rewrite(having, false)
	}
	sorts := cloneAll(sel.SortClause)
	for _, s := range sorts {
		rewrite(s.GetSortBy().Node, true)
	}
	var flag *pg.Node
	if p.totals != nil {
		flag = clone(p.totals.flag)
		rewrite(flag, false)
	}
	if !ok {
		return
	}
	sel.TargetList, sel.HavingClause, sel.SortClause = targets, having, sorts
	sel.FromClause = []*pg.Node{subselect(inner, preAlias)}
	sel.WhereClause = nil
	sel.GroupClause = []*pg.Node{groupingSets(refs, dropAt(refs, col))}
	if p.totals != nil {
		p.totals.flag = flag
	}
}

// reAggregate returns the re-aggregation of the aggregate fc over the
// partials partial() adds to the pre-aggregate, or nil when fc does not
// re-aggregate to the same value and type.
func (r *rewriter) reAggregate(fc *pg.FuncCall, partial func(*pg.Node) *pg.Node) *pg.Node {
	if fc.AggDistinct || fc.AggFilter != nil || len(fc.AggOrder) > 0 || fc.AggWithinGroup || fc.FuncVariadic {
		return nil
	}
	self := &pg.Node{Node: &pg.Node_FuncCall{FuncCall: fc}}
	switch funcName(fc) {
	case "count":
		// COALESCE: the Total row of no rows at all counts 0, as COUNT does.
		return castBigint(coalesce(funcCall("sum", partial(self)), intConst(0)))
	case "min", "max":
		return funcCall(funcName(fc), partial(self))
	case "sum":
		if len(fc.Args) != 1 || !r.isWeighted(fc.Args[0]) {
			return nil
		}
		return funcCall("sum", partial(self))
	case "avg":
		if len(fc.Args) != 1 {
			return nil
		}
		s, c := funcCall("sum", clone(fc.Args[0])), funcCall("count", clone(fc.Args[0]))
		return binOp("/", funcCall("sum", partial(s)), nullIf0(funcCall("sum", partial(c))))
	}
	return nil
}

// isWeighted reports whether x is double precision by construction: the
// row's weight, a product with a factor that is, a cast to double
// precision, or a CASE whose every result is.
func (r *rewriter) isWeighted(x *pg.Node) bool {
	switch {
	case x == nil:
		return false
	case x.GetColumnRef() != nil:
		f := fields(x.GetColumnRef())
		return len(f) > 0 && f[len(f)-1] == weightCol
	case x.GetTypeCast() != nil:
		tc := x.GetTypeCast()
		return tc.TypeName != nil && canon(tc.TypeName.Names[len(tc.TypeName.Names)-1]) == canon(str("float8"))
	case x.GetAExpr() != nil:
		e := x.GetAExpr()
		if e.Kind != pg.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || e.Name[0].GetString_().GetSval() != "*" {
			return false
		}
		return r.isWeighted(e.Lexpr) || r.isWeighted(e.Rexpr)
	case x.GetCaseExpr() != nil:
		c := x.GetCaseExpr()
		for _, w := range c.Args {
			if !r.isWeighted(w.GetCaseWhen().Result) {
				return false
			}
		}
		if c.Defresult != nil && c.Defresult.GetAConst() == nil { // ELSE NULL keeps the type
			return r.isWeighted(c.Defresult)
		}
		return c.Defresult == nil || c.Defresult.GetAConst().Isnull
	}
	return false
}
