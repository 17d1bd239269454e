package sqlguard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// seedQueries returns the SQL of the seed description's examples.
func seedQueries(b *testing.B) []string {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "seed.sql"))
	if err != nil {
		b.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// BenchmarkCheck measures the guard on the seed's queries; one op is one query.
func BenchmarkCheck(b *testing.B) {
	queries := seedQueries(b)
	opts := Options{Dialect: DuckDB, Relations: corpusRelations}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Check(queries[i%len(queries)], opts); err != nil && !strings.Contains(queries[i%len(queries)], "invalid_table") {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuardPath measures everything this package does per query:
// Check, Classify and Deparse with the row cap.
func BenchmarkGuardPath(b *testing.B) {
	queries := seedQueries(b)
	opts := Options{Dialect: Postgres}
	keys := []string{"user_id"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q, err := Check(queries[i%len(queries)], opts)
		if err != nil {
			b.Fatal(err)
		}
		limit := 6
		if Classify(q.Tree, keys) == Aggregated {
			limit = 1001
		}
		if _, err := Deparse(q.Tree, limit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseOnly is the baseline for BenchmarkCheck: pg_query.Parse
// alone on the same queries, so the guard's own cost reads as a ratio.
func BenchmarkParseOnly(b *testing.B) {
	queries := seedQueries(b)
	for i := 0; b.Loop(); i++ {
		if _, err := pg_query.Parse(queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
	}
}
