package weighting

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// Names of the two-level rewrite's own relations and columns.
const (
	eventsAlias = "mcpa_e" // level 1 over an event table read alone, before the weights join
	groupPrefix = "mcpa_g" // mcpa_g1, mcpa_g2…: the group expressions, computed at level 1
	partPrefix  = "mcpa_a" // mcpa_a1…: partial aggregates per panelist and group
	countPrefix = "mcpa_c" // mcpa_c1…: the COUNT(x) half of a partial AVG(x)
)

// A partial is one aggregate of an event query split at level 1, where the rows
// are one panelist's events within one group: COUNT becomes a count there and a
// sum of counts at level 2, SUM a sum of sums, AVG a sum and a count, MIN and MAX
// a MIN and MAX of the per-panelist extremes. COUNT(DISTINCT key) needs nothing at
// level 1: every level-2 row is one panelist.
type partial struct {
	canon string // canonical form of the aggregate call as written (qualified)
	fc    *pg.FuncCall
	kind  string // count_star, count, reach, sum, avg, min, max
	a, c  string // level-1 columns: the count, sum or extreme; and the count of an AVG
}

// partialKind says how fc splits into level-1 partials, "" when it does not
// (COUNT(DISTINCT anything but the key), ordered-set and ordered aggregates,
// statistics such as STDDEV that do not add up).
func (r *rewriter) partialKind(p *plan, fc *pg.FuncCall) string {
	if fc.AggWithinGroup || len(fc.AggOrder) > 0 || fc.Over != nil {
		return ""
	}
	name := funcName(fc)
	switch {
	case name == "count" && fc.AggStar:
		return "count_star"
	case len(fc.Args) != 1:
		return ""
	case name == "count" && fc.AggDistinct:
		if fc.AggFilter == nil && p.isKey(fc.Args[0]) {
			return "reach"
		}
		return ""
	case name == "min" || name == "max":
		return name // DISTINCT does not change an extreme
	case fc.AggDistinct:
		return ""
	case name == "count", name == "sum", name == "avg":
		return name
	}
	return ""
}

// planTwoLevel rewrites an event query p into two levels (see [partial]): it
// points the level-2 expressions at the group columns of level 1, splits every
// aggregate into partials and builds mcpa_base. It returns a reason when the
// query has a shape that does not split; p is then unchanged only if the
// reason says so ("" and ok false: nothing was touched, use the one-level
// rewrite).
func (r *rewriter) planTwoLevel(p *plan) (reason string, ok bool) {
	sel := p.sel
	roots := level2Roots(sel)
	if correlatedSubquery(roots, p.sc) {
		return "a correlated sub-query refers to the outer FROM clause", false
	}
	groups := make([]string, len(p.groupBy))
	for i, g := range p.groupBy {
		if !refersTo(g, p.sc) {
			return "", false // a constant group: leave it to the one-level rewrite
		}
		groups[i] = canon(g)
	}
	// Every aggregate must split.
	var parts []*partial
	byCanon := map[string]*partial{}
	splits := true
	for _, root := range roots {
		walkExpr(root, func(x *pg.Node) bool {
			fc := x.GetFuncCall()
			if fc == nil || !isAggregate(fc) {
				return splits
			}
			kind := r.partialKind(p, fc)
			if kind == "" {
				splits = false
				return false
			}
			c := canon(x)
			if byCanon[c] == nil {
				pt := &partial{canon: c, fc: proto.Clone(fc).(*pg.FuncCall), kind: kind}
				byCanon[c] = pt
				parts = append(parts, pt)
			}
			return false
		})
	}
	if !splits {
		return "", false
	}
	// Outside aggregates, level 2 may only use the group expressions.
	replaced := make([]*pg.Node, len(roots))
	for i, root := range roots {
		replaced[i] = clone(root)
		replaceGroups(replaced[i], groups)
		if refersTo(outsideAggregates(replaced[i]), p.sc) {
			return "", false
		}
	}
	// From here on the query is rewritten: commit the replacements.
	setLevel2Roots(sel, replaced)
	p.twoLevel = true
	p.partials = byCanon
	n := 0
	for _, pt := range parts {
		if pt.kind == "reach" {
			continue
		}
		n++
		pt.a = fmt.Sprintf("%s%d", partPrefix, n)
		if pt.kind == "avg" {
			pt.c = fmt.Sprintf("%s%d", countPrefix, n)
		}
	}
	if split := r.splitPerPanelist(p); split != nil {
		r.buildPerPanelist(p, parts, split)
	} else {
		r.buildTwoLevel(p, parts)
	}
	return "", true
}

