package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// TestCluster_Replica starts a primary and a streaming replica, checks
// that a row written on the primary is read on the replica, and that the
// replica can be killed and started again.
func TestCluster_Replica(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := StartPrimary(ctx)
	if errors.Is(err, ErrUnavailable) && os.Getenv("MCPA_REQUIRE_POSTGRES") != "1" {
		pgtest.Skip(t, "a PostgreSQL cluster of its own (pg_ctlcluster)", fmt.Sprint(err))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := p.StartReplica(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	exec := func(dsn, sql string) {
		t.Helper()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(p.DSN(""), "CREATE TABLE t (x int); INSERT INTO t VALUES (42)")
	read := func() (int, bool, error) {
		c, err := pgx.Connect(ctx, r.DSN(""))
		if err != nil {
			return 0, false, err
		}
		defer c.Close(ctx)
		var x int
		var standby bool
		err = c.QueryRow(ctx, "SELECT (SELECT x FROM t), pg_is_in_recovery()").Scan(&x, &standby)
		return x, standby, err
	}
	var x int
	var standby bool
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if x, standby, err = read(); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || x != 42 || !standby {
		t.Fatalf("replica read %d (standby %v): %v", x, standby, err)
	}
	if err := r.Stop(ctx, "immediate"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := read(); err == nil {
		t.Fatal("the killed replica still answers")
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if x, _, err := read(); err != nil || x != 42 {
		t.Fatalf("after a restart the replica read %d: %v", x, err)
	}
}
