package weighting

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// mergeNCCS replaces the NCCS column where sel selects, groups, filters groups or
// orders by it with a CASE through the merge map, so merged classes are re-aggregated
// (one A row, not an A row and an A1 row). WHERE and the arguments of aggregates keep
// the raw labels. It reports whether anything was replaced.
func (r *rewriter) mergeNCCS(sel *pg.SelectStmt, sc *scope) bool {
	if len(r.mergeGroups()) == 0 {
		return false
	}
	merged := false
	replace := func(n *pg.Node) {
		walkExprOutsideAggregates(n, func(x *pg.Node) bool {
			cr := x.GetColumnRef()
			if cr == nil {
				return true
			}
			if r.isNCCSRef(cr, sc) {
				x.Node = r.nccsCase(clone(x)).Node
				merged = true
			}
			return false
		})
	}
	outputs := map[string]bool{}
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil || rt.Val == nil {
			continue
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && rt.Name == "" && r.isNCCSRef(cr, sc) {
			f := fields(cr)
			rt.Name = f[len(f)-1]
		}
		outputs[targetName(rt)] = true
		replace(rt.Val)
	}
	for _, g := range sel.GroupClause {
		if g.GetAConst() == nil {
			replace(g)
		}
	}
	if sel.HavingClause != nil {
		replace(sel.HavingClause)
	}
	for _, s := range sel.SortClause {
		sb := s.GetSortBy()
		if sb == nil {
			continue
		}
		if cr := sb.Node.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && outputs[fields(cr)[0]] {
			continue // ORDER BY an output name: that output is already merged
		}
		replace(sb.Node)
	}
	return merged
}

func (r *rewriter) isNCCSRef(cr *pg.ColumnRef, sc *scope) bool {
	f := fields(cr)
	if f[len(f)-1] != r.nccs {
		return false
	}
	if sc.resolve(f) != nil {
		return true
	}
	// A table the schema does not describe: trust the name when it is the only one.
	return len(sc.items) == 1 && sc.items[0].cols == nil
}

// nccsCase builds CASE WHEN col IN ('A', 'A1') THEN 'A' ... ELSE col END.
func (r *rewriter) nccsCase(col *pg.Node) *pg.Node {
	groups := r.mergeGroups()
	whens := make([]*pg.Node, 0, len(groups))
	for _, g := range groups {
		list := make([]*pg.Node, len(g.raw))
		for i, raw := range g.raw {
			list[i] = strConst(raw)
		}
		in := pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_IN, []*pg.Node{str("=")}, clone(col), pg.MakeListNode(list), -1)
		whens = append(whens, pg.MakeCaseWhenNode(in, strConst(g.label), -1))
	}
	c := pg.MakeCaseExprNode(nil, whens, -1)
	c.GetCaseExpr().Defresult = col
	return c
}

// rawNCCSNote says, when merging is off and the answer shows the NCCS column,
// that its labels are the raw ones.
func (r *rewriter) rawNCCSNote(sel *pg.SelectStmt, sc *scope) {
	if r.nccs == "" || len(r.mergeGroups()) == 0 {
		return
	}
	shown := starCovers(sel, sc, r.nccs)
	for _, t := range sel.TargetList {
		if cr := t.GetResTarget().GetVal().GetColumnRef(); cr != nil && r.isNCCSRef(cr, sc) {
			shown = true
		}
	}
	if shown {
		r.note("NCCS labels are raw, not merged (merge_nccs is false)")
	}
}

