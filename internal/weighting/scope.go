package weighting

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

type itemKind int

const (
	otherItem   itemKind = iota // no weight, no respondent key (a dimension table, a function)
	weightsItem                 // the weights table: one row per panelist, holds the weight
	keyItem                     // an event table or subquery with the respondent key but no weight
)

// item is one relation of a FROM clause.
type item struct {
	alias string   // the name that qualifies its columns (alias or table name)
	table string   // the real table name, "" for subqueries and CTEs
	cols  []string // its columns; nil when unknown
	kind  itemKind
	node  *pg.Node // the FROM entry (RangeVar or RangeSubselect)
	// panelistRows: a subquery grouped by the respondent key (the inner stage of a
	// two-stage query), so it has one row per panelist and group.
	panelistRows bool
	groupCols    []string // its GROUP BY columns other than the key, for two-stage queries
}

func (it *item) has(col string) bool {
	for _, c := range it.cols {
		if c == col {
			return true
		}
	}
	return false
}

// scope is the FROM clause of one SELECT.
type scope struct {
	items     []*item
	outerJoin bool
	unknown   bool // a relation whose columns are unknown (a function, VALUES)
}

func (s *scope) byAlias(alias string) *item {
	for _, it := range s.items {
		if it.alias == alias {
			return it
		}
	}
	return nil
}

// resolve returns the item a column reference belongs to, or nil.
func (s *scope) resolve(f []string) *item {
	switch len(f) {
	case 1:
		for _, it := range s.items {
			if it.has(f[0]) {
				return it
			}
		}
	case 2:
		if it := s.byAlias(f[0]); it != nil && (it.cols == nil || it.has(f[1])) {
			return it
		}
	case 3:
		if it := s.byAlias(f[1]); it != nil && it.table == f[1] {
			return it
		}
	}
	return nil
}

// scope builds the scope of sel, knowing the CTEs of sel and of its ancestors.
func (r *rewriter) scope(sel *pg.SelectStmt) *scope {
	return r.scopeWith(sel, nil)
}

func (r *rewriter) scopeWith(sel *pg.SelectStmt, ctes map[string]*pg.CommonTableExpr) *scope {
	ctes = withCTEs(sel, ctes)
	sc := &scope{}
	for _, n := range sel.FromClause {
		r.addItems(sc, n, ctes)
	}
	return sc
}

func withCTEs(sel *pg.SelectStmt, parent map[string]*pg.CommonTableExpr) map[string]*pg.CommonTableExpr {
	if sel.WithClause == nil || len(sel.WithClause.Ctes) == 0 {
		return parent
	}
	m := make(map[string]*pg.CommonTableExpr, len(parent)+len(sel.WithClause.Ctes))
	for k, v := range parent {
		m[k] = v
	}
	for _, c := range sel.WithClause.Ctes {
		if cte := c.GetCommonTableExpr(); cte != nil {
			m[strings.ToLower(cte.Ctename)] = cte
		}
	}
	return m
}

// without returns ctes less name.
func without(ctes map[string]*pg.CommonTableExpr, name string) map[string]*pg.CommonTableExpr {
	m := make(map[string]*pg.CommonTableExpr, len(ctes))
	for k, v := range ctes {
		if k != name {
			m[k] = v
		}
	}
	return m
}

func (r *rewriter) addItems(sc *scope, n *pg.Node, ctes map[string]*pg.CommonTableExpr) {
	switch {
	case n.GetRangeVar() != nil:
		rv := n.GetRangeVar()
		name := strings.ToLower(rv.Relname)
		it := &item{alias: name, node: n}
		if rv.Alias != nil {
			it.alias = strings.ToLower(rv.Alias.Aliasname)
		}
		if cte, ok := ctes[name]; ok && rv.Schemaname == "" {
			// Within its own body a CTE's name is not the CTE (or, WITH RECURSIVE, is
			// still being defined): leaving it out also ends the recursion.
			r.describeSubquery(it, cte.Ctequery, cte.Aliascolnames, without(ctes, name))
		} else {
			it.table = name
			it.cols = r.opts.Schema[name]
			switch {
			case name == r.weightsTable:
				it.kind = weightsItem
			case it.has(r.key):
				it.kind = keyItem
			}
		}
		sc.items = append(sc.items, it)
	case n.GetRangeSubselect() != nil:
		rs := n.GetRangeSubselect()
		it := &item{node: n}
		var colnames []*pg.Node
		if rs.Alias != nil {
			it.alias = strings.ToLower(rs.Alias.Aliasname)
			colnames = rs.Alias.Colnames
		}
		r.describeSubquery(it, rs.Subquery, colnames, ctes)
		sc.items = append(sc.items, it)
	case n.GetJoinExpr() != nil:
		j := n.GetJoinExpr()
		if j.Jointype != pg.JoinType_JOIN_INNER {
			sc.outerJoin = true
		}
		r.addItems(sc, j.Larg, ctes)
		r.addItems(sc, j.Rarg, ctes)
	default:
		sc.unknown = true
	}
}

