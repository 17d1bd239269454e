package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// ClientName is the MCP client name of the console's own tool calls
// ("Try it"), as the query log shows it; the client version carries the
// principal who ran it.
const ClientName = "admin console"

type tryForm struct {
	DatasetID    int64
	Query        string
	ApplyWeights bool
	MergeNCCS    bool
	ShowSQL      bool
	CompareBy    string
}

type tryData struct {
	Form     tryForm
	Datasets []catalog.Dataset
	Ran      bool
	Markdown string
	IsError  bool
	Result   result.Result
	Took     string
	Problems []string
}

func (d tryData) FormError() string { return strings.Join(d.Problems, "; ") }

func (c *Console) tryPage(w http.ResponseWriter, r *http.Request, s *session) {
	f := tryForm{ApplyWeights: true, MergeNCCS: true}
	f.DatasetID, _ = strconv.ParseInt(r.URL.Query().Get("dataset"), 10, 64)
	f.Query = r.URL.Query().Get("q")
	c.render(w, r, s, http.StatusOK, "try", "Try it", tryData{Form: f, Datasets: mustList(c, r.Context())})
}

// try runs the query through query_dataset on the assistants' own MCP
// server, so the guard, weighting, caps and Markdown are exactly what an
// assistant gets.
func (c *Console) try(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	f := tryForm{Query: strings.TrimSpace(r.PostFormValue("query")), ApplyWeights: r.PostFormValue("apply_weights") != "",
		MergeNCCS: r.PostFormValue("merge_nccs") != "", ShowSQL: r.PostFormValue("show_sql") != "", CompareBy: strings.TrimSpace(r.PostFormValue("compare_by"))}
	d := tryData{Form: f, Datasets: mustList(c, ctx)}
	id, err := strconv.ParseInt(r.PostFormValue("dataset"), 10, 64)
	if err != nil || id <= 0 {
		d.Problems = append(d.Problems, "Dataset: choose a dataset")
	}
	d.Form.DatasetID = id
	if f.Query == "" {
		d.Problems = append(d.Problems, "SQL: write a SELECT statement")
	}
	if len(f.Query) > 100_000 {
		d.Problems = append(d.Problems, "SQL: at most 100,000 characters")
	}
	if len(d.Problems) > 0 {
		c.render(w, r, s, http.StatusBadRequest, "try", "Try it", d)
		return
	}
	args := map[string]any{"dataset_id": id, "query": f.Query, "apply_weights": f.ApplyWeights, "merge_nccs": f.MergeNCCS, "show_sql": f.ShowSQL}
	if f.CompareBy != "" {
		args["compare_by"] = f.CompareBy
	}
	start := c.now()
	res, err := c.callTool(ctx, s, "query_dataset", args)
	d.Took = time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		c.log.ErrorContext(ctx, "try it: call query_dataset", "err", err)
		d.Problems = []string{"The call failed: " + err.Error()}
		c.render(w, r, s, http.StatusBadGateway, "try", "Try it", d)
		return
	}
	d.Ran, d.IsError = true, res.IsError
	for _, ct := range res.Content {
		if t, ok := ct.(*mcp.TextContent); ok {
			d.Markdown += t.Text
		}
	}
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(b, &d.Result)
	}
	c.render(w, r, s, http.StatusOK, "try", "Try it", d)
}

// callTool calls a tool of the MCP server through an in-memory client
// session, passing every middleware an HTTP call passes after auth (the
// query log records it with client [ClientName]).
func (c *Console) callTool(ctx context.Context, s *session, name string, args any) (*mcp.CallToolResult, error) {
	ct, st := mcp.NewInMemoryTransports()
	ss, err := c.opts.MCP.Connect(ctx, st, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to the MCP server: %w", err)
	}
	defer ss.Close()
	client := mcp.NewClient(&mcp.Implementation{Name: ClientName, Version: s.Principal}, nil)
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("connect the admin client: %w", err)
	}
	defer cs.Close()
	return cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
}
