package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

// connectHTTP serves the fixture's tools over Streamable HTTP on a real
// listener and connects the SDK's client to it.
func connectHTTP(t *testing.T, f *apptest.Fixture, stateless bool) *mcp.ClientSession {
	t.Helper()
	srv := mcpserver.New(f.Service, mcpserver.Options{Version: "test"})
	ts := httptest.NewServer(server.Handler(srv, server.Options{Stateless: stateless}))
	t.Cleanup(ts.Close)
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestServer_ToolsList(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	cs := connectHTTP(t, f, false)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		a := tool.Annotations
		if a == nil || !a.ReadOnlyHint || a.DestructiveHint == nil || *a.DestructiveHint || a.OpenWorldHint == nil || *a.OpenWorldHint {
			t.Errorf("%s: annotations %+v, want readOnly, not destructive, closed world", tool.Name, a)
		}
		if tool.OutputSchema == nil {
			t.Errorf("%s: no output schema", tool.Name)
		}
		schema, _ := json.Marshal(tool.InputSchema)
		var s struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(schema, &s); err != nil {
			t.Fatal(err)
		}
		for name, p := range s.Properties {
			if p.Description == "" {
				t.Errorf("%s: input %s has no description", tool.Name, name)
			}
		}
	}
	if strings.Join(names, ",") != strings.Join(sortedCopy(mcpserver.ToolNames), ",") {
		t.Errorf("tools = %v, want %v", names, mcpserver.ToolNames)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// call invokes a tool and returns its Markdown, structured content and
// error flag.
func call(t *testing.T, cs *mcp.ClientSession, name string, args any) (string, map[string]any, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var md strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			md.WriteString(tc.Text)
		}
	}
	var sc map[string]any
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(b, &sc)
		// The server does not validate its outputs at run time (see
		// addTool): every output the tests see is checked here against
		// the schema the tool publishes.
		if err := outputSchema(t, cs, name).Validate(sc); err != nil {
			t.Errorf("%s: structured output does not match the published output schema: %v", name, err)
		}
	}
	return md.String(), sc, res.IsError
}

var outputSchemas sync.Map // *mcp.ClientSession + tool name → *jsonschema.Resolved

// outputSchema returns the output schema tools/list publishes for tool.
func outputSchema(t *testing.T, cs *mcp.ClientSession, tool string) *jsonschema.Resolved {
	t.Helper()
	key := fmt.Sprintf("%p/%s", cs, tool)
	if r, ok := outputSchemas.Load(key); ok {
		return r.(*jsonschema.Resolved)
	}
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range res.Tools {
		if tl.Name != tool {
			continue
		}
		b, _ := json.Marshal(tl.OutputSchema)
		var s jsonschema.Schema
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		r, err := s.Resolve(nil)
		if err != nil {
			t.Fatalf("%s: output schema: %v", tool, err)
		}
		outputSchemas.Store(key, r)
		return r
	}
	t.Fatalf("tool %s is not listed", tool)
	return nil
}

func TestServer_EveryTool(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	for _, stateless := range []bool{false, true} {
		name := "stateful"
		if stateless {
			name = "stateless"
		}
		t.Run(name, func(t *testing.T) {
			cs := connectHTTP(t, f, stateless)
			exerciseTools(t, cs)
		})
	}
}

