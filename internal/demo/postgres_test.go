package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// schemas are where the PostgreSQL tests load datasets 1 and 2; the seed's
// SQL names tables without a schema, so each query runs with its dataset's
// schema as the search_path.
var schemas = []string{"demo_sample", "demo_streaming"}

func loadPostgres(t testing.TB, datasets []Dataset) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Connect(ctx, t, pgtest.NewDatabase(t))
	for i, ds := range datasets {
		if err := WritePostgres(ctx, conn, schemas[i], ds); err != nil {
			t.Fatalf("WritePostgres(%s): %v", ds.Name, err)
		}
	}
	return conn
}

// queryPostgres runs query with schema as the search_path, in a transaction
// that is rolled back.
func queryPostgres(ctx context.Context, conn *pgx.Conn, schema, query string) (rs resultSet, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return resultSet{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", schema); err != nil {
		return resultSet{}, err
	}
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return resultSet{}, err
	}
	defer rows.Close()
	for _, f := range rows.FieldDescriptions() {
		rs.columns = append(rs.columns, f.Name)
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return resultSet{}, err
		}
		for i, v := range vals {
			vals[i] = normalizePostgres(v)
		}
		rs.rows = append(rs.rows, vals)
	}
	return rs, rows.Err()
}

func normalizePostgres(v any) any {
	switch v := v.(type) {
	case int32:
		return int64(v)
	case pgtype.Numeric:
		f, err := v.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return f.Float64
	}
	return v
}

func TestWritePostgres_SeedQueries(t *testing.T) {
	datasets := Generate(testOptions())
	conn := loadPostgres(t, datasets)
	runSeed(t, func(dataset int, sql string) (resultSet, error) {
		return queryPostgres(context.Background(), conn, schemas[dataset-1], sql)
	}, datasets)
}

func TestWritePostgres_Contents(t *testing.T) {
	datasets := Generate(testOptions())
	conn := loadPostgres(t, datasets)
	ctx := context.Background()

	tests := []struct {
		name   string
		schema string
		sql    string
		want   any
	}{
		{"every table holds every row", schemas[0],
			"SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM app_usage) + (SELECT COUNT(*) FROM orders)",
			int64(datasets[0].RowCount())},
		{"streaming tables hold every row", schemas[1],
			"SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM events)", int64(datasets[1].RowCount())},
		{"total_spend is the sum of orders.amount", schemas[0],
			"SELECT COUNT(*) FROM users u WHERE total_spend <> (SELECT COALESCE(SUM(amount), 0) FROM orders o WHERE o.user_id = u.user_id)",
			int64(0)},
		{"spend matches the generator", schemas[0],
			"SELECT SUM(amount) FROM orders", sumColumn(t, datasets[0], "orders", "amount")},
		{"weights sum to the universe", schemas[0],
			"SELECT ROUND(SUM(weight)) FROM users", 600000.0},
		{"timestamps keep their wall-clock time", schemas[1],
			"SELECT to_char(MIN(event_time), 'YYYY-MM-DD HH24:MI:SS') FROM events",
			firstEventTime(t, datasets[1])},
		{"pg_stats is populated by ANALYZE", schemas[0],
			"SELECT COUNT(DISTINCT tablename) FROM pg_stats WHERE schemaname = current_schema()", int64(3)},
		{"primary keys exist", schemas[0],
			"SELECT string_agg(conrelid::regclass::text, ',' ORDER BY conrelid::regclass::text) FROM pg_constraint " +
				"WHERE contype = 'p' AND connamespace = current_schema()::regnamespace",
			"orders,users"},
		{"event tables have an index on user_id", schemas[0],
			"SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = current_schema() AND indexdef LIKE '%(user_id)'",
			"app_usage_user_id_idx,orders_user_id_idx,users_pkey"},
		{"the streaming events table has an index on user_id", schemas[1],
			"SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'events_user_id_idx'", int64(1)},
		{"descriptions are column comments", schemas[0],
			"SELECT col_description('users'::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'weight'))",
			columnDescription(t, datasets[0], "users", "weight")},
		{"only nccs is nullable", schemas[0],
			"SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_schema = current_schema() AND is_nullable = 'YES'",
			"nccs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := queryPostgres(ctx, conn, tt.schema, tt.sql)
			if err != nil {
				t.Fatalf("%s: %v", tt.sql, err)
			}
			if got := rs.rows[0][0]; got != tt.want {
				t.Errorf("%s = %v (%T), want %v (%T)", tt.sql, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestWritePostgres_ReplacesTables(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Connect(ctx, t, pgtest.NewDatabase(t))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA demo; CREATE TABLE demo.keep (id int)"); err != nil {
		t.Fatal(err)
	}
	for _, users := range []int{300, 200} {
		if err := WritePostgres(ctx, conn, "demo", Generate(Options{Users: users})[0]); err != nil {
			t.Fatalf("WritePostgres(%d users): %v", users, err)
		}
	}
	rs, err := queryPostgres(ctx, conn, "demo", "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM keep)")
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.rows[0][0]; got != int64(200) {
		t.Errorf("after a second load users has %v rows, want 200", got)
	}

	if err := WritePostgres(ctx, conn, "", Dataset{}); err == nil {
		t.Error("WritePostgres with an empty schema name succeeded, want an error")
	}
}

func firstEventTime(t *testing.T, ds Dataset) string {
	t.Helper()
	events, _ := ds.Table("events")
	return events.Rows[0][columnIndex(t, events, "event_time")].(time.Time).Format(time.DateTime)
}

// BenchmarkWritePostgres measures loading each default-size dataset into
// PostgreSQL with COPY, keys, indexes and ANALYZE.
func BenchmarkWritePostgres(b *testing.B) {
	ctx := context.Background()
	conn := pgtest.Connect(ctx, b, pgtest.NewDatabase(b))
	for _, ds := range Generate(Options{}) {
		b.Run(strings.ReplaceAll(ds.Name, " ", "_"), func(b *testing.B) {
			for b.Loop() {
				if err := WritePostgres(ctx, conn, "demo", ds); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
