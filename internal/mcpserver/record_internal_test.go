package mcpserver

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/metrics"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// discardLog is a query log store that keeps nothing.
type discardLog struct{}

func (discardLog) AppendQueryLog(context.Context, []catalog.QueryRecord) error { return nil }
func (discardLog) QueryLogRecords(context.Context, catalog.LogFilter) ([]catalog.QueryRecord, error) {
	return nil, nil
}
func (discardLog) AggregateQueryLog(context.Context, catalog.Aggregate) ([]catalog.AggregateRow, error) {
	return nil, nil
}
func (discardLog) PruneQueryLog(context.Context, time.Time) (int64, error) { return 0, nil }

// BenchmarkRecorder_Middleware is the recorder's own work on the request
// path for a query_dataset call of 4 rows: building the record, handing
// it to the writer, the metrics and the slog line (discarded). The
// handler itself is a stub, so this is the cost the query log and the
// metrics add to every call, to set beside the call's own time.
func BenchmarkRecorder_Middleware(b *testing.B) {
	ctx := context.Background()
	w := querylog.New(discardLog{}, querylog.Options{SpoolDir: b.TempDir()})
	w.Start(ctx)
	defer w.Close(ctx)
	rec := NewRecorder(RecordOptions{QueryLog: w, Metrics: metrics.New("bench"), Instance: "bench:1", Transport: "tcp",
		Principal: func(mcp.Request) string { return "token:bench" }})
	r := result.Result{DatasetID: 1, Dataset: "Sample Dataset", OK: true, Query: "SELECT nccs, COUNT(*) FROM users GROUP BY nccs",
		Columns: []result.Column{{Name: "nccs"}, {Name: "count"}}, Rows: [][]any{{"A", int64(1)}, {"B", int64(2)}, {"C/D/E", int64(3)}, {nil, int64(4)}},
		RowCount: 4, Trace: result.Trace{SQL: "SELECT nccs, count(*) FROM users GROUP BY nccs LIMIT 1001", Outcome: catalog.OutcomeOK}}
	structured, _ := json.Marshal(r)
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "**Rows**: 4 | **Time**: 3 ms | table..."}}, StructuredContent: json.RawMessage(structured)}
	next := func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		n := noteOf(ctx)
		n.datasetID, n.results = 1, []result.Result{r}
		n.options = catalog.QueryOptions{ApplyWeights: true, MergeNCCS: true}
		return res, nil
	}
	h := rec.Middleware(next)
	req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "query_dataset", Arguments: json.RawMessage(`{}`)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h(ctx, "tools/call", req); err != nil {
			b.Fatal(err)
		}
	}
}
