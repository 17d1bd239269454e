package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/pgstore"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/metrics"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

// TestRecorder_Outcomes makes calls of every outcome class through a real
// MCP client over HTTP, on the demo panel in PostgreSQL, and reads their
// records back from each catalog store (SQLite and PostgreSQL), and the
// metrics through prometheus/testutil.
func TestRecorder_Outcomes(t *testing.T) {
	limits := config.DefaultLimits()
	limits.QueryTimeout = 700 * time.Millisecond
	f := apptest.New(t, apptest.Options{Postgres: true, Users: 500, Limits: &limits})
	stores := map[string]catalog.QueryLog{"sqlite": f.Store}
	box, _ := secret.Load(nil, t.TempDir())
	pg, err := pgstore.Open(context.Background(), pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	stores["postgres"] = pg
	for name, store := range stores {
		t.Run(name, func(t *testing.T) { testOutcomes(t, f, store) })
	}
}

func testOutcomes(t *testing.T, f *apptest.Fixture, store catalog.QueryLog) {
	ctx := context.Background()
	w := querylog.New(store, querylog.Options{SpoolDir: t.TempDir(), FlushEvery: 50 * time.Millisecond})
	w.Start(ctx)
	mx := metrics.New("test")
	srv := mcpserver.New(f.Service, mcpserver.Options{Version: "test"})
	// A tool that panics stands for a bug: the only way to an internal error.
	mcp.AddTool(srv, &mcp.Tool{Name: "boom"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		panic("boom")
	})
	h := server.Handler(srv, server.Options{})
	srv.AddReceivingMiddleware(mcpserver.NewRecorder(mcpserver.RecordOptions{QueryLog: w, Metrics: mx, Instance: "test:1", Transport: "tcp",
		Principal: func(mcp.Request) string { return "token:tester" }}).Middleware)
	ts := httptest.NewServer(h)
	defer ts.Close()
	client := mcp.NewClient(&mcp.Implementation{Name: "record-test", Version: "9.9"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	slow := "SELECT COUNT(*) FROM users a, users b, users c, users d"
	call := func(ctx context.Context, name string, args any) {
		t.Helper()
		_, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	}
	pgID := apptest.PostgresSample
	call(ctx, "query_dataset", map[string]any{"dataset_id": pgID, "query": "SELECT nccs, COUNT(*) FROM users GROUP BY nccs", "standard_errors": true})
	call(ctx, "query_dataset", map[string]any{"dataset_id": pgID, "query": "DELETE FROM users"})
	call(ctx, "query_dataset", map[string]any{"dataset_id": pgID, "query": "SELECT 1 / (age - age) FROM users"})
	call(ctx, "query_dataset", map[string]any{"dataset_id": pgID, "query": slow})
	cctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
	call(cctx, "query_dataset", map[string]any{"dataset_id": pgID, "query": slow + " WHERE a.age > 20"})
	cancel()
	call(ctx, "boom", map[string]any{})
	call(ctx, "execute_multi_query", map[string]any{"queries": []map[string]any{
		{"dataset_id": apptest.DuckSample, "query": "SELECT gender, COUNT(*) FROM users GROUP BY gender", "label": "Gender"},
		{"dataset_id": pgID, "query": "SELECT pg_sleep(1)", "label": "Sleepy"},
	}})
	call(ctx, "get_dataset_sample", map[string]any{"dataset_id": apptest.DuckSample, "table_name": "users", "limit": 3})
	call(ctx, "list_available_datasets", map[string]any{})
	// Duplicate keys are refused by a middleware outside the tools.
	call(ctx, "query_dataset", json.RawMessage(`{"dataset_id": 1, "query": "SELECT 1", "QUERY": "SELECT 2"}`))

	// The cancelled query's record lands once the database has stopped it.
	var recs []catalog.QueryRecord
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		recs, err = store.QueryLogRecords(ctx, catalog.LogFilter{Order: catalog.OrderOldest, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) >= 12 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// By start time: the cancelled call's record is written after the
	// calls that followed it had answered.
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })
	type want struct {
		tool, kind, outcome, sqlstate, rule, sentPrefix, runContains, messageContains string
		rows                                                                          int
	}
	wants := []want{
		{tool: "query_dataset", kind: "call", outcome: "ok", sentPrefix: "SELECT nccs", runContains: "LIMIT 1001", rows: 4},
		{tool: "query_dataset", kind: "call", outcome: "caller_error", rule: "not_select", sentPrefix: "DELETE", messageContains: "SELECT"},
		{tool: "query_dataset", kind: "call", outcome: "database_error", sqlstate: "22012", sentPrefix: "SELECT 1 /", runContains: "LIMIT 6", messageContains: "division by zero"},
		{tool: "query_dataset", kind: "call", outcome: "timeout", sqlstate: "57014", sentPrefix: slow, runContains: "LIMIT", messageContains: "timeout"},
		{tool: "query_dataset", kind: "call", outcome: "cancelled", sentPrefix: slow + " WHERE", messageContains: "cancelled"},
		{tool: "boom", kind: "call", outcome: "internal", messageContains: "internal error (ref"},
		{tool: "execute_multi_query", kind: "call", outcome: "ok", rows: 4},
		{tool: "execute_multi_query", kind: "query", outcome: "ok", sentPrefix: "SELECT gender", runContains: "LIMIT 1001", rows: 4},
		{tool: "execute_multi_query", kind: "query", outcome: "caller_error", rule: "denied_function", sentPrefix: "SELECT pg_sleep", messageContains: "pg_sleep"},
		{tool: "get_dataset_sample", kind: "call", outcome: "ok", runContains: "LIMIT", rows: 3},
		{tool: "list_available_datasets", kind: "call", outcome: "ok"},
		{tool: "query_dataset", kind: "call", outcome: "caller_error", messageContains: "differ only in case"},
	}
	if len(recs) != len(wants) {
		for _, r := range recs {
			t.Logf("%s %s %s %q", r.Tool, r.Kind, r.Outcome, r.Message)
		}
		t.Fatalf("%d records, want %d", len(recs), len(wants))
	}
	for i, wt := range wants {
		r := recs[i]
		bad := r.Tool != wt.tool || r.Kind != wt.kind || r.Outcome != wt.outcome || r.SQLState != wt.sqlstate || r.GuardRule != wt.rule ||
			!strings.HasPrefix(r.QuerySent, wt.sentPrefix) || !strings.Contains(r.QueryRun, wt.runContains) ||
			!strings.Contains(r.Message, wt.messageContains) || r.Rows != wt.rows ||
			r.ClientName != "record-test" || r.ClientVersion != "9.9" || r.Principal != "token:tester" || r.SessionID == "" || r.Time.IsZero()
		if wt.outcome == "ok" && r.Message != "" || wt.outcome != "ok" && r.Message == "" {
			bad = true
		}
		if bad {
			t.Errorf("record %d = %+v\nwant %+v", i+1, r, wt)
		}
	}
	if r := recs[0]; !r.Weighted || !r.Options.ApplyWeights || !r.Options.MergeNCCS || !r.Options.StandardErrors || r.DatasetID != pgID || r.DatasetName == "" || r.Bytes == 0 {
		t.Errorf("the ok query's details: %+v", r)
	}
	multi := recs[6]
	if q := recs[7]; q.CallID != multi.ID || q.Position != 1 || q.Label != "Gender" || recs[8].Position != 2 || recs[8].Label != "Sleepy" {
		t.Errorf("multi-query records not tied to their call: %+v / %+v", recs[7], recs[8])
	}
	if s := recs[9]; s.Label != "users" || s.Options.Limit != 3 {
		t.Errorf("sample record: %+v", s)
	}

	// The metrics saw the same calls.
	reg := mx.Registry()
	if n := countOf(t, reg, "mcp_server_operation_duration_seconds", map[string]string{"mcp_method_name": "tools/call"}); n != 10 {
		t.Errorf("tools/call operations = %v, want 10", n)
	}
	if n := countOf(t, reg, "mcp_server_operation_duration_seconds", map[string]string{"mcp_method_name": "tools/call", "error_type": "tool_error"}); n != 6 {
		t.Errorf("tools/call with isError = %v, want 6", n)
	}
	for outcome, want := range map[string]float64{"ok": 3, "caller_error": 2, "database_error": 1, "timeout": 1, "cancelled": 1} {
		if n := countOf(t, reg, "mcpa_queries_total", map[string]string{"outcome": outcome}); n != want {
			t.Errorf("mcpa_queries_total{outcome=%q} = %v, want %v", outcome, n, want)
		}
	}
	if n := countOf(t, reg, "mcpa_guard_rejections_total", map[string]string{"rule": "denied_function"}); n != 1 {
		t.Errorf("guard rejections for denied_function = %v, want 1", n)
	}
	if n, err := testutil.GatherAndCount(reg, "mcpa_rows_returned_total"); err != nil || n < 2 {
		t.Errorf("rows returned series = %d, %v", n, err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// countOf sums, over the series of family name whose labels include
// labels, the counter values or histogram sample counts.
func countOf(t *testing.T, reg interface {
	Gather() ([]*dto.MetricFamily, error)
}, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, fam := range fams {
		if fam.GetName() != name {
			continue
		}
	series:
		for _, m := range fam.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}
