package render

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// FuzzTable checks that Table never panics, returns valid UTF-8 within its
// byte cap, and that every table line has exactly one cell per column: no
// value can add a column with an unescaped "|" or end a row with a line
// break.
func FuzzTable(f *testing.F) {
	f.Add("name|x", "a|b\nc", `back\|slash\`, int64(1234), 0.000123, 3, 0)
	f.Add("", "\r\n\r", "\u2028|\u2029", int64(-1), math.Inf(-1), 1, 600)
	f.Add("列", strings.Repeat("😀|", 100), "\xff\xfe|\\\\|", int64(math.MinInt64), math.NaN(), 0, 1000)
	f.Fuzz(func(t *testing.T, name, s1, s2 string, i int64, x float64, maxCell, maxBytes int) {
		maxCell %= 300
		maxBytes %= 1 << 16
		cols := []result.Column{{Name: name}, {Name: s1}, {Name: "n"}, {Name: "x"}, {Name: "v"}}
		var rows [][]any
		for k := range 20 {
			rows = append(rows, []any{s1, s2, i + int64(k), x * float64(k), []any{nil, true, s1 + s2}[k%3]})
		}
		rows = append(rows, []any{s2}, nil)
		opts := Options{MaxCell: maxCell, MaxBytes: maxBytes}
		got := Table(cols, rows, opts)
		if !utf8.ValidString(got) {
			t.Fatalf("output is not valid UTF-8: %q", got)
		}
		if limit := opts.normalized().MaxBytes; len(got) > limit {
			t.Fatalf("output is %d bytes, cap %d", len(got), limit)
		}
		for _, line := range strings.Split(got, "\n") {
			if !strings.HasPrefix(line, "|") {
				continue
			}
			if n := unescapedPipes(line); n != len(cols)+1 {
				t.Fatalf("line has %d separators, want %d: %q", n, len(cols)+1, line)
			}
		}
		if n := strings.Count(got, "\n|"); n > len(rows)+1 {
			t.Fatalf("%d table lines for %d rows", n+1, len(rows))
		}
	})
}

// unescapedPipes counts the pipes of line that a Markdown reader takes as
// column separators: those not preceded by an odd run of backslashes.
func unescapedPipes(line string) int {
	n, run := 0, 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			run++
			continue
		case '|':
			if run%2 == 0 {
				n++
			}
		}
		run = 0
	}
	return n
}

// FuzzSingle checks that any result renders without panicking, within its
// cap, as valid UTF-8 with every code fence closed.
func FuzzSingle(f *testing.F) {
	f.Add(true, "Sample Dataset", "SELECT 1", "SELECT 1\n```\n", "note", "msg", 5, 0)
	f.Add(false, "", "SELECT `a`\n``", "", "_x_", "err\nline", 1, 700)
	f.Fuzz(func(t *testing.T, ok bool, dataset, query, sql, note, msg string, rows, maxBytes int) {
		rows = max(0, rows%2000)
		maxBytes %= 1 << 16
		r := result.Result{
			OK: ok, Dataset: dataset, Query: query, SQL: sql, Error: msg, Label: dataset,
			Columns: []result.Column{{Name: note}, {Name: "n"}},
			Notes:   []string{note, msg}, Truncated: rows%2 == 0, RowLimit: rows,
			Weighting: result.Weighting{WeightColumn: note, ReasonIfNot: msg, Notes: []string{sql}},
		}
		for k := range rows {
			r.Rows = append(r.Rows, []any{query, int64(k)})
		}
		opts := Options{MaxBytes: maxBytes}
		limit := opts.normalized().MaxBytes
		for _, got := range []string{Single(r, opts), Multi(result.Multi{Results: []result.Result{r, r}}, opts)} {
			if !utf8.ValidString(got) {
				t.Fatalf("output is not valid UTF-8: %q", got)
			}
			if len(got) > limit {
				t.Fatalf("output is %d bytes, cap %d", len(got), limit)
			}
			if f := openFence(got); f != "" {
				t.Fatalf("fence %q left open in %q", f, got)
			}
		}
	})
}
