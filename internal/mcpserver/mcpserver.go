// Package mcpserver exposes the analysis service as the six MCP tools of
// SPEC §2. Each tool has typed input and output structs: their json and
// jsonschema tags are the tools' schemas, and the output fills
// structuredContent beside the Markdown text the model reads. Errors the
// caller can fix are tool results with isError set; only protocol breakage
// is a JSON-RPC error.
package mcpserver

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/executor"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpapp"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
)

// ToolNames lists the tools in the order they are registered.
var ToolNames = []string{
	"list_available_datasets",
	"get_dataset_schema",
	"query_dataset",
	"get_dataset_sample",
	"execute_multi_query",
	"get_context",
}

// Options configure the MCP server.
type Options struct {
	Version string
	Render  render.Options
	Logger  *slog.Logger
}

// handlers holds the tools' dependencies.
type handlers struct {
	svc    *analysis.Service
	render render.Options
	log    *slog.Logger
}

// New returns an MCP server with the six tools registered.
func New(svc *analysis.Service, opts Options) *mcp.Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handlers{svc: svc, render: opts.Render, log: log.With("component", "mcpserver")}
	s := mcp.NewServer(&mcp.Implementation{Name: "mcp-analytics", Title: "MCP Analytics", Version: opts.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Logger:       log.With("component", "mcp"),
	})
	s.AddReceivingMiddleware(checkDuplicateKeys, h.recoverPanics, withClient, h.capAnswers)

	addTool(s, tool("list_available_datasets", "List datasets",
		"List the datasets you can query: id, name, description, tables, panelists, date range, weight column and status. Start here."), h.listDatasets)
	addTool(s, tool("get_dataset_schema", "Dataset schema",
		"Describe a dataset's tables: grain (user level with the weight, or event level), row estimates, and each column's type and role (weight, respondent key, NCCS, date)."), h.getSchema)
	addTool(s, withView(tool("query_dataset", "Query a dataset",
		"Run one read-only SELECT on a dataset. Aggregated queries (GROUP BY / aggregates) get survey-weighted figures added, with a Total row, and return up to 1000 rows; raw queries return at most 5 rows. When the user asks which differences between groups are real, pass compare_by (a grouping column): letters on a figure name the groups it is significantly higher than. For several questions use execute_multi_query instead: one call, run in parallel.")), h.queryDataset)
	addTool(s, tool("get_dataset_sample", "Sample rows",
		"Show a few rows of one table (at most the raw row limit, 5 by default) to see what the values look like."), h.getSample)
	addTool(s, withView(tool("execute_multi_query", "Run several queries at once",
		"Run 1 to 30 read-only SELECTs (on one or several datasets) in parallel in ONE call, so the user approves once. Results come back in request order; one failing query does not affect the others. Prefer this whenever you have more than one question. compare_by on an entry adds significance letters to that result.")), h.executeMulti)
	addTool(s, tool("get_context", "Analysis context",
		"Progressive context for writing good queries: level 0 the rules (weighting, NCCS, limits, workflow); 1 the datasets; 2 one dataset's schema (dataset_id); 3 column profiles, sample rows and example queries (dataset_id, optional table_name)."), h.getContext)
	// The chart view of query results, for hosts that announce MCP Apps.
	mcpapp.Register(s)
	return s
}

const instructions = `mcp-analytics answers questions about weighted consumer-panel datasets with read-only SQL.
Start with get_context (level 0 gives the rules) or list_available_datasets, then get_dataset_schema.
Write plain SQL: aggregated queries are rewritten to add survey-weighted figures (report those), NCCS classes are merged (A1+A -> A, C/D/E), raw queries return at most 5 rows.
Put several questions into ONE execute_multi_query call: they run in parallel and need one approval.`

func tool(name, title, description string) *mcp.Tool {
	no := false
	return &mcp.Tool{
		Name:        name,
		Title:       title,
		Description: description,
		Annotations: &mcp.ToolAnnotations{
			Title:           title,
			ReadOnlyHint:    true,
			DestructiveHint: &no,
			IdempotentHint:  true,
			OpenWorldHint:   &no,
		},
	}
}

// withView links a tool's results to the MCP Apps chart view.
func withView(t *mcp.Tool) *mcp.Tool {
	t.Meta = mcpapp.ToolMeta()
	return t
}

// text returns a tool result holding Markdown, marked as an error when
// isError is set.
func text(md string, isError bool) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: md}}, IsError: isError}
}

// recoverPanics turns a panic in a tool handler into an internal error
// for that call only, logged with a reference id the answer gives.
func (h *handlers) recoverPanics(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (res mcp.Result, err error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		defer func() {
			if p := recover(); p != nil {
				name := ""
				if params, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok {
					name = params.Name
				}
				ref := fmt.Sprintf("%08x", time.Now().UnixNano()&0xffffffff)
				h.log.ErrorContext(ctx, "panic in tool", "tool", name, "ref", ref, "panic", p, "stack", string(debug.Stack()))
				noteOf(ctx).panicked = true
				res, err = text("internal error (ref "+ref+"); the operators can find it in the server log", true), nil
			}
		}()
		return next(ctx, method, req)
	}
}

// withClient names the caller of each tool call for the executor's fair
// share (see [executor.WithClient]): the verified token's user ("token:3",
// "oauth:<subject>"), else the MCP session. Calls with neither (stdio, the
// local user's own process; stateless HTTP without auth, whose callers
// cannot be told apart) share the allowance of the client "".
func withClient(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "tools/call" {
			ctx = executor.WithClient(ctx, ClientKey(req))
		}
		return next(ctx, method, req)
	}
}

// ClientKey returns the name under which req's calls share the query
// slots: "token:<id>" or "oauth:<subject>" for an authenticated request,
// "session:<id>" for an MCP session without auth, "" otherwise.
func ClientKey(req mcp.Request) string {
	if extra := req.GetExtra(); extra != nil && extra.TokenInfo != nil && extra.TokenInfo.UserID != "" {
		return extra.TokenInfo.UserID
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil && ss.ID() != "" {
		return "session:" + ss.ID()
	}
	return ""
}

func orTrue(b *bool) bool { return b == nil || *b }
