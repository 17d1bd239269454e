package mcpserver_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The argument checks belong to the MCP server, not to a transport: over
// an in-memory pipe (as over stdio), with no HTTP layer at all, duplicate
// and case-variant keys are refused and a fraction for a whole number is
// named, before anything runs.
func TestServer_ArgumentChecksOnEveryTransport(t *testing.T) {
	f := apptest.New(t, apptest.Options{})
	srv := mcpserver.New(f.Service, mcpserver.Options{Version: "test"})
	ct, st := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tests := []struct {
		name, tool, args, want string
	}{
		{"duplicate key", "query_dataset", `{"dataset_id": 1, "query": "SELECT 1", "query": "SELECT * FROM users"}`, `key "query" appears twice`},
		{"case-variant key", "query_dataset", `{"dataset_id": 1, "query": "SELECT 1", "QUERY": "SELECT 2"}`, `keys "query" and "QUERY" differ only in case`},
		{"nested in a batch", "execute_multi_query", `{"queries": [{"dataset_id": 1, "query": "SELECT 1", "Query": "SELECT 2"}]}`, "differ only in case"},
		{"a fraction for a whole number", "get_dataset_sample", `{"dataset_id": 1, "table_name": "users", "limit": 2.5}`, "limit must be a whole number such as 1, not 2.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tt.tool, Arguments: json.RawMessage(tt.args)})
			if err != nil {
				t.Fatal(err)
			}
			text := res.Content[0].(*mcp.TextContent).Text
			if !res.IsError || !strings.Contains(text, tt.want) {
				t.Errorf("isError=%v, answer %q, want one containing %q", res.IsError, text, tt.want)
			}
		})
	}
}
