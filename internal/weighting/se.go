package weighting

// The formulas of the added figures: weights, design constants, standard
// errors and margins of error (checked against R's survey package in
// testdata/panel). columns.go decides which figures a query gets and names
// them.

import pg "github.com/pganalyze/pg_query_go/v6"

// z95 is the normal quantile of the margins of error, rounded as survey reports use it.
const z95 = 1.96

// w is the row's weight; wp counts it once per panelist and group (mcpa_p is 1 on a
// panelist's first row, NULL on the others). Weights are positive or NULL, so a sum
// of them is positive or NULL, never zero: dividing by one needs no NULLIF.
func (r *rewriter) w() *pg.Node { return colRef(weightCol) }

func (r *rewriter) w2() *pg.Node { return binOp("*", r.w(), r.w()) }

func (r *rewriter) wp(p *plan) *pg.Node {
	if p.rowsArePanelists() {
		return r.w()
	}
	return binOp("*", r.w(), colRef(panelistCol))
}

// constant projects a constant of the design into mcpa_base once, as name, and
// returns it as an aggregate of the outer query: MAX(mcpa_base.name).
func (r *rewriter) constant(p *plan, name string, val func() *pg.Node) *pg.Node {
	if p.consts == nil {
		p.consts = map[string]bool{}
	}
	if !p.consts[name] {
		p.consts[name] = true
		p.base.TargetList = append(p.base.TargetList, resTarget(name, val()))
	}
	return funcCall("max", colRef(name))
}

// nAll is the sample size of the design: every panelist with a positive weight,
// whatever the query's filters (a subgroup is a domain of the whole sample).
func (r *rewriter) nAll(p *plan) *pg.Node {
	if pn := r.opts.Panel; pn != nil {
		return floatConst(float64(pn.N))
	}
	return r.constant(p, nAllCol, func() *pg.Node {
		return castDouble(scalarSubquery(&pg.SelectStmt{
			TargetList:  []*pg.Node{resTarget("", funcCall("count", colRef("mcpa_n", r.key)))},
			FromClause:  []*pg.Node{rangeVar(r.weightsTable, "mcpa_n")},
			WhereClause: binOp(">", colRef("mcpa_n", r.weight), intConst(0)),
		}))
	})
}

// finite is n/(n−1) with n the sample size of the design; NULL when n is 1 or less.
func (r *rewriter) finite(p *plan) *pg.Node {
	if pn := r.opts.Panel; pn != nil {
		if pn.N <= 1 {
			return nullConst()
		}
		return floatConst(float64(pn.N) / float64(pn.N-1))
	}
	return binOp("/", r.nAll(p), r.nMinus1(p))
}

// nMinus1 is n−1 with n the sample size of the design; NULL when it is zero.
func (r *rewriter) nMinus1(p *plan) *pg.Node {
	if pn := r.opts.Panel; pn != nil {
		if pn.N == 1 {
			return nullConst()
		}
		return floatConst(float64(pn.N - 1))
	}
	return nullIf0(binOp("-", r.nAll(p), intConst(1)))
}

// The statistics below share sub-expressions rather than copy them (deparsing
// writes a shared node once per use): nothing changes the tree after addColumns.

// seTotal is the standard error of a weighted total t with Σw² s2 over the group, as
// R's svytotal of the group indicator: SQRT((n·s2 − t²) / (n−1)).
func (r *rewriter) seTotal(p *plan, t, s2 *pg.Node) *pg.Node {
	v := binOp("-", binOp("*", r.nAll(p), s2), square(t))
	return sqrt0(binOp("/", v, r.nMinus1(p)))
}

// seShare is the standard error, in percentage points, of the share p = t/W of a
// group in a total W with Σw² W2, as R's svymean of the group indicator:
// SQRT(n/(n−1)·((1−p)²·s2 + p²·(W2 − s2))) / W, written without p as
// 100·SQRT(n/(n−1)·((W−t)²·s2 + t²·(W2−s2))) / W².
func (r *rewriter) seShare(p *plan, t, s2, total, total2 *pg.Node) *pg.Node {
	inner := binOp("+",
		binOp("*", square(binOp("-", total, t)), s2),
		binOp("*", square(t), binOp("-", total2, s2)))
	return binOp("/", binOp("*", floatConst(100), sqrt0(binOp("*", r.finite(p), inner))), square(total))
}

