// Package mcpapp owns the MCP Apps view of query results (the
// io.modelcontextprotocol/ui extension, SEP-1865): the HTML resource
// ui://mcp-analytics/result, the tool metadata that points hosts at it, and
// the negotiation that offers both only to clients announcing the extension.
//
// The view is a small front-end in web/result-view, built by its build.mjs
// into one self-contained HTML file (scripts and styles inline, no network)
// that is committed as result.html and embedded here, so building and testing
// the server never needs Node. It reads the tools' structuredContent
// (result.Result and result.Multi) and draws bars, grouped bars or a line,
// or a table; the Markdown content the model reads is untouched.
//
// A client that does not announce the extension sees exactly the tools it
// saw before: Offer strips the UI metadata from tools/list, leaves the
// resource out of resources/list and the resources capability out of the
// handshake. Reading the resource goes through the same endpoint, and so the
// same authentication, as the tools.
package mcpapp

import (
	"context"
	_ "embed"
	"maps"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The extension's names, from the MCP Apps specification (2026-01-26).
const (
	// ExtensionID is the key clients put under capabilities.extensions.
	ExtensionID = "io.modelcontextprotocol/ui"
	// MIMEType is the only content type of the extension so far.
	MIMEType = "text/html;profile=mcp-app"
	// ResultURI names the view of query results.
	ResultURI = "ui://mcp-analytics/result"
	// OutputTemplateKey is ChatGPT's name for the same link (Apps SDK).
	OutputTemplateKey = "openai/outputTemplate"
)

// resultHTML is the built view (web/result-view, `npm run build`).
//
//go:embed result.html
var resultHTML string

// HTML returns the view's document, as resources/read serves it.
func HTML() string { return resultHTML }

// ToolMeta is the _meta of a tool whose results the view draws: the
// extension's ui.resourceUri and ChatGPT's openai/outputTemplate.
func ToolMeta() mcp.Meta {
	return mcp.Meta{
		"ui":              map[string]any{"resourceUri": ResultURI},
		OutputTemplateKey: ResultURI,
	}
}

// resourceMeta is the _meta.ui of the resource: the content security policy
// it needs (none beyond the hosts' default: everything is inline and it
// opens no connection), clipboard access for "Copy CSV", and a border.
func resourceMeta() mcp.Meta {
	return mcp.Meta{
		"ui": map[string]any{
			"csp": map[string]any{
				"connectDomains":  []string{},
				"resourceDomains": []string{},
			},
			"permissions":   map[string]any{"clipboardWrite": map[string]any{}},
			"prefersBorder": true,
		},
	}
}

// Register adds the view's resource to s and the middleware that offers the
// extension only to the clients that announce it. Tools that should show
// the view carry [ToolMeta] in their _meta.
func Register(s *mcp.Server) {
	s.AddResource(&mcp.Resource{
		URI:         ResultURI,
		Name:        "result-view",
		Title:       "Query result chart",
		Description: "Interactive chart or table of a query_dataset or execute_multi_query result: weighted shares with margins of error, crosstabs, trends; copy as CSV, download as PNG or SVG.",
		MIMEType:    MIMEType,
		Meta:        resourceMeta(),
	}, read)
	s.AddReceivingMiddleware(Offer)
}

func read(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	if req.Params.URI != ResultURI {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{
		URI:      ResultURI,
		MIMEType: MIMEType,
		Text:     resultHTML,
		Meta:     resourceMeta(),
	}}}, nil
}

// Announced reports whether capabilities announce the extension with our
// content type. A client that lists mimeTypes without ours cannot show the
// view; one that lists none is taken to accept the only type there is.
func Announced(caps *mcp.ClientCapabilities) bool {
	if caps == nil || caps.Extensions == nil {
		return false
	}
	ext, ok := caps.Extensions[ExtensionID]
	if !ok {
		return false
	}
	settings, ok := ext.(map[string]any)
	if !ok {
		return ext != nil
	}
	types, ok := settings["mimeTypes"].([]any)
	if !ok {
		return true
	}
	return slices.ContainsFunc(types, func(t any) bool { s, _ := t.(string); return s == MIMEType })
}

// Offer is receiving middleware that shows the extension to the clients
// that announce it and hides it from the others:
//   - initialize and server/discover: announcing clients see the extension
//     in the server's capabilities; others do not see a resources capability
//     (the view is the server's only resource);
//   - tools/list: others get the tools without the UI keys of their _meta;
//   - resources/list: others get an empty list.
//
// resources/read is answered for every authenticated client: a host may
// read the view of a tool it learnt about from another session.
func Offer(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "initialize", "server/discover", "tools/list", "resources/list":
		default:
			return next(ctx, method, req)
		}
		res, err := next(ctx, method, req)
		if err != nil || res == nil {
			return res, err
		}
		on := Announced(clientCapabilities(method, req))
		switch r := res.(type) {
		case *mcp.InitializeResult:
			r.Capabilities = offerCapabilities(r.Capabilities, on)
		case *mcp.DiscoverResult:
			r.Capabilities = offerCapabilities(r.Capabilities, on)
		case *mcp.ListToolsResult:
			if !on {
				return withoutUI(r), nil
			}
		case *mcp.ListResourcesResult:
			if !on {
				cp := *r
				cp.Resources = slices.DeleteFunc(slices.Clone(r.Resources), func(x *mcp.Resource) bool { return x.URI == ResultURI })
				return &cp, nil
			}
		}
		return res, nil
	}
}

// clientCapabilities returns what the client announced: in the initialize
// request itself, per request (protocol 2026-07-28 and later), or at the
// session's handshake.
func clientCapabilities(method string, req mcp.Request) *mcp.ClientCapabilities {
	if method == "initialize" {
		if p, ok := req.GetParams().(*mcp.InitializeParams); ok && p != nil {
			return p.Capabilities
		}
		return nil
	}
	if r, ok := req.(interface {
		ClientCapabilities() *mcp.ClientCapabilities
	}); ok {
		return r.ClientCapabilities()
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil {
		if p := ss.InitializeParams(); p != nil {
			return p.Capabilities
		}
	}
	return nil
}

func offerCapabilities(caps *mcp.ServerCapabilities, on bool) *mcp.ServerCapabilities {
	if caps == nil {
		return nil
	}
	cp := *caps
	if on {
		cp.Extensions = maps.Clone(caps.Extensions)
		if cp.Extensions == nil {
			cp.Extensions = map[string]any{}
		}
		cp.Extensions[ExtensionID] = map[string]any{"mimeTypes": []string{MIMEType}}
		return &cp
	}
	cp.Resources = nil
	if len(cp.Extensions) > 0 {
		cp.Extensions = maps.Clone(caps.Extensions)
		delete(cp.Extensions, ExtensionID)
	}
	return &cp
}

// withoutUI copies a tools/list result without the extension's keys in the
// tools' _meta (the registered tools are shared, so they are not touched).
func withoutUI(r *mcp.ListToolsResult) *mcp.ListToolsResult {
	cp := *r
	cp.Tools = make([]*mcp.Tool, len(r.Tools))
	for i, t := range r.Tools {
		if t == nil || (t.Meta["ui"] == nil && t.Meta[OutputTemplateKey] == nil) {
			cp.Tools[i] = t
			continue
		}
		tt := *t
		tt.Meta = maps.Clone(t.Meta)
		delete(tt.Meta, "ui")
		delete(tt.Meta, OutputTemplateKey)
		if len(tt.Meta) == 0 {
			tt.Meta = nil
		}
		cp.Tools[i] = &tt
	}
	return &cp
}
