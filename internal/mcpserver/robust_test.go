package mcpserver_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
)

// TestServer_ArgumentMessages sends arguments of the wrong type over
// Streamable HTTP: each wrong argument is one plain sentence, and a whole
// number sent as a string is accepted.
func TestServer_ArgumentMessages(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	cs := connectHTTP(t, f, false)
	tests := []struct {
		name string
		tool string
		args map[string]any
		want string // "" = the call runs
	}{
		{"a numeric string id", "query_dataset", map[string]any{"dataset_id": "1", "query": "SELECT COUNT(*) FROM users"}, ""},
		{"a numeric string id in a multi-query entry", "execute_multi_query", map[string]any{"queries": []any{map[string]any{"dataset_id": "1", "query": "SELECT COUNT(*) FROM users"}}}, ""},
		{"a numeric string limit", "get_dataset_sample", map[string]any{"dataset_id": "1", "table_name": "users", "limit": "2"}, ""},
		{"a word for the id", "query_dataset", map[string]any{"dataset_id": "one", "query": "SELECT 1"},
			"Invalid arguments: dataset_id must be a whole number such as 1."},
		{"two wrong arguments", "query_dataset", map[string]any{"dataset_id": true, "query": []any{"SELECT 1"}},
			"Invalid arguments: dataset_id must be a whole number such as 1; query must be a string (text in double quotes)."},
		{"a boolean that is not one", "query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT 1", "apply_weights": "yes please"},
			"Invalid arguments: apply_weights must be true or false."},
		{"queries not a list", "execute_multi_query", map[string]any{"queries": "SELECT 1"}, "Invalid arguments: queries must be a list [...]."},
		{"a misspelt argument", "get_dataset_schema", map[string]any{"datasetid": 1},
			`Invalid arguments: dataset_id is required; "datasetid" is not an argument of this tool (it takes dataset_id).`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, _, isErr := call(t, cs, tt.tool, tt.args)
			switch {
			case tt.want == "" && isErr:
				t.Errorf("the call failed:\n%s", md)
			case tt.want != "" && (!isErr || strings.TrimSpace(md) != tt.want):
				t.Errorf("isError=%v, answer:\n%s\nwant:\n%s", isErr, md, tt.want)
			}
		})
	}
}

// TestServer_RejectedQueriesAreEchoedShort sends queries far over the
// limits: the answer echoes each rejected query as its first 200
// characters, and Markdown and structuredContent each stay within the
// 256 KB cap.
func TestServer_RejectedQueriesAreEchoedShort(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	cs := connectHTTP(t, f, false)
	huge := "SELECT " + strings.Repeat("gender, ", 375_000) + "1 FROM users" // 3 MB
	const capBytes = 256 << 10

	md, sc, isErr := call(t, cs, "query_dataset", map[string]any{"dataset_id": 1, "query": huge})
	if !isErr || len(md) > 2000 || !strings.Contains(md, "**Query**: `SELECT gender, gender,") {
		t.Errorf("a 3 MB query: isError=%v, %d bytes of Markdown:\n%.600s", isErr, len(md), md)
	}
	if q, _ := sc["query"].(string); utf8.RuneCountInString(q) > 200 {
		t.Errorf("structured content echoes %d characters of the query, want at most 200", utf8.RuneCountInString(q))
	}

	// Thirty 100 KB queries with long labels, each rejected by the database.
	bad := "SELECT " + strings.Repeat("nosuchcolumn, ", 7_000) + "1 FROM users"
	var queries []any
	for range 30 {
		queries = append(queries, map[string]any{"dataset_id": 1, "query": bad, "label": strings.Repeat("label ", 3_000)})
	}
	md, sc, _ = call(t, cs, "execute_multi_query", map[string]any{"queries": queries})
	b, _ := json.Marshal(sc)
	if len(md) > capBytes || len(b) > capBytes {
		t.Errorf("30 rejected 100 KB queries: Markdown %d bytes, structured %d bytes; cap %d", len(md), len(b), capBytes)
	}
	if sc["failed"] != float64(30) || strings.Contains(md, bad[:300]) {
		t.Errorf("failed = %v, or the Markdown echoes more than 200 characters of a query", sc["failed"])
	}
	results, _ := sc["results"].([]any)
	for i, r := range results {
		m := r.(map[string]any)
		if q, _ := m["query"].(string); utf8.RuneCountInString(q) > 200 {
			t.Errorf("result %d echoes %d characters of its query", i, utf8.RuneCountInString(q))
		}
	}
}
