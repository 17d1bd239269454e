package mcpserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

// TestServer_DroppedClientCancelsTheQuery: a client that goes away in the
// middle of a tools/call (the TCP connection closes) must not leave its
// query running in PostgreSQL until the statement timeout.
func TestServer_DroppedClientCancelsTheQuery(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	for _, stateless := range []bool{true, false} {
		name := map[bool]string{true: "stateless", false: "stateful"}[stateless]
		t.Run(name, func(t *testing.T) {
			srv := mcpserver.New(f.Service, mcpserver.Options{Version: "test"})
			ts := httptest.NewServer(server.Handler(srv, server.Options{Stateless: stateless}))
			defer ts.Close()
			headers := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}}
			session := ""
			post := func(ctx context.Context, body string) (*http.Response, error) {
				req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/mcp", strings.NewReader(body))
				req.Header = headers.Clone()
				if session != "" {
					req.Header.Set("Mcp-Session-Id", session)
				}
				return http.DefaultClient.Do(req)
			}
			if !stateless {
				resp, err := post(context.Background(), `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"drop","version":"1"}}}`)
				if err != nil {
					t.Fatal(err)
				}
				session = resp.Header.Get("Mcp-Session-Id")
				resp.Body.Close()
				resp, err = post(context.Background(), `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				resp, err := post(ctx, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query_dataset","arguments":{"dataset_id":3,"query":"`+slowSQL+`"}}}`)
				if err == nil {
					resp.Body.Close()
				}
			}()
			waitUntil(t, "the query to start", func() bool { return running(t, f) == 1 })
			cancel() // the client goes away
			waitUntil(t, "PostgreSQL to stop the query", func() bool { return running(t, f) == 0 })
		})
	}
}

const slowSQL = "SELECT COUNT(*) FROM generate_series(1, 100000) AS a, generate_series(1, 100000) AS b"

func running(t *testing.T, f *apptest.Fixture) int {
	ctx := context.Background()
	conn := pgtest.Connect(ctx, t, f.PostgresURL)
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mcp-analytics'
		AND state = 'active' AND query LIKE '%generate_series(1, 100000)%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
