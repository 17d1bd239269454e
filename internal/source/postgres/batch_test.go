package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// TestSource_QueryBatch runs queries pipelined on one connection: each
// gets the answer it would get alone, a failure stays with its query, and
// a query that switches the session's read-only default or standard
// strings off does not make the next one read-write or read strings
// otherwise.
func TestSource_QueryBatch(t *testing.T) {
	src, _ := open(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		sql     string
		maxRows int
		wantErr string // "" when the query must succeed with Query's answer
	}{
		{"aggregate", "SELECT gender, count(*) AS n, sum(weight) AS w FROM users GROUP BY gender ORDER BY gender", 10, ""},
		{"division by zero fails alone", "SELECT 1 / (count(*) - count(*)) FROM users", 10, "division by zero"},
		{"syntax error fails alone", "SELECT FROM WHERE", 10, "syntax error"},
		{"capped while scanning", "SELECT user_id, gender, DATE '2026-01-02' AS d, 12.50::numeric AS amount FROM users ORDER BY user_id LIMIT 6", 5, ""},
		{"switch the read-only default off", "SELECT set_config('default_transaction_read_only', 'off', false)", 1, ""},
		{"the next query is still read-only", "INSERT INTO users VALUES (1000, 'x', 1)", 1, "read-only"},
		{"switch standard strings off", "SELECT set_config('standard_conforming_strings', 'off', false)", 1, ""},
		{"the next query reads strings as the guard does", `SELECT length('a\b')`, 1, ""},
		{"last", "SELECT count(*) FROM users", 1, ""},
	}
	sqls := make([]string, len(tests))
	caps := make([]int, len(tests))
	for i, tt := range tests {
		sqls[i], caps[i] = tt.sql, tt.maxRows
	}
	tables, errs := src.QueryBatch(ctx, sqls, caps)
	if len(tables) != len(tests) || len(errs) != len(tests) {
		t.Fatalf("QueryBatch returned %d tables and %d errors for %d queries", len(tables), len(errs), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != "" {
				var qe *source.QueryError
				if !errors.As(errs[i], &qe) || !strings.Contains(errs[i].Error(), tt.wantErr) {
					t.Errorf("err = %v, want a query error containing %q", errs[i], tt.wantErr)
				}
				return
			}
			if errs[i] != nil {
				t.Fatalf("err = %v", errs[i])
			}
			if strings.HasPrefix(tt.sql, "SELECT set_config") {
				return // its effect is checked by the next case
			}
			want, err := src.Query(ctx, tt.sql, tt.maxRows)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, tables[i]); diff != "" {
				t.Errorf("pipelined answer differs from Query's (-want +got):\n%s", diff)
			}
		})
	}
	if n := fmt.Sprint(tables[7].Rows[0][0]); n != "3" {
		t.Errorf(`length('a\b') after a query switched standard strings off = %v, want 3`, n)
	}
	if !tables[3].Truncated || len(tables[3].Rows) != 5 {
		t.Errorf("capped query: %d rows, truncated %v; want 5, true", len(tables[3].Rows), tables[3].Truncated)
	}
	if tab, err := src.Query(ctx, "SELECT count(*) FROM users", 1); err != nil || tab.Rows[0][0] != int64(50) {
		t.Errorf("users = %v (%v), want 50 rows untouched", tab, err)
	}
}