// level2Roots lists the parts of sel that level 2 computes: the select list,
// HAVING, ORDER BY and named windows.
func level2Roots(sel *pg.SelectStmt) []*pg.Node {
	var roots []*pg.Node
	roots = append(roots, sel.TargetList...)
	if sel.HavingClause != nil {
		roots = append(roots, sel.HavingClause)
	}
	roots = append(roots, sel.SortClause...)
	roots = append(roots, sel.WindowClause...)
	return roots
}

// setLevel2Roots puts back, in level2Roots order, replaced copies of the roots.
func setLevel2Roots(sel *pg.SelectStmt, roots []*pg.Node) {
	i := 0
	for j := range sel.TargetList {
		sel.TargetList[j] = roots[i]
		i++
	}
	if sel.HavingClause != nil {
		sel.HavingClause = roots[i]
		i++
	}
	for j := range sel.SortClause {
		sel.SortClause[j] = roots[i]
		i++
	}
	for j := range sel.WindowClause {
		sel.WindowClause[j] = roots[i]
		i++
	}
}

// replaceGroups replaces, outside aggregates, every sub-expression of n that is
// one of the group expressions (by canonical form) with its level-1 column.
func replaceGroups(n *pg.Node, groups []string) {
	walkExprOutsideAggregates(n, func(x *pg.Node) bool {
		if x.GetResTarget() != nil || x.GetSortBy() != nil || x.GetWindowDef() != nil {
			return true
		}
		c := canon(x)
		for i, g := range groups {
			if c == g {
				x.Node = colRef(baseAlias, groupCol(i)).Node
				return false
			}
		}
		return true
	})
}

func groupCol(i int) string { return fmt.Sprintf("%s%d", groupPrefix, i+1) }

// outsideAggregates returns a copy of n with every aggregate call replaced by NULL,
// so what is left is what level 2 computes from group columns.
func outsideAggregates(n *pg.Node) *pg.Node {
	c := clone(n)
	walkExpr(c, func(x *pg.Node) bool {
		if fc := x.GetFuncCall(); fc != nil && isAggregate(fc) {
			x.Node = nullConst().Node
			return false
		}
		return true
	})
	return c
}

// refersTo reports whether n, at its own query level, refers to a column of a
// relation of sc.
func refersTo(n *pg.Node, sc *scope) bool {
	found := false
	walkExpr(n, func(x *pg.Node) bool {
		if cr := x.GetColumnRef(); cr != nil {
			f := fields(cr)
			if len(f) == 2 && sc.byAlias(f[0]) != nil || len(f) == 1 && sc.resolve(f) != nil {
				found = true
			}
			return false
		}
		return !found
	})
	return found
}

// correlatedSubquery reports whether a sub-query inside the roots refers to a
// relation of the outer FROM clause sc.
func correlatedSubquery(roots []*pg.Node, sc *scope) bool {
	found := false
	for _, root := range roots {
		walkExpr(root, func(x *pg.Node) bool {
			if sl := x.GetSubLink(); sl != nil {
				walk(sl.Subselect, func(y *pg.Node) bool {
					if cr := y.GetColumnRef(); cr != nil {
						f := fields(cr)
						if len(f) == 2 && sc.byAlias(f[0]) != nil {
							found = true
						}
					}
					return !found
				})
				return false
			}
			return !found
		})
	}
	return found
}

