package weighting

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// Names the rewrite uses for its own relations and columns.
const (
	baseAlias   = "mcpa_base" // the derived table every weighted query reads from
	usersAlias  = "mcpa_u"    // the weights table joined to an event table
	weightCol   = "mcpa_w"    // the row's weight (scaled; NULL when missing or not positive)
	panelistCol = "mcpa_p"    // not NULL on the first row of a panelist within a group, else NULL

	// Constants of the design, projected into mcpa_base when a figure needs them.
	nAllCol      = "mcpa_n"  // panelists with a positive weight: the sample size of the design
	universeCol  = "mcpa_u"  // Σw of the universe a reach % divides by
	universe2Col = "mcpa_u2" // Σw² of that universe
)

// plan is what weightSelect learned about one SELECT.
type plan struct {
	sel       *pg.SelectStmt
	sc        *scope
	wItem     *item // the weights table, when the query reads it
	joinItem  *item // the event table the weights table is joined to
	keyAlias  string
	events    bool // rows may be several per panelist and group
	panelists bool // rows are panelists (users, or the outer stage of a two-stage query)
	grouped   bool
	groupBy   []*pg.Node // GROUP BY expressions, in the scope of the original FROM
	where     []*pg.Node // the conjuncts of WHERE, qualified

	key    string               // the respondent key column
	projOf map[string][2]string // mcpa_base column -> relation alias and column
	names  map[string]bool      // output names in use
	added  []*pg.Node
	base   *pg.SelectStmt  // the derived table mcpa_base
	consts map[string]bool // constants already projected into mcpa_base (mcpa_n, ...)

	// twoLevel: an event query reduced to one row per panelist and group
	// first (twolevel.go); partials are its split aggregates by canonical form.
	twoLevel bool
	partials map[string]*partial
	// perPanelist: a two-level rewrite whose level 1 is one row per
	// panelist, its groups taken from the weights table (perpanelist.go,
	// or a join that also filters on both tables).
	perPanelist bool

	keyItems   []*item  // the relations with the respondent key but no weight
	stageAlias string   // an inner stage whose rows are per panelist and rowsAre
	rowsAre    []string // its group columns the outer query does not keep

	analyst int            // select-list entries the analyst wrote (the rest are added)
	twinOf  map[int]string // analyst entry -> the name of its weighted twin
	uni     *universeJoin  // per-group reach universes, joined by wrap
	baseCol string         // the name of the added unweighted base column (n, n_2…)

	addedRoles Added    // the added columns by role
	groups     []string // output names of the grouping columns
	groupNames []string // the output name of each groupBy entry ("" when not selected)

	level1  *pg.SelectStmt // level 1 of a two-level rewrite (p.base, or below it)
	totals  *totalsPlan    // set when the answer carries Total rows
	compare *Compare       // set when compare_by asked for a test the shape allows
}

// rowsArePanelists reports whether each row of mcpa_base is one panelist (within
// its group): users, the outer stage of a two-stage query, or level 1 of a
// two-level rewrite. Then a panelist's weight counts once per row.
func (p *plan) rowsArePanelists() bool { return p.panelists || p.twoLevel }

// weightSelect rewrites, in place, the SELECT in stmt into an aggregate over a derived
// table that carries each row's weight, and appends the weighted columns. It returns
// a reason when it cannot be weighted safely; stmt may then be half changed and must
// be thrown away.
func (r *rewriter) weightSelect(stmt *pg.Node) (*plan, string) {
	work := stmt.GetSelectStmt()
	p := &plan{sel: work, sc: r.scope(work), key: r.key, names: map[string]bool{}, projOf: map[string][2]string{}}
	if reason := r.choose(p); reason != "" {
		return nil, reason
	}
	if reason := r.build(p); reason != "" {
		return nil, reason
	}
	if p.needsWrap() {
		r.wrap(stmt, p)
	}
	r.events = p.events
	return p, ""
}

