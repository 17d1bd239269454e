package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/source/postgres"
)

// TestSource_BoundedReads asks for rows far larger than a query may read
// (1 MB here): reading stops with a note instead of an error, nothing
// larger than the bound is held, and the source keeps working.
func TestSource_BoundedReads(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	src, err := postgres.Open(ctx, dsn, postgres.Options{MinConns: 1, MaxConns: 2, QueryTimeout: 20 * time.Second, ConnectTimeout: 5 * time.Second, MaxResultBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tests := []struct {
		name string
		sql  string
		max  int
		rows int
		cut  string
	}{
		{"one 10 MB value", "SELECT repeat('x', 10000000) AS big", 5, 0, "Row 1 is 9.5 MB, more than the 1 MB a query may read"},
		{"a giant value after small rows", "SELECT g, CASE WHEN g = 4 THEN repeat('x', 5000000) ELSE 'small' END FROM generate_series(1, 5) g ORDER BY g", 10, 3, "Row 4 is 4.8 MB"},
		{"many rows of 100 KB", "SELECT g, repeat('y', 100000) FROM generate_series(1, 1000) g ORDER BY g", 1000, 10, "Reading stopped after 10 rows: the rows took more than the 1 MB"},
		{"within the bound", "SELECT g, repeat('z', 1000) FROM generate_series(1, 100) g", 1000, 100, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := src.Query(ctx, tt.sql, tt.max)
			if err != nil {
				t.Fatalf("error %v, want a table with a note", err)
			}
			if len(tab.Rows) != tt.rows || !strings.Contains(tab.Cut, tt.cut) || (tt.cut != "") != tab.Truncated {
				t.Errorf("%d rows, truncated %v, cut %q; want %d rows and a note containing %q", len(tab.Rows), tab.Truncated, tab.Cut, tt.rows, tt.cut)
			}
			// The source still answers, on whatever connection it has.
			for range 3 {
				if tab, err := src.Query(ctx, "SELECT 42", 5); err != nil || tab.Rows[0][0] != int64(42) {
					t.Fatalf("after the cut: %v", err)
				}
			}
		})
	}

	// In a pipelined batch, the giant value cuts its own query only.
	sqls := []string{"SELECT 1", "SELECT repeat('x', 10000000)", "SELECT 3", "SELECT 4"}
	tables, errs := src.QueryBatch(ctx, sqls, []int{5, 5, 5, 5})
	for i, want := range []any{int64(1), nil, int64(3), int64(4)} {
		switch {
		case errs[i] != nil:
			t.Errorf("batch query %d: %v", i, errs[i])
		case want == nil && (tables[i].Cut == "" || len(tables[i].Rows) != 0):
			t.Errorf("batch query %d: %d rows, cut %q; want none and the note", i, len(tables[i].Rows), tables[i].Cut)
		case want != nil && (len(tables[i].Rows) != 1 || tables[i].Rows[0][0] != want):
			t.Errorf("batch query %d = %v, want %v", i, tables[i].Rows, want)
		}
	}
}