// canon is the canonical form of an expression: its protobuf encoding without
// source locations, so two spellings of one expression compare equal.
func canon(n *pg.Node) string {
	c := clone(n)
	clearLocations(c.ProtoReflect())
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	return string(b)
}

// buildTwoLevel builds mcpa_base for a two-level rewrite: level 1 groups the
// query's FROM and WHERE by the group expressions and the respondent key, with
// the partials of every aggregate. An event table read alone is reduced before the
// weights table is joined (far fewer rows to join: one per panelist and group
// instead of one per event); when the query joins the weights table itself, the
// weight is taken at level 1 (MAX of one panelist's constant weight).
func (r *rewriter) buildTwoLevel(p *plan, parts []*partial) {
	sel := p.sel
	key := colRef(p.keyAlias, r.key)
	l1 := &pg.SelectStmt{
		FromClause:  sel.FromClause,
		WhereClause: sel.WhereClause,
		Op:          pg.SetOperation_SETOP_NONE,
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT,
	}
	for i, g := range p.groupBy {
		l1.TargetList = append(l1.TargetList, resTarget(groupCol(i), clone(g)))
	}
	l1.TargetList = append(l1.TargetList, resTarget(panelistCol, key))
	for i := range len(p.groupBy) + 1 {
		l1.GroupClause = append(l1.GroupClause, intConst(int64(i+1)))
	}
	if p.joinItem == nil {
		l1.TargetList = append(l1.TargetList, resTarget(weightCol, funcCall("max", r.weightExpr(colRef(p.keyAlias, r.weight)))))
	}
	for _, pt := range parts {
		l1.TargetList = append(l1.TargetList, pt.level1()...)
	}
	base := l1
	if p.joinItem != nil {
		base = &pg.SelectStmt{Op: pg.SetOperation_SETOP_NONE, LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT}
		for _, t := range l1.TargetList {
			name := t.GetResTarget().Name
			base.TargetList = append(base.TargetList, resTarget(name, colRef(eventsAlias, name)))
		}
		base.TargetList = append(base.TargetList, resTarget(weightCol, r.weightExpr(colRef(usersAlias, r.weight))))
		quals := binOp("=", colRef(usersAlias, r.key), colRef(eventsAlias, panelistCol))
		if conds := r.keyConditions(sel.WhereClause, p.joinItem.alias); len(conds) > 0 {
			quals = and(append([]*pg.Node{quals}, conds...)...)
		}
		base.FromClause = []*pg.Node{pg.MakeJoinExprNode(pg.JoinType_JOIN_LEFT,
			subselect(l1, eventsAlias), rangeVar(r.weightsTable, usersAlias), quals)}
	}
	p.base, p.level1 = base, l1
	// Groups of the weights table's own columns are attributes of the
	// panelist: level 1 is then one row per panelist, as in
	// buildPerPanelist, and Total rows roll up at level 2.
	p.perPanelist = p.joinItem == nil && groupsOn(p.groupBy, p.wItem.alias)
	sel.GroupClause = nil
	for i := range p.groupBy {
		sel.GroupClause = append(sel.GroupClause, colRef(baseAlias, groupCol(i)))
	}
	sel.FromClause = []*pg.Node{subselect(base, baseAlias)}
	sel.WhereClause = nil
}

// level1 returns the level-1 columns of a partial.
func (pt *partial) level1() []*pg.Node {
	agg := func(name string) *pg.Node {
		fc := proto.Clone(pt.fc).(*pg.FuncCall)
		fc.Funcname = []*pg.Node{str(name)}
		if name == "count" || name == "sum" {
			fc.AggDistinct = false
		}
		return &pg.Node{Node: &pg.Node_FuncCall{FuncCall: fc}}
	}
	switch pt.kind {
	case "reach":
		return nil
	case "count_star", "count":
		return []*pg.Node{resTarget(pt.a, agg("count"))}
	case "avg":
		return []*pg.Node{resTarget(pt.a, agg("sum")), resTarget(pt.c, agg("count"))}
	}
	return []*pg.Node{resTarget(pt.a, agg(pt.kind))} // sum, min, max
}

