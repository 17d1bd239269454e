package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/pgcluster"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
)

// echoServer accepts connections and echoes what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProxy_RoundTrip(t *testing.T) {
	for _, rtt := range []time.Duration{0, 30 * time.Millisecond} {
		t.Run(rtt.String(), func(t *testing.T) {
			p, err := NewProxy(echoServer(t), rtt)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			c, err := net.Dial("tcp", p.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			msg := bytes.Repeat([]byte("panel "), 50_000) // several chunks
			start := time.Now()
			go func() { _, _ = c.Write(msg) }()
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			if !bytes.Equal(got, msg) {
				t.Fatal("the echoed bytes differ from those sent")
			}
			if elapsed < rtt {
				t.Errorf("round trip took %s, want at least the added %s", elapsed, rtt)
			}
		})
	}
}

func TestProxy_Close(t *testing.T) {
	before := runtime.NumGoroutine()
	p, err := NewProxy(echoServer(t), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a connection open")
	}
	// The client sees its connection cut.
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(buf); err == nil {
		t.Error("read on a proxied connection succeeded after Close")
	}
	if _, err := net.DialTimeout("tcp", p.Addr().String(), time.Second); err == nil {
		t.Error("the proxy still accepts connections after Close")
	}
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before+2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 { // the echo server's accept loop and handler
		t.Errorf("goroutines: %d before, %d after Close", before, n)
	}
}

