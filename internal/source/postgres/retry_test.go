package postgres_test

import (
	"context"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// TestSource_QuerySurvivesLostConnections cuts every pooled connection
// while it sits idle, as a server restart or a firewall would. The pool no
// longer pings a connection idle for seconds before use (a round trip per
// call), so the query meets the dead connection itself: it must be run
// again on a fresh one, not fail.
func TestSource_QuerySurvivesLostConnections(t *testing.T) {
	src, dsn := open(t)
	ctx := context.Background()
	for round := range 3 {
		// Hold both connections at once so both are in the pool.
		done := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := src.Query(ctx, "SELECT pg_sleep(0.05), 1", 5)
				done <- err
			}()
		}
		for range 2 {
			if err := <-done; err != nil {
				t.Fatalf("round %d: warm query: %v", round, err)
			}
		}
		admin := pgtest.Connect(ctx, t, dsn)
		var killed int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'mcp-analytics' AND pid <> pg_backend_pid()`).Scan(&killed)
		admin.Close(ctx)
		if err != nil || killed == 0 {
			t.Fatalf("round %d: terminated %d connections: %v", round, killed, err)
		}
		tab, err := src.Query(ctx, "SELECT count(*) FROM users", 5)
		if err != nil {
			t.Fatalf("round %d: query after the connections were cut: %v", round, err)
		}
		if len(tab.Rows) != 1 || tab.Rows[0][0] != int64(50) {
			t.Errorf("round %d: rows = %v, want [[50]]", round, tab.Rows)
		}
	}
}
