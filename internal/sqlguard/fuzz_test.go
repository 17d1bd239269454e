package sqlguard

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// FuzzCheck holds the guard's invariants on any input: Check never panics;
// a rejection is an *Error with a code and a position inside the text; and
// whatever Check accepts deparses (with and without a row cap) to text that,
// if it parses at all, parses to exactly one SelectStmt and passes Check
// again, so no denied function or relation can appear in the SQL that
// actually runs.
func FuzzCheck(f *testing.F) {
	for _, file := range []string{"hostile.sql", "legit.sql"} {
		for _, c := range readCorpus(f, file) {
			f.Add(c.SQL, false)
			f.Add(c.SQL, true)
		}
	}
	f.Fuzz(func(t *testing.T, text string, duck bool) {
		if len(text) > 8<<10 {
			// Large texts cost milliseconds in the C parser and make the
			// fuzzer's minimization crawl; TestCheck covers the size limit.
			t.Skip("longer than 8 KB")
		}
		opts := Options{Relations: corpusRelations}
		if duck {
			opts.Dialect = DuckDB
		}
		q, err := Check(text, opts)
		if err != nil {
			var gerr *Error
			if !errors.As(err, &gerr) {
				t.Fatalf("Check(%q) error %v is a %T, want *Error", text, err, err)
			}
			if gerr.Code == "" || gerr.Message == "" {
				t.Fatalf("Check(%q) error %+v lacks a code or message", text, gerr)
			}
			if utf8.ValidString(text) && (gerr.Pos < 0 || gerr.Pos > utf8.RuneCountInString(text)+1) {
				t.Fatalf("Check(%q) error position %d is outside the text", text, gerr.Pos)
			}
			return
		}
		Classify(q.Tree, []string{"user_id"})
		for _, limit := range []int{0, 6} {
			sql, err := Deparse(q.Tree, limit)
			if err != nil {
				// The deparser cannot print every tree the parser builds; the
				// caller gets an error, never unchecked SQL.
				if limit == 0 {
					return
				}
				t.Fatalf("Deparse(%q, %d) failed after Deparse(…, 0) worked: %v", text, limit, err)
			}
			tree, err := pg_query.Parse(sql)
			if err != nil {
				// pg_query's deparser does not round-trip every tree: it
				// prints SELECT (('')).a as SELECT ''.a. Text that does not
				// parse runs nothing; the database reports the syntax error.
				return
			}
			if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetSelectStmt() == nil {
				t.Fatalf("deparsed %q (from %q) is not exactly one SELECT", sql, text)
			}
			again := opts
			again.MaxBytes = len(sql) + 1
			if _, err := Check(sql, again); err != nil && !strings.Contains(err.Error(), "syntax") {
				t.Fatalf("deparsed %q (from %q) fails the guard: %v", sql, text, err)
			}
		}
	})
}