// describeSubquery fills in the columns and kind of a subquery or CTE item.
func (r *rewriter) describeSubquery(it *item, q *pg.Node, colnames []*pg.Node, ctes map[string]*pg.CommonTableExpr) {
	sel := q.GetSelectStmt()
	if sel == nil {
		return
	}
	for sel.Op != pg.SetOperation_SETOP_NONE && sel.Larg != nil {
		sel = sel.Larg
	}
	inner := r.scopeWith(sel, ctes)
	it.cols = outputColumns(sel, inner)
	for i, c := range colnames {
		if i < len(it.cols) {
			it.cols[i] = strings.ToLower(c.GetString_().GetSval())
		}
	}
	if !it.has(r.key) {
		return
	}
	it.kind = keyItem
	grouped := len(sel.GroupClause) > 0 || hasAggregate(sel.TargetList)
	if !grouped && len(inner.items) == 1 && inner.items[0].kind == weightsItem && !inner.unknown && it.has(r.weight) {
		it.kind = weightsItem
		return
	}
	// A subquery grouped by the key has one row per panelist (and group): the inner
	// stage of a two-stage query.
	for _, g := range sel.GroupClause {
		if r.isKeyExpr(resolveGroupExpr(g, sel.TargetList), inner) {
			it.panelistRows = true
		} else if name := outputNameOf(resolveGroupExpr(g, sel.TargetList), sel.TargetList); name != "" {
			it.groupCols = append(it.groupCols, name)
		}
	}
}

// outputNameOf returns the output name of the target whose expression is e.
func outputNameOf(e *pg.Node, targets []*pg.Node) string {
	for _, t := range targets {
		rt := t.GetResTarget()
		if rt == nil || rt.Val == nil || e == nil {
			continue
		}
		if rt.Val == e || equalNodes(rt.Val, e) {
			return targetName(rt)
		}
	}
	return ""
}

// outputColumns lists the output column names of sel, expanding * through the schema.
func outputColumns(sel *pg.SelectStmt, sc *scope) []string {
	var cols []string
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			continue
		}
		if cr := rt.Val.GetColumnRef(); cr != nil {
			f := fields(cr)
			if f[len(f)-1] == "*" {
				for _, it := range sc.items {
					if len(f) == 1 || it.alias == f[len(f)-2] {
						cols = append(cols, it.cols...)
					}
				}
				continue
			}
		}
		cols = append(cols, targetName(rt))
	}
	return cols
}

// targetName is the output name PostgreSQL gives a select-list entry.
func targetName(rt *pg.ResTarget) string {
	if rt.Name != "" {
		return strings.ToLower(rt.Name)
	}
	return columnName(rt.Val)
}

func hasAggregate(nodes []*pg.Node) bool {
	found := false
	for _, n := range nodes {
		walkExpr(n, func(x *pg.Node) bool {
			if fc := x.GetFuncCall(); fc != nil && isAggregate(fc) {
				found = true
			}
			return !found
		})
	}
	return found
}

// resolveGroupExpr turns a GROUP BY entry that is an ordinal into the select-list
// expression it points at. Names are left alone: PostgreSQL resolves a GROUP BY name
// to an input column first.
func resolveGroupExpr(g *pg.Node, targets []*pg.Node) *pg.Node {
	if c := g.GetAConst(); c != nil && c.GetIval() != nil {
		i := int(c.GetIval().Ival)
		if i >= 1 && i <= len(targets) {
			if rt := targets[i-1].GetResTarget(); rt != nil {
				return rt.Val
			}
		}
	}
	return g
}

// isKeyExpr reports whether e is a reference to the respondent key of a weights or
// key item.
func (r *rewriter) isKeyExpr(e *pg.Node, sc *scope) bool {
	cr := e.GetColumnRef()
	if cr == nil {
		return false
	}
	f := fields(cr)
	if f[len(f)-1] != r.key {
		return false
	}
	it := sc.resolve(f)
	return it != nil && (it.kind == weightsItem || it.kind == keyItem)
}

// qualify rewrites unqualified and schema-qualified column references of one query
// level to alias.column, so that joining the weights table in cannot make them
// ambiguous. References it cannot resolve (output names, unknown columns) are kept.
func qualify(n *pg.Node, sc *scope) {
	walkExpr(n, func(x *pg.Node) bool {
		cr := x.GetColumnRef()
		if cr == nil {
			return true
		}
		f := fields(cr)
		if f[len(f)-1] == "*" || len(f) == 2 {
			return false
		}
		if it := sc.resolve(f); it != nil {
			cr.Fields = []*pg.Node{str(it.alias), str(f[len(f)-1])}
		}
		return false
	})
}

// equalNodes reports whether two expressions are the same, ignoring locations.
func equalNodes(a, b *pg.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	ca, cb := clone(a), clone(b)
	clearLocations(ca.ProtoReflect())
	clearLocations(cb.ProtoReflect())
	return proto.Equal(ca, cb)
}

func clearLocations(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "location" || fd.Name() == "stmt_location":
			m.Clear(fd)
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				clearLocations(l.Get(i).Message())
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			clearLocations(v.Message())
		}
		return true
	})
}
