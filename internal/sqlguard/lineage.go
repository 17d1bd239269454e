package sqlguard

import (
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Output describes one result column of a query as its text writes it, so
// that a caller can tell what the column's numbers are (a count, a mean of
// amount) without a parser of its own.
type Output struct {
	// Name is the column's alias, or the column's own name for a plain
	// column reference; "" when the database names it (sum, count(*)...),
	// which the engines do differently.
	Name string
	// Func is the aggregate that makes the value, lower case ("count",
	// "sum", "avg", "min"...), looking through calls that keep a value's
	// unit (round, cast, coalesce...) and through CTE and subquery columns
	// that are referenced as they are; "" when there is none.
	Func string
	// Column is the column whose unit the value has, lower case ("amount"
	// for SUM(o.amount), and for AVG(spend) where spend is a CTE's
	// SUM(amount)); "" when the value is not in one column's unit (COUNT,
	// ratios, CASE, arithmetic).
	Column string
	// Window reports that Func is a window function (OVER): the rows are
	// not collapsed.
	Window bool
}

// Lineage is what the text says about a query's result columns.
type Lineage struct {
	// Outputs are the top-level result columns in order (the left arm of a
	// set operation); nil when a * leaves them to the database.
	Outputs []Output
	// Inner are the columns of the query's CTEs and FROM subqueries by
	// lower-case name (the first one of a name wins), for names that refer
	// to them, such as the weighted_avg_spend the rewrite adds for
	// AVG(spend).
	Inner map[string]Output
	// Tables are the tables the query reads (not its CTEs), lower case, in
	// the order the text names them; Aliases maps their aliases to them.
	Tables  []string
	Aliases map[string]string
}

// Trace parses text and returns its [Lineage]. It does no checks: call it on
// text that passed [Check]; a text that does not parse gives an error.
// Parsing costs about 0.1 ms: a caller that has the tree of [Query] calls
// [TraceTree].
func Trace(text string) (Lineage, error) {
	tree, err := pg_query.Parse(text)
	if err != nil {
		return Lineage{}, err
	}
	return TraceTree(tree), nil
}

// TraceTree returns the [Lineage] of a parsed query without changing it.
func TraceTree(tree *pg_query.ParseResult) Lineage {
	l := Lineage{Inner: map[string]Output{}, Aliases: map[string]string{}}
	if tree == nil || len(tree.Stmts) != 1 {
		return l
	}
	l.Outputs = l.selectOutputs(tree.Stmts[0].GetStmt().GetSelectStmt(), nil)
	return l
}

// relation is a FROM item in scope: a table (columns nil) or a CTE or
// subquery whose columns are known.
type relation struct {
	columns map[string]Output
}

type lineageScope struct {
	ctes   map[string]relation
	from   map[string]relation // by alias or name
	outer  *lineageScope
	merged []relation // derived relations, in FROM order, for unqualified names
}

func (l *Lineage) selectOutputs(sel *pg_query.SelectStmt, outer *lineageScope) []Output {
	for sel != nil && sel.Larg != nil {
		sc := l.withScope(sel, outer)
		sel = sel.Larg
		outer = sc
	}
	if sel == nil || len(sel.ValuesLists) > 0 {
		return nil
	}
	sc := l.withScope(sel, outer)
	for _, f := range sel.FromClause {
		l.addFrom(f, sc)
	}
	var out []Output
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			return nil
		}
		if ref := rt.Val.GetColumnRef(); ref != nil && isStar(ref) {
			return nil
		}
		o := l.trace(rt.Val, sc)
		o.Name = strings.ToLower(rt.Name)
		if o.Name == "" {
			if ref := rt.Val.GetColumnRef(); ref != nil {
				o.Name = lastField(ref)
			}
		}
		out = append(out, o)
	}
	return out
}

// withScope opens a scope holding sel's CTEs.
func (l *Lineage) withScope(sel *pg_query.SelectStmt, outer *lineageScope) *lineageScope {
	sc := &lineageScope{ctes: map[string]relation{}, from: map[string]relation{}, outer: outer}
	if sel.WithClause == nil {
		return sc
	}
	for _, c := range sel.WithClause.Ctes {
		cte := c.GetCommonTableExpr()
		if cte == nil {
			continue
		}
		cols := l.derived(cte.Ctequery.GetSelectStmt(), sc, cte.Aliascolnames)
		sc.ctes[strings.ToLower(cte.Ctename)] = relation{columns: cols}
	}
	return sc
}

// derived traces a CTE's or subquery's columns, renamed by names when the
// text renames them, and records them in Inner.
func (l *Lineage) derived(sel *pg_query.SelectStmt, outer *lineageScope, names []*pg_query.Node) map[string]Output {
	cols := map[string]Output{}
	for i, o := range l.selectOutputs(sel, outer) {
		if i < len(names) {
			o.Name = strings.ToLower(names[i].GetString_().GetSval())
		}
		if o.Name == "" {
			continue
		}
		cols[o.Name] = o
		if _, seen := l.Inner[o.Name]; !seen {
			l.Inner[o.Name] = o
		}
	}
	return cols
}