// mergeFilters makes a filter on an NCCS label mean what the answer's labels
// mean: in every WHERE of the query (CTEs and sub-queries too), nccs = 'A'
// matches the merged class A (raw A1 or A), nccs = 'C/D/E' matches C, D or E, and
// IN, <> and NOT IN likewise. A raw label that is no merged label ('A1', 'D')
// still matches itself. A note says what each changed filter matched.
func (r *rewriter) mergeFilters(stmt *pg.Node) {
	groups := r.mergeGroups()
	if len(groups) == 0 {
		return
	}
	members := map[string][]string{}
	for _, g := range groups {
		members[g.label] = g.raw
	}
	ctes := map[string]*pg.CommonTableExpr{}
	selects := allSelects(stmt)
	for _, sel := range selects {
		if sel.WithClause != nil {
			for _, c := range sel.WithClause.Ctes {
				if cte := c.GetCommonTableExpr(); cte != nil {
					ctes[strings.ToLower(cte.Ctename)] = cte
				}
			}
		}
	}
	for _, sel := range selects {
		if sel.WhereClause == nil {
			continue
		}
		sc := r.scopeWith(sel, ctes)
		walkExpr(sel.WhereClause, func(x *pg.Node) bool {
			e := x.GetAExpr()
			if e == nil || len(e.Name) != 1 {
				return true
			}
			op := e.Name[0].GetString_().GetSval()
			cr := e.Lexpr.GetColumnRef()
			var labels []string
			switch {
			case e.Kind == pg.A_Expr_Kind_AEXPR_OP && (op == "=" || op == "<>" || op == "!="):
				if cr == nil {
					cr = e.Rexpr.GetColumnRef()
					if l, ok := stringConst(e.Lexpr); ok {
						labels = []string{l}
					}
				} else if l, ok := stringConst(e.Rexpr); ok {
					labels = []string{l}
				}
			case e.Kind == pg.A_Expr_Kind_AEXPR_IN && e.Rexpr.GetList() != nil:
				for _, item := range e.Rexpr.GetList().Items {
					l, ok := stringConst(item)
					if !ok {
						return true
					}
					labels = append(labels, l)
				}
			default:
				return true
			}
			if cr == nil || len(labels) == 0 || !r.isNCCSRef(cr, sc) {
				return true
			}
			var raws, asRaw []string
			changed := false
			for _, l := range labels {
				if m, ok := members[l]; ok {
					raws = append(raws, m...)
					changed = true
					continue
				}
				raws = append(raws, l)
				if merged, ok := r.nccsMap[l]; ok && merged != l {
					asRaw = append(asRaw, fmt.Sprintf("'%s' is a raw label, shown merged as %s", l, merged))
				}
			}
			if !changed && len(asRaw) == 0 {
				return false
			}
			not := op == "<>" || op == "!="
			if changed {
				list := make([]*pg.Node, len(raws))
				for i, raw := range raws {
					list[i] = strConst(raw)
				}
				in := "="
				if not {
					in = "<>"
				}
				x.Node = pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_IN, []*pg.Node{str(in)},
					&pg.Node{Node: &pg.Node_ColumnRef{ColumnRef: cr}}, pg.MakeListNode(list), -1).Node
			}
			quoted := make([]string, len(labels))
			for i, l := range labels {
				quoted[i] = "'" + l + "'"
			}
			filter := fmt.Sprintf("%s = %s", strings.Join(fields(cr), "."), quoted[0])
			switch {
			case len(labels) > 1 && not:
				filter = fmt.Sprintf("%s NOT IN (%s)", strings.Join(fields(cr), "."), strings.Join(quoted, ", "))
			case len(labels) > 1:
				filter = fmt.Sprintf("%s IN (%s)", strings.Join(fields(cr), "."), strings.Join(quoted, ", "))
			case not:
				filter = fmt.Sprintf("%s <> %s", strings.Join(fields(cr), "."), quoted[0])
			}
			note := fmt.Sprintf("WHERE %s matched NCCS %s", filter, joinAnd(dedupe(raws)))
			if not {
				note += ", which it leaves out"
			}
			if len(asRaw) > 0 {
				note += "; " + strings.Join(asRaw, "; ")
			}
			r.note(note)
			return false
		})
	}
}

// stringConst returns the value of a string constant, possibly cast.
func stringConst(n *pg.Node) (string, bool) {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	if c := n.GetAConst(); c != nil && c.GetSval() != nil {
		return c.GetSval().Sval, true
	}
	return "", false
}

// joinAnd writes labels as "A1 and A", "C, D and E".
func joinAnd(labels []string) string {
	if len(labels) < 2 {
		return strings.Join(labels, "")
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " and " + labels[len(labels)-1]
}

// allSelects returns every SELECT of the tree under n: the statement itself,
// its CTEs, sub-queries in FROM and in expressions, and the arms of set
// operations.
func allSelects(n *pg.Node) []*pg.SelectStmt {
	var out []*pg.SelectStmt
	var visit func(m protoreflect.Message)
	visit = func(m protoreflect.Message) {
		if sel, ok := m.Interface().(*pg.SelectStmt); ok {
			out = append(out, sel)
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Kind() != protoreflect.MessageKind || fd.IsMap():
			case fd.IsList():
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					visit(l.Get(i).Message())
				}
			default:
				visit(v.Message())
			}
			return true
		})
	}
	visit(n.ProtoReflect())
	return out
}
