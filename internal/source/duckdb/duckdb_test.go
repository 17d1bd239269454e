package duckdb_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/source/duckdb"
)

// open writes a small database file with a read-write connection, then
// opens it through the source, read-only and locked down.
func open(t *testing.T) (*duckdb.Source, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "panel.duckdb")
	rw, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rw.Exec(`CREATE TABLE users (user_id INTEGER PRIMARY KEY, gender TEXT, weight DOUBLE, spend DECIMAL(12,2), seen DATE);
		INSERT INTO users SELECT i, CASE WHEN i % 2 = 0 THEN 'Male' ELSE 'Female' END, 1.5, 10.25, DATE '2026-01-02' FROM range(1, 51) t(i)`); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	secret := filepath.Join(dir, "secret.csv")
	if err := os.WriteFile(secret, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := duckdb.Open(context.Background(), path, duckdb.Options{MaxConns: 2, QueryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src, dir
}

// TestSource_LockedDown sends statements straight to the source, as if the
// SQL guard had been bypassed: DuckDB itself must refuse to write, to read
// files, to attach databases, to install extensions or to be reconfigured.
func TestSource_LockedDown(t *testing.T) {
	src, dir := open(t)
	secret := filepath.Join(dir, "secret.csv")
	tests := []struct {
		name string
		sql  string
	}{
		{"insert", "INSERT INTO users VALUES (99, 'x', 1, 1, DATE '2026-01-01')"},
		{"create", "CREATE TABLE stolen AS SELECT * FROM users"},
		{"read a file", "SELECT * FROM read_csv('" + secret + "')"},
		{"replacement scan of a file", "SELECT * FROM '" + secret + "'"},
		{"copy out", "COPY users TO '" + filepath.Join(dir, "out.csv") + "'"},
		{"attach", "ATTACH '" + filepath.Join(dir, "other.duckdb") + "' AS other"},
		{"install", "INSTALL httpfs"},
		{"load", "LOAD httpfs"},
		{"reconfigure", "SET enable_external_access = true"},
		{"glob", "SELECT * FROM glob('" + dir + "/*')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tab, err := src.Query(context.Background(), tt.sql, 5); err == nil {
				t.Errorf("%s ran: %+v", tt.sql, tab)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out.csv")); err == nil {
		t.Error("COPY wrote a file")
	}
}

func TestSource_QueryCapsRows(t *testing.T) {
	src, _ := open(t)
	ctx := context.Background()
	tab, err := src.Query(ctx, "SELECT user_id, gender, weight, spend, seen, SUM(user_id) OVER () AS total FROM users ORDER BY user_id LIMIT 6", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 5 || !tab.Truncated {
		t.Errorf("rows %d truncated %v, want 5 and true", len(tab.Rows), tab.Truncated)
	}
	want := []any{int64(1), "Female", 1.5, 10.25, "2026-01-02", int64(1275)}
	for i, v := range want {
		if tab.Rows[0][i] != v {
			t.Errorf("column %s (%s) = %#v, want %#v", tab.Columns[i].Name, tab.Columns[i].Type, tab.Rows[0][i], v)
		}
	}
	tables, err := src.Tables(ctx)
	if err != nil || len(tables) != 1 || tables[0].Name != "users" || tables[0].RowEstimate != 50 {
		t.Errorf("Tables = %+v, %v", tables, err)
	}
	if _, err := src.Query(ctx, "SELECT * FROM nope", 5); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown table: err = %v", err)
	}
	if _, err := src.Query(ctx, "SELECT nosuchcol FROM users LIMIT 6", 5); err == nil || strings.Contains(err.Error(), "LIMIT 6") {
		t.Errorf("unknown column: err = %v, want the message without the SQL that ran", err)
	}
}

// TestSource_UnknownNames checks that unknown columns and tables are
// recognised in DuckDB's wording, with the name and qualifier.
func TestSource_UnknownNames(t *testing.T) {
	src, _ := open(t)
	tests := []struct {
		sql                   string
		code, name, qualifier string
	}{
		{"SELECT gendr FROM users", source.UndefinedColumn, "gendr", ""},
		{"SELECT u.gendr FROM users u", source.UndefinedColumn, "gendr", "u"},
		{"SELECT gender, COUNT(*) FROM users WHERE wieght > 0 GROUP BY gender", source.UndefinedColumn, "wieght", ""},
		// The weighting rewrite writes explicit aliases; DuckDB then words
		// an unknown GROUP BY name as an alias used in an expression.
		{"SELECT gendr AS gendr, COUNT(*) FROM users GROUP BY gendr", source.UndefinedColumn, "gendr", ""},
		{"SELECT * FROM userz", source.UndefinedTable, "userz", ""},
		{"SELECT x.gender FROM users u", "", "", ""},
		{"SELECT 1/0::INTEGER + 'a'", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			_, err := src.Query(context.Background(), tt.sql, 5)
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
