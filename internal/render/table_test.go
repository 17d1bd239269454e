package render

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

func TestCell(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		maxCell int
		want    string
	}{
		{"number formatted", int64(1234), 0, "1,234"},
		{"null", nil, 0, "NULL"},
		{"pipe escaped", "a|b", 0, `a\|b`},
		{"escaped pipe stays escaped", `a\|b`, 0, `a\\\|b`},
		{"two backslashes before a pipe", `a\\|b`, 0, `a\\\\\|b`},
		{"backslash elsewhere kept", `C:\dir`, 0, `C:\dir`},
		{"newline is a space", "a\nb", 0, "a b"},
		{"crlf is one space", "a\r\nb", 0, "a b"},
		{"lone cr is a space", "a\rb", 0, "a b"},
		{"unicode line separators", "a\u2028b\u2029c\u0085d", 0, "a b c d"},
		{"tab and NUL are spaces", "a\tb\x00c", 0, "a b c"},
		{"invalid UTF-8 replaced", "a\xffb", 0, "a\uFFFDb"},
		{"short text kept", "héllo", 5, "héllo"},
		{"cut by runes not bytes", "héllo wörld", 5, "héll…"},
		{"multibyte cut never splits a rune", "नमस्ते दुनिया", 4, "नमस…"},
		{"emoji", "😀😀😀😀", 3, "😀😀…"},
		{"cut before escaping", "||||||", 3, `\|\|…`},
		{"limit one", "abc", 1, "…"},
		{"default limit is 200", strings.Repeat("x", 250), 0, strings.Repeat("x", 199) + "…"},
		{"exactly the limit", strings.Repeat("ä", 200), 0, strings.Repeat("ä", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cell(tt.in, tt.maxCell); got != tt.want {
				t.Errorf("Cell(%q, %d) = %q, want %q", tt.in, tt.maxCell, got, tt.want)
			}
		})
	}
}

func TestTable(t *testing.T) {
	cols := []result.Column{{Name: "gender", Type: "text"}, {Name: "count", Type: "bigint"}}
	tests := []struct {
		name string
		cols []result.Column
		rows [][]any
		want string
	}{
		{
			name: "seed layout",
			cols: cols,
			rows: [][]any{{"Female", int64(1234)}, {"Male", int64(2456)}},
			want: "| gender | count |\n" +
				"|--------|-------|\n" +
				"| Female | 1,234 |\n" +
				"| Male   | 2,456 |\n",
		},
		{
			name: "no rows gives header and separator",
			cols: cols,
			want: "| gender | count |\n|--------|-------|\n",
		},
		{
			name: "short row padded, long row cut to the columns",
			cols: cols,
			rows: [][]any{{"Female"}, {"Male", int64(1), "extra"}},
			want: "| gender | count |\n" +
				"|--------|-------|\n" +
				"| Female |       |\n" +
				"| Male   | 1     |\n",
		},
		{
			name: "padding stops at 32 characters",
			cols: []result.Column{{Name: "c"}},
			rows: [][]any{{strings.Repeat("x", 40)}, {"y"}},
			want: "| c                                |\n" +
				"|" + strings.Repeat("-", 34) + "|\n" +
				"| " + strings.Repeat("x", 40) + " |\n" +
				"| y                                |\n",
		},
		{
			name: "integral floats get decimals only beside fractional ones",
			cols: []result.Column{{Name: "amount"}, {Name: "sum"}},
			rows: [][]any{{100.0, 3.0}, {2499.5, 12000.0}, {math.Copysign(0, -1), nil}, {math.NaN(), 1e20}},
			want: "| amount   | sum    |\n" +
				"|----------|--------|\n" +
				"| 100.00   | 3      |\n" +
				"| 2,499.50 | 12,000 |\n" +
				"| 0.00     | NULL   |\n" +
				"| NaN      | 1e+20  |\n",
		},
		{
			name: "no columns",
			want: "_No columns._\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Table(tt.cols, tt.rows, Options{}); got != tt.want {
				t.Errorf("Table() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestTable_byteCap renders 10,000 wide rows and checks that the answer
// honours the cap, is valid UTF-8, is cut at a row boundary and says how
// many rows it shows.
func TestTable_byteCap(t *testing.T) {
	cols := []result.Column{{Name: "id"}, {Name: "city"}, {Name: "note"}}
	rows := make([][]any, 10000)
	for i := range rows {
		rows[i] = []any{int64(i), "Thiruvananthapuram", strings.Repeat("é|\n", 30)}
	}
	for _, limit := range []int{0, 64 << 10, 5000} {
		opts := Options{MaxBytes: limit}
		got := Table(cols, rows, opts)
		capBytes := opts.normalized().MaxBytes
		if len(got) > capBytes {
			t.Errorf("cap %d: output is %d bytes", capBytes, len(got))
		}
		if len(got) < capBytes*9/10 {
			t.Errorf("cap %d: output is only %d bytes, the cap is badly used", capBytes, len(got))
		}
		if !utf8.ValidString(got) {
			t.Errorf("cap %d: output is not valid UTF-8", capBytes)
		}
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		shown := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "| ") {
				if !strings.HasSuffix(l, " |") {
					t.Fatalf("cap %d: row cut in the middle: %q", capBytes, l)
				}
				shown++
			}
		}
		shown-- // the header row
		wantNote := "_Output truncated at " + sizeText(capBytes) + ": " + Number(int64(shown)) + " of 10,000 rows shown."
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, wantNote) {
			t.Errorf("cap %d: last line %q, want prefix %q", capBytes, last, wantNote)
		}
	}
}