// moeShare is the 95 % margin of error, in percentage points, of the share t/W with
// n_eff = W²/W2: 1.96·SQRT(p(1−p)/n_eff) = 196·SQRT(t·(W−t)·W2) / W².
func (r *rewriter) moeShare(t, total, total2 *pg.Node) *pg.Node {
	v := binOp("*", binOp("*", t, binOp("-", total, t)), total2)
	return binOp("/", binOp("*", floatConst(100*z95), sqrt0(v)), square(total))
}

// square is POWER(x, 2), which names x once.
func square(x *pg.Node) *pg.Node { return funcCall("power", x, intConst(2)) }

// universeTotals are Σw and Σw² of the universe a reach % divides by, projected into
// mcpa_base; literals from [Options.Panel] when the universe is the whole weights
// table (no user-level filter).
func (r *rewriter) universeTotals(p *plan) (u, u2 *pg.Node) {
	from, alias, conds := r.universe(p, p.where)
	if groups, level2 := r.userLevelGroups(p); len(groups) > 0 {
		// Grouped by the panelists' own attributes (gender, age group...),
		// a reach % is within the group: Netflix reach among women divides
		// by the weight of women (after the user-level filters), as R's
		// svyby(~used, ~gender, svymean) gives it. The universe of every
		// group comes from one aggregate over the weights table, grouped by
		// the same expressions and joined to the answer's groups by wrap.
		if p.uni == nil {
			p.uni = &universeJoin{from: from, alias: alias, conds: conds, groups: groups, level2: level2, totalIdx: -1}
		}
		r.groupUniverse = true
		return colRef(uniAlias, universeCol), colRef(uniAlias, universe2Col)
	}
	if pn := r.opts.Panel; pn != nil && len(conds) == 0 && (p.wItem == nil || p.wItem.table != "") {
		return floatConst(pn.SumW * r.scale), floatConst(pn.SumW2 * r.scale * r.scale)
	}
	we := func() *pg.Node { return r.weightExpr(colRef(alias, r.weight)) }
	sub := func(val *pg.Node) func() *pg.Node {
		return func() *pg.Node {
			return scalarSubquery(&pg.SelectStmt{
				TargetList:  []*pg.Node{resTarget("", val)},
				FromClause:  []*pg.Node{clone(from)},
				WhereClause: andOrNil(cloneAll(conds)),
			})
		}
	}
	u = r.constant(p, universeCol, sub(funcCall("sum", we())))
	u2 = r.constant(p, universe2Col, sub(funcCall("sum", binOp("*", we(), we()))))
	return u, u2
}

// sqrt0 is SQRT(GREATEST(x, 0)): rounding must not take a square root below zero.
func sqrt0(x *pg.Node) *pg.Node { return funcCall("sqrt", greatest0(x)) }

// seMean is the standard error of the weighted mean of avg's argument in its group,
// as R's survey::svyby(..., svymean) computes it for svydesign(ids=~1, weights=~w):
// SQRT(N/(N-1) · Σ w²(y−m)²) / Σ w, with N the full sample (every panelist with a
// weight), expanded into single-pass sums.
func (r *rewriter) seMean(p *plan, avg *pg.FuncCall) *pg.Node {
	y := castDouble(clone(avg.Args[0]))
	wx := func() *pg.Node { return caseWhen(notNull(clone(avg.Args[0])), r.w(), nil) }
	m := func() *pg.Node {
		t, _ := r.twinAgg(p, avg)
		return t
	}
	// The weights of rows where the value is NULL must be left out of every
	// sum; y·w and y·w·w are NULL there already, so only Σw² needs a CASE.
	// (Fewer CASEs: less work per row in the database, a smaller tree to
	// deparse.)
	yw := func() *pg.Node { return binOp("*", clone(y), r.w()) }
	sW2 := r.sumW(p, avg, r.w2Where(avg))
	sW2Y := r.sumW(p, avg, binOp("*", yw(), r.w()))
	sW2Y2 := r.sumW(p, avg, binOp("*", yw(), yw()))
	ss := binOp("+", binOp("-", sW2Y2, binOp("*", binOp("*", floatConst(2), m()), sW2Y)),
		binOp("*", binOp("*", m(), m()), sW2))
	factor := r.finite(p)
	variance := binOp("*", factor, ss)
	return binOp("/", funcCall("sqrt", greatest0(variance)),
		r.sumW(p, avg, wx()))
}

