package weighting

import (
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// FuzzRewrite checks that Rewrite never panics on a single SELECT, whatever its
// shape and options, and that what it returns deparses to SQL that parses back to
// exactly one SELECT. The seed corpus is testdata/fuzz/FuzzRewrite plus the seed's
// queries.
func FuzzRewrite(f *testing.F) {
	for _, q := range seedQueries {
		f.Add(q, true, true, true)
	}
	f.Fuzz(func(t *testing.T, query string, aggregated, weights, merge bool) {
		tree, err := pg.Parse(query)
		if err != nil || len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetSelectStmt() == nil {
			return // the guard lets only one SELECT through
		}
		if in, err := pg.Deparse(tree); err != nil {
			return // a tree the deparser cannot write to begin with
		} else if _, err := pg.Parse(in); err != nil {
			return // the deparser's own round trip fails ("SELECT (0).a" becomes "SELECT 0.a")
		}
		opts := Options{Roles: panelRoles(), Schema: panelSchema(), Aggregated: aggregated, Weights: weights, MergeNCCS: merge}
		res, err := Rewrite(tree, opts)
		if err != nil {
			t.Fatalf("Rewrite(%q): %v", query, err)
		}
		out, err := pg.Deparse(res.Tree)
		if err != nil {
			t.Fatalf("deparse the rewrite of %q: %v", query, err)
		}
		back, err := pg.Parse(out)
		if err != nil {
			t.Fatalf("the rewrite of %q does not parse: %v\n%s", query, err, out)
		}
		if len(back.Stmts) != 1 || back.Stmts[0].Stmt.GetSelectStmt() == nil {
			t.Fatalf("the rewrite of %q is not one SELECT:\n%s", query, out)
		}
	})
}
