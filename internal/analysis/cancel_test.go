package analysis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// slowQuery keeps either engine busy for far longer than any test waits.
const slowQuery = "SELECT COUNT(*) FROM generate_series(1, 100000) AS a, generate_series(1, 100000) AS b"

// activeSlowQueries counts our sessions running slowQuery on the server.
func activeSlowQueries(t *testing.T, f *apptest.Fixture) int {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Connect(ctx, t, f.PostgresURL)
	var n int
	err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'mcp-analytics' AND state = 'active' AND query LIKE '%generate_series(1, 100000)%'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	return n
}

// TestService_CancelStopsTheDatabaseQuery shows that when the client goes
// away, PostgreSQL stops the query too (pg_stat_activity), not only Go.
func TestService_CancelStopsTheDatabaseQuery(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan string, 1)
	go func() {
		r := f.Service.Query(ctx, analysis.Request{DatasetID: apptest.PostgresSample, Query: slowQuery})
		done <- r.Error
	}()
	waitFor(t, "the query to start on the server", func() bool { return activeSlowQueries(t, f) == 1 })
	cancel()
	select {
	case msg := <-done:
		if !strings.Contains(msg, "cancelled") {
			t.Errorf("error = %q, want it to say the call was cancelled", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Query did not return after cancellation")
	}
	waitFor(t, "the server to stop the query", func() bool { return activeSlowQueries(t, f) == 0 })
}

// TestService_Timeout shows the per-query timeout on both engines: in
// PostgreSQL it is statement_timeout, set as a connection parameter.
func TestService_Timeout(t *testing.T) {
	limits := config.DefaultLimits()
	limits.QueryTimeout = 300 * time.Millisecond
	f := apptest.New(t, apptest.Options{Postgres: true, Limits: &limits})
	for _, id := range []int64{apptest.DuckSample, apptest.PostgresSample} {
		start := time.Now()
		m, err := f.Service.Multi(context.Background(), []analysis.Request{
			{DatasetID: id, Query: slowQuery, Label: "slow"},
			{DatasetID: id, Query: "SELECT COUNT(*) FROM users", Label: "fast"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if slow := m.Results[0]; slow.OK || !strings.Contains(slow.Error, "ran longer than the 300ms timeout") {
			t.Errorf("dataset %d: slow query ok=%v error=%q", id, slow.OK, slow.Error)
		}
		if fast := m.Results[1]; !fast.OK {
			t.Errorf("dataset %d: the fast query failed beside the slow one: %s", id, fast.Error)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("dataset %d: the call took %s despite the 300ms timeout", id, d)
		}
	}
	if n := activeSlowQueries(t, f); n != 0 {
		t.Errorf("%d timed-out queries still running on the server", n)
	}
}

// TestService_DatabaseDown shows that a dataset whose database cannot be
// reached gives a clear error for its queries only.
func TestService_DatabaseDown(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	f.UpdateDataset(t, apptest.PostgresStreaming, func(d *catalog.Dataset) {
		d.DSN = "postgres://postgres:hunter2@127.0.0.1:1/nowhere?connect_timeout=2"
	})
	m, err := f.Service.Multi(ctx, []analysis.Request{
		{DatasetID: apptest.PostgresStreaming, Query: "SELECT COUNT(*) FROM users"},
		{DatasetID: apptest.PostgresSample, Query: "SELECT COUNT(*) FROM users"},
	})
	if err != nil {
		t.Fatal(err)
	}
	down := m.Results[0]
	if down.OK || !strings.Contains(down.Error, "unavailable") || strings.Contains(down.Error, "hunter2") || strings.Contains(down.Error, "127.0.0.1") {
		t.Errorf("down dataset: ok=%v error=%q", down.OK, down.Error)
	}
	if !m.Results[1].OK {
		t.Errorf("the healthy dataset failed too: %s", m.Results[1].Error)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
