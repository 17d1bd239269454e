package analysis

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
)

// maxListedColumns is how many column names an unknown-column error lists
// per table before it says "…".
const maxListedColumns = 40

// explain words the error of a query that ran when it is an unknown
// column or table, the same way on both engines (PostgreSQL and DuckDB word
// them differently, and both may name what the rewrite wrote rather than
// what the caller did): the closest names, and the columns of the tables
// the query reads, or the dataset's tables. It reports false for any other
// error, which [Service.message] words.
func explain(h *dataset.Handle, plan QueryPlan, err error) (string, bool) {
	var qe *source.QueryError
	if h == nil || !errors.As(err, &qe) {
		return "", false
	}
	switch qe.Kind {
	case source.UndefinedColumn:
		return unknownColumn(h, plan.Lineage, qe)
	case source.UndefinedTable:
		return unknownTable(h, qe.Name), true
	}
	return "", false
}

// unknownColumn words an unknown column: `column "gendr" does not exist —
// did you mean gender? users has: user_id, weight, gender, …`. It reports
// false when the name is a column after all, or a SELECT alias of an
// expression (DuckDB's "Alias with name ... exists" is then the right
// explanation).
func unknownColumn(h *dataset.Handle, l sqlguard.Lineage, qe *source.QueryError) (string, bool) {
	name := qe.Name
	lower := strings.ToLower(name)
	for _, o := range l.Outputs {
		if o.Name == lower && o.Column != lower {
			return "", false
		}
	}
	tables := queryTables(h, l, strings.ToLower(qe.Qualifier))
	var candidates []string
	for _, t := range tables {
		for _, c := range t.Columns {
			if c.Name == name || !isQuoted(name) && strings.EqualFold(c.Name, name) {
				return "", false
			}
			candidates = append(candidates, c.Name)
		}
	}
	for inner := range l.Inner {
		candidates = append(candidates, inner)
	}
	for _, o := range l.Outputs {
		if o.Name != "" {
			candidates = append(candidates, o.Name)
		}
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)

	var b strings.Builder
	fmt.Fprintf(&b, "column %q does not exist", name)
	if s := sqlguard.Suggest(name, candidates); len(s) > 0 {
		b.WriteString(" — did you mean " + strings.Join(s, " or ") + "?")
	} else {
		b.WriteString(".")
	}
	for i, t := range tables {
		if i > 0 {
			b.WriteString(";")
		}
		names := make([]string, 0, len(t.Columns))
		for _, c := range t.Columns {
			names = append(names, c.Name)
		}
		more := ""
		if len(names) > maxListedColumns {
			names, more = names[:maxListedColumns], ", …"
		}
		fmt.Fprintf(&b, " %s has: %s%s", t.Name, strings.Join(names, ", "), more)
	}
	return b.String(), true
}

// isQuoted reports a name PostgreSQL kept as written because the query
// quoted it ("Gender"): it then matches only that spelling.
func isQuoted(name string) bool { return name != strings.ToLower(name) }

// queryTables are the dataset's tables an unknown column may belong to:
// the one its qualifier names, else those the query reads, else all.
func queryTables(h *dataset.Handle, l sqlguard.Lineage, qualifier string) []source.Table {
	find := func(name string) (source.Table, bool) {
		for _, t := range h.Tables {
			if strings.EqualFold(t.Name, name) {
				return t, true
			}
		}
		return source.Table{}, false
	}
	if qualifier != "" {
		name := qualifier
		if t, ok := l.Aliases[qualifier]; ok {
			name = t
		}
		if t, ok := find(name); ok {
			return []source.Table{t}
		}
	}
	var out []source.Table
	for _, name := range l.Tables {
		if t, ok := find(name); ok {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return h.Tables
	}
	return out
}

// unknownTable words an unknown table with the dataset's tables.
func unknownTable(h *dataset.Handle, name string) string {
	names := make([]string, len(h.Tables))
	for i, t := range h.Tables {
		names[i] = t.Name
	}
	slices.Sort(names)
	msg := fmt.Sprintf("relation %q does not exist in this dataset", name)
	if s := sqlguard.Suggest(name, names); len(s) > 0 {
		msg += " — did you mean " + strings.Join(s, " or ") + "?"
	} else {
		msg += "."
	}
	return msg + " Its tables are: " + strings.Join(names, ", ")
}
