package render

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name.golden.md, or rewrites the file
// when the test runs with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
	}
}

var (
	genderCols = []result.Column{{Name: "gender", Type: "text"}, {Name: "count", Type: "bigint"}}
	genderRows = [][]any{{"Female", int64(1234)}, {"Male", int64(2456)}}
	userCols   = []result.Column{
		{Name: "user_id", Type: "bigint"}, {Name: "gender", Type: "text"}, {Name: "age", Type: "integer"},
		{Name: "nccs", Type: "text"}, {Name: "city", Type: "text"}, {Name: "weight", Type: "double precision"},
	}
	userRows = [][]any{
		{int64(1), "Female", int64(25), "A1", "Mumbai", 0.456},
		{int64(2), "Male", int64(34), "B", "Delhi", 1.2},
		{int64(3), "Female", int64(41), "C", "Bangalore", 0.000123},
		{int64(4), "Male", int64(19), nil, "Pune", 2.0},
		{int64(5), "Female", int64(58), "E", "Chennai", 1234.5678},
	}
)

func TestSingle(t *testing.T) {
	tests := []struct {
		name string
		in   result.Result
		opts Options
	}{
		{
			name: "single_ok",
			in: result.Result{
				DatasetID: 1, Dataset: "Sample Dataset", OK: true,
				Columns: genderCols, Rows: genderRows, RowCount: 2,
				Aggregated: true, RowLimit: 1000, TimeMS: 145.3,
				Weighting: result.Weighting{WeightColumn: "weight"},
			},
		},
		{
			name: "single_fast_query",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Columns: genderCols, Rows: genderRows, TimeMS: 0.42,
			},
		},
		{
			name: "single_error",
			in: result.Result{
				DatasetID: 1, Dataset: "Sample Dataset",
				Error: `relation "invalid_table" does not exist`,
				Query: "SELECT * FROM invalid_table",
			},
		},
		{
			name: "single_error_query_with_backticks_and_lines",
			in: result.Result{
				Error: "syntax error at or near \"`\"\nHINT: use double quotes for identifiers",
				Query: "SELECT `gender`,\n  count(*)\nFROM users\n```\nGROUP BY 1",
			},
		},
		{
			name: "single_error_inline_backticks",
			in: result.Result{
				Error: "syntax error at or near \"`\"",
				Query: "SELECT `gender` FROM users",
			},
		},
		{
			name: "zero_rows",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Columns: genderCols, TimeMS: 12.6,
				Aggregated: true,
			},
		},
		{
			name: "truncated_raw",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Columns: userCols, Rows: userRows, RowCount: 5,
				Truncated: true, RowLimit: 5, TimeMS: 3.14,
				Weighting: result.Weighting{WeightColumn: "users.weight", ReasonIfNot: "raw queries are never weighted"},
			},
		},
		{
			name: "truncated_aggregated",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Columns: genderCols, Rows: genderRows,
				Truncated: true, RowLimit: 2, Aggregated: true, TimeMS: 20,
			},
		},
		{
			name: "weighted_with_notes",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Aggregated: true, TimeMS: 48.7,
				Columns: []result.Column{
					{Name: "nccs", Type: "text"}, {Name: "count", Type: "bigint"},
					{Name: "weighted_count", Type: "double precision"}, {Name: "weighted_pct", Type: "double precision"},
				},
				Rows: [][]any{
					{"A", int64(812), 10234.56, 41.2},
					{"B", int64(604), 8710.2, 35.06},
					{"C/D/E", int64(24), 5899.0, 23.74},
				},
				Weighting: result.Weighting{
					Applied: true, WeightColumn: "users.weight", NCCSMerged: true,
					AddedColumns: []string{"weighted_count", "weighted_pct"},
					Notes: []string{
						"Weighted by `users.weight`: weighted_count = Σ weight, weighted_pct = share of Σ weight.",
						"NCCS merged: A + A1 → A, C + D + E → C/D/E.",
					},
				},
				Notes: []string{"Low base (n < 30): C/D/E.", " "}, // the blank note is skipped
			},
		},
		{
			name: "show_sql",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Columns: genderCols, Rows: genderRows, TimeMS: 9.96,
				Aggregated: true,
				Query:      "SELECT gender, COUNT(*) FROM users GROUP BY gender",
				SQL:        "SELECT gender, count(*) AS count, sum(weight) AS weighted_count\nFROM users\nGROUP BY gender",
				Weighting:  result.Weighting{Applied: true, WeightColumn: "users.weight"},
			},
		},
		{
			name: "cell_escaping",
			opts: Options{MaxCell: 12},
			in: result.Result{
				Dataset: "Test | data\nset", OK: true, TimeMS: 1,
				Columns: []result.Column{{Name: "a|b", Type: "text"}, {Name: "text", Type: "text"}},
				Rows: [][]any{
					{"x|y", "line one\nline two\r\nline three"},
					{`back\|slash`, "हिन्दी में लंबा पाठ जो काटा जाएगा"},
					{"中文文本很长需要截断的内容", "emoji 😀😀😀😀😀😀😀😀"},
					{nil, true},
				},
			},
		},
		{
			// Every kind of column the Markdown formats: dates at midnight
			// (a timestamp with time zone, as date_trunc returns it on
			// PostgreSQL), people and counts as whole numbers, percentages
			// with fixed decimals, ₹ totals and means, small means with
			// three significant digits.
			name: "formats_weighted",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Aggregated: true, TimeMS: 31.5,
				Columns: []result.Column{
					{Name: "month", Type: "timestamp with time zone"},
					{Name: "orders", Type: "bigint", Kind: result.KindCount},
					{Name: "revenue", Type: "numeric", Kind: result.KindTotal, Unit: "₹"},
					{Name: "weighted_count", Type: "double precision", Kind: result.KindCount},
					{Name: "weighted_pct", Type: "double precision", Kind: result.KindPercent},
					{Name: "moe_pct", Type: "double precision", Kind: result.KindPercent},
					{Name: "weighted_sum_amount", Type: "double precision", Kind: result.KindTotal, Unit: "₹"},
					{Name: "weighted_avg_amount", Type: "double precision", Kind: result.KindMean, Unit: "₹"},
					{Name: "se_weighted_avg_amount", Type: "double precision", Kind: result.KindMean, Unit: "₹"},
					{Name: "weighted_avg_is_weekend", Type: "double precision", Kind: result.KindMean},
					{Name: "n", Type: "bigint", Kind: result.KindCount},
					{Name: "n_eff", Type: "double precision", Kind: result.KindCount},
					{Name: "low_base", Type: "boolean"},
				},
				Rows: [][]any{
					{"2026-04-01T00:00:00Z", int64(4210), 7842311.0, 1.2502398411e8, 33.8123, 0.8712, 7.0912345678e10, 1774.4512, 12.3456, 0.28123, int64(1796), 1185.23, false},
					{"2026-05-01T00:00:00Z", int64(4388), 8065120.5, 1.3111209877e8, 35.4567, 0.9034, 7.4402348123e10, 1801.2, 9.87, 0.0213, int64(1834), 1201.77, false},
					{"2026-06-01T00:00:00Z", int64(21), 30120.0, 3.412e5, 0.09, 0.0412, 1.5e8, 955.5, 0.4567, 0.000123, int64(21), 18.4, true},
				},
				Weighting: result.Weighting{Applied: true, WeightColumn: "users.weight", Notes: []string{"Weighted by users.weight ×1000"}},
			},
		},
		{
			// A crosstab with its Total rows: the NULL of a grouping column
			// reads "Total" there, a real NULL group stays NULL.
			name: "formats_totals",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Aggregated: true, TimeMS: 12,
				Columns: []result.Column{
					{Name: "gender", Type: "text"}, {Name: "nccs", Type: "text"},
					{Name: "weighted_count", Type: "double precision", Kind: result.KindCount},
					{Name: "weighted_pct", Type: "double precision", Kind: result.KindPercent},
					{Name: "is_total", Type: "boolean"},
				},
				Rows: [][]any{
					{"Female", "A", 29914553.2, 12.2, false},
					{"Female", nil, 856057.0, 0.35, false},
					{nil, "A", 74280004.1, 12.38, true},
					{nil, nil, 1800000.0, 0.3, true},
				},
			},
		},
		{
			// Raw rows: identifiers without separators, amounts with their
			// unit (whole rupees in one column, paise in another), dates
			// as dates, timestamps without the T, a plain float as before.
			name: "formats_raw",
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, TimeMS: 2.5, RowLimit: 5,
				Columns: []result.Column{
					{Name: "order_id", Type: "integer", Kind: result.KindID},
					{Name: "user_id", Type: "integer", Kind: result.KindID},
					{Name: "amount", Type: "numeric(10,2)", Unit: "₹"},
					{Name: "refund", Type: "numeric(10,2)", Unit: "₹"},
					{Name: "order_date", Type: "date"},
					{Name: "event_time", Type: "timestamp"},
					{Name: "weight", Type: "double precision"},
				},
				Rows: [][]any{
					{int64(12001), int64(1796), 1299.0, 0.5, "2026-04-02", "2026-04-02T00:35:09", 65.7778},
					{int64(12002), int64(20000), 54999.0, nil, "2026-04-03", "2026-04-03T21:10:00.5", 279.4011},
				},
			},
		},
		{
			// show_sql on a query the database refused: the error, the
			// query as sent and the SQL that ran.
			name: "error_show_sql",
			in: result.Result{
				DatasetID: 1, Dataset: "Sample Dataset",
				Error: `column "gendr" does not exist. Did you mean gender? users has: user_id, weight, gender, age`,
				Query: "SELECT gendr, COUNT(*) FROM users GROUP BY gendr",
				SQL:   "SELECT gendr, count(*) AS count, sum(users.weight) * 1000 AS weighted_count\nFROM users\nGROUP BY gendr\nLIMIT 1001",
			},
		},
		{
			name: "byte_cap_single",
			opts: Options{MaxBytes: 1024},
			in: result.Result{
				Dataset: "Sample Dataset", OK: true, Columns: userCols, Rows: manyRows(200), TimeMS: 250,
				Aggregated: true, Notes: []string{"This note stays although rows are cut."},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Single(tt.in, tt.opts)
			checkAnswer(t, got, tt.opts)
			golden(t, tt.name, got)
		})
	}
}

