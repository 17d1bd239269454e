package pgstore

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/catalogtest"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
)

func TestStore_Suite(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalogtest.Backend {
		url := pgtest.NewDatabase(t)
		box, err := secret.Load(nil, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return catalogtest.Backend{
			Open: func(t *testing.T) catalog.Store {
				s, err := Open(context.Background(), url, box)
				if err != nil {
					t.Error(err)
					return nil
				}
				return s
			},
			RawDSN: func(t *testing.T, id int64) string {
				conn := pgtest.Connect(context.Background(), t, url)
				var dsn string
				if err := conn.QueryRow(context.Background(), `SELECT dsn FROM mcpa.datasets WHERE id = $1`, id).Scan(&dsn); err != nil {
					t.Fatal(err)
				}
				return dsn
			},
		}
	})
}

// TestStore_Listen shows a change made through one store notified to a
// listener on another at once, without polling.
func TestStore_Listen(t *testing.T) {
	url := pgtest.NewDatabase(t)
	box, _ := secret.Load(nil, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := Open(ctx, url, box)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, url, box)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var n atomic.Int32
	got := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Listen(ctx, func() { n.Add(1); got <- struct{}{} })
	}()
	time.Sleep(200 * time.Millisecond) // let LISTEN start
	if _, err := a.Add(ctx, catalog.Dataset{Name: "X", Driver: catalog.DriverDuckDB, DSN: "/x.duckdb"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(3 * time.Second):
		t.Fatal("no notification within 3 s of Add")
	}
	cancel()
	<-done
}

func TestOpen_HidesPassword(t *testing.T) {
	box, _ := secret.Load(nil, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://mcpa:hunter2pw@127.0.0.1:1/nope?connect_timeout=2", box)
	if err == nil {
		t.Fatal("Open of an unreachable database succeeded")
	}
	if strings.Contains(err.Error(), "hunter2pw") {
		t.Errorf("the password leaked: %v", err)
	}
}