// choose decides where the weight comes from.
func (r *rewriter) choose(p *plan) string {
	sc := p.sc
	switch {
	case sc.outerJoin:
		return "outer joins could duplicate or drop panelists"
	case sc.unknown:
		return "the FROM clause reads a function or a VALUES list"
	case len(sc.items) == 0:
		return "the query reads no table"
	}
	var keyItems []*item
	for _, it := range sc.items {
		if it.alias == "" {
			return "a sub-query in FROM has no alias, so its columns cannot be named"
		}
		switch it.kind {
		case weightsItem:
			if p.wItem != nil {
				return fmt.Sprintf("%s appears twice, which would count panelists more than once", r.weightsTable)
			}
			p.wItem = it
		case keyItem:
			keyItems = append(keyItems, it)
		}
	}
	switch {
	case p.wItem != nil:
		p.keyAlias = p.wItem.alias
		p.events = len(keyItems) > 0
		p.keyItems = keyItems
	case len(keyItems) == 1:
		p.joinItem = keyItems[0]
		p.keyItems = keyItems
		p.keyAlias = p.joinItem.alias
		p.events = true
	case len(keyItems) > 1:
		return fmt.Sprintf("several event tables are joined without %s, which could count a panelist's events many times", r.weightsTable)
	default:
		return fmt.Sprintf("the query reads neither %s nor a table with %s", r.weightsTable, r.key)
	}
	p.panelists = !p.events
	return ""
}

// build performs the rewrite of p.sel.
func (r *rewriter) build(p *plan) string {
	sel := p.sel
	for _, t := range sel.TargetList {
		if isStar(t.GetResTarget().GetVal()) && !expandStars(sel, p.sc) {
			return "SELECT * over a relation whose columns are unknown or a JOIN with USING"
		}
	}
	for _, g := range sel.GroupClause {
		if g.GetGroupingSet() != nil {
			return "GROUPING SETS, ROLLUP and CUBE are not weighted"
		}
	}
	if sel.DistinctClause != nil {
		return "SELECT DISTINCT over aggregates is not weighted"
	}

	// Qualify every column so the joined weights table cannot make one ambiguous.
	outputs := map[string]bool{}
	for _, t := range sel.TargetList {
		if rt := t.GetResTarget(); rt != nil {
			outputs[targetName(rt)] = true
			p.names[targetName(rt)] = true
		}
	}
	for _, t := range sel.TargetList {
		qualify(t, p.sc)
	}
	qualify(sel.WhereClause, p.sc)
	qualify(sel.HavingClause, p.sc)
	for _, g := range sel.GroupClause {
		qualify(g, p.sc)
	}
	for _, w := range sel.WindowClause {
		qualify(w, p.sc)
	}
	for _, s := range sel.SortClause {
		if cr := s.GetSortBy().GetNode().GetColumnRef(); cr != nil && len(cr.Fields) == 1 && outputs[fields(cr)[0]] {
			continue
		}
		qualify(s, p.sc)
	}
	for _, f := range sel.FromClause {
		walkExpr(f, func(x *pg.Node) bool {
			if j := x.GetJoinExpr(); j != nil {
				qualify(j.Quals, p.sc)
			}
			return x.GetRangeSubselect() == nil
		})
	}

	// The GROUP BY expressions, for partitioning panelists and for the checks below.
	for _, g := range sel.GroupClause {
		e := resolveGroupExpr(g, sel.TargetList)
		if cr := e.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
			for _, t := range sel.TargetList {
				if rt := t.GetResTarget(); rt != nil && rt.Name != "" && strings.EqualFold(rt.Name, fields(cr)[0]) {
					e = rt.Val
				}
			}
		}
		if r.isKeyExpr(e, p.sc) {
			return fmt.Sprintf("the GROUP BY includes %s, so each row is one panelist; the query that aggregates over panelists is the one to weight", r.key)
		}
		p.groupBy = append(p.groupBy, clone(e))
	}
	p.grouped = len(p.groupBy) > 0

	// A two-stage query reads the rows of an inner query grouped by the key. When
	// the outer GROUP BY keeps the inner groups (or there are none), those are one
	// row per panelist and group: no de-duplication is needed and means are per
	// panelist. Otherwise a row is a panelist within an inner group (per panelist
	// and app, say), and the notes say so.
	if len(p.keyItems) > 0 {
		keeps, stages := true, true
		for _, it := range p.keyItems {
			stages = stages && it.panelistRows
			for _, c := range it.groupCols {
				found := false
				for _, g := range p.groupBy {
					if cr := g.GetColumnRef(); cr != nil {
						f := fields(cr)
						found = found || (f[len(f)-1] == c && p.sc.resolve(f) == it)
					}
				}
				if !found {
					keeps = false
					p.rowsAre = append(p.rowsAre, c)
				}
			}
		}
		switch {
		case stages && keeps:
			p.panelists = true
			r.twoStage = true
		case stages:
			p.stageAlias = p.keyItems[0].alias
		default:
			p.rowsAre = nil
		}
	}

	p.where = conjuncts(clone(sel.WhereClause))
	nameTargets(sel)
	for _, g := range p.groupBy {
		name := ""
		for _, t := range sel.TargetList {
			if rt := t.GetResTarget(); rt != nil && rt.Val != nil && canon(rt.Val) == canon(g) {
				name = targetName(rt)
				break
			}
		}
		p.groupNames = append(p.groupNames, name)
	}
	if !p.panelists {
		reason, ok := r.planTwoLevel(p)
		if reason != "" {
			return reason
		}
		if !ok {
			r.oneLevel = true
		}
	}
	if !p.twoLevel {
		if reason := r.project(p); reason != "" {
			return reason
		}
	}
	r.addColumns(p)
	if p.twoLevel {
		r.recombine(p)
	}
	if r.opts.Totals {
		r.addTotals(p)
	}
	return ""
}

