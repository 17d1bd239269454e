package render

import (
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// BenchmarkSingle renders an aggregated answer at the 1,000-row cap.
func BenchmarkSingle(b *testing.B) {
	r := result.Result{Dataset: "Sample Dataset", OK: true, Columns: userCols, Rows: manyRows(1000), Aggregated: true, TimeMS: 12}
	b.ReportAllocs()
	for b.Loop() {
		_ = Single(r, Options{})
	}
}

// BenchmarkSingle_byteCap renders 10,000 rows that must be cut to 256 KB.
func BenchmarkSingle_byteCap(b *testing.B) {
	r := result.Result{Dataset: "Sample Dataset", OK: true, Columns: userCols, Rows: manyRows(10000), Aggregated: true, TimeMS: 12}
	b.ReportAllocs()
	for b.Loop() {
		_ = Single(r, Options{})
	}
}

// BenchmarkMulti renders 30 seed-sized results.
func BenchmarkMulti(b *testing.B) {
	m := result.Multi{Parallel: true, TotalMS: 40}
	for range 30 {
		m.Results = append(m.Results, result.Result{Dataset: "Sample Dataset", OK: true, Columns: userCols, Rows: userRows, Truncated: true, RowLimit: 5})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Multi(m, Options{})
	}
}
