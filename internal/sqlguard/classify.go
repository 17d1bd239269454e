package sqlguard

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Class says which row cap applies to a query (SPEC §3).
type Class int

const (
	// Raw queries return respondent-level rows: the small raw cap applies.
	Raw Class = iota
	// Aggregated queries collapse panelists into groups: the larger cap applies.
	Aggregated
)

// String returns "raw" or "aggregated".
func (c Class) String() string {
	if c == Aggregated {
		return "aggregated"
	}
	return "raw"
}

// Classify decides on the parse tree whether a query is raw or aggregated.
// The top-level SELECT is Aggregated when it has GROUP BY, HAVING or an
// aggregate function outside a window's OVER; but a GROUP BY that includes one
// of respondentKeys (qualified or not, by name, by SELECT-list alias or by
// ordinal, alone or inside ROLLUP / CUBE / GROUPING SETS) yields one row per
// panelist, so it is Raw. VALUES, DISTINCT without aggregates and window
// functions alone are Raw. A set operation is Aggregated only when every arm
// is. CTEs and subqueries do not count: only what the top level returns does.
func Classify(tree *pg_query.ParseResult, respondentKeys []string) Class {
	if tree == nil || len(tree.Stmts) == 0 {
		return Raw
	}
	keys := make(map[string]bool, len(respondentKeys))
	for _, k := range respondentKeys {
		keys[strings.ToLower(k)] = true
	}
	return classifySelect(tree.Stmts[0].GetStmt().GetSelectStmt(), keys)
}

func classifySelect(sel *pg_query.SelectStmt, keys map[string]bool) Class {
	switch {
	case sel == nil || len(sel.ValuesLists) > 0:
		return Raw
	case sel.Larg != nil || sel.Rarg != nil:
		if classifySelect(sel.Larg, keys) == Aggregated && classifySelect(sel.Rarg, keys) == Aggregated {
			return Aggregated
		}
		return Raw
	case len(sel.GroupClause) > 0:
		for _, g := range sel.GroupClause {
			if groupsByKey(g, sel, keys) {
				return Raw
			}
		}
		return Aggregated
	case sel.HavingClause != nil:
		return Aggregated
	}
	for _, list := range [][]*pg_query.Node{sel.TargetList, sel.SortClause} {
		for _, n := range list {
			if hasAggregate(n.ProtoReflect()) {
				return Aggregated
			}
		}
	}
	return Raw
}

// groupsByKey reports whether the GROUP BY item g makes one group per respondent.
func groupsByKey(g *pg_query.Node, sel *pg_query.SelectStmt, keys map[string]bool) bool {
	switch n := g.GetNode().(type) {
	case *pg_query.Node_ColumnRef:
		name := lastField(n.ColumnRef)
		if keys[name] {
			return true
		}
		if len(n.ColumnRef.Fields) == 1 {
			for _, t := range sel.TargetList {
				if rt := t.GetResTarget(); rt != nil && strings.EqualFold(rt.Name, name) {
					return isKey(rt.Val, keys)
				}
			}
		}
	case *pg_query.Node_AConst:
		if iv, ok := n.AConst.Val.(*pg_query.A_Const_Ival); ok && iv.Ival != nil {
			i := int(iv.Ival.Ival)
			if i >= 1 && i <= len(sel.TargetList) {
				return isKey(sel.TargetList[i-1].GetResTarget().GetVal(), keys)
			}
		}
	case *pg_query.Node_GroupingSet:
		for _, c := range n.GroupingSet.Content {
			if groupsByKey(c, sel, keys) {
				return true
			}
		}
	case *pg_query.Node_RowExpr:
		for _, c := range n.RowExpr.Args {
			if groupsByKey(c, sel, keys) {
				return true
			}
		}
	case *pg_query.Node_List:
		for _, c := range n.List.Items {
			if groupsByKey(c, sel, keys) {
				return true
			}
		}
	default:
		// Any other expression (a cast, user_id + 0, a concatenation, a
		// CASE) that reads the key can be one group per panelist: it is
		// treated as the key. GROUP BY user_id % 10 is Raw too; that is
		// the price of not guessing which expressions are one-to-one.
		return isKey(g, keys)
	}
	return false
}