// project moves FROM and WHERE into the derived table mcpa_base, which projects the
// columns the select uses plus the weight and the first-row-of-panelist flag, and
// points the select's column references at it.
func (r *rewriter) project(p *plan) string {
	sel := p.sel
	type proj struct {
		alias, col, name string
	}
	var projs []*proj
	byKey := map[string]*proj{}
	var refs []*pg.Node
	var refProj []*proj
	collect := func(n *pg.Node) {
		walkExpr(n, func(x *pg.Node) bool {
			cr := x.GetColumnRef()
			if cr == nil {
				return true
			}
			f := fields(cr)
			if len(f) != 2 || p.sc.byAlias(f[0]) == nil {
				return false
			}
			k := f[0] + "." + f[1]
			pr := byKey[k]
			if pr == nil {
				pr = &proj{alias: f[0], col: f[1]}
				byKey[k] = pr
				projs = append(projs, pr)
			}
			refs = append(refs, x)
			refProj = append(refProj, pr)
			return false
		})
	}
	for _, t := range sel.TargetList {
		collect(t)
	}
	for _, g := range sel.GroupClause {
		collect(g)
	}
	collect(sel.HavingClause)
	for _, s := range sel.SortClause {
		collect(s)
	}
	for _, w := range sel.WindowClause {
		collect(w)
	}
	// Sub-queries that refer to the outer FROM would lose it.
	correlated := false
	for _, t := range sel.TargetList {
		walk(t, func(x *pg.Node) bool {
			if cr := x.GetColumnRef(); cr != nil {
				f := fields(cr)
				if len(f) == 2 && p.sc.byAlias(f[0]) != nil && !isCollected(x, refs) {
					correlated = true
				}
			}
			return !correlated
		})
	}
	if correlated {
		return "a correlated sub-query refers to the outer FROM clause"
	}

	count := map[string]int{}
	for _, pr := range projs {
		count[pr.col]++
	}
	used := map[string]bool{weightCol: true, panelistCol: true, nAllCol: true, universeCol: true, universe2Col: true}
	for _, pr := range projs {
		name := pr.col
		if count[pr.col] > 1 || strings.HasPrefix(name, "mcpa_") {
			name = pr.alias + "_" + pr.col
		}
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s_%d", pr.col, i)
		}
		used[name] = true
		pr.name = name
		p.projOf[name] = [2]string{pr.alias, pr.col}
	}

	base := &pg.SelectStmt{
		FromClause:  sel.FromClause,
		WhereClause: sel.WhereClause,
		Op:          pg.SetOperation_SETOP_NONE,
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT,
	}
	p.base = base
	for _, pr := range projs {
		base.TargetList = append(base.TargetList, resTarget(pr.name, colRef(pr.alias, pr.col)))
	}
	wSrc := colRef(p.keyAlias, r.weight)
	if p.joinItem != nil {
		wSrc = colRef(usersAlias, r.weight)
		r.joinUsers(base, p.joinItem)
	}
	base.TargetList = append(base.TargetList, resTarget(weightCol, r.weightExpr(wSrc)))
	key := colRef(p.keyAlias, r.key)
	if p.panelists {
		// Each row is one panelist: the key itself marks it (COUNT skips NULLs).
		base.TargetList = append(base.TargetList, resTarget(panelistCol, key))
	} else {
		// The key goes first: the partition is the same set in any order,
		// and PostgreSQL then sorts mostly by the (indexed, integer) key
		// instead of by the group's text columns under a collation.
		part := append([]*pg.Node{clone(key)}, p.groupBy...)
		rn := windowed(funcCall("row_number"), part...)
		cond := and(notNull(clone(key)), binOp("=", rn, intConst(1)))
		base.TargetList = append(base.TargetList, resTarget(panelistCol, caseWhen(cond, intConst(1), nil)))
	}

	// Point the select at mcpa_base.
	for i, x := range refs {
		x.Node = colRef(baseAlias, refProj[i].name).Node
	}
	sel.FromClause = []*pg.Node{{Node: &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{
		Subquery: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: base}},
		Alias:    &pg.Alias{Aliasname: baseAlias},
	}}}}
	sel.WhereClause = nil
	return ""
}