// addFrom puts the relations of one FROM item into sc.
func (l *Lineage) addFrom(n *pg_query.Node, sc *lineageScope) {
	switch {
	case n.GetRangeVar() != nil:
		rv := n.GetRangeVar()
		name := strings.ToLower(rv.Relname)
		rel := relation{}
		cte := false
		if rv.Schemaname == "" {
			rel, cte = sc.lookupCTE(name)
		}
		if !cte && !slices.Contains(l.Tables, name) {
			l.Tables = append(l.Tables, name)
		}
		if rv.Alias != nil {
			alias := strings.ToLower(rv.Alias.Aliasname)
			if !cte {
				l.Aliases[alias] = name
			}
			name = alias
		}
		sc.from[name] = rel
		if rel.columns != nil {
			sc.merged = append(sc.merged, rel)
		}
	case n.GetRangeSubselect() != nil:
		rs := n.GetRangeSubselect()
		var names []*pg_query.Node
		if rs.Alias != nil {
			names = rs.Alias.Colnames
		}
		rel := relation{columns: l.derived(rs.Subquery.GetSelectStmt(), sc, names)}
		if rs.Alias != nil {
			sc.from[strings.ToLower(rs.Alias.Aliasname)] = rel
		}
		sc.merged = append(sc.merged, rel)
	case n.GetJoinExpr() != nil:
		j := n.GetJoinExpr()
		l.addFrom(j.Larg, sc)
		l.addFrom(j.Rarg, sc)
	}
}

func (sc *lineageScope) lookupCTE(name string) (relation, bool) {
	for s := sc; s != nil; s = s.outer {
		if r, ok := s.ctes[name]; ok {
			return r, true
		}
	}
	return relation{}, false
}

// column resolves a column reference: through a CTE or subquery when it
// names one of theirs, else as a table's column.
func (sc *lineageScope) column(ref *pg_query.ColumnRef) Output {
	col := lastField(ref)
	if len(ref.Fields) >= 2 {
		qual := strings.ToLower(ref.Fields[len(ref.Fields)-2].GetString_().GetSval())
		for s := sc; s != nil; s = s.outer {
			if rel, ok := s.from[qual]; ok {
				if o, ok := rel.columns[col]; ok {
					return Output{Func: o.Func, Column: o.Column}
				}
				return Output{Column: col}
			}
		}
		return Output{Column: col}
	}
	for s := sc; s != nil; s = s.outer {
		for _, rel := range s.merged {
			if o, ok := rel.columns[col]; ok {
				return Output{Func: o.Func, Column: o.Column}
			}
		}
	}
	return Output{Column: col}
}

// unitAggregates are aggregates whose value is in the unit of their
// argument; other aggregates (count, string_agg, corr...) are not.
var unitAggregates = map[string]bool{
	"sum": true, "avg": true, "min": true, "max": true, "median": true, "mode": true,
	"stddev": true, "stddev_pop": true, "stddev_samp": true, "any_value": true,
	"first": true, "last": true, "arbitrary": true, "fsum": true, "mean": true,
	"percentile_cont": true, "percentile_disc": true, "quantile_cont": true, "quantile_disc": true,
}

// unitScalars are calls that keep their first argument's unit.
var unitScalars = map[string]bool{
	"round": true, "ceil": true, "ceiling": true, "floor": true, "trunc": true, "abs": true,
	"coalesce": true, "nullif": true, "greatest": true, "least": true, "ifnull": true,
}

// trace follows one expression to its aggregate and unit column.
func (l *Lineage) trace(n *pg_query.Node, sc *lineageScope) Output {
	switch {
	case n == nil:
		return Output{}
	case n.GetColumnRef() != nil:
		return sc.column(n.GetColumnRef())
	case n.GetTypeCast() != nil:
		return l.trace(n.GetTypeCast().Arg, sc)
	case n.GetCoalesceExpr() != nil:
		if args := n.GetCoalesceExpr().Args; len(args) > 0 {
			return l.trace(args[0], sc)
		}
	case n.GetMinMaxExpr() != nil:
		if args := n.GetMinMaxExpr().Args; len(args) > 0 {
			return l.trace(args[0], sc)
		}
	case n.GetFuncCall() != nil:
		fc := n.GetFuncCall()
		name := funcName(fc)
		var arg *pg_query.Node
		switch {
		case fc.AggWithinGroup && len(fc.AggOrder) > 0: // percentile_cont(0.5) WITHIN GROUP (ORDER BY x)
			arg = fc.AggOrder[0].GetSortBy().GetNode()
		case len(fc.Args) > 0:
			arg = fc.Args[0]
		}
		window := fc.Over != nil
		switch {
		case name == "count":
			return Output{Func: "count", Window: window}
		case unitAggregates[name]:
			if arg == nil {
				return Output{Func: name, Window: window}
			}
			in := l.trace(arg, sc)
			return Output{Func: name, Column: in.Column, Window: window}
		case unitScalars[name] && arg != nil:
			return l.trace(arg, sc)
		case aggregateFunctions[name] || fc.AggStar:
			return Output{Func: name, Window: window}
		}
	}
	return Output{}
}
