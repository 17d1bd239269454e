package mcpserver_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/metrics"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
)

// BenchmarkRecorder measures what the query log and the metrics add to a
// query_dataset call (an aggregate on the DuckDB demo, over in-memory
// transports): compare "recorded" with "bare". The writer stores into the
// fixture's SQLite catalog in the background, as the server does.
func BenchmarkRecorder(b *testing.B) {
	f := apptest.New(b, apptest.Options{})
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"query_dataset", map[string]any{"dataset_id": apptest.DuckSample, "query": "SELECT nccs, COUNT(*) FROM users WHERE age > 30 GROUP BY nccs"}},
		{"list_available_datasets", map[string]any{}},
	}
	for _, c := range calls {
		for _, recorded := range []bool{false, true} {
			name := c.tool + "/bare"
			if recorded {
				name = c.tool + "/recorded"
			}
			benchRecorder(b, f, name, recorded, c.tool, c.args)
		}
	}
}

func benchRecorder(b *testing.B, f *apptest.Fixture, name string, recorded bool, tool string, args map[string]any) {
	ctx := context.Background()
	{
		b.Run(name, func(b *testing.B) {
			srv := mcpserver.New(f.Service, mcpserver.Options{Version: "bench"})
			var w *querylog.Writer
			if recorded {
				w = querylog.New(f.Store, querylog.Options{SpoolDir: b.TempDir()})
				w.Start(ctx)
				mx := metrics.New("bench")
				mx.WatchService(f.Service)
				mx.WatchQueryLog(w)
				srv.AddReceivingMiddleware(mcpserver.NewRecorder(mcpserver.RecordOptions{QueryLog: w, Metrics: mx, Instance: "bench"}).Middleware)
			}
			st, ct := mcp.NewInMemoryTransports()
			ss, err := srv.Connect(ctx, st, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ss.Close()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer cs.Close()
			for b.Loop() {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
				if err != nil || res.IsError {
					b.Fatalf("%v %+v", err, res)
				}
			}
			if w != nil {
				b.StopTimer()
				w.Close(ctx)
			}
		})
	}
}
