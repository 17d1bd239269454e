package demo

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// testOptions are the options of the database tests: a small panel anchored
// today, so the seed's CURRENT_DATE questions find recent activity.
func testOptions() Options {
	return Options{Users: 2000, Anchor: time.Now()}
}

func openDuckDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("open duckdb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// loadDuckDB writes each dataset into its own in-memory DuckDB.
func loadDuckDB(t testing.TB, datasets []Dataset) []*sql.DB {
	t.Helper()
	var dbs []*sql.DB
	for _, ds := range datasets {
		db := openDuckDB(t)
		if err := WriteDuckDB(context.Background(), db, ds); err != nil {
			t.Fatalf("WriteDuckDB(%s): %v", ds.Name, err)
		}
		dbs = append(dbs, db)
	}
	return dbs
}

func queryDuckDB(ctx context.Context, db *sql.DB, query string) (resultSet, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return resultSet{}, err
	}
	defer rows.Close()
	var rs resultSet
	if rs.columns, err = rows.Columns(); err != nil {
		return resultSet{}, err
	}
	for rows.Next() {
		vals := make([]any, len(rs.columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return resultSet{}, err
		}
		for i, v := range vals {
			vals[i] = normalizeDuck(v)
		}
		rs.rows = append(rs.rows, vals)
	}
	return rs, rows.Err()
}

func normalizeDuck(v any) any {
	switch v := v.(type) {
	case int32:
		return int64(v)
	case duckdb.Decimal:
		return v.Float64()
	case *duckdb.Decimal:
		return v.Float64()
	}
	return v
}

func TestWriteDuckDB_SeedQueries(t *testing.T) {
	datasets := Generate(testOptions())
	dbs := loadDuckDB(t, datasets)
	runSeed(t, func(dataset int, sql string) (resultSet, error) {
		return queryDuckDB(context.Background(), dbs[dataset-1], sql)
	}, datasets)
}

func TestWriteDuckDB_Contents(t *testing.T) {
	datasets := Generate(testOptions())
	dbs := loadDuckDB(t, datasets)
	ctx := context.Background()
	smartphone := dbs[0]

	tests := []struct {
		name string
		db   *sql.DB
		sql  string
		want any
	}{
		{"every table holds every row", smartphone,
			"SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM app_usage) + (SELECT COUNT(*) FROM orders)",
			int64(datasets[0].RowCount())},
		{"streaming tables hold every row", dbs[1],
			"SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM events)", int64(datasets[1].RowCount())},
		{"decimals keep their cents: total_spend is the sum of orders.amount", smartphone,
			"SELECT COUNT(*) FROM users u WHERE total_spend <> (SELECT COALESCE(SUM(amount), 0) FROM orders o WHERE o.user_id = u.user_id)",
			int64(0)},
		{"spend matches the generator", smartphone,
			"SELECT SUM(amount) FROM orders", sumColumn(t, datasets[0], "orders", "amount")},
		{"weights sum to the universe", smartphone,
			"SELECT ROUND(SUM(weight)) FROM users", 600000.0},
		{"NCCS is NULL for a handful only", smartphone,
			"SELECT COUNT(*) > 0 AND COUNT(*) < 0.01 * (SELECT COUNT(*) FROM users) FROM users WHERE nccs IS NULL", true},
		{"descriptions are column comments", smartphone,
			"SELECT comment FROM duckdb_columns() WHERE table_name = 'users' AND column_name = 'weight'",
			columnDescription(t, datasets[0], "users", "weight")},
		{"user_id is the primary key", smartphone,
			"SELECT COUNT(*) FROM duckdb_constraints() WHERE table_name = 'users' AND constraint_type = 'PRIMARY KEY'", int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := queryDuckDB(ctx, tt.db, tt.sql)
			if err != nil {
				t.Fatalf("%s: %v", tt.sql, err)
			}
			if got := rs.rows[0][0]; got != tt.want {
				t.Errorf("%s = %v (%T), want %v (%T)", tt.sql, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestWriteDuckDB_ReplacesTables(t *testing.T) {
	ctx := context.Background()
	db := openDuckDB(t)
	for _, users := range []int{300, 200} {
		ds := Generate(Options{Users: users})[0]
		if err := WriteDuckDB(ctx, db, ds); err != nil {
			t.Fatalf("WriteDuckDB(%d users): %v", users, err)
		}
	}
	rs, err := queryDuckDB(ctx, db, "SELECT COUNT(*) FROM users")
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.rows[0][0]; got != int64(200) {
		t.Errorf("after a second load users has %v rows, want 200", got)
	}
}

func sumColumn(t *testing.T, ds Dataset, table, column string) float64 {
	t.Helper()
	tb, _ := ds.Table(table)
	i := columnIndex(t, tb, column)
	var paise int64
	for _, r := range tb.Rows {
		paise += int64(r[i].(float64)*100 + 0.5)
	}
	return float64(paise) / 100
}

func columnDescription(t *testing.T, ds Dataset, table, column string) string {
	t.Helper()
	tb, _ := ds.Table(table)
	return tb.Columns[columnIndex(t, tb, column)].Description
}

// BenchmarkWriteDuckDB measures loading each default-size dataset (dataset
// 1: 20,000 users, about 200,000 sessions and 50,000 orders; dataset 2:
// 5,000 users and about 50,000 events) into an in-memory DuckDB and into a
// fresh database file, as the server does on first start.
func BenchmarkWriteDuckDB(b *testing.B) {
	ctx := context.Background()
	for _, ds := range Generate(Options{}) {
		for _, where := range []string{"memory", "file"} {
			b.Run(strings.ReplaceAll(ds.Name, " ", "_")+"/"+where, func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					dsn := ""
					if where == "file" {
						dsn = filepath.Join(b.TempDir(), fmt.Sprintf("demo%d.duckdb", i))
					}
					db, err := sql.Open("duckdb", dsn)
					if err != nil {
						b.Fatal(err)
					}
					if err := WriteDuckDB(ctx, db, ds); err != nil {
						b.Fatal(err)
					}
					if err := db.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkGenerate measures generating both default-size datasets.
func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(Options{})
	}
}

func TestWriteDuckDB_FailedLoadKeepsPreviousTables(t *testing.T) {
	ctx := context.Background()
	db := openDuckDB(t)
	good := Generate(Options{Users: 100})[0]
	if err := WriteDuckDB(ctx, db, good); err != nil {
		t.Fatalf("WriteDuckDB: %v", err)
	}

	tests := []struct {
		name string
		ctx  func() context.Context
		ds   Dataset
	}{
		{"a value of the wrong type", func() context.Context { return ctx }, badDataset(Generate(Options{Users: 60})[0])},
		{"a cancelled context", func() context.Context {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c
		}, Generate(Options{Users: 50})[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := WriteDuckDB(tt.ctx(), db, tt.ds); err == nil {
				t.Fatal("WriteDuckDB succeeded, want an error")
			}
			rs, err := queryDuckDB(ctx, db, "SELECT COUNT(*) FROM users")
			if err != nil {
				t.Fatal(err)
			}
			if got := rs.rows[0][0]; got != int64(100) {
				t.Errorf("after the failed load users has %v rows, want the previous 100", got)
			}
		})
	}
}

// badDataset returns a copy of ds whose last orders row holds a string in
// the amount column, so its load fails after the users table was replaced.
func badDataset(ds Dataset) Dataset {
	bad := ds
	bad.Tables = slices.Clone(ds.Tables)
	for i, tb := range bad.Tables {
		if tb.Name == "orders" {
			rows := slices.Clone(tb.Rows)
			last := slices.Clone(rows[len(rows)-1])
			last[2] = "not a number"
			rows[len(rows)-1] = last
			bad.Tables[i].Rows = rows
		}
	}
	return bad
}
