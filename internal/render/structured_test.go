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

// TestCapStructured_wholeAnswer checks that the whole structured answer,
// not only its rows, stays within the cap, whatever part of it is large,
// and that a rejected query is echoed as its first 200 characters.
func TestCapStructured_wholeAnswer(t *testing.T) {
	huge := "SELECT " + strings.Repeat("col_with_a_long_name, ", 150_000) + "1 FROM users" // 3 MB
	rows := make([][]any, 2000)                                                            // 430 KB of rows
	for i := range rows {
		rows[i] = []any{int64(i), strings.Repeat("x", 199)}
	}
	tests := []struct {
		name string
		r    result.Result
	}{
		{"a 3 MB rejected query", result.Result{Error: "query text is 3 MB, more than the 100 KB allowed", Query: huge, Label: huge}},
		{"a 3 MB error", result.Result{Error: "invalid input syntax for type integer: \"" + huge + "\"", Query: "SELECT 1"}},
		{"rows, SQL and notes all large", result.Result{OK: true, Query: huge[:100_000], SQL: huge[:300_000], Notes: repeat(strings.Repeat("n", 5000), 100),
			Columns: []result.Column{{Name: "id"}, {Name: "s"}}, Rows: rows, RowCount: len(rows)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			r := tt.r
			CapStructured(&r, opts)
			b, _ := json.Marshal(r)
			if len(b) > defaultMaxBytes {
				t.Errorf("structured answer is %d bytes, cap %d", len(b), defaultMaxBytes)
			}
			if !r.OK && utf8.RuneCountInString(r.Query) > EchoChars {
				t.Errorf("the rejected query is echoed with %d characters, want at most %d", utf8.RuneCountInString(r.Query), EchoChars)
			}
			if utf8.RuneCountInString(r.Error) > maxErrorChars || utf8.RuneCountInString(r.Label) > EchoChars {
				t.Errorf("error of %d and label of %d characters", utf8.RuneCountInString(r.Error), utf8.RuneCountInString(r.Label))
			}
			if r.OK && (len(r.Rows) == 0 || r.RowCount != len(r.Rows) || !r.Truncated) {
				t.Errorf("%d rows kept (row_count %d, truncated %v): the rows that fit should stay", len(r.Rows), r.RowCount, r.Truncated)
			}
		})
	}

	// Thirty rejected 100 KB queries with 100 KB labels in one call.
	m := result.Multi{Total: 30, Failed: 30}
	for range 30 {
		m.Results = append(m.Results, result.Result{Error: "syntax error at or near \"FROM\"", Query: huge[:100_000], Label: huge[:100_000], Columns: []result.Column{}, Rows: [][]any{}})
	}
	CapStructuredMulti(&m, Options{})
	if b, _ := json.Marshal(m); len(b) > defaultMaxBytes {
		t.Errorf("multi structured answer is %d bytes, cap %d", len(b), defaultMaxBytes)
	}
	md := Multi(m, Options{})
	if len(md) > defaultMaxBytes || strings.Contains(md, huge[:EchoChars+10]) {
		t.Errorf("multi Markdown is %d bytes or echoes more than %d characters of a query", len(md), EchoChars)
	}
}