func isCollected(x *pg.Node, refs []*pg.Node) bool {
	for _, r := range refs {
		if r == x {
			return true
		}
	}
	return false
}

// joinUsers joins the weights table to the FROM entry that holds the event item. The
// join is LEFT so events of panelists missing from the weights table still count in
// the unweighted figures; they carry no weight.
// Conditions of the WHERE clause on the event table's key alone are repeated on the
// weights table's key in the join (see keyConditions).
func (r *rewriter) joinUsers(base *pg.SelectStmt, it *item) {
	quals := binOp("=", colRef(usersAlias, r.key), colRef(it.alias, r.key))
	if conds := r.keyConditions(base.WhereClause, it.alias); len(conds) > 0 {
		quals = and(append([]*pg.Node{quals}, conds...)...)
	}
	users := rangeVar(r.weightsTable, usersAlias)
	for i, f := range base.FromClause {
		contains := false
		walk(f, func(x *pg.Node) bool {
			if x == it.node {
				contains = true
			}
			return !contains && x.GetRangeSubselect() == nil && x.GetSelectStmt() == nil
		})
		if contains {
			base.FromClause[i] = pg.MakeJoinExprNode(pg.JoinType_JOIN_LEFT, f, users, quals)
			return
		}
	}
}

// onlyOn reports whether the condition c refers to no column but alias.key and is
// made only of operators, constants, casts, lists and boolean logic: no function
// (which might be volatile) and no sub-query.
func onlyOn(c *pg.Node, alias, key string) bool {
	refs, ok := 0, true
	walk(c, func(x *pg.Node) bool {
		switch n := x.Node.(type) {
		case *pg.Node_ColumnRef:
			f := fields(n.ColumnRef)
			if len(f) != 2 || f[0] != alias || f[1] != key {
				ok = false
			}
			refs++
		case *pg.Node_AExpr, *pg.Node_AConst, *pg.Node_TypeCast, *pg.Node_List, *pg.Node_BoolExpr, *pg.Node_NullTest, *pg.Node_String_, *pg.Node_TypeName:
		default:
			ok = false
		}
		return ok
	})
	return ok && refs > 0
}

// weightExpr is CASE WHEN w > 0 THEN CAST(w AS double precision) * scale END: a NULL,
// zero or negative weight drops the panelist from the weighted figures.
func (r *rewriter) weightExpr(w *pg.Node) *pg.Node {
	v := castDouble(clone(w))
	if r.scale != 1 {
		v = binOp("*", v, floatConst(r.scale))
	}
	return caseWhen(binOp(">", w, intConst(0)), v, nil)
}

// universe returns a FROM entry and its alias for a scalar sub-query over the
// panelists of the query, and the user-level conditions of its WHERE clause: the
// population a reach % divides by.
func (r *rewriter) universe(p *plan, whereConds []*pg.Node) (from *pg.Node, alias string, conds []*pg.Node) {
	if p.wItem == nil {
		return rangeVar(r.weightsTable, usersAlias), usersAlias, nil
	}
	from = clone(p.wItem.node)
	for _, c := range whereConds {
		if on, ok := aliasesOf(c); ok && (len(on) == 0 || len(on) == 1 && on[p.wItem.alias]) {
			conds = append(conds, clone(c))
		}
	}
	return from, p.wItem.alias, conds
}

func conjuncts(n *pg.Node) []*pg.Node {
	if n == nil {
		return nil
	}
	if b := n.GetBoolExpr(); b != nil && b.Boolop == pg.BoolExprType_AND_EXPR {
		var out []*pg.Node
		for _, a := range b.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []*pg.Node{n}
}
