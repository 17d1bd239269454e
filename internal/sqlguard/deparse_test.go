package sqlguard

import (
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

func TestDeparse(t *testing.T) {
	tests := []struct {
		name  string
		sql   string
		limit int
		want  string
	}{
		{"no limit gets the cap", "SELECT * FROM users", 6, "SELECT * FROM users LIMIT 6"},
		{"larger limit is lowered", "SELECT * FROM users LIMIT 100", 6, "SELECT * FROM users LIMIT 6"},
		{"smaller limit stays", "SELECT * FROM users LIMIT 3", 6, "SELECT * FROM users LIMIT 3"},
		{"equal limit stays", "SELECT * FROM users LIMIT 6", 6, "SELECT * FROM users LIMIT 6"},
		{"offset is kept", "SELECT * FROM users LIMIT 100 OFFSET 10", 6, "SELECT * FROM users LIMIT 6 OFFSET 10"},
		{"limit all is replaced", "SELECT * FROM users LIMIT ALL", 6, "SELECT * FROM users LIMIT 6"},
		{"limit null is replaced", "SELECT * FROM users LIMIT NULL", 6, "SELECT * FROM users LIMIT 6"},
		{"expression limit is replaced", "SELECT * FROM users LIMIT (SELECT 10)", 6, "SELECT * FROM users LIMIT 6"},
		{"fractional limit is replaced", "SELECT * FROM users LIMIT 2.5", 6, "SELECT * FROM users LIMIT 6"},
		{"fetch first is capped", "SELECT * FROM users FETCH FIRST 50 ROWS ONLY", 6, "SELECT * FROM users LIMIT 6"},
		{
			"with ties is wrapped", "SELECT age FROM users ORDER BY age FETCH FIRST 2 ROWS WITH TIES", 6,
			"SELECT * FROM (SELECT age FROM users ORDER BY age FETCH FIRST 2 ROWS WITH TIES) capped LIMIT 6",
		},
		{"zero leaves limit alone", "SELECT * FROM users LIMIT 100", 0, "SELECT * FROM users LIMIT 100"},
		{"negative leaves no limit alone", "SELECT * FROM users", -1, "SELECT * FROM users"},
		{"set operation capped as a whole", "SELECT 1 UNION SELECT 2", 6, "SELECT 1 UNION SELECT 2 LIMIT 6"},
		{"values capped", "VALUES (1), (2)", 6, "VALUES (1), (2) LIMIT 6"},
		{
			"only the top level is capped", "WITH c AS (SELECT * FROM users LIMIT 100) SELECT * FROM c", 6,
			"WITH c AS (SELECT * FROM users LIMIT 100) SELECT * FROM c LIMIT 6",
		},
		{"huge cap is clamped", "SELECT 1", 1 << 40, "SELECT 1 LIMIT 2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Check(tt.sql, Options{})
			if err != nil {
				t.Fatal(err)
			}
			before := proto.Clone(q.Tree)
			got, err := Deparse(q.Tree, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Deparse(%q, %d) = %q, want %q", tt.sql, tt.limit, got, tt.want)
			}
			if !proto.Equal(before, q.Tree) {
				t.Errorf("Deparse modified the tree it was given")
			}
		})
	}
}

func TestDeparse_Errors(t *testing.T) {
	insert, err := pg_query.Parse("INSERT INTO t VALUES (1)")
	if err != nil {
		t.Fatal(err)
	}
	two, err := pg_query.Parse("SELECT 1; SELECT 2")
	if err != nil {
		t.Fatal(err)
	}
	for name, tree := range map[string]*pg_query.ParseResult{"nil": nil, "not a select": insert, "two statements": two} {
		t.Run(name, func(t *testing.T) {
			if sql, err := Deparse(tree, 5); err == nil {
				t.Errorf("Deparse = %q, want an error", sql)
			}
		})
	}
}
