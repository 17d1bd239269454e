package weighting

import (
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// Names of the Total rows' own columns.
const (
	totalCol      = "mcpa_t"   // 1 on a Total row of level 1 (two-level rewrite), else 0
	isTotalColumn = "is_total" // the answer's column marking Total rows
)

// addTotals gives a grouped weighted answer its Total rows, computed in the
// same statement: the same figures over everyone the WHERE keeps, with the
// column variable (compare_by, else the first grouping column) rolled up and
// the other grouping columns kept, so a one-way split gets one Total row and
// a crosstab a Total per row category (a Total column). A Total row has NULL
// in the column variable and true in the added is_total column; every share
// and window of the answer is taken within its own kind of row, so a group's
// weighted_pct is unchanged and the Total's is 100.
//
// Events are rolled up at level 1, before the weights join, so a panelist who
// used two apps is one panelist of the Total (see unionTotals); panelists are
// rolled up at level 2. Rows of a two-stage query that are per
// panelist and inner group, and the one-level event rewrite, get no Total: a
// panelist would count once per group in it.
func (r *rewriter) addTotals(p *plan) {
	if !p.grouped || !p.twoLevel && (!p.panelists || p.stageAlias != "" || hasGroupCols(p.keyItems)) {
		return
	}
	col := 0 // the first grouping column, unless compare_by names another
	for i, name := range p.groupNames {
		if r.opts.CompareBy != "" && name == r.opts.CompareBy {
			col = i
		}
	}
	sel := p.sel
	var part, flag *pg.Node
	var groups []*pg.Node   // the level-2 group expressions
	var oneLevel []*pg.Node // the group expressions of a one-level answer
	if p.twoLevel && !p.perPanelist {
		l1 := p.level1
		if volatile(l1.FromClause, l1.WhereClause) {
			// Two scans could see different rows: roll up in one.
			full := make([]*pg.Node, 0, len(p.groupBy)+1)
			for _, g := range p.groupBy {
				full = append(full, clone(g))
			}
			full = append(full, colRef(p.keyAlias, r.key))
			l1.GroupClause = []*pg.Node{groupingSets(full, dropAt(full, col))}
			l1.TargetList = append(l1.TargetList, resTarget(totalCol, groupingFunc(clone(p.groupBy[col]))))
		} else {
			r.unionTotals(p, col)
		}
		if p.base != l1 {
			p.base.TargetList = append(p.base.TargetList, resTarget(totalCol, colRef(eventsAlias, totalCol)))
		}
		part = colRef(baseAlias, totalCol)
		groups = cloneAll(sel.GroupClause)
		sel.GroupClause = append([]*pg.Node{colRef(baseAlias, totalCol)}, sel.GroupClause...)
		flag = binOp("=", colRef(baseAlias, totalCol), intConst(1))
	} else {
		exprs := make([]*pg.Node, len(sel.GroupClause))
		for i, g := range sel.GroupClause {
			exprs[i] = clone(resolveGroupExpr(g, sel.TargetList))
		}
		groups = cloneAll(exprs)
		oneLevel = cloneAll(exprs)
		sel.GroupClause = []*pg.Node{groupingSets(exprs, dropAt(exprs, col))}
		part = groupingFunc(clone(exprs[col]))
		flag = binOp("=", groupingFunc(clone(exprs[col])), intConst(1))
	}
	// Every window of the answer works within Total rows or within group rows.
	// Windows are shared between the figures that use them: each is changed
	// once.
	seen := map[*pg.WindowDef]bool{}
	for _, root := range level2Roots(sel) {
		walkExpr(root, func(x *pg.Node) bool {
			if fc := x.GetFuncCall(); fc != nil && fc.Over != nil && !seen[fc.Over] {
				seen[fc.Over] = true
				fc.Over.PartitionClause = append([]*pg.Node{clone(part)}, fc.Over.PartitionClause...)
			}
			return true
		})
	}
	name := p.add(isTotalColumn, flag)
	sel.TargetList = append(sel.TargetList, p.added[len(p.added)-1])
	r.added = append(r.added, name)
	p.totals = &totalsPlan{column: col, flag: flag, name: name}
	p.addedRoles.Total = name
	if p.uni != nil {
		p.uni.totalIdx = -1
		for i, g := range p.uni.groups {
			if canon(g) == canon(p.groupBy[col]) {
				p.uni.totalIdx = i
			}
		}
	}
	// Total rows first, so the row cap never drops them; the caller moves
	// them after the groups. Without an ORDER BY of the analyst's, the
	// groups come in the order of their labels, as a table reads.
	if len(sel.SortClause) == 0 {
		for _, g := range groups {
			sel.SortClause = append(sel.SortClause, sortBy(g, false))
		}
	}
	sel.SortClause = append([]*pg.Node{sortBy(colRef(name), true)}, sel.SortClause...)
	if !p.twoLevel {
		r.preAggregate(p, oneLevel, col)
	}
}

// unionTotals adds the Total's rows to level 1 of a two-level answer as a
// second aggregate of the same events, per panelist:
//
//	SELECT <groups>, mcpa_p, <partials>, 0 AS mcpa_t FROM <FROM> WHERE <WHERE>
//	GROUP BY <groups>, mcpa_p
//	UNION ALL
//	SELECT <groups, NULL for the rolled-up one>, mcpa_p, <partials>, 1 AS mcpa_t
//	FROM <FROM> WHERE <WHERE> GROUP BY <the other groups>, mcpa_p
//
// GROUPING SETS ((groups, panelist), (other groups, panelist)) give the same
// rows, but PostgreSQL cannot hash the two sets of a million panelists each
// within work_mem, so it sorts by the panelist they share and reads a
// 20-million-event table through its index on the key, in random heap
// order. Computing the Total's rows from the per-(group, panelist) rows (a
// CTE read twice) is no better: the CTE is materialized, and the whole
// answer took twice the time of the same answer without Total rows. Two
// plain aggregates are each hashed over a sequential scan, and PostgreSQL
// runs the two branches of the UNION ALL side by side (Parallel Append):
// with Total rows the answer costs about what it costs without
// (BENCHMARKS.md, issue 18). Each branch computes its partials from the
// events themselves, so both have the same types.
func (r *rewriter) unionTotals(p *plan, col int) {
	l1 := p.level1
	total := proto.Clone(l1).(*pg.SelectStmt)
	total.TargetList[col] = resTarget(groupCol(col), nullConst())
	total.GroupClause = nil
	for i, g := range p.groupBy {
		if i != col {
			total.GroupClause = append(total.GroupClause, clone(g))
		}
	}
	total.GroupClause = append(total.GroupClause, colRef(p.keyAlias, r.key))
	l1.TargetList = append(l1.TargetList, resTarget(totalCol, intConst(0)))
	total.TargetList = append(total.TargetList, resTarget(totalCol, intConst(1)))
	union := &pg.SelectStmt{
		Op: pg.SetOperation_SETOP_UNION, All: true, Larg: l1, Rarg: total,
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT,
	}
	if p.base == l1 {
		p.sel.FromClause = []*pg.Node{subselect(union, baseAlias)}
		return
	}
	p.base.FromClause[0].GetJoinExpr().Larg = subselect(union, eventsAlias)
}

// volatile reports whether rows read by a FROM clause and its WHERE could
// differ from one scan to the next: a TABLESAMPLE or a volatile function
// such as random().
func volatile(from []*pg.Node, where *pg.Node) bool {
	found := false
	for _, n := range append(slices.Clone(from), where) {
		walk(n, func(x *pg.Node) bool {
			if x.GetRangeTableSample() != nil {
				found = true
			}
			if fc := x.GetFuncCall(); fc != nil {
				switch funcName(fc) {
				case "random", "random_normal", "setseed", "gen_random_uuid", "uuid", "uuidv4", "uuidv7", "clock_timestamp", "timeofday", "nextval":
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// totalsPlan is what addTotals did.
type totalsPlan struct {
	column int      // index in plan.groupBy of the rolled-up grouping column
	flag   *pg.Node // level-2 expression: true on Total rows
	name   string   // the is_total column's name
}

func hasGroupCols(items []*item) bool {
	for _, it := range items {
		if len(it.groupCols) > 0 {
			return true
		}
	}
	return false
}

// groupingSets builds GROUP BY GROUPING SETS ((sets[0]…), (sets[1]…), …).
func groupingSets(sets ...[]*pg.Node) *pg.Node {
	content := make([]*pg.Node, len(sets))
	for i, s := range sets {
		switch len(s) {
		case 0:
			content[i] = &pg.Node{Node: &pg.Node_GroupingSet{GroupingSet: &pg.GroupingSet{Kind: pg.GroupingSetKind_GROUPING_SET_EMPTY, Location: -1}}}
		case 1:
			content[i] = s[0]
		default:
			content[i] = &pg.Node{Node: &pg.Node_RowExpr{RowExpr: &pg.RowExpr{Args: cloneAll(s), RowFormat: pg.CoercionForm_COERCE_IMPLICIT_CAST, Location: -1}}}
		}
	}
	return &pg.Node{Node: &pg.Node_GroupingSet{GroupingSet: &pg.GroupingSet{Kind: pg.GroupingSetKind_GROUPING_SET_SETS, Content: content, Location: -1}}}
}

func groupingFunc(arg *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_GroupingFunc{GroupingFunc: &pg.GroupingFunc{Args: []*pg.Node{arg}, Location: -1}}}
}

// dropAt returns a copy of list less its i-th element.
func dropAt(list []*pg.Node, i int) []*pg.Node {
	out := make([]*pg.Node, 0, len(list)-1)
	for j, n := range list {
		if j != i {
			out = append(out, clone(n))
		}
	}
	return out
}

// sortBy is ORDER BY n [DESC].
func sortBy(n *pg.Node, desc bool) *pg.Node {
	dir := pg.SortByDir_SORTBY_DEFAULT
	if desc {
		dir = pg.SortByDir_SORTBY_DESC
	}
	return &pg.Node{Node: &pg.Node_SortBy{SortBy: &pg.SortBy{Node: n, SortbyDir: dir, SortbyNulls: pg.SortByNulls_SORTBY_NULLS_DEFAULT, Location: -1}}}
}
