package sqlguard

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// engineSchema creates the tables the legitimate corpus reads. It is written
// in the SQL both engines share.
var engineSchema = []string{
	`CREATE TABLE users (user_id int, gender text, age int, nccs text, city text, weight double precision)`,
	`CREATE TABLE app_usage (user_id int, app_name text, usage_minutes int, event_date date)`,
	`INSERT INTO users VALUES
		(1, 'F', 23, 'A', 'Mumbai', 0.8), (2, 'M', 31, 'A1', 'Delhi', 1.2),
		(3, 'F', 45, 'B', 'Mumbai', 1.0), (4, 'M', 52, 'C', 'Pune', 0.6),
		(5, 'F', 19, NULL, 'Delhi', 1.4), (6, 'M', 38, 'E', 'Madurai', 0.9)`,
	`INSERT INTO app_usage VALUES
		(1, 'YouTube', 40, DATE '2025-01-03'), (1, 'WhatsApp', 15, DATE '2025-01-04'),
		(2, 'YouTube', 25, DATE '2025-02-10'), (3, 'Instagram', 60, DATE '2025-02-11'),
		(5, 'WhatsApp', 5, DATE '2025-03-01'), (6, 'YouTube', 90, DATE '2025-03-02')`,
}

// TestDeparse_LegitimateCorpusRunsOnBothEngines runs every legitimate corpus
// query, as Deparse(tree, 1001) prints it, on PostgreSQL and on DuckDB: the
// guard must not only accept analytics but hand back SQL both engines run.
func TestDeparse_LegitimateCorpusRunsOnBothEngines(t *testing.T) {
	cases := readCorpus(t, "legit.sql")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	engines := map[string]func(t *testing.T, sql string){}

	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	for _, stmt := range engineSchema {
		if _, err := duck.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("duckdb: %s: %v", stmt, err)
		}
	}
	engines["duckdb"] = func(t *testing.T, sql string) {
		rows, err := duck.QueryContext(ctx, sql)
		if err != nil {
			t.Fatalf("duckdb refused %q: %v", sql, err)
		}
		defer rows.Close()
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("duckdb: %q: %v", sql, err)
		}
	}

	t.Run("with_postgres", func(t *testing.T) {
		conn := pgtest.Connect(ctx, t, pgtest.NewDatabase(t))
		for _, stmt := range engineSchema {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				t.Fatalf("postgres: %s: %v", stmt, err)
			}
		}
		engines["postgres"] = func(t *testing.T, sql string) {
			rows, err := conn.Query(ctx, sql, pgx.QueryExecModeExec)
			if err != nil {
				t.Fatalf("postgres refused %q: %v", sql, err)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				t.Fatalf("postgres: %q: %v", sql, err)
			}
		}
		// The cases run inside this subtest so the database outlives them.
		runEngineCases(t, cases, engines)
	})
	if _, ok := engines["postgres"]; !ok {
		// PostgreSQL was unreachable (pgtest skipped above): DuckDB still runs.
		runEngineCases(t, cases, engines)
	}
}

func runEngineCases(t *testing.T, cases []corpusCase, engines map[string]func(*testing.T, string)) {
	for _, c := range cases {
		for _, engine := range []string{"postgres", "duckdb"} {
			run, ok := engines[engine]
			if !ok {
				continue
			}
			t.Run(c.Name+"/"+engine, func(t *testing.T) {
				if why := c.Skip[engine]; why != "" {
					t.Skip(why)
				}
				d := Postgres
				if engine == "duckdb" {
					d = DuckDB
				}
				q, err := Check(c.SQL, Options{Dialect: d, Relations: corpusRelations})
				if err != nil {
					t.Fatal(err)
				}
				sql, err := Deparse(q.Tree, 1001)
				if err != nil {
					t.Fatal(err)
				}
				run(t, sql)
			})
		}
	}
}
