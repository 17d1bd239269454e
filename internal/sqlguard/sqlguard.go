package sqlguard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"
)

// Dialect is the SQL engine a query will run on. Both are parsed with
// PostgreSQL's parser; the dialect decides which deny-lists apply.
type Dialect int

const (
	Postgres Dialect = iota
	DuckDB
)

// String returns "postgres" or "duckdb".
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case DuckDB:
		return "duckdb"
	}
	return "dialect(" + strconv.Itoa(int(d)) + ")"
}

// DefaultMaxBytes is the query text limit when Options.MaxBytes is 0.
const DefaultMaxBytes = 100 * 1024

// Options says what Check allows for one dataset.
type Options struct {
	Dialect  Dialect
	MaxBytes int // maximum query text size; 0 means DefaultMaxBytes (102400 bytes)
	// Relations, when non-nil, is the set of table names (lower case, unqualified) the
	// dataset has. For DuckDB, any relation that is neither in this set nor a CTE name
	// in scope is refused (DuckDB's replacement scans would otherwise read a file named
	// like "/etc/passwd.csv"). For Postgres it is advisory (unknown tables are left for
	// the database to report), but denied catalog relations are always refused.
	Relations map[string]bool
	// Columns, when set, lists the columns of each table (lower case): a bare
	// name in a query is a whole row only when no table in reach has a column
	// of that name, so knowing the columns keeps the whole-row check from
	// refusing a column named like a table.
	Columns map[string]map[string]bool
	// RespondentKeys are the names of the columns that identify a panelist
	// (user_id): aggregates that return lists of them (array_agg, list,
	// string_agg, histogram…, of the key or of an expression over it) are
	// refused, as are ARRAY(SELECT key …) constructors. Such an "aggregate"
	// is respondent-level data in bulk.
	RespondentKeys []string
}

// Query is a statement that passed the guard.
type Query struct {
	Text string // the text as received
	// Tree holds exactly one statement, a SelectStmt. Callers must not mutate it:
	// it may be shared (for example by a cache); clone it with proto.Clone first.
	Tree *pg_query.ParseResult
}

// Codes of [Error]. They are stable: callers and tests may compare them.
const (
	CodeTooLong         = "too_long"
	CodeInvalidText     = "invalid_text"
	CodeEmpty           = "empty"
	CodeSyntax          = "syntax"
	CodeMultiple        = "multiple_statements"
	CodeNotSelect       = "not_select"
	CodeSelectInto      = "select_into"
	CodeLocking         = "locking_clause"
	CodeDataModifying   = "data_modifying"
	CodeDeniedFunction  = "denied_function"
	CodeDeniedRelation  = "denied_relation"
	CodeRowPacking      = "row_packing"
	CodeKeyList         = "respondent_key_list"
	selectOnlyHint      = "send one read-only SELECT (WITH ... SELECT, VALUES and UNION of SELECTs are fine)"
	analyticsOnlyHint   = "query the dataset's tables with SELECT; aggregates, window functions and ordinary scalar functions are allowed"
	wholeRowPackingHint = "name the columns you need (e.g. json_agg(u.city)), or select t.* on its own"
)

// Error is a rejection the caller (an AI assistant) can fix.
type Error struct {
	Code    string // short stable code, one of the Code* constants
	Message string // what was wrong, in one sentence
	Pos     int    // 1-based character position in the text, 0 when unknown
	Hint    string // what is allowed instead
}

// Error returns the message, the position when known and the hint.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Pos > 0 {
		fmt.Fprintf(&b, " (at character %d)", e.Pos)
	}
	if e.Hint != "" {
		b.WriteString(". Hint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Check parses text with PostgreSQL's parser and accepts it only when it is a
// single read-only SELECT that calls no denied function and reads no denied
// relation (see the package documentation for the threats). Rejections are
// *[Error]; Check never panics and does no I/O.
func Check(text string, opts Options) (*Query, error) {
	if err := CheckText(text, opts.MaxBytes); err != nil {
		return nil, err
	}
	tree, err := pg_query.Parse(text)
	if err != nil {
		return nil, parseError(text, err)
	}
	switch len(tree.Stmts) {
	case 0:
		return nil, &Error{Code: CodeEmpty, Message: "the query is empty", Hint: selectOnlyHint}
	case 1:
	default:
		return nil, &Error{
			Code:    CodeMultiple,
			Message: fmt.Sprintf("the text holds %d statements; only a single SELECT is accepted", len(tree.Stmts)),
			Pos:     charPos(text, tree.Stmts[1].StmtLocation),
			Hint:    "send one statement per query; execute_multi_query runs several queries in one call",
		}
	}
	raw := tree.Stmts[0]
	if raw.Stmt.GetSelectStmt() == nil {
		return nil, &Error{
			Code:    CodeNotSelect,
			Message: fmt.Sprintf("%s statements are not allowed: only a single read-only SELECT is accepted", statementKind(raw.Stmt)),
			Pos:     charPos(text, raw.StmtLocation),
			Hint:    selectOnlyHint,
		}
	}
	if err := inspect(text, tree, opts); err != nil {
		return nil, err
	}
	return &Query{Text: text, Tree: tree}, nil
}

// CheckText refuses text the parser must not see: too long, not UTF-8, or
// holding a NUL byte (the C parser would silently stop reading at it).
// Check starts with it; a caller reusing an earlier Check of a text of the
// same shape (see analysis) calls it alone.
func CheckText(text string, maxBytes int) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if len(text) > maxBytes {
		return &Error{
			Code:    CodeTooLong,
			Message: fmt.Sprintf("query is %d bytes; the limit is %d bytes", len(text), maxBytes),
			Hint:    "aggregate in SQL instead of listing values in the query text",
		}
	}
	for i, r := range text {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(text[i:], "\uFFFD"):
			return &Error{
				Code:    CodeInvalidText,
				Message: "the query is not valid UTF-8",
				Pos:     charPos(text, int32(i)),
				Hint:    "send the query as UTF-8 text",
			}
		case r == 0:
			return &Error{
				Code:    CodeInvalidText,
				Message: "the query contains a NUL character",
				Pos:     charPos(text, int32(i)),
				Hint:    "remove the NUL character",
			}
		}
	}
	return nil
}

