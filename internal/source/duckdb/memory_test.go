package duckdb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source/duckdb"
)

// TestSource_BoundedReads asks for values and rows far larger than an
// answer can show. DuckDB computes them (it runs in the process), but Go
// copies at most MaxTextChars of a text value and MaxListItems of a list,
// and stops reading rows past the byte bound, with a note.
func TestSource_BoundedReads(t *testing.T) {
	src, _ := open(t)
	ctx := context.Background()
	tab, err := src.Query(ctx, "SELECT repeat('x', 20000000) AS big, 7 AS n, [1, 2] AS l, range(0, 5000) AS r", 5)
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []result.Column{{Name: "big", Type: "varchar"}, {Name: "n", Type: "integer"}, {Name: "l", Type: "integer[]"}, {Name: "r", Type: "bigint[]"}}
	if diff := cmp.Diff(wantCols, tab.Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	row := tab.Rows[0]
	if s, _ := row[0].(string); utf8.RuneCountInString(s) != duckdb.MaxTextChars {
		t.Errorf("a 20 MB value was read as %d characters, want %d", len(s), duckdb.MaxTextChars)
	}
	if row[1] != int64(7) || row[2] != "[1,2]" {
		t.Errorf("the other values changed: %v, %v", row[1], row[2])
	}
	if r, _ := row[3].(string); strings.Count(r, ",")+1 != duckdb.MaxListItems {
		t.Errorf("a list of 5,000 items was read with %d items, want %d", strings.Count(r, ",")+1, duckdb.MaxListItems)
	}

	// Rows of 8 KB, 1,000 of them: 8 MB, over the 4 MB a query may read.
	tab, err = src.Query(ctx, "SELECT i, repeat('y', 8000) AS s FROM range(0, 1000) t(i) ORDER BY i", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tab.Rows); n < 400 || n > 600 || !tab.Truncated || !strings.Contains(tab.Cut, fmt.Sprintf("Reading stopped after %d rows", n)) {
		t.Errorf("%d rows, truncated %v, cut %q; want about 500 rows and the note", n, tab.Truncated, tab.Cut)
	}
	for i, r := range tab.Rows {
		if r[0] != int64(i) {
			t.Fatalf("row %d is %v: the bounding wrapper lost the query's order", i, r[0])
		}
	}

	// Duplicate and odd column names survive the wrapper.
	tab, err = src.Query(ctx, `SELECT gender, gender, 'x' AS "a ""b""" FROM users ORDER BY user_id LIMIT 2`, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(tab.Columns[0].Name, tab.Columns[1].Name, tab.Columns[2].Name, tab.Rows); got != `gendergendera "b"[[Female Female x] [Male Male x]]` {
		t.Errorf("got %s", got)
	}
}