// isKey reports whether the expression v reads a respondent key column
// anywhere (subqueries excepted).
func isKey(v *pg_query.Node, keys map[string]bool) bool {
	return v != nil && messageReadsKey(v.ProtoReflect(), keys)
}

// messageReadsKey looks inside a node's payload message (A_Expr, FuncCall,
// CaseExpr...) for a key column.
func messageReadsKey(m protoreflect.Message, keys map[string]bool) bool {
	if ref, ok := m.Interface().(*pg_query.ColumnRef); ok {
		return keys[lastField(ref)]
	}
	if _, ok := m.Interface().(*pg_query.SubLink); ok {
		return false
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			for i := 0; i < val.List().Len() && !found; i++ {
				found = messageReadsKey(val.List().Get(i).Message(), keys)
			}
		} else {
			found = messageReadsKey(val.Message(), keys)
		}
		return !found
	})
	return found
}

func lastField(ref *pg_query.ColumnRef) string {
	if len(ref.Fields) == 0 {
		return ""
	}
	return strings.ToLower(ref.Fields[len(ref.Fields)-1].GetString_().GetSval())
}

// hasAggregate reports whether the expression m calls an aggregate at this
// query level: not inside a subquery, and not the window function itself
// (an aggregate inside a window's arguments, as in SUM(COUNT(*)) OVER (), counts).
func hasAggregate(m protoreflect.Message) bool {
	switch n := m.Interface().(type) {
	case *pg_query.SubLink, *pg_query.SelectStmt:
		return false
	case *pg_query.GroupingFunc:
		return true
	case *pg_query.FuncCall:
		if n.Over == nil && (n.AggStar || n.AggDistinct || n.AggWithinGroup || n.AggFilter != nil ||
			len(n.AggOrder) > 0 || aggregateFunctions[funcName(n)]) {
			return true
		}
	}
	found := false
	eachChild(m, func(_ protoreflect.FieldDescriptor, child protoreflect.Message) bool {
		found = hasAggregate(child)
		return !found
	})
	return found
}

// IsAggregate reports whether name (lower case, unqualified) is an
// aggregate function of PostgreSQL or DuckDB. It is the one list of them:
// the guard's classification, the lineage of result columns and the
// weighting rewrite all ask it.
func IsAggregate(name string) bool { return aggregateFunctions[name] }

// aggregateFunctions are the aggregates of PostgreSQL and DuckDB that can be
// written as plain calls (f(x)), without DISTINCT, FILTER or WITHIN GROUP.
var aggregateFunctions = map[string]bool{
	// PostgreSQL
	"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"stddev": true, "stddev_pop": true, "stddev_samp": true,
	"variance": true, "var_pop": true, "var_samp": true,
	"array_agg": true, "string_agg": true, "json_agg": true, "jsonb_agg": true,
	"json_object_agg": true, "jsonb_object_agg": true, "json_objectagg": true, "json_arrayagg": true,
	"xmlagg": true, "bool_and": true, "bool_or": true, "every": true,
	"bit_and": true, "bit_or": true, "bit_xor": true,
	"percentile_cont": true, "percentile_disc": true, "mode": true,
	"corr": true, "covar_pop": true, "covar_samp": true,
	"regr_avgx": true, "regr_avgy": true, "regr_count": true, "regr_intercept": true,
	"regr_r2": true, "regr_slope": true, "regr_sxx": true, "regr_sxy": true, "regr_syy": true,
	"range_agg": true, "range_intersect_agg": true, "any_value": true,
	// DuckDB
	"median": true, "quantile": true, "quantile_cont": true, "quantile_disc": true,
	"approx_count_distinct": true, "approx_quantile": true, "reservoir_quantile": true,
	"arg_max": true, "arg_min": true, "argmax": true, "argmin": true, "max_by": true, "min_by": true,
	"first": true, "last": true, "list": true, "histogram": true, "count_if": true, "countif": true,
	"product": true, "kurtosis": true, "kurtosis_pop": true, "skewness": true, "entropy": true, "mad": true,
	"fsum": true, "sumkahan": true, "kahan_sum": true, "favg": true, "mean": true,
	"group_concat": true, "listagg": true, "geomean": true, "geometric_mean": true,
	"bitstring_agg": true, "arbitrary": true, "approx_top_k": true, "bool_xor": true,
}