// w2Where is the squared weight of the rows where the argument of avg is not NULL.
func (r *rewriter) w2Where(avg *pg.FuncCall) *pg.Node {
	return caseWhen(notNull(clone(avg.Args[0])), binOp("*", r.w(), r.w()), nil)
}

// moeMean is the 95 % margin of error of a share within the group (the mean of a 0/1
// indicator), from the effective base of the group's rows with the indicator.
func (r *rewriter) moeMean(p *plan, avg *pg.FuncCall) *pg.Node {
	wx := func() *pg.Node { return caseWhen(notNull(clone(avg.Args[0])), r.w(), nil) }
	sw := r.sumW(p, avg, wx())
	neff := binOp("/", binOp("*", sw, clone(sw)), r.sumW(p, avg, r.w2Where(avg)))
	m, _ := r.twinAgg(p, avg)
	return r.moe(m, neff)
}

// moe is 1.96 · SQRT(p(1−p) / n_eff).
func (r *rewriter) moe(share, neff *pg.Node) *pg.Node {
	pq := binOp("*", share, binOp("-", intConst(1), clone(share)))
	return binOp("*", floatConst(z95), funcCall("sqrt", binOp("/", greatest0(pq), neff)))
}

func nullIf0(x *pg.Node) *pg.Node {
	return pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_NULLIF, []*pg.Node{str("=")}, x, intConst(0), -1)
}

// greatest0 is GREATEST(x, 0): rounding must not take a square root below zero.
func greatest0(x *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_MinMaxExpr{MinMaxExpr: &pg.MinMaxExpr{
		Op:       pg.MinMaxOp_IS_GREATEST,
		Args:     []*pg.Node{x, intConst(0)},
		Location: -1,
	}}}
}

// weightTotal weights, in place, a scalar sub-query that computes a total over the
// weights table (COUNT(*) FROM users), so a percentage the analyst wrote divides a
// weighted numerator by a weighted denominator in the same unit.
func (r *rewriter) weightTotal(sub *pg.SelectStmt) string {
	if !hasAggregate(sub.TargetList) {
		return ""
	}
	const why = "a sub-query total that does not read only the weights table cannot be weighted, so the expression that uses it is left unweighted"
	sc := r.scope(sub)
	if sub.Op != pg.SetOperation_SETOP_NONE || len(sc.items) != 1 || sc.items[0].kind != weightsItem || sc.outerJoin || len(sub.GroupClause) > 0 {
		return why
	}
	it := sc.items[0]
	for _, t := range sub.TargetList {
		qualify(t, sc)
	}
	w := func() *pg.Node { return r.weightExpr(colRef(it.alias, r.weight)) }
	failed := ""
	for _, t := range sub.TargetList {
		walkExpr(t, func(x *pg.Node) bool {
			fc := x.GetFuncCall()
			if fc == nil || !isAggregate(fc) {
				return true
			}
			var twin *pg.Node
			switch name := funcName(fc); {
			case name == "count" && fc.AggStar:
				twin = r.sumW(nil, fc, w())
			case fc.AggDistinct || len(fc.Args) != 1:
			case name == "count":
				twin = r.sumW(nil, fc, caseWhen(notNull(clone(fc.Args[0])), w(), nil))
			case name == "sum":
				twin = r.sumW(nil, fc, binOp("*", clone(fc.Args[0]), w()))
			}
			if twin == nil {
				failed = why
			} else {
				x.Node = twin.Node
			}
			return false
		})
	}
	return failed
}