// partialOf returns the partial of an aggregate call of the query.
func (p *plan) partialOf(fc *pg.FuncCall) *partial {
	return p.partials[canon(&pg.Node{Node: &pg.Node_FuncCall{FuncCall: fc}})]
}

// twinPartial is the weighted form, at level 2, of a split aggregate.
func (r *rewriter) twinPartial(p *plan, pt *partial) *pg.Node {
	w := r.w()
	switch pt.kind {
	case "reach":
		return funcCall("sum", w)
	case "count_star", "count", "sum":
		return funcCall("sum", binOp("*", colRef(baseAlias, pt.a), w))
	case "avg":
		return binOp("/", funcCall("sum", binOp("*", colRef(baseAlias, pt.a), r.w())),
			nullIf0(funcCall("sum", binOp("*", colRef(baseAlias, pt.c), r.w()))))
	}
	return nil
}

// unweightedPartial is the analyst's own aggregate, at level 2: the same
// figure as over the events, from the partials.
func (r *rewriter) unweightedPartial(p *plan, pt *partial) *pg.Node {
	switch pt.kind {
	case "reach":
		return funcCall("count", colRef(baseAlias, panelistCol))
	case "count_star", "count":
		// COUNT is bigint on both engines; a sum of counts is numeric or
		// hugeint. Over no rows at all COUNT is 0, a sum NULL.
		n := castBigint(funcCall("sum", colRef(baseAlias, pt.a)))
		if len(p.groupBy) == 0 {
			n = coalesce(n, intConst(0))
		}
		return n
	case "sum":
		return funcCall("sum", colRef(baseAlias, pt.a))
	case "avg":
		return binOp("/", funcCall("sum", colRef(baseAlias, pt.a)), nullIf0(funcCall("sum", colRef(baseAlias, pt.c))))
	}
	return funcCall(pt.kind, colRef(baseAlias, pt.a)) // min, max
}

// recombine replaces the aggregates the analyst wrote, wherever level 2 still
// holds them (select list, HAVING, ORDER BY, windows), with their level-2 forms.
func (r *rewriter) recombine(p *plan) {
	for _, root := range level2Roots(p.sel) {
		walkExpr(root, func(x *pg.Node) bool {
			fc := x.GetFuncCall()
			if fc == nil || !isAggregate(fc) {
				return true
			}
			if pt := p.partialOf(fc); pt != nil {
				x.Node = r.unweightedPartial(p, pt).Node
			}
			return false
		})
	}
}

// keyConditions returns the conditions of where on the event table's key alone
// (user_id BETWEEN 1 AND 500, user_id IN (…)), written on the weights table's
// key: they hold for it whenever the join matches, and PostgreSQL does not carry
// a range across an equality by itself, so without them it reads the whole
// weights table to join a few hundred events (35 ms instead of 1 ms on a
// 100,000-panelist bench panel).
func (r *rewriter) keyConditions(where *pg.Node, alias string) []*pg.Node {
	var out []*pg.Node
	for _, c := range conjuncts(where) {
		if onlyOn(c, alias, r.key) {
			moved := clone(c)
			walk(moved, func(x *pg.Node) bool {
				if x.GetColumnRef() != nil {
					x.Node = colRef(usersAlias, r.key).Node
				}
				return true
			})
			out = append(out, moved)
		}
	}
	return out
}

func subselect(sel *pg.SelectStmt, alias string) *pg.Node {
	return &pg.Node{Node: &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{
		Subquery: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}},
		Alias:    &pg.Alias{Aliasname: alias},
	}}}
}
