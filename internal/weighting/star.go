package weighting

import (
	pg "github.com/pganalyze/pg_query_go/v6"
)

// starCovers reports whether a * or t.* of sel's select list covers a relation with
// the column col.
func starCovers(sel *pg.SelectStmt, sc *scope, col string) bool {
	for _, t := range sel.TargetList {
		v := t.GetResTarget().GetVal()
		if !isStar(v) {
			continue
		}
		for _, it := range starItems(fields(v.GetColumnRef()), sc) {
			if it.has(col) {
				return true
			}
		}
	}
	return false
}

// starItems returns the relations a star stands for: all of them for *, the one
// named t for t.* (or schema.t.*).
func starItems(f []string, sc *scope) []*item {
	if len(f) == 1 {
		return sc.items
	}
	if it := sc.byAlias(f[len(f)-2]); it != nil {
		return []*item{it}
	}
	return nil
}

// expandStars replaces every * and t.* of sel's select list by the columns it stands
// for, in the relations' column order, using the schema. It does nothing and
// returns false when a star cannot be expanded faithfully: a relation whose columns
// are unknown, or a JOIN ... USING or NATURAL JOIN (whose * merges the join columns).
func expandStars(sel *pg.SelectStmt, sc *scope) bool {
	if sc.unknown || len(sc.items) == 0 || mergesJoinColumns(sel.FromClause) {
		return false
	}
	var list []*pg.Node
	for _, t := range sel.TargetList {
		v := t.GetResTarget().GetVal()
		if !isStar(v) {
			list = append(list, t)
			continue
		}
		items := starItems(fields(v.GetColumnRef()), sc)
		if len(items) == 0 {
			return false
		}
		for _, it := range items {
			if it.cols == nil || (len(sc.items) > 1 && it.alias == "") {
				return false
			}
			for _, c := range it.cols {
				ref := colRef(c)
				if len(sc.items) > 1 {
					ref = colRef(it.alias, c)
				}
				list = append(list, resTarget("", ref))
			}
		}
	}
	sel.TargetList = list
	return true
}

// mergesJoinColumns reports whether a FROM clause has a JOIN ... USING or a NATURAL
// JOIN.
func mergesJoinColumns(from []*pg.Node) bool {
	for _, f := range from {
		if j := f.GetJoinExpr(); j != nil {
			if j.IsNatural || len(j.UsingClause) > 0 || mergesJoinColumns([]*pg.Node{j.Larg, j.Rarg}) {
				return true
			}
		}
	}
	return false
}