func TestSamples_Percentile(t *testing.T) {
	ms := func(n ...int) samples {
		var s samples
		for _, v := range n {
			s = append(s, time.Duration(v)*time.Millisecond)
		}
		return s
	}
	tests := []struct {
		name string
		s    samples
		p    float64
		want float64
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", ms(7), 99, 7},
		{"median of an odd count", ms(5, 1, 3), 50, 3},
		{"nearest rank rounds up", ms(1, 2, 3, 4), 50, 2},
		{"p95 of twenty is the nineteenth", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19},
		{"p100 is the maximum", ms(3, 9, 1), 100, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.percentile(tt.p); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no DSN", Config{}, "connection string is required"},
		{"negative users", Config{DSN: "postgres://x", Users: -1}, "users must be at least 1"},
		{"too many queries per call", Config{DSN: "postgres://x", MultiSizes: []int{31}}, "between 1 and 30"},
		{"negative RTT", Config{DSN: "postgres://x", RTTs: []time.Duration{-time.Second}}, "must be positive"},
		{"unknown part", Config{DSN: "postgres://x", Parts: []string{"latency"}}, `unknown part "latency"`},
		{"another server without an address", Config{DSN: "postgres://x", Against: []Against{{Name: "x", Tool: "query", SQLArg: "sql"}}}, "needs an endpoint URL or a command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// minimalSQLServer serves, over Streamable HTTP, an MCP server with one
// tool that runs SQL through pgx: the simplest "other MCP database server"
// for the against part to measure. It refuses calls without its fixed
// database argument, so the test shows those are sent.
func minimalSQLServer(t *testing.T, dsn string) string {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := mcp.NewServer(&mcp.Implementation{Name: "minimal-sql", Version: "1"}, nil)
	type in struct {
		Statement string `json:"statement"`
		Database  string `json:"database"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "run_sql", Description: "run SQL"}, func(ctx context.Context, _ *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
		if a.Database != "bench" {
			return nil, nil, fmt.Errorf("unknown database %q", a.Database)
		}
		rows, err := pool.Query(ctx, a.Statement)
		if err != nil {
			return nil, nil, err
		}
		defer rows.Close()
		var out [][]any
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				return nil, nil, err
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
		b, _ := json.Marshal(out)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}, nil, nil
	})
	ts := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestRun runs the whole bench at toy sizes against the real PostgreSQL,
// so the code path cannot rot. It checks what was measured and that every
// call succeeded, never how fast: timings belong to the bench command.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server and generates a panel")
	}
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	pgtest.Connect(ctx, t, dsn).Close(ctx)
	cfg := DefaultConfig()
	cfg.DSN, cfg.Users, cfg.RTTs = dsn, 2_000, []time.Duration{4 * time.Millisecond, 6 * time.Millisecond}
	cfg.Iterations, cfg.Repeats, cfg.MultiSizes = 3, 1, []int{2, 12}
	cfg.Sessions, cfg.Calls, cfg.Clients = 4, 3, 2
	var progress strings.Builder
	cfg.Progress = &progress
	cfg.Against = []Against{{Name: "a minimal SQL server", Endpoint: minimalSQLServer(t, provision.WithSearchPath(dsn, PanelSchema(cfg.Users))),
		Tool: "run_sql", SQLArg: "statement", Args: map[string]any{"database": "bench"}}}
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "generated a panel of 2000 users") {
		t.Errorf("progress does not say the panel was generated:\n%s", progress.String())
	}
	if len(r.Overhead) != 3 || len(r.Multi) != 4 || len(r.Rewrite) == 0 {
		t.Fatalf("report sections: %d overhead, %d multi, %d rewrite rows", len(r.Overhead), len(r.Multi), len(r.Rewrite))
	}
	for _, o := range r.Overhead {
		if o.Samples != 3 || o.OursP50 <= 0 || o.RawP50 <= 0 || o.RatioP50 <= 0 {
			t.Errorf("overhead %s: %+v", o.Case, o)
		}
	}
	for _, m := range r.Multi {
		// Sequential calls through the proxy pay at least one round trip
		// each; that holds however slow the machine is.
		if m.SequentialMS < float64(m.Queries)*m.RTTMS || m.MultiMS <= 0 || m.LowerBoundMS < m.RTTMS {
			t.Errorf("multi %d: %+v", m.Queries, m)
		}
	}
	if r.Multi[1].WavesAtLimit != 2 {
		t.Errorf("12 queries at 10 in flight: %d waves, want 2", r.Multi[1].WavesAtLimit)
	}
	if r.Load == nil || r.Load.Errors != 0 || r.Load.Calls != 12 {
		t.Errorf("load %+v", r.Load)
	}
	if len(r.Throughput) != 3 || r.Throughput[0].RTTMS != 0 || r.Throughput[1].RTTMS != 4 || r.Throughput[2].RTTMS != 6 {
		t.Fatalf("throughput rows %+v, want one next to the database, one 4 ms and one 6 ms away", r.Throughput)
	}
	if r.Multi[0].RTTMS != 4 || r.Multi[2].RTTMS != 6 || r.RTTMS != 4 {
		t.Errorf("multi-query RTTs %v and %v, goals at %v; want 4, 6 and 4", r.Multi[0].RTTMS, r.Multi[2].RTTMS, r.RTTMS)
	}
	for _, tr := range r.Throughput {
		if tr.Errors != 0 || tr.Calls != 6 || tr.OursPerSec <= 0 || tr.RawPerSec <= 0 {
			t.Errorf("throughput %+v", tr)
		}
	}
	if len(r.Against) != 1 || len(r.Against[0].PerCall) != 2 || r.Against[0].Throughput.Errors != 0 || r.Against[0].Throughput.Calls != 6 {
		t.Fatalf("against: %+v", r.Against)
	}
	for _, x := range r.Against[0].PerCall {
		if x.Samples != 3 || x.TheirP50 <= 0 || x.RawP50 <= 0 || x.OursRatio <= 0 {
			t.Errorf("against, %s: %+v", x.Case, x)
		}
	}
	if f := r.FairShare; f == nil || f.Errors != 0 || f.Samples != 5 || f.IdleP50 <= 0 || f.FloodP50 <= 0 || f.FloodQueries <= 0 || f.RTTMS != 4 {
		t.Errorf("fair share: %+v", r.FairShare)
	}
	if r.Machine.PostgreSQL == "" || r.Machine.CPUs < 1 {
		t.Errorf("machine = %+v", r.Machine)
	}
	md := r.Markdown()
	for _, want := range []string{"## SPEC §10 goals", "| primary-key lookup | 3 |", "| 12 |", "database 4.00 ms away", "database 6.00 ms away", "simulated RTT 4.00, 6.00 ms", "12 queries at 4 ms RTT", "## Against a minimal SQL server", "## Load: 4 concurrent MCP sessions", "## Rewrite path alone", "## Fair share: one client floods", "fair share: a single query while another client floods"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}

	// A second run reuses the panel, and measures only the parts asked for.
	progress.Reset()
	cfg.MultiSizes = []int{1}
	cfg.Parts = []string{"multi"}
	r, err = Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(progress.String(), "generated a panel") {
		t.Error("the second run generated the panel again")
	}
	if len(r.Multi) != 2 || len(r.Overhead)+len(r.Rewrite)+len(r.Throughput) != 0 || r.Load != nil {
		t.Errorf("a multi-only run measured %+v", r)
	}
	if md := r.Markdown(); strings.Contains(md, "## Load") || strings.Contains(md, "load, ") {
		t.Errorf("a multi-only report shows the load:\n%s", md)
	}
}

// TestRun_Soak runs the soak part for a few seconds against clusters of
// its own (a primary and a streaming replica), so its code path and every
// fault it injects cannot rot; the minutes-long run is the bench command's.
// It checks that every fault was injected, that answers were checked, and
// that none was wrong.
func TestRun_Soak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two PostgreSQL clusters")
	}
	if _, err := pgcluster.BinDir(); err != nil && !pgtest.Required() {
		pgtest.Skip(t, "a PostgreSQL cluster of its own (pg_ctlcluster)", fmt.Sprint(err))
	}
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	pgtest.Connect(ctx, t, dsn).Close(ctx)
	cfg := DefaultConfig()
	cfg.DSN, cfg.Users, cfg.RTTs, cfg.Sessions = dsn, 2_000, []time.Duration{2 * time.Millisecond}, 4
	cfg.Parts, cfg.SoakDuration = []string{"soak"}, 20*time.Second
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Soak
	if s == nil || s.Calls == 0 || s.Answers == 0 || s.Wrong != 0 || len(s.Faults) != 8 {
		t.Fatalf("soak: %+v", s)
	}
	for _, f := range s.Faults {
		if strings.Contains(f.Fault, "failed") {
			t.Errorf("fault %q", f.Fault)
		}
	}
	if md := r.Markdown(); !strings.Contains(md, "## Soak: 4 MCP sessions") || !strings.Contains(md, "replica killed") {
		t.Errorf("Markdown:\n%s", md)
	}
}
