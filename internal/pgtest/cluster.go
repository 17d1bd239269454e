package pgtest

import (
	"context"
	"errors"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/pgcluster"
)

// NewCluster starts a PostgreSQL server of the test's own (package
// pgcluster: initdb in a temporary directory, a free loopback port), closed
// and removed when the test ends. The test may stop and start it, to see
// what happens while a database is away, without touching the shared
// server the other tests use. Without PostgreSQL's server programs the test
// skips loudly, or fails when MCPA_REQUIRE_POSTGRES=1.
func NewCluster(tb testing.TB) *pgcluster.Cluster {
	tb.Helper()
	c, err := pgcluster.StartPrimary(context.Background())
	if errors.Is(err, pgcluster.ErrUnavailable) && !Required() {
		Skip(tb, "PostgreSQL's server programs (initdb, pg_ctl)", err.Error())
	}
	if err != nil {
		tb.Fatalf("pgtest: start a cluster: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}
