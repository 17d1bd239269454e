package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/mcp-analytics/mcp-analytics/internal/pgcluster"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/source/postgres"
)

// replicaPair starts a primary cluster of its own with a panel table, and
// a streaming replica of it that has caught up.
func replicaPair(t *testing.T) (primary, replica *pgcluster.Cluster) {
	t.Helper()
	ctx := context.Background()
	p, err := pgcluster.StartPrimary(ctx)
	if errors.Is(err, pgcluster.ErrUnavailable) && os.Getenv("MCPA_REQUIRE_POSTGRES") != "1" {
		pgtest.Skip(t, "a PostgreSQL cluster of its own (pg_ctlcluster)", fmt.Sprint(err))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	exec(t, p.DSN(""), `CREATE TABLE users (user_id int PRIMARY KEY, gender text, weight float8);
		INSERT INTO users SELECT g, CASE WHEN g % 3 = 0 THEN 'Male' ELSE 'Female' END, 0.5 + g % 7 FROM generate_series(1, 5000) g`)
	r, err := p.StartReplica(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	waitFor(t, "the replica to have the table", func() bool {
		var n int
		return queryRow(r.DSN(""), "SELECT count(*) FROM users", &n) == nil && n == 5000
	})
	return p, r
}

func exec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func queryRow(dsn, sql string, dest ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return c.QueryRow(ctx, sql).Scan(dest...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// servedBy runs a query that says which member answered.
func servedBy(t *testing.T, src *postgres.Replicated) string {
	t.Helper()
	tab, err := src.Query(context.Background(), "SELECT pg_is_in_recovery()", 5)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rows[0][0] == true {
		return "replica"
	}
	return "primary"
}

var replicaQueries = []string{
	"SELECT gender, count(*), sum(weight) FROM users GROUP BY gender ORDER BY gender",
	"SELECT user_id, gender FROM users WHERE user_id = 4242",
	"SELECT count(*) FROM users WHERE weight > 3",
	"SELECT min(user_id), max(user_id) FROM users",
}

// TestReplicated_KillReplicaUnderLoad runs queries from eight goroutines
// through a dataset with one real streaming replica, kills the replica
// part way (pg_ctl stop -m immediate), then starts it again: no query
// fails (the ones cut off are retried once, on the primary), every answer
// is the primary's, and the replica is put back once it answers.
func TestReplicated_KillReplicaUnderLoad(t *testing.T) {
	p, r := replicaPair(t)
	ctx := context.Background()
	src, err := postgres.OpenReplicated(ctx, p.DSN(""), []string{r.DSN("")},
		postgres.Options{MinConns: 1, MaxConns: 4, QueryTimeout: 20 * time.Second, ConnectTimeout: 5 * time.Second},
		postgres.ReplicaOptions{ProbeEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := servedBy(t, src); got != "replica" {
		t.Fatalf("queries go to the %s, want the replica", got)
	}

	// Reference answers, from the primary alone.
	ref, err := postgres.Open(ctx, p.DSN(""), postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]*result.Table, len(replicaQueries))
	for i, q := range replicaQueries {
		if want[i], err = ref.Query(ctx, q, 100); err != nil {
			t.Fatal(err)
		}
	}
	ref.Close()

	var calls, failures, wrong atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := i % len(replicaQueries)
				calls.Add(1)
				got, err := src.Query(ctx, replicaQueries[q], 100)
				switch {
				case err != nil:
					failures.Add(1)
					t.Errorf("query failed: %v", err)
				case !cmp.Equal(want[q], got):
					wrong.Add(1)
					t.Errorf("query %d answered %v, want %v", q, got.Rows, want[q].Rows)
				}
			}
		})
	}
	time.Sleep(time.Second)
	before := calls.Load()
	if err := r.Stop(ctx, "immediate"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if got := servedBy(t, src); got != "primary" {
		t.Errorf("with the replica down, queries go to the %s", got)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replica to be put back", func() bool { return servedBy(t, src) == "replica" })
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d calls (%d before the kill), %d failed, %d wrong; members: %s", calls.Load(), before, failures.Load(), wrong.Load(), strings.Join(src.Status(), "; "))
	if calls.Load() <= before || before == 0 {
		t.Errorf("the load did not run across the kill: %d calls, %d before", calls.Load(), before)
	}
}

// TestReplicated_Policies checks the fallback setting and the lag bound on
// a real replica: with fallback "none" queries fail clearly while the
// replica is down; a replica whose replay is paused falls behind and is
// skipped until it catches up.
func TestReplicated_Policies(t *testing.T) {
	p, r := replicaPair(t)
	ctx := context.Background()
	opts := postgres.Options{MinConns: 0, MaxConns: 2, QueryTimeout: 20 * time.Second, ConnectTimeout: 5 * time.Second}

	t.Run("max replica lag", func(t *testing.T) {
		src, err := postgres.OpenReplicated(ctx, p.DSN(""), []string{r.DSN("")}, opts,
			postgres.ReplicaOptions{MaxLag: time.Second, ProbeEvery: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		waitFor(t, "queries on the replica", func() bool { return servedBy(t, src) == "replica" })
		exec(t, r.DSN(""), "SELECT pg_wal_replay_pause()")
		defer exec(t, r.DSN(""), "SELECT pg_wal_replay_resume()")
		// The primary writes; the paused replica does not replay it.
		exec(t, p.DSN(""), "UPDATE users SET weight = weight + 1 WHERE user_id = 1")
		time.Sleep(1500 * time.Millisecond)
		exec(t, p.DSN(""), "UPDATE users SET weight = weight + 1 WHERE user_id = 2")
		waitFor(t, "the lagging replica to be skipped", func() bool { return servedBy(t, src) == "primary" })
		if !strings.Contains(strings.Join(src.Status(), ";"), "lagging") {
			t.Errorf("status %v does not say lagging", src.Status())
		}
		exec(t, r.DSN(""), "SELECT pg_wal_replay_resume()")
		waitFor(t, "the replica to catch up and be used again", func() bool { return servedBy(t, src) == "replica" })
	})

	t.Run("fallback none", func(t *testing.T) {
		src, err := postgres.OpenReplicated(ctx, p.DSN(""), []string{r.DSN("")}, opts,
			postgres.ReplicaOptions{NoPrimaryFallback: true, ProbeEvery: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if got := servedBy(t, src); got != "replica" {
			t.Fatalf("served by the %s", got)
		}
		if err := r.Stop(ctx, "immediate"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}()
		for i := range 3 {
			_, err := src.Query(ctx, "SELECT 1", 5)
			var unavailable *source.UnavailableError
			if !errors.As(err, &unavailable) {
				t.Errorf("query %d with the only replica down and no fallback: %v, want unavailable", i, err)
			} else if i > 0 && !strings.Contains(fmt.Sprint(unavailable.Err), "no healthy read replica") {
				t.Errorf("query %d: cause %v", i, unavailable.Err)
			}
		}
	})
}
