package weighting

import (
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// TestWalk_MatchesReflection checks that walk, which takes a type switch for common
// expression nodes, visits exactly the nodes a walk by protobuf reflection visits.
func TestWalk_MatchesReflection(t *testing.T) {
	queries := append([]string{
		"SELECT CASE WHEN a IS NULL THEN 1 WHEN b IS TRUE THEN 2 ELSE COALESCE(c, GREATEST(d, 0)) END::numeric(10, 2)[] FROM t",
		"SELECT count(*) FILTER (WHERE x > 1), string_agg(y, ',' ORDER BY y DESC), sum(z) OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM t",
		"SELECT a IN (1, 2), NOT (b AND c OR d), (SELECT max(x) FROM u WHERE u.k = t.k), t.* FROM t JOIN u USING (k) WHERE EXISTS (SELECT 1) ORDER BY 1 USING <",
		"WITH c AS (SELECT 1 AS x UNION SELECT 2) SELECT $1, x[1], ROW(1, 2) FROM c",
	}, seedQueries...)
	for _, q := range queries {
		tree, err := pg.Parse(q)
		if err != nil {
			t.Fatalf("parse %q: %v", q, err)
		}
		var fast, slow []*pg.Node
		walk(tree.Stmts[0].Stmt, func(n *pg.Node) bool { fast = append(fast, n); return true })
		var reflectWalk func(n *pg.Node)
		reflectWalk = func(n *pg.Node) {
			if n == nil || n.Node == nil {
				return
			}
			slow = append(slow, n)
			walkMessage(n.ProtoReflect(), func(c *pg.Node) bool { reflectWalk(c); return false })
		}
		reflectWalk(tree.Stmts[0].Stmt)
		seen := map[*pg.Node]int{}
		for _, n := range slow {
			seen[n]++
		}
		for _, n := range fast {
			seen[n]--
		}
		for n, c := range seen {
			if c != 0 {
				t.Errorf("%q: node %T visited %+d more times by reflection", q, n.Node, c)
			}
		}
	}
}

func TestIs01(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{"CASE WHEN plan = 'premium' THEN 1 ELSE 0 END", true},
		{"CASE WHEN plan = 'premium' THEN 1.0 ELSE 0.00 END", true},
		{"CASE WHEN plan = 'premium' THEN 1 END", true},
		{"(plan = 'premium')::int", true},
		{"CASE WHEN plan = 'premium' THEN 10.0 ELSE 0 END", false},
		{"CASE WHEN plan = 'premium' THEN 100 ELSE 0 END", false},
		{"CASE WHEN plan = 'premium' THEN 0.5 ELSE 0 END", false},
		{"spend", false},
	}
	for _, tt := range tests {
		tree, err := pg.Parse("SELECT " + tt.expr + " FROM users")
		if err != nil {
			t.Fatal(err)
		}
		x := tree.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val
		if got := is01(x); got != tt.want {
			t.Errorf("is01(%s) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}
