package weighting

// Which weighted figures a query gets and what they are called (the
// twins of its aggregates, bases, low-base flags, legends); the formulas
// are in se.go.

import (
	"fmt"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// addColumns appends to p.sel, after the columns it asked for, the weighted twin of
// every select-list entry that holds weightable aggregates, and the per-group bases.
func (r *rewriter) addColumns(p *plan) {
	sel := p.sel
	n := len(sel.TargetList)
	p.analyst = n
	var cmp *comparison
	if r.opts.CompareBy != "" {
		cmp, r.compareProblem = r.startCompare(p)
		r.compareNotGrouped = cmp == nil
	}
	// A crosstab's shares are column percentages: within each compare_by group.
	var shareWithin []*pg.Node
	if cmp != nil && len(p.groupBy) > 1 {
		shareWithin = []*pg.Node{clone(cmp.expr)}
	}
	kinds := map[int]string{}
	for i := 0; i < n; i++ {
		rt := sel.TargetList[i].GetResTarget()
		if rt == nil || !hasAggregate([]*pg.Node{rt.Val}) {
			continue
		}
		twin, reasons := r.twinExpr(p, rt.Val)
		for _, why := range reasons {
			r.note(why)
		}
		if twin == nil {
			continue
		}
		fc := rt.Val.GetFuncCall()
		if fc != nil && !isAggregate(fc) {
			fc = nil
		}
		kind := ""
		if fc != nil {
			kind = r.aggKind(p, fc)
		}
		name := ""
		switch {
		case kind == "count_star":
			name = "weighted_count"
		case kind == "reach":
			name = "weighted_reach"
		case kind != "" && p.argName(fc) != "":
			name = "weighted_" + kind + "_" + p.argName(fc)
		case rt.Name != "":
			name = "weighted_" + strings.ToLower(rt.Name)
		case fc != nil:
			name = fmt.Sprintf("weighted_%s_%d", funcName(fc), i+1)
		default:
			name = fmt.Sprintf("weighted_expr_%d", i+1)
		}
		name = p.add(name, twin)
		if p.twinOf == nil {
			p.twinOf = map[int]string{}
		}
		p.twinOf[i] = name
		kinds[i] = kind

		switch kind {
		case "count_star":
			switch {
			case p.stageAlias != "":
				r.note(fmt.Sprintf("weighted_count counts the rows of %s, one per panelist and %s, each with its panelist's weight (people × %s rows, not events)",
					p.stageAlias, strings.Join(p.rowsAre, " and "), strings.Join(p.rowsAre, " and ")))
			case r.twoStage:
				r.note("weighted_count counts people: the inner query has one row per panelist")
			case p.events:
				r.note("weighted_count over event rows is projected event volume: each event carries its panelist's weight")
			}
			// Projected event volume is a total of each panelist's event count
			// (a per panelist at level 1): its standard error is R's svytotal of
			// that count over the whole design.
			if pt := p.partialOf(fc); p.twoLevel && pt != nil && r.opts.StandardErrors {
				aw := binOp("*", colRef(baseAlias, pt.a), r.w())
				p.add("se_"+name, r.seTotal(p, twin, funcCall("sum", binOp("*", aw, clone(aw)))))
			}
			// Standard errors as R's svytotal and svymean of the group indicator.
			design := p.panelists && fc.AggFilter == nil
			var s2 *pg.Node // Σw² of the group
			if design {
				s2 = r.sumW(p, fc, r.w2())
				if r.opts.StandardErrors {
					p.add("se_"+name, r.seTotal(p, twin, s2))
				}
			}
			if p.grouped {
				total := windowed(funcCall("sum", twin), cloneAll(shareWithin)...)
				p.add("weighted_pct", binOp("/", binOp("*", floatConst(100), twin), total))
				if design {
					total2 := windowed(funcCall("sum", s2), cloneAll(shareWithin)...)
					if r.opts.StandardErrors {
						p.add("se_weighted_pct", r.seShare(p, twin, s2, total, total2))
					}
					p.add("moe_pct", r.moeShare(twin, total, total2))
				}
			}
		case "reach":
			r.reach = true
			u, u2 := r.universeTotals(p)
			s2 := r.sumW(p, fc, binOp("*", r.wp(p), r.wp(p)))
			if r.opts.StandardErrors {
				p.add("se_"+name, r.seTotal(p, twin, s2))
			}
			p.add("reach_pct", binOp("/", binOp("*", floatConst(100), twin), u))
			if r.opts.StandardErrors {
				p.add("se_reach_pct", r.seShare(p, twin, s2, u, u2))
			}
			p.add("moe_reach_pct", r.moeShare(twin, u, u2))
			if r.groupUniverse {
				r.note("weighted_reach counts each panelist's weight once per group; reach_pct is within each group: it divides by the weighted panelists of that group (" + r.weightsTable + " after its own filters), not by event rows")
			} else {
				r.note("weighted_reach counts each panelist's weight once per group; reach_pct divides by the weighted universe of panelists (" + r.weightsTable + " after its own filters), not by event rows")
			}
		}

		if !p.panelists && avg0(rt.Val) != nil {
			if p.stageAlias != "" {
				r.note(fmt.Sprintf("AVG over %s is a mean per panelist and %s (each row weighted by its panelist's weight); no standard error is given",
					p.stageAlias, strings.Join(p.rowsAre, " and ")))
			} else {
				r.note("AVG over event rows is a per-event mean (each event weighted by its panelist's weight); no standard error is given")
			}
		} else if se := linearInAvg(rt.Val, func(avg *pg.FuncCall) *pg.Node { return r.seMean(p, avg) }); se != nil {
			if p.panelists {
				p.add("se_"+name, se)
				if is01(avg0(rt.Val).Args[0]) {
					p.add("moe_"+name, linearInAvg(rt.Val, func(avg *pg.FuncCall) *pg.Node { return r.moeMean(p, avg) }))
				}
				if r.twoStage {
					r.note("means are per panelist (two-stage: the inner query collapses each panelist's rows first)")
				}
			} else {
				r.note("AVG over event rows is a per-event mean (each event weighted by its panelist's weight); no standard error is given")
			}
		}
	}

	if cmp != nil {
		if problem := r.finishCompare(p, cmp, kinds); problem != "" {
			r.compareProblem = problem
		} else {
			p.compare = cmp.spec
			if len(shareWithin) > 0 {
				r.note(fmt.Sprintf("weighted_pct is the column percentage: the share within each %s group", cmp.spec.Column))
			}
		}
	}
	wp := r.wp(p)
	// The legend names the columns as added: an analyst's own column "n"
	// pushes the base to "n_2", and the legend must say so.
	base := p.add("n", funcCall("count", colRef(panelistCol)))
	neff := p.add("n_eff", binOp("/", square(funcCall("sum", wp)), funcCall("sum", binOp("*", wp, wp))))
	low := p.add("low_base", binOp("<", funcCall("count", colRef(panelistCol)), intConst(int64(r.minBase))))
	zero := p.add("n_zero_weight", binOp("-", funcCall("count", colRef(panelistCol)), funcCall("count", clone(wp))))
	p.baseCol = base
	p.addedRoles = Added{Base: base, EffectiveBase: neff, LowBase: low, ZeroWeight: zero}
	p.analyst = n
	for _, t := range sel.TargetList[:n] {
		if rt := t.GetResTarget(); rt != nil && !hasAggregateOrWindow(rt.Val) {
			p.groups = append(p.groups, targetName(rt))
		}
	}
	r.explain(p)
	for _, t := range p.added {
		if r.opts.NumericRounding {
			numericRounding(t.GetResTarget().Val)
		}
		sel.TargetList = append(sel.TargetList, t)
		r.added = append(r.added, t.GetResTarget().Name)
	}
	r.weightRanking(p)
}

// explain writes the legend of the added columns that need one, in plain words
// and under their actual names.
func (r *rewriter) explain(p *plan) {
	for _, t := range p.added {
		name := t.GetResTarget().Name
		var meaning string
		switch {
		case name == p.addedRoles.Base:
			meaning = "panelists in the group (the unweighted base)"
		case name == p.addedRoles.EffectiveBase:
			meaning = "effective base after weighting, (Σw)²/Σw²: the sample size the margins of error rest on"
		case name == p.addedRoles.LowBase:
			meaning = fmt.Sprintf("true when fewer than %d panelists are behind the figures: read with caution", r.minBase)
		case name == p.addedRoles.ZeroWeight:
			meaning = "panelists left out of the weighted figures because their weight is missing or zero"
		case strings.HasPrefix(name, "moe_"):
			meaning = "95 % margin of error, in percentage points (± around the share)"
			if !strings.Contains(name, "pct") {
				meaning = "95 % margin of error of the share (± around it, as a proportion)"
			}
		case strings.HasPrefix(name, "se_"):
			meaning = "standard error (as R's survey package computes it)"
		default:
			continue
		}
		r.legend = append(r.legend, Term{Column: name, Meaning: meaning})
	}
}

// add appends a column under a name not yet in use and returns that name.
func (p *plan) add(name string, val *pg.Node) string {
	final := name
	for i := 2; p.names[final]; i++ {
		final = fmt.Sprintf("%s_%d", name, i)
	}
	p.names[final] = true
	p.added = append(p.added, resTarget(final, val))
	return final
}

func (r *rewriter) note(s string) {
	for _, e := range r.extra {
		if e == s {
			return
		}
	}
	r.extra = append(r.extra, s)
}

// userLevelGroups returns the GROUP BY expressions that read only the weights
// table (panelist attributes, merged NCCS, a CASE over age…), as written over
// the weights table and as level 2 computes them.
func (r *rewriter) userLevelGroups(p *plan) (groups, level2 []*pg.Node) {
	if p.wItem == nil || !p.grouped || len(p.groupBy) != len(p.sel.GroupClause) {
		return nil, nil
	}
	for i, g := range p.groupBy {
		only, refs := true, 0
		walk(g, func(x *pg.Node) bool {
			if cr := x.GetColumnRef(); cr != nil {
				refs++
				f := fields(cr)
				only = only && len(f) == 2 && f[0] == p.wItem.alias
			}
			if x.GetSubLink() != nil {
				only = false
			}
			return only
		})
		if !only || refs == 0 {
			continue
		}
		outer := resolveGroupExpr(p.sel.GroupClause[i], p.sel.TargetList)
		if outer.GetAConst() != nil {
			continue
		}
		groups = append(groups, clone(g))
		level2 = append(level2, clone(outer))
	}
	return groups, level2
}

// sumW is SUM(arg), carrying fc's FILTER clause.
func (r *rewriter) sumW(p *plan, fc *pg.FuncCall, arg *pg.Node) *pg.Node {
	s := funcCall("sum", arg)
	if fc != nil && fc.AggFilter != nil {
		s.GetFuncCall().AggFilter = clone(fc.AggFilter)
	}
	return s
}

// aggKind names what a plain aggregate becomes: count_star, count, reach, sum, avg;
// "" when it has no weighted form.
func (r *rewriter) aggKind(p *plan, fc *pg.FuncCall) string {
	name := funcName(fc)
	switch {
	case name == "count" && fc.AggStar:
		return "count_star"
	case name == "count" && fc.AggDistinct && len(fc.Args) == 1 && p.isKey(fc.Args[0]):
		if !p.panelists && fc.AggFilter != nil {
			return ""
		}
		return "reach"
	case fc.AggDistinct || len(fc.Args) != 1 || fc.AggWithinGroup:
		return ""
	case name == "count":
		return "count"
	case name == "sum":
		return "sum"
	case name == "avg":
		return "avg"
	}
	return ""
}

// twinAgg returns the weighted form of one aggregate, or why it has none.
func (r *rewriter) twinAgg(p *plan, fc *pg.FuncCall) (*pg.Node, string) {
	w := r.w()
	kind := r.aggKind(p, fc)
	if p.twoLevel && kind != "" {
		if pt := p.partialOf(fc); pt != nil {
			return r.twinPartial(p, pt), ""
		}
	}
	switch kind {
	case "count_star":
		return r.sumW(p, fc, w), ""
	case "reach":
		return r.sumW(p, fc, r.wp(p)), ""
	case "count":
		return r.sumW(p, fc, caseWhen(notNull(clone(fc.Args[0])), w, nil)), ""
	case "sum":
		return r.sumW(p, fc, binOp("*", clone(fc.Args[0]), w)), ""
	case "avg":
		num := r.sumW(p, fc, binOp("*", clone(fc.Args[0]), w))
		den := r.sumW(p, fc, caseWhen(notNull(clone(fc.Args[0])), r.w(), nil))
		return binOp("/", num, den), ""
	}
	name := strings.ToUpper(funcName(fc))
	switch {
	case name == "MIN" || name == "MAX":
		return nil, "MIN and MAX are left unweighted: the smallest and largest values are the same weighted or not"
	case name == "COUNT" && fc.AggDistinct:
		return nil, fmt.Sprintf("COUNT(DISTINCT ...) of anything but %s cannot be weighted and is left as written", r.key)
	}
	return nil, fmt.Sprintf("%s is left unweighted: it has no weighted form", name)
}

// twinExpr is expr with every aggregate replaced by its weighted form; nil when one
// of them has none.
func (r *rewriter) twinExpr(p *plan, expr *pg.Node) (*pg.Node, []string) {
	c := clone(expr)
	var reasons []string
	walkExpr(c, func(x *pg.Node) bool {
		if sl := x.GetSubLink(); sl != nil && sl.Subselect.GetSelectStmt() != nil {
			if why := r.weightTotal(sl.Subselect.GetSelectStmt()); why != "" {
				reasons = append(reasons, why)
			}
			return false
		}
		fc := x.GetFuncCall()
		if fc == nil || !isAggregate(fc) {
			return true
		}
		t, why := r.twinAgg(p, fc)
		if t == nil {
			reasons = append(reasons, why)
		} else {
			x.Node = t.Node
		}
		return false
	})
	if len(reasons) > 0 {
		return nil, reasons
	}
	return c, nil
}

// numericRounding casts the first argument of round(x, n) and trunc(x, n)
// to numeric. The weighted twin of an aggregate is double precision, and
// PostgreSQL has round(numeric, int) but no round(double precision, int):
// ROUND(AVG(spend), 2) would otherwise fail once weighted.
func numericRounding(expr *pg.Node) {
	walkExpr(expr, func(x *pg.Node) bool {
		if fc := x.GetFuncCall(); fc != nil && len(fc.Args) == 2 {
			if name := funcName(fc); name == "round" || name == "trunc" {
				fc.Args[0] = castNumeric(fc.Args[0])
			}
		}
		return true
	})
}

func andOrNil(conds []*pg.Node) *pg.Node {
	if len(conds) == 0 {
		return nil
	}
	return and(conds...)
}

func cloneAll(ns []*pg.Node) []*pg.Node {
	out := make([]*pg.Node, len(ns))
	for i, n := range ns {
		out[i] = clone(n)
	}
	return out
}

// isKey reports whether a column of mcpa_base is the respondent key of a panelist
// relation.
func (p *plan) isKey(n *pg.Node) bool {
	alias, col := p.source(n)
	if col == "" {
		return false
	}
	it := p.sc.byAlias(alias)
	return it != nil && (it.kind == weightsItem || it.kind == keyItem) && col == p.key
}

// argName is the column name of a plain aggregate's argument, "" for expressions.
func (p *plan) argName(fc *pg.FuncCall) string {
	if len(fc.Args) != 1 {
		return ""
	}
	_, col := p.source(fc.Args[0])
	return col
}

// source maps a mcpa_base column back to the relation and column it projects;
// a column of the query's own FROM (an aggregate's argument in a two-level
// rewrite) is its own source.
func (p *plan) source(n *pg.Node) (alias, col string) {
	cr := n.GetColumnRef()
	if cr == nil {
		return "", ""
	}
	f := fields(cr)
	if len(f) == 2 && f[0] != baseAlias && p.sc.byAlias(f[0]) != nil {
		return f[0], f[1]
	}
	if len(f) != 2 || f[0] != baseAlias {
		return "", ""
	}
	src, ok := p.projOf[f[1]]
	if !ok {
		return "", ""
	}
	return src[0], src[1]
}

// linearInAvg returns expr with its one AVG replaced by sub(avg) when expr is that
// AVG scaled by constants (100.0 * AVG(x), AVG(x) / 60, ROUND(AVG(x), 1)), else nil.
func linearInAvg(expr *pg.Node, sub func(*pg.FuncCall) *pg.Node) *pg.Node {
	switch {
	case expr.GetFuncCall() != nil:
		fc := expr.GetFuncCall()
		if isAggregate(fc) {
			if funcName(fc) == "avg" && len(fc.Args) == 1 && !fc.AggDistinct {
				return sub(fc)
			}
			return nil
		}
		if funcName(fc) == "round" && len(fc.Args) >= 1 && fc.Over == nil {
			inner := linearInAvg(fc.Args[0], sub)
			if inner == nil {
				return nil
			}
			c := clone(expr)
			c.GetFuncCall().Args[0] = inner
			return c
		}
	case expr.GetTypeCast() != nil:
		inner := linearInAvg(expr.GetTypeCast().Arg, sub)
		if inner == nil {
			return nil
		}
		c := clone(expr)
		c.GetTypeCast().Arg = inner
		return c
	case expr.GetAExpr() != nil:
		e := expr.GetAExpr()
		if e.Kind != pg.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 {
			return nil
		}
		op := e.Name[0].GetString_().GetSval()
		switch {
		case op == "*" && isConst(e.Lexpr):
			if inner := linearInAvg(e.Rexpr, sub); inner != nil {
				return binOp("*", clone(e.Lexpr), inner)
			}
		case (op == "*" || op == "/") && isConst(e.Rexpr):
			if inner := linearInAvg(e.Lexpr, sub); inner != nil {
				return binOp(op, inner, clone(e.Rexpr))
			}
		}
	}
	return nil
}

// avg0 returns the AVG call of an expression accepted by linearInAvg.
func avg0(expr *pg.Node) *pg.FuncCall {
	var found *pg.FuncCall
	linearInAvg(expr, func(fc *pg.FuncCall) *pg.Node {
		found = fc
		return nullConst()
	})
	return found
}

func isConst(n *pg.Node) bool {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	return n.GetAConst() != nil && !n.GetAConst().Isnull
}

// isZeroOrOne reports whether the numeric constant f is 0 or 1 (0.0, 1.00…).
func isZeroOrOne(f string) bool {
	v, err := strconv.ParseFloat(f, 64)
	return err == nil && (v == 0 || v == 1)
}

// is01 reports whether x is a 0/1 indicator: a CASE whose results are 0 and 1, or a
// condition cast to a number ((plan = 'premium')::int).
func is01(x *pg.Node) bool {
	switch {
	case x.GetCaseExpr() != nil:
		ce := x.GetCaseExpr()
		results := []*pg.Node{ce.Defresult}
		for _, w := range ce.Args {
			results = append(results, w.GetCaseWhen().GetResult())
		}
		for _, res := range results {
			if res == nil {
				continue
			}
			c := res.GetAConst()
			if c == nil {
				return false
			}
			switch {
			case c.Isnull:
			case c.GetIval() != nil && (c.GetIval().Ival == 0 || c.GetIval().Ival == 1):
			case c.GetFval() != nil && isZeroOrOne(c.GetFval().Fval):
			default:
				return false
			}
		}
		return true
	case x.GetTypeCast() != nil:
		return isCondition(x.GetTypeCast().Arg)
	}
	return false
}

func isCondition(n *pg.Node) bool {
	switch {
	case n.GetBoolExpr() != nil, n.GetNullTest() != nil, n.GetBooleanTest() != nil:
		return true
	case n.GetAExpr() != nil:
		e := n.GetAExpr()
		if e.Kind != pg.A_Expr_Kind_AEXPR_OP {
			return e.Kind != pg.A_Expr_Kind_AEXPR_NULLIF
		}
		switch e.Name[len(e.Name)-1].GetString_().GetSval() {
		case "=", "<>", "!=", "<", ">", "<=", ">=", "~~", "!~~", "~~*", "!~~*":
			return true
		}
	}
	return false
}