// exerciseTools calls every tool the way an assistant would, on the DuckDB
// and the PostgreSQL copy of the demo data, good inputs and bad.
func exerciseTools(t *testing.T, cs *mcp.ClientSession) {
	md, sc, isErr := call(t, cs, "list_available_datasets", map[string]any{})
	if isErr || !strings.Contains(md, "Sample Dataset") || !strings.Contains(md, "Streaming Panel (PostgreSQL)") {
		t.Errorf("list_available_datasets:\n%s", md)
	}
	if ds, _ := sc["datasets"].([]any); len(ds) != 4 {
		t.Errorf("structured datasets = %d, want 4", len(ds))
	}
	for _, id := range []int64{apptest.DuckSample, apptest.PostgresSample} {
		md, sc, isErr = call(t, cs, "get_dataset_schema", map[string]any{"dataset_id": id})
		if isErr || !strings.Contains(md, "## users") || !strings.Contains(md, "weight") || !strings.Contains(md, "user level") {
			t.Errorf("get_dataset_schema %d:\n%s", id, md)
		}
		if sc["weight_column"] != "users.weight" || sc["respondent_key"] != "user_id" || sc["nccs_column"] != "nccs" {
			t.Errorf("schema roles = %v %v %v", sc["weight_column"], sc["respondent_key"], sc["nccs_column"])
		}

		md, sc, isErr = call(t, cs, "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT gender, COUNT(*) FROM users GROUP BY gender"})
		if isErr || !strings.Contains(md, "**Rows**: 3") || !strings.Contains(md, "Sample Dataset") {
			t.Errorf("query_dataset %d:\n%s", id, md)
		}
		// Three genders and the Total row, marked is_total.
		if sc["ok"] != true || sc["row_count"] != float64(4) || sc["aggregated"] != true {
			t.Errorf("query_dataset structured = %v", sc)
		}

		md, sc, isErr = call(t, cs, "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT * FROM users", "show_sql": true})
		if isErr || !strings.Contains(md, "**Rows**: 5") || !strings.Contains(md, "Showing 5 of more than 5 rows") || !strings.Contains(md, "LIMIT 6") {
			t.Errorf("raw query %d:\n%s", id, md)
		}
		if sc["truncated"] != true || sc["row_limit"] != float64(5) {
			t.Errorf("raw structured = %v", sc)
		}

		md, _, isErr = call(t, cs, "get_dataset_sample", map[string]any{"dataset_id": id, "table_name": "orders", "limit": 3})
		if isErr || !strings.Contains(md, "**Rows**: 3") || !strings.Contains(md, "order_id") {
			t.Errorf("get_dataset_sample %d:\n%s", id, md)
		}
		md, _, isErr = call(t, cs, "get_dataset_sample", map[string]any{"dataset_id": id, "table_name": "users"})
		if isErr || !strings.Contains(md, "**Rows**: 5") || !strings.Contains(md, "limited to 5 rows") {
			t.Errorf("get_dataset_sample default limit %d:\n%s", id, md)
		}
	}

	md, sc, isErr = call(t, cs, "execute_multi_query", map[string]any{"queries": []map[string]any{
		{"dataset_id": apptest.DuckSample, "query": "SELECT * FROM users LIMIT 5", "label": "Users"},
		{"dataset_id": apptest.PostgresSample, "query": "SELECT * FROM invalid_table", "label": "Invalid"},
		{"dataset_id": apptest.PostgresStreaming, "query": "SELECT COUNT(*) FROM events", "label": "Events"},
	}})
	for _, want := range []string{"# Multi-Query Results", "**Total Queries**: 3", "**Successful**: 2 ✅", "**Failed**: 1 ❌",
		"## 1. Users", "## 2. Invalid", `**Error**: relation "invalid_table" does not exist`, "**Query**: `SELECT * FROM invalid_table`", "## 3. Events", "**Tips**:"} {
		if !strings.Contains(md, want) {
			t.Errorf("execute_multi_query: missing %q in\n%s", want, md)
		}
	}
	if isErr || sc["succeeded"] != float64(2) || sc["failed"] != float64(1) {
		t.Errorf("multi structured: isError=%v %v", isErr, sc)
	}

	md, _, isErr = call(t, cs, "get_context", map[string]any{})
	if isErr || !strings.Contains(md, "execute_multi_query") || len(md) > 500*4 {
		t.Errorf("get_context level 0 (%d chars):\n%s", len(md), md)
	}
	md, sc, isErr = call(t, cs, "get_context", map[string]any{"level": 3, "dataset_id": apptest.PostgresSample, "table_name": "users"})
	if isErr || !strings.Contains(md, "Sample rows") || !strings.Contains(md, "Example queries") || sc["level"] != float64(3) {
		t.Errorf("get_context level 3:\n%s", md)
	}

	// Bad inputs: clear tool errors, never protocol failures.
	bad := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"query_dataset", map[string]any{"dataset_id": 99, "query": "SELECT 1"}, "dataset 99 not found"},
		{"query_dataset", map[string]any{"dataset_id": 1, "query": "SELEC gender FROM users"}, "syntax error"},
		{"query_dataset", map[string]any{"dataset_id": 1, "query": "DROP TABLE users"}, "only a single read-only SELECT"},
		{"query_dataset", map[string]any{"dataset_id": "one", "query": "SELECT 1"}, "dataset_id"},
		{"query_dataset", map[string]any{"dataset_id": 1}, "query"},
		{"get_dataset_schema", map[string]any{"dataset_id": -4}, "not found"},
		{"get_dataset_sample", map[string]any{"dataset_id": 1, "table_name": "nope"}, `table "nope" not found`},
		{"execute_multi_query", map[string]any{"queries": []any{}}, "At least 1 query required"},
		{"execute_multi_query", map[string]any{}, "At least 1 query required"},
		{"execute_multi_query", map[string]any{"queries": repeat(map[string]any{"dataset_id": 1, "query": "SELECT 1"}, 31)}, "Maximum 30 queries allowed per request"},
		{"execute_multi_query", map[string]any{"queries": []any{map[string]any{"query": "SELECT 1", "label": "x"}}}, "Each query must have 'dataset_id' and 'query' fields"},
		{"get_context", map[string]any{"level": 7}, "level must be 0, 1, 2 or 3"},
	}
	for _, b := range bad {
		md, _, isErr := call(t, cs, b.tool, b.args)
		if !isErr || !strings.Contains(md, b.want) {
			t.Errorf("%s %v: isError=%v, want message containing %q, got:\n%s", b.tool, b.args, isErr, b.want, md)
		}
	}
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestServer_StructuredContentIsCapped packs the whole panel into one cell
// and asks for many long rows: structuredContent obeys the same caps as the
// Markdown, so it cannot carry raw records out.
func TestServer_StructuredContentIsCapped(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	cs := connectHTTP(t, f, false)
	_, sc, _ := call(t, cs, "query_dataset", map[string]any{"dataset_id": 1,
		"query": "SELECT string_agg(CAST(age AS VARCHAR) || ',' || gender || ',' || city, ';') AS x FROM users"})
	rows, _ := sc["rows"].([]any)
	if len(rows) != 1 {
		t.Fatalf("rows = %v", sc["rows"])
	}
	if cell := rows[0].([]any)[0].(string); len([]rune(cell)) > 200 {
		t.Errorf("structured cell holds %d characters, want at most 200", len([]rune(cell)))
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "execute_multi_query", Arguments: map[string]any{"queries": []any{
		map[string]any{"dataset_id": 1, "query": "SELECT gender, age, city, COUNT(*), MAX(repeat(city, 20)) FROM users GROUP BY gender, age, city"},
		map[string]any{"dataset_id": 1, "query": "SELECT age, gender, city, COUNT(*), MAX(repeat(state, 20)) FROM users GROUP BY age, gender, city"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if len(b) > 300<<10 {
		t.Errorf("structured content of a multi-query answer is %d KB, want it within the 256 KB cap", len(b)>>10)
	}
}

// TestServer_ReadableAnswers goes through a real MCP client: show_sql on a
// query the database refuses (both tools, Markdown and structured sql), an
// unknown column explained, money and months as an analyst reads them in
// the Markdown while structuredContent keeps raw numbers, and each event
// table's period in the dataset list.
func TestServer_ReadableAnswers(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	cs := connectHTTP(t, f, false)
	const failing = "SELECT gender, COUNT(*), CAST(MIN(city) AS INTEGER) AS c FROM users GROUP BY gender"
	for _, id := range []int64{apptest.DuckSample, apptest.PostgresSample} {
		md, sc, isErr := call(t, cs, "query_dataset", map[string]any{"dataset_id": id, "query": failing, "show_sql": true})
		sql, _ := sc["sql"].(string)
		if !isErr || sc["ok"] != false || !strings.Contains(sql, "LIMIT 1001") || !strings.Contains(md, "**SQL sent**:") || !strings.Contains(md, sql) {
			t.Errorf("query_dataset %d, failing with show_sql: sql %q, Markdown:\n%s", id, sql, md)
		}
		md, sc, _ = call(t, cs, "execute_multi_query", map[string]any{"show_sql": true, "queries": []any{
			map[string]any{"dataset_id": id, "query": failing, "label": "Fails"},
			map[string]any{"dataset_id": id, "query": "SELECT gendr, COUNT(*) FROM users GROUP BY 1", "label": "Typo"},
		}})
		results, _ := sc["results"].([]any)
		if len(results) != 2 {
			t.Fatalf("multi results = %v", sc["results"])
		}
		first := results[0].(map[string]any)
		if s, _ := first["sql"].(string); s == "" || strings.Count(md, "**SQL sent**:") != 2 {
			t.Errorf("execute_multi_query %d: sql %q, Markdown:\n%s", id, s, md)
		}
		if !strings.Contains(md, `column "gendr" does not exist — did you mean gender? users has: user_id,`) {
			t.Errorf("execute_multi_query %d: the typo is not explained:\n%s", id, md)
		}
		if strings.Contains(md, "Include weight columns") {
			t.Errorf("the footer still asks for weight columns:\n%s", md)
		}

		md, sc, _ = call(t, cs, "query_dataset", map[string]any{"dataset_id": id,
			"query": "SELECT date_trunc('month', order_date) AS month, SUM(amount) AS revenue FROM orders GROUP BY 1 ORDER BY 1"})
		rows, _ := sc["rows"].([]any)
		if len(rows) == 0 {
			t.Fatalf("no rows: %v", sc)
		}
		row := rows[0].([]any)
		if _, isNumber := row[1].(float64); !isNumber {
			t.Errorf("structured revenue = %#v, want a raw number", row[1])
		}
		month := fmt.Sprint(row[0])[:10]
		if !strings.Contains(md, "| "+month+" | ₹") {
			t.Errorf("query_dataset %d: want the month %s as a date beside a ₹ amount:\n%s", id, month, md)
		}
	}
	md, sc, _ := call(t, cs, "list_available_datasets", map[string]any{})
	ds, _ := sc["datasets"].([]any)
	first := ds[0].(map[string]any)
	if ranges, _ := first["date_ranges"].([]any); len(ranges) < 2 || !strings.Contains(md, "app_usage ") || !strings.Contains(md, "; orders ") {
		t.Errorf("list_available_datasets lacks the event tables' periods (%v):\n%s", first["date_ranges"], md)
	}
	md, _, _ = call(t, cs, "get_dataset_schema", map[string]any{"dataset_id": apptest.DuckSample})
	if !strings.Contains(md, "## orders\n\n**Grain**: event level | **Rows** (estimate): ") || !strings.Contains(md, "| **Dates**: ") || !strings.Contains(md, "Unit: ₹.") {
		t.Errorf("get_dataset_schema lacks a table's period or a unit:\n%s", md)
	}
}
