package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/source/postgres"
)

func open(t *testing.T) (*postgres.Source, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	admin := pgtest.Connect(ctx, t, dsn)
	if _, err := admin.Exec(ctx, `CREATE TABLE users (user_id int PRIMARY KEY, gender text, weight float8);
		INSERT INTO users SELECT g, CASE WHEN g % 2 = 0 THEN 'Male' ELSE 'Female' END, 1.5 FROM generate_series(1, 50) g`); err != nil {
		t.Fatal(err)
	}
	src, err := postgres.Open(ctx, dsn, postgres.Options{MinConns: 1, MaxConns: 2, QueryTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src, dsn
}

// TestSource_ReadOnlyWall sends statements straight to the source, as if
// the SQL guard had been bypassed: the database itself must refuse to write.
func TestSource_ReadOnlyWall(t *testing.T) {
	src, _ := open(t)
	ctx := context.Background()
	tests := []struct {
		name string
		sql  string
		want string
	}{
		{"insert", "INSERT INTO users VALUES (999, 'x', 1)", "read-only"},
		{"create", "CREATE TABLE stolen (x int)", "read-only"},
		{"delete in a CTE", "WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d", "read-only"},
		{"stacked statements need the simple protocol", "SELECT 1; DROP TABLE users", "cannot insert multiple commands"},
		{"commit then write", "COMMIT; DROP TABLE users", "cannot insert multiple commands"},
		{"read-write transaction", "SELECT set_config('transaction_read_only', 'off', true)", "transaction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := src.Query(ctx, tt.sql, 5)
			var qe *source.QueryError
			if !errors.As(err, &qe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a query error containing %q", err, tt.want)
			}
		})
	}
	// Switching the session default off is possible in one statement, but
	// the connection is then discarded instead of going back to the pool.
	for range 4 {
		if _, err := src.Query(ctx, "SELECT set_config('default_transaction_read_only', 'off', false)", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Query(ctx, "INSERT INTO users VALUES (1000, 'x', 1)", 1); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("a write after switching the default off: err = %v, want read-only", err)
		}
	}
	tab, err := src.Query(ctx, "SELECT count(*) FROM users", 1)
	if err != nil || tab.Rows[0][0] != int64(50) {
		t.Errorf("users = %v (%v), want 50 rows untouched", tab, err)
	}
}

func TestSource_QueryCapsRows(t *testing.T) {
	src, _ := open(t)
	ctx := context.Background()
	tab, err := src.Query(ctx, "SELECT user_id, gender, weight, DATE '2026-01-02' AS d, 12.50::numeric AS amount FROM users ORDER BY user_id LIMIT 6", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 5 || !tab.Truncated {
		t.Errorf("rows %d truncated %v, want 5 and true", len(tab.Rows), tab.Truncated)
	}
	want := []any{int64(1), "Female", 1.5, "2026-01-02", 12.5}
	for i, v := range want {
		if tab.Rows[0][i] != v {
			t.Errorf("column %s = %#v, want %#v", tab.Columns[i].Name, tab.Rows[0][i], v)
		}
	}
	types := []string{"integer", "text", "double precision", "date", "numeric"}
	for i, typ := range types {
		if tab.Columns[i].Type != typ {
			t.Errorf("column %s type %q, want %q", tab.Columns[i].Name, tab.Columns[i].Type, typ)
		}
	}
	tables, err := src.Tables(ctx)
	if err != nil || len(tables) != 1 || tables[0].Name != "users" || len(tables[0].Columns) != 3 {
		t.Errorf("Tables = %+v, %v", tables, err)
	}
}

func TestSource_CanWrite(t *testing.T) {
	src, _ := open(t)
	can, err := src.CanWrite(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !can {
		t.Error("the postgres superuser can write, but CanWrite says no")
	}
}

func TestOpen_BadDSNDoesNotLeakIt(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:hunter2@[bad", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v: want an error without the password", err)
	}
}

// TestSource_PoolExhausted shows a bounded wait for a connection, then a
// clear error, while the pool's only connection is busy.
func TestSource_PoolExhausted(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	src, err := postgres.Open(ctx, dsn, postgres.Options{MinConns: 0, MaxConns: 1, QueryTimeout: 10 * time.Second, AcquireTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	slowCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = src.Query(slowCtx, "SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b", 1)
	}()
	// Wait until the slow query holds the pool's only connection (a fixed
	// sleep was too short on a loaded machine).
	watch := pgtest.Connect(ctx, t, dsn)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var running bool
		if err := watch.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%generate_series(1, 100000) a%' AND pid <> pg_backend_pid())").Scan(&running); err != nil {
			t.Fatal(err)
		}
		if running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow query never started")
		}
	}
	start := time.Now()
	_, err = src.Query(ctx, "SELECT 1", 1)
	var busy *source.BusyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "all 1 connections") {
		t.Fatalf("err = %v, want a BusyError", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("waited %s for a connection, want about 200ms", waited)
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := src.Query(ctx, "SELECT 1", 1); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("pool did not recover after the slow query was cancelled: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSource_StandardConformingStrings reads a backslash in a string as
// the SQL guard's parser does, even on a database whose default says
// otherwise.
func TestSource_StandardConformingStrings(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	admin := pgtest.Connect(ctx, t, dsn)
	if _, err := admin.Exec(ctx, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET standard_conforming_strings = off', current_database()); END $$"); err != nil {
		t.Fatal(err)
	}
	src, err := postgres.Open(ctx, dsn, postgres.Options{MinConns: 1, MaxConns: 1, QueryTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tb, err := src.Query(ctx, `SELECT length('a\b'), current_setting('standard_conforming_strings')`, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(tb.Rows[0]...); got != "3on" {
		t.Errorf(`length('a\b') and the setting = %s, want 3 and on`, got)
	}
	// A session that switches it off is not handed out again.
	if _, err := src.Query(ctx, "SELECT set_config('standard_conforming_strings', 'off', false)", 1); err != nil {
		t.Fatal(err)
	}
	tb, err = src.Query(ctx, "SELECT current_setting('standard_conforming_strings')", 1)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Rows[0][0] != "on" {
		t.Errorf("after a session switched it off, a query ran with standard_conforming_strings = %v", tb.Rows[0][0])
	}
}

// TestSource_UnknownNames checks that unknown columns and tables are
// recognised whatever PostgreSQL's wording, with the name and qualifier.
func TestSource_UnknownNames(t *testing.T) {
	src, _ := open(t)
	ctx := context.Background()
	tests := []struct {
		sql                   string
		code, name, qualifier string
	}{
		{"SELECT gendr FROM users", source.UndefinedColumn, "gendr", ""},
		{"SELECT u.gendr FROM users u", source.UndefinedColumn, "gendr", "u"},
		{`SELECT "Gender" FROM users`, source.UndefinedColumn, "Gender", ""},
		{"SELECT gender, COUNT(*) FROM users WHERE wieght > 0 GROUP BY gender", source.UndefinedColumn, "wieght", ""},
		{"SELECT * FROM userz", source.UndefinedTable, "userz", ""},
		{"SELECT x.gender FROM users u", "", "", ""}, // missing FROM-clause entry: left as PostgreSQL words it
		{"SELECT 1/0", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			_, err := src.Query(ctx, tt.sql, 5)
			var qe *source.QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("err = %v, want a query error", err)
			}
			if qe.Kind != tt.code || qe.Name != tt.name || qe.Qualifier != tt.qualifier {
				t.Errorf("code, name, qualifier = %q, %q, %q; want %q, %q, %q (message %q)", qe.Kind, qe.Name, qe.Qualifier, tt.code, tt.name, tt.qualifier, qe.Message)
			}
		})
	}
}

// TestSource_TimestamptzInSessionZone checks that a timestamp with time
// zone is written in the session's zone, as PostgreSQL shows it: the first
// of the month at midnight stays midnight, not 18:30 the day before.
func TestSource_TimestamptzInSessionZone(t *testing.T) {
	_, dsn := open(t)
	ctx := context.Background()
	for _, zone := range []string{"UTC", "Asia/Kolkata", "America/New_York"} {
		t.Run(zone, func(t *testing.T) {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			src, err := postgres.Open(ctx, dsn+sep+"timezone="+zone, postgres.Options{MinConns: 1, MaxConns: 2, QueryTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			const q = "SELECT date_trunc('month', DATE '2026-03-15') AS m, TIMESTAMPTZ '2026-03-15 12:00:00+00' AS noon"
			single, err := src.Query(ctx, q, 1)
			if err != nil {
				t.Fatal(err)
			}
			batch, errs := src.QueryBatch(ctx, []string{q, q}, []int{1, 1})
			for i, tab := range []*result.Table{single, batch[0], batch[1]} {
				if i > 0 && errs[i-1] != nil {
					t.Fatal(errs[i-1])
				}
				m, _ := tab.Rows[0][0].(string)
				if !strings.HasPrefix(m, "2026-03-01T00:00:00") {
					t.Errorf("result %d: date_trunc = %q, want midnight of 2026-03-01 in %s", i, m, zone)
				}
				noon, err := time.Parse(time.RFC3339Nano, tab.Rows[0][1].(string))
				if err != nil || !noon.Equal(time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)) {
					t.Errorf("result %d: noon = %v (%v), want the same instant", i, tab.Rows[0][1], err)
				}
			}
		})
	}
}
