package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/source/postgres"
)

// BenchmarkSource_Query compares Source.Query (scan, cap, normalise) with
// raw pgx reading the same rows over a pool with the same settings; read
// the two as a ratio. The full picture, through MCP and HTTP, is
// `mcp-analytics bench`.
func BenchmarkSource_Query(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	ctx := context.Background()
	admin := pgtest.Connect(ctx, b, dsn)
	if _, err := admin.Exec(ctx, `CREATE TABLE users (user_id int PRIMARY KEY, gender text, weight float8, spend numeric, joined date);
		INSERT INTO users SELECT g, CASE WHEN g % 2 = 0 THEN 'Male' ELSE 'Female' END, 1.5, g * 1.25, DATE '2026-01-01' + g % 300 FROM generate_series(1, 1000) g`); err != nil {
		b.Fatal(err)
	}
	opts := postgres.Options{MinConns: 1, MaxConns: 2, QueryTimeout: 5 * time.Second}
	src, err := postgres.Open(ctx, dsn, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	cfg, err := postgres.Config(dsn, opts)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []struct{ name, sql string }{
		{"pk", "SELECT * FROM users WHERE user_id = 42 LIMIT 6"},
		{"1000rows", "SELECT * FROM users LIMIT 1001"},
	} {
		b.Run(q.name+"/source", func(b *testing.B) {
			for b.Loop() {
				if _, err := src.Query(ctx, q.sql, 1000); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(q.name+"/raw", func(b *testing.B) {
			for b.Loop() {
				rows, err := raw.Query(ctx, q.sql)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
					if _, err := rows.Values(); err != nil {
						b.Fatal(err)
					}
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
