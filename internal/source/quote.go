package source

import "strings"

// QuoteIdent quotes a table, column or schema name for SQL. PostgreSQL and
// DuckDB quote identifiers alike (double quotes, doubled inside), so this is
// the one helper every package that writes SQL by hand uses.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteLiteral quotes a string literal for SQL. Both engines conform to the
// standard here (standard_conforming_strings): a backslash is not an escape.
func QuoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
