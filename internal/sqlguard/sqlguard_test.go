package sqlguard

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestError_Error(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"message only", &Error{Code: "x", Message: "the query is empty"}, "the query is empty"},
		{
			"position and hint",
			&Error{Code: "x", Message: "function pg_sleep is not allowed: it sleeps", Pos: 8, Hint: "remove it"},
			"function pg_sleep is not allowed: it sleeps (at character 8). Hint: remove it",
		},
		{"hint without position", &Error{Message: "too long", Hint: "shorten it"}, "too long. Hint: shorten it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCheck shows what the guard accepts and how it words and places
// rejections; the corpora in testdata/ hold the long lists.
func TestCheck(t *testing.T) {
	duckTables := Options{Dialect: DuckDB, Relations: map[string]bool{"users": true}}
	tests := []struct {
		name string
		sql  string
		opts Options
		want *Error // nil: accepted
	}{
		{name: "plain select", sql: "SELECT 1"},
		{name: "trailing semicolon", sql: "SELECT 1;"},
		{name: "trailing semicolons and comment", sql: "SELECT 1;; -- done"},
		{name: "function alias used as its column", sql: "SELECT g FROM generate_series(1, 3) g"},
		{name: "field of a whole row", sql: "SELECT (u).city FROM users u"},
		{name: "count star", sql: "SELECT count(*) FROM users"},
		{name: "postgres with a table list refuses other tables", sql: "SELECT * FROM no_such_table",
			opts: Options{Relations: map[string]bool{"users": true}},
			want: &Error{Code: CodeDeniedRelation, Message: `relation "no_such_table" does not exist in this dataset`, Pos: 15, Hint: "query the dataset's own tables: users"}},
		{name: "postgres without a table list leaves unknown tables to the database", sql: "SELECT * FROM no_such_table"},
		{name: "postgres with a table list refuses another schema", sql: "SELECT * FROM other_panel.users",
			opts: Options{Relations: map[string]bool{"users": true}},
			want: &Error{Code: CodeDeniedRelation, Pos: 15}},
		{name: "postgres with a table list refuses the catalogs", sql: "SELECT relname FROM pg_class",
			opts: Options{Relations: map[string]bool{"users": true}},
			want: &Error{Code: CodeDeniedRelation, Pos: 21}},
		{name: "postgres quoted file-like name is only a table name", sql: `SELECT * FROM "data.csv"`},
		{name: "duckdb without a table list still refuses file names", sql: `SELECT * FROM "x.parquet"`,
			opts: Options{Dialect: DuckDB},
			want: &Error{Code: CodeDeniedRelation, Pos: 15}},
		{name: "duckdb unquoted file name", sql: "SELECT * FROM data.csv",
			opts: Options{Dialect: DuckDB},
			want: &Error{Code: CodeDeniedRelation, Message: "relation data.csv is not allowed: it looks like a file name, which DuckDB would read", Pos: 15}},
		{name: "duckdb without a table list allows plain names", sql: "SELECT * FROM anything",
			opts: Options{Dialect: DuckDB}},
		{name: "duckdb CTE shadows table list", sql: "WITH t AS (SELECT 1 AS x) SELECT x FROM t", opts: duckTables},
		{name: "duckdb recursive CTE sees itself", opts: duckTables,
			sql: "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 3) SELECT i FROM r"},
		{name: "duckdb later CTE sees earlier", opts: duckTables,
			sql: "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT x FROM b"},
		{name: "duckdb earlier CTE does not see later", opts: duckTables,
			sql:  "WITH a AS (SELECT x FROM b), b AS (SELECT 1 AS x) SELECT x FROM a",
			want: &Error{Code: CodeDeniedRelation, Pos: 26}},
		{name: "duckdb main schema is the dataset's own", sql: "SELECT count(*) FROM main.users", opts: duckTables},
		{name: "duckdb another catalog is refused", sql: "SELECT count(*) FROM other.main.users", opts: duckTables,
			want: &Error{Code: CodeDeniedRelation, Pos: 22}},
		{name: "duckdb table function allow-list", sql: "SELECT * FROM range(3)", opts: duckTables},
		{name: "duckdb functions are not denied for postgres", sql: "SELECT * FROM read_csv('x')",
			opts: Options{Dialect: Postgres}},
		{
			name: "position counts characters, not bytes",
			sql:  "SELECT 'éé', pg_sleep(1)",
			want: &Error{Code: CodeDeniedFunction, Message: "function pg_sleep is not allowed: it controls server processes, replication or maintenance, or sleeps", Pos: 14},
		},
		{
			name: "syntax error position counts characters",
			sql:  "SELECT 'éé' FROM WHERE",
			want: &Error{Code: CodeSyntax, Message: `syntax error at or near "WHERE"`, Pos: 18},
		},
		{
			name: "second statement position",
			sql:  "SELECT 1;\nDELETE FROM users",
			want: &Error{Code: CodeMultiple, Message: "the text holds 2 statements; only a single SELECT is accepted", Pos: 10},
		},
		{
			name: "max bytes option",
			sql:  "SELECT 12345",
			opts: Options{MaxBytes: 10},
			want: &Error{Code: CodeTooLong, Message: "query is 12 bytes; the limit is 10 bytes"},
		},
		{name: "text at the default limit", sql: "SELECT 1" + strings.Repeat(" ", DefaultMaxBytes-8)},
		{name: "text over the default limit", sql: "SELECT 1" + strings.Repeat(" ", DefaultMaxBytes-7),
			want: &Error{Code: CodeTooLong, Message: "query is 102401 bytes; the limit is 102400 bytes"}},
		{name: "the replacement character itself is valid text", sql: "SELECT '\uFFFD'"},
		{
			name: "table list names the allowed tables",
			sql:  "SELECT * FROM secrets",
			opts: duckTables,
			want: &Error{Code: CodeDeniedRelation, Message: `relation "secrets" does not exist in this dataset`, Pos: 15, Hint: "query the dataset's own tables: users"},
		},
		{name: "whole row of a table named like a column is refused", sql: "SELECT upper(u) FROM users u",
			want: &Error{Code: CodeRowPacking, Pos: 14}},
		{name: "whole row alone in a select list is refused", sql: "SELECT u FROM users u",
			want: &Error{Code: CodeRowPacking, Pos: 8}},
		{name: "star in a function call is refused", sql: "SELECT count(u.*) FROM users u",
			want: &Error{Code: CodeRowPacking, Pos: 14}},
		{name: "a CTE column named like a table read inside the CTE is a column",
			sql: "WITH c AS (SELECT user_id, COUNT(*) AS orders FROM orders GROUP BY user_id) SELECT orders, COUNT(*) FROM c GROUP BY orders"},
		{name: "a table column named like a table is a column when the columns are known",
			sql:  "SELECT orders FROM users, orders",
			opts: Options{Columns: map[string]map[string]bool{"users": {"orders": true}}}},
		{name: "a table column named like a table is refused when the columns are unknown",
			sql: "SELECT orders FROM users, orders", want: &Error{Code: CodeRowPacking, Pos: 8}},
		{name: "a column of a sibling sub-query does not hide a whole row",
			sql:  "SELECT (SELECT string_agg(u::text, ',') FROM users u), (SELECT u FROM (SELECT 1 AS u) s)",
			want: &Error{Code: CodeRowPacking, Pos: 27}},
		{name: "a whole row of an outer query inside a sub-query is refused",
			sql: "SELECT (SELECT max(length(u::text)) FROM orders) FROM users u", want: &Error{Code: CodeRowPacking, Pos: 27}},
		{name: "a list of respondent keys is refused", sql: "SELECT city, array_agg(user_id) FROM users GROUP BY city",
			opts: Options{RespondentKeys: []string{"user_id"}}, want: &Error{Code: CodeKeyList, Pos: 14}},
		{name: "a string of respondent keys, over an expression, is refused", sql: "SELECT string_agg(DISTINCT (u.user_id + 0)::text, ',') FROM users u",
			opts: Options{RespondentKeys: []string{"user_id"}}, want: &Error{Code: CodeKeyList, Pos: 8}},
		{name: "DuckDB's list and histogram of keys are refused", sql: "SELECT histogram(user_id) FROM orders",
			opts: Options{Dialect: DuckDB, RespondentKeys: []string{"user_id"}}, want: &Error{Code: CodeKeyList, Pos: 8}},
		{name: "an ARRAY sub-query of keys is refused", sql: "SELECT ARRAY(SELECT user_id FROM users WHERE city = 'Pune')",
			opts: Options{RespondentKeys: []string{"user_id"}}, want: &Error{Code: CodeKeyList, Pos: 8}},
		{name: "a list of other values is fine", sql: "SELECT city, string_agg(DISTINCT state, ', ') FROM users GROUP BY city",
			opts: Options{RespondentKeys: []string{"user_id"}}},
		{name: "counting keys is fine", sql: "SELECT city, COUNT(DISTINCT user_id) FROM users GROUP BY city",
			opts: Options{RespondentKeys: []string{"user_id"}}},
		{name: "a column of an outer query wins over an inner relation name",
			sql: "SELECT (SELECT max(u) FROM users u) FROM (SELECT 1 AS u) s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Check(tt.sql, tt.opts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want accepted", tt.sql, err)
				}
				if q.Text != tt.sql || len(q.Tree.Stmts) != 1 || q.Tree.Stmts[0].Stmt.GetSelectStmt() == nil {
					t.Errorf("Check(%q) returned %+v, want the text and one SelectStmt", tt.sql, q)
				}
				return
			}
			var got *Error
			if !errors.As(err, &got) {
				t.Fatalf("Check(%q) = %v, want *Error with code %s", tt.sql, err, tt.want.Code)
			}
			// Compare only the fields the case states.
			want := *tt.want
			g := *got
			if want.Message == "" {
				g.Message = ""
			}
			if want.Hint == "" {
				g.Hint = ""
			}
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("Check(%q) error mismatch (-want +got):\n%s\nfull error: %v", tt.sql, diff, err)
			}
		})
	}
}

func TestDialect_String(t *testing.T) {
	for d, want := range map[Dialect]string{Postgres: "postgres", DuckDB: "duckdb", Dialect(7): "dialect(7)"} {
		if got := d.String(); got != want {
			t.Errorf("Dialect(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}

func TestFirstWord(t *testing.T) {
	tests := map[string]string{
		"SELECT 1":                       "select",
		"  \n\tattach 'x'":               "attach",
		"-- hi\nPRAGMA x":                "pragma",
		"/* a /* nested */ b */ INSTALL": "install",
		"(SELECT 1)":                     "(",
		"-- only a comment":              "",
		"/* unterminated":                "",
		"'string'":                       "",
		"":                               "",
	}
	for text, want := range tests {
		if got := firstWord(text); got != want {
			t.Errorf("firstWord(%q) = %q, want %q", text, got, want)
		}
	}
}