func TestMulti(t *testing.T) {
	tests := []struct {
		name string
		in   result.Multi
		opts Options
	}{
		{
			// The seed's error-handling example: one invalid table among three.
			name: "multi_seed_error",
			in: result.Multi{
				Total: 3, Succeeded: 2, Failed: 1, TotalMS: 423, Parallel: true,
				Results: []result.Result{
					{
						Label: "Users", DatasetID: 1, Dataset: "Sample Dataset", OK: true,
						Columns: userCols[:3], Rows: userRows, RowCount: 5, Truncated: true, RowLimit: 5, TimeMS: 120,
						Weighting: result.Weighting{WeightColumn: "weight"},
					},
					{
						Label: "Invalid", DatasetID: 1, Dataset: "Sample Dataset",
						Error: `relation "invalid_table" does not exist`, Query: "SELECT * FROM invalid_table",
					},
					{
						Label: "Orders", DatasetID: 1, Dataset: "Sample Dataset", OK: true,
						Columns: []result.Column{{Name: "order_id"}, {Name: "amount"}, {Name: "date"}},
						Rows: [][]any{
							{int64(1), 100.0, "2024-01-03"}, {int64(2), 2499.5, "2024-01-04"},
							{int64(3), 89.99, "2024-01-04"}, {int64(4), 12000.0, "2024-01-05"},
							{int64(5), 0.5, "2024-01-06"},
						},
						Truncated: true, RowLimit: 5, TimeMS: 135,
					},
				},
			},
		},
		{
			// The seed's first example: three aggregates, all successful.
			name: "multi_all_ok",
			in: result.Multi{
				Total: 3, Succeeded: 3, TotalMS: 487.2, Parallel: true,
				Results: []result.Result{
					{
						Label: "Gender Distribution", Dataset: "Sample Dataset", OK: true, Aggregated: true,
						RowLimit: 1000, Columns: genderCols, Rows: genderRows, TimeMS: 145,
						Weighting: result.Weighting{WeightColumn: "weight"},
					},
					{
						Label: "Age Distribution", Dataset: "Sample Dataset", OK: true, Aggregated: true,
						Columns: []result.Column{{Name: "age_group"}, {Name: "count"}},
						Rows: [][]any{
							{"18-24", int64(567)}, {"25-34", int64(890)}, {"35-44", int64(654)},
							{"45-54", int64(432)}, {"55+", int64(691)},
						},
						TimeMS: 198,
					},
					{
						Dataset: "Sample Dataset", OK: true, Aggregated: true,
						Columns: []result.Column{{Name: "city"}, {Name: "count"}},
						Rows: [][]any{
							{"Mumbai", int64(1234)}, {"Delhi", int64(1098)}, {"Bangalore", int64(987)},
						},
						TimeMS: 144,
					},
				},
			},
		},
		{
			name: "multi_sequential_one_query",
			in: result.Multi{
				Total: 1, Succeeded: 1, TotalMS: 8.25,
				Results: []result.Result{{Dataset: "Sample Dataset", OK: true, Columns: genderCols, TimeMS: 8.1}},
			},
		},
		{
			// The footer's tips follow what the call held: a weighted
			// result, an aggregate run without weights, a failure.
			name: "multi_footer",
			in: result.Multi{
				Total: 3, Succeeded: 2, Failed: 1, TotalMS: 96, Parallel: true,
				Results: []result.Result{
					{
						Label: "Gender", Dataset: "Sample Dataset", OK: true, Aggregated: true, RowLimit: 1000, TimeMS: 40,
						Columns: []result.Column{
							{Name: "gender", Type: "text"}, {Name: "count", Type: "bigint", Kind: result.KindCount},
							{Name: "weighted_count", Type: "double precision", Kind: result.KindCount},
							{Name: "weighted_pct", Type: "double precision", Kind: result.KindPercent},
						},
						Rows:      [][]any{{"Female", int64(887), 246000123.4, 41.0}, {"Male", int64(1091), 345000456.7, 57.5}, {"Other", int64(22), 8999876.5, 1.5}},
						Weighting: result.Weighting{Applied: true, WeightColumn: "users.weight", Notes: []string{"Weighted by users.weight ×1000"}},
					},
					{
						Label: "Unweighted", Dataset: "Sample Dataset", OK: true, Aggregated: true, RowLimit: 1000, TimeMS: 12,
						Columns:   []result.Column{{Name: "platform", Type: "text"}, {Name: "count", Type: "bigint", Kind: result.KindCount}},
						Rows:      [][]any{{"android", int64(1562)}, {"ios", int64(221)}, {"web", int64(217)}},
						Weighting: result.Weighting{WeightColumn: "users.weight", ReasonIfNot: "apply_weights is false"},
					},
					{
						Label: "Typo", Dataset: "Sample Dataset",
						Error: `column "plattform" does not exist. Did you mean platform?`,
						Query: "SELECT plattform, COUNT(*) FROM users GROUP BY 1",
					},
				},
			},
		},
		{
			// One large result and two small ones under a 2 KB cap: the small
			// results stay whole, the large one is cut.
			name: "byte_cap_multi",
			opts: Options{MaxBytes: 2048},
			in: result.Multi{
				Total: 3, Succeeded: 2, Failed: 1, TotalMS: 60, Parallel: true,
				Results: []result.Result{
					{Label: "Big", Dataset: "Sample Dataset", OK: true, Columns: userCols, Rows: manyRows(300), TimeMS: 50, Aggregated: true},
					{Label: "Small", Dataset: "Sample Dataset", OK: true, Columns: genderCols, Rows: genderRows, TimeMS: 5, Aggregated: true},
					{Label: "Bad", Error: "column \"x\" does not exist", Query: "SELECT x FROM users"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Multi(tt.in, tt.opts)
			checkAnswer(t, got, tt.opts)
			golden(t, tt.name, got)
		})
	}
}

// TestMulti_byteCapKeepsEverySection checks that a cut multi-query answer
// keeps the summary, the heading of every section, the errors and the tips.
func TestMulti_byteCapKeepsEverySection(t *testing.T) {
	var m result.Multi
	for i := range 30 {
		// Queries 3, 10, 17 and 24 fail.
		r := result.Result{Label: fmt.Sprintf("Q%02d", i), Dataset: "Sample Dataset", OK: i%7 != 3, Columns: userCols, Rows: manyRows(1000)}
		if !r.OK {
			r.Error, r.Query, r.Rows = "division by zero", "SELECT 1/0", nil
		}
		m.Results = append(m.Results, r)
	}
	opts := Options{MaxBytes: 64 << 10}
	got := Multi(m, opts)
	checkAnswer(t, got, opts)
	for _, want := range []string{"# Multi-Query Results\n", "**Total Queries**: 30\n", "**Tips**:\n", "_Output truncated at 64 KB: "} {
		if !strings.Contains(got, want) {
			t.Errorf("answer lacks %q", want)
		}
	}
	for i := range 30 {
		if h := fmt.Sprintf("## %d. Q%02d\n", i+1, i); !strings.Contains(got, h) {
			t.Errorf("answer lacks section heading %q", h)
		}
	}
	if n := strings.Count(got, "**Error**: division by zero"); n != 4 {
		t.Errorf("answer shows %d errors, want 4", n)
	}
	if n := strings.Count(got, "_Output cap: "); n != 26 {
		t.Errorf("answer marks %d sections as cut, want 26", n)
	}
}

// TestSingle_byteCapWithoutRoom covers answers whose text is too large even
// without rows: a huge SQL text is shortened, the fence stays closed.
func TestSingle_byteCapWithoutRoom(t *testing.T) {
	huge := "SELECT " + strings.Repeat("col_with_a_long_name, ", 5000) + "1 FROM users"
	tests := []struct {
		name string
		in   result.Result
		// echo: a rejected query, echoed as its first 200 characters, so
		// the answer fits without being cut.
		echo bool
	}{
		{"huge SQL", result.Result{OK: true, Columns: genderCols, Rows: genderRows, SQL: huge}, false},
		{"huge error query", result.Result{Error: "bad", Query: huge}, true},
		{"huge multi-line query", result.Result{Error: "bad", Query: strings.ReplaceAll(huge, ", ", ",\n")}, true},
		{"huge notes", result.Result{OK: true, Columns: genderCols, Rows: genderRows, Notes: repeat(strings.Repeat("n", 900), 40)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{MaxBytes: 4096}
			got := Single(tt.in, opts)
			checkAnswer(t, got, opts)
			if tt.echo {
				echoed := got[strings.Index(got, "SELECT"):]
				echoed = echoed[:strings.Index(echoed, "…")]
				if n := utf8.RuneCountInString(echoed); n != EchoChars-1 || !strings.HasPrefix(tt.in.Query, echoed) {
					t.Errorf("echoed %d characters of the query, want its first %d and …:\n%s", n, EchoChars-1, got)
				}
				return
			}
			if !strings.Contains(got, "_Output truncated at 4 KB") {
				t.Errorf("answer lacks the truncation note:\n%s", got)
			}
		})
	}
}

// checkAnswer asserts what holds for every answer: it fits its cap, is valid
// UTF-8, ends with a line break and leaves no code fence open.
func checkAnswer(t *testing.T, got string, opts Options) {
	t.Helper()
	limit := opts.normalized().MaxBytes
	if len(got) > limit {
		t.Errorf("answer is %d bytes, cap %d", len(got), limit)
	}
	if !utf8.ValidString(got) {
		t.Error("answer is not valid UTF-8")
	}
	if !strings.HasSuffix(got, "\n") {
		t.Error("answer does not end with a line break")
	}
	if f := openFence(got); f != "" {
		t.Errorf("answer leaves the fence %q open", f)
	}
}

func manyRows(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i + 1), []string{"Female", "Male"}[i%2], int64(18 + i%50), "B", "Ahmedabad", float64(i) / 7}
	}
	return rows
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
