package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// capAnswers is the last line of the answer byte cap: every tool renders
// its Markdown and its structured content within render.Options.MaxBytes
// (rows, cells and echoed texts are cut first, with notes), so this only
// fires for an answer no tool shaped, such as the schema of a dataset with
// thousands of tables. Such an answer is replaced by an error saying how
// to ask for less, so no path sends more than the cap.
func (h *handlers) capAnswers(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		r, ok := res.(*mcp.CallToolResult)
		if method != "tools/call" || err != nil || !ok || r == nil {
			return res, err
		}
		limit := h.render.MaxBytes
		if limit <= 0 {
			limit = 256 << 10
		}
		size := 0
		for _, c := range r.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				size = max(size, len(t.Text))
			}
		}
		if r.StructuredContent != nil {
			b, err := json.Marshal(r.StructuredContent)
			if err != nil {
				return res, nil
			}
			size = max(size, len(b))
		}
		if size <= limit {
			return res, nil
		}
		name := ""
		if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok {
			name = p.Name
		}
		h.log.WarnContext(ctx, "answer over the byte cap replaced by an error", "tool", name, "bytes", size, "cap", limit)
		return text(fmt.Sprintf("**Error**: the answer would be %d KB, more than the %d KB an answer may have; ask for less (one dataset, one table, fewer columns or rows).", size>>10, limit>>10), true), nil
	}
}
