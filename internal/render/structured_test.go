package render

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

func TestCapStructured(t *testing.T) {
	long := strings.Repeat("1,Female,34,Mumbai,2500.00;", 20000) // a whole panel packed into one cell
	r := result.Result{OK: true, Columns: []result.Column{{Name: "x"}}, Rows: [][]any{{long}}, RowCount: 1}
	CapStructured(&r, Options{})
	cell := r.Rows[0][0].(string)
	if n := utf8.RuneCountInString(cell); n != 200 || !strings.HasSuffix(cell, "…") {
		t.Errorf("cell of %d characters, want 200 ending with …", n)
	}

	rows := make([][]any, 10000)
	for i := range rows {
		rows[i] = []any{int64(i), strings.Repeat("é", 150)}
	}
	r = result.Result{OK: true, Columns: []result.Column{{Name: "id"}, {Name: "s"}}, Rows: rows, RowCount: len(rows)}
	CapStructured(&r, Options{MaxBytes: 64 << 10})
	b, _ := json.Marshal(r.Rows)
	if len(b) > 64<<10 || !r.Truncated || r.RowCount != len(r.Rows) || len(r.Rows) == 0 {
		t.Errorf("rows JSON %d bytes, truncated %v, row_count %d of %d rows", len(b), r.Truncated, r.RowCount, len(r.Rows))
	}
	if !strings.Contains(strings.Join(r.Notes, " "), "of 10000 rows included") {
		t.Errorf("notes = %q", r.Notes)
	}

	m := result.Multi{Results: []result.Result{
		{Rows: [][]any{{strings.Repeat("a", 300)}}},
		{Rows: rows[:5000:5000]},
	}}
	CapStructuredMulti(&m, Options{MaxBytes: 32 << 10})
	b, _ = json.Marshal(m)
	if len(b) > 40<<10 {
		t.Errorf("multi structured JSON is %d bytes, want about 32 KB", len(b))
	}
}
