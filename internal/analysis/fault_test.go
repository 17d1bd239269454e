package analysis_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// forwarder stands between the server and PostgreSQL so a test can take
// "the database" down and bring it back on the same address.
type forwarder struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newForwarder(t *testing.T, target string) *forwarder {
	f := &forwarder{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.serve(ln)
	t.Cleanup(f.down)
	return f
}

func (f *forwarder) serve(ln net.Listener) {
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", f.target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, up)
			f.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// down closes the listener and every connection: the database is gone.
func (f *forwarder) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

// up listens again on the same address: the database is back.
func (f *forwarder) up() {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	f.serve(ln)
}

// TestService_RecoversWhenTheDatabaseReturns takes the database away before
// the first call and in the middle of the calls: each time the caller gets
// a clear error, other datasets keep working, and once the database is back
// the same dataset answers again without a restart.
func TestService_RecoversWhenTheDatabaseReturns(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	u, err := url.Parse(f.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	fw := newForwarder(t, u.Host)
	fw.down() // down at start

	f.UpdateDataset(t, apptest.PostgresSample, func(d *catalog.Dataset) {
		pu, _ := url.Parse(d.DSN)
		pu.Host = fw.addr
		q := pu.Query()
		q.Set("connect_timeout", "2")
		pu.RawQuery = q.Encode()
		d.DSN = pu.String()
	})
	ask := func() analysisResult {
		m, err := f.Service.Multi(ctx, []analysis.Request{
			{DatasetID: apptest.PostgresSample, Query: "SELECT COUNT(*) FROM users"},
			{DatasetID: apptest.DuckSample, Query: "SELECT COUNT(*) FROM users"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return analysisResult{m.Results[0].OK, m.Results[0].Error, m.Results[1].OK}
	}

	if r := ask(); r.ok || !strings.Contains(r.err, "unavailable") || !r.otherOK {
		t.Fatalf("database down at start: %+v", r)
	}
	fw.up()
	if r := ask(); !r.ok || !r.otherOK {
		t.Fatalf("after the database came back: %+v", r)
	}
	fw.down() // down in the middle of the calls
	if r := ask(); r.ok || !r.otherOK {
		t.Fatalf("database down mid-way: %+v", r)
	}
	fw.up()
	waitFor(t, "the dataset to answer again", func() bool { return ask().ok })
}

type analysisResult struct {
	ok      bool
	err     string
	otherOK bool
}

// TestService_NoGoroutineLeaks cancels a thousand calls at random moments
// (before they start, while they wait for a slot, while the database runs
// them) and checks the goroutines return to their baseline.
func TestService_NoGoroutineLeaks(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	// Warm the pools so their own goroutines are part of the baseline.
	for _, id := range []int64{apptest.DuckSample, apptest.PostgresSample} {
		if r := f.Service.Query(ctx, analysis.Request{DatasetID: id, Query: "SELECT 1"}); !r.OK {
			t.Fatal(r.Error)
		}
	}
	runtime.GC()
	before := runtime.NumGoroutine()

	var wg sync.WaitGroup
	sem := make(chan struct{}, 20)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(3000))*time.Microsecond)
			defer cancel()
			id := []int64{apptest.DuckSample, apptest.PostgresSample}[i%2]
			r := f.Service.Query(cctx, analysis.Request{DatasetID: id, Query: slowQuery, ApplyWeights: true, MergeNCCS: true})
			if r.OK {
				t.Errorf("call %d finished a query that cannot finish in 3 ms", i)
			}
		}()
	}
	wg.Wait()
	waitFor(t, "the goroutines to return to their baseline", func() bool {
		runtime.GC()
		return runtime.NumGoroutine() <= before+5
	})
	waitFor(t, "the server to stop the cancelled queries", func() bool { return activeSlowQueries(t, f) == 0 })
	if r := f.Service.Query(ctx, analysis.Request{DatasetID: apptest.PostgresSample, Query: "SELECT COUNT(*) FROM users"}); !r.OK {
		t.Errorf("after the cancellations: %s", r.Error)
	}
}