// parseError turns a parser error into an *Error. Text that does not even
// start like a query (ATTACH, PRAGMA, INSTALL: DuckDB statements PostgreSQL
// does not know) is reported as not_select rather than as a syntax error.
func parseError(text string, err error) error {
	// A statement the parser does not know (DuckDB's ATTACH, INSTALL,
	// PRAGMA...) is refused as what it is; any other unparsable text, a
	// typo such as SELEC included, is a syntax error at its position.
	if kw := firstWord(text); kw != "" {
		if statementVerbs[kw] {
			return &Error{
				Code:    CodeNotSelect,
				Message: fmt.Sprintf("%s statements are not allowed: only a single read-only SELECT is accepted", strings.ToUpper(kw)),
				Pos:     1,
				Hint:    selectOnlyHint,
			}
		}
	}
	e := &Error{Code: CodeSyntax, Message: "syntax error", Hint: "write PostgreSQL-compatible SELECT syntax"}
	var perr *parser.Error
	if errors.As(err, &perr) {
		e.Message = perr.Message
		e.Pos = perr.Cursorpos
		if e.Pos > utf8.RuneCountInString(text)+1 {
			e.Pos = 0
		}
	}
	return e
}

// statementVerbs are the first words of statements other than queries, in
// PostgreSQL and DuckDB.
var statementVerbs = map[string]bool{
	"abort": true, "alter": true, "analyze": true, "attach": true, "begin": true, "call": true, "checkpoint": true,
	"close": true, "cluster": true, "comment": true, "commit": true, "copy": true, "create": true, "deallocate": true,
	"declare": true, "delete": true, "describe": true, "detach": true, "discard": true, "do": true, "drop": true,
	"end": true, "execute": true, "explain": true, "export": true, "fetch": true, "force": true, "grant": true, "import": true,
	"insert": true, "install": true, "listen": true, "load": true, "lock": true, "merge": true, "move": true,
	"notify": true, "pivot": true, "pragma": true, "prepare": true, "reassign": true, "refresh": true, "reindex": true,
	"release": true, "reset": true, "revoke": true, "rollback": true, "savepoint": true, "security": true, "set": true,
	"show": true, "start": true, "summarize": true, "truncate": true, "unlisten": true, "unpivot": true, "update": true,
	"use": true, "vacuum": true,
}

// firstWord returns the first word of text after whitespace and comments,
// lower case, or "(" when the text starts with a parenthesis; "" otherwise.
// It reads only as far as that word, unlike the parser's scanner, which
// would tokenize the whole text on every syntax error.
func firstWord(text string) string {
	i := 0
	for i < len(text) {
		switch {
		case strings.ContainsRune(" \t\n\r\f\v", rune(text[i])):
			i++
		case strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				return ""
			}
			i += end + 1
		case strings.HasPrefix(text[i:], "/*"):
			// PostgreSQL block comments nest.
			depth := 0
			for i < len(text) {
				if strings.HasPrefix(text[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(text[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			if depth > 0 {
				return ""
			}
		case text[i] == '(':
			return "("
		default:
			j := i
			for j < len(text) && (text[j] == '_' || text[j] >= 'a' && text[j] <= 'z' || text[j] >= 'A' && text[j] <= 'Z') {
				j++
			}
			return strings.ToLower(text[i:j])
		}
	}
	return ""
}

// statementKind names the statement in node for a message: "INSERT",
// "CREATE TABLE", "transaction control (BEGIN, COMMIT, ...)".
func statementKind(node *pg_query.Node) string {
	if node == nil || node.Node == nil {
		return "empty"
	}
	m := node.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("node")
	fd := m.WhichOneof(od)
	if fd == nil {
		return "unknown"
	}
	name := string(fd.Message().Name())
	switch name {
	case "TransactionStmt":
		return "transaction control (BEGIN, COMMIT, ROLLBACK, ...)"
	case "VariableSetStmt":
		return "SET"
	case "VariableShowStmt":
		return "SHOW"
	case "CreateTableAsStmt":
		return "CREATE TABLE AS"
	case "RefreshMatViewStmt":
		return "REFRESH MATERIALIZED VIEW"
	}
	return camelToWords(strings.TrimSuffix(name, "Stmt"))
}

// camelToWords turns "AlterTable" into "ALTER TABLE".
func camelToWords(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// charPos converts a 0-based byte offset into text (a parse-tree Location)
// into a 1-based character position; 0 when the offset is unknown.
func charPos(text string, loc int32) int {
	if loc < 0 || int(loc) > len(text) {
		return 0
	}
	return utf8.RuneCountInString(text[:loc]) + 1
}
