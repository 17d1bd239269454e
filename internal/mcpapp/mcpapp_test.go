package mcpapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpapp"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

// testServer is the real HTTP server (mcpserver behind server.Handler) over
// the DuckDB demo datasets, with API tokens in its catalog when asked.
type testServer struct {
	url    string
	tokens map[string]string
	mux    *http.ServeMux
}

func newServer(t *testing.T, stateless bool, tokens map[string]string, users int) *testServer {
	t.Helper()
	ctx := context.Background()
	f := apptest.New(t, apptest.Options{Users: users})
	ts := &testServer{tokens: map[string]string{}, mux: http.NewServeMux()}
	for name, ds := range tokens {
		all, ids, err := auth.ParseDatasets(ds)
		if err != nil {
			t.Fatal(err)
		}
		secret, hash := auth.NewToken()
		if _, err := f.Store.AddToken(ctx, catalog.Token{Name: name, Hash: hash, AllDatasets: all, Datasets: ids}); err != nil {
			t.Fatal(err)
		}
		ts.tokens[name] = secret
	}
	a, err := auth.New(ctx, auth.Config{}, f.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := mcpserver.New(f.Service, mcpserver.Options{Version: "test"})
	ts.mux.Handle("/", server.Handler(srv, server.Options{Auth: a, Stateless: stateless}))
	hs := httptest.NewServer(ts.mux)
	t.Cleanup(hs.Close)
	ts.url = hs.URL
	return ts
}

// connect opens a go-sdk client session; announce adds the extension to
// the client's capabilities, version picks the protocol ("" = the SDK's
// latest, with per-request capabilities).
func (ts *testServer) connect(t *testing.T, token string, announce bool, version string) (*mcp.ClientSession, error) {
	t.Helper()
	caps := &mcp.ClientCapabilities{}
	if announce {
		caps.AddExtension(mcpapp.ExtensionID, map[string]any{"mimeTypes": []any{mcpapp.MIMEType}})
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpapp-test", Version: "1"}, &mcp.ClientOptions{Capabilities: caps})
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: ts.url + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: apptest.Bearer{Token: token}},
	}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func toolsJSON(t *testing.T, cs *mcp.ClientSession) map[string]map[string]any {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, tool := range res.Tools {
		b, err := json.Marshal(tool)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out[tool.Name] = m
	}
	return out
}

var protocols = []struct{ name, version string }{
	{"latest", ""},
	{"2025-11-25", "2025-11-25"},
}

// TestOffer_Negotiation checks tools/list _meta, resources/list and the
// handshake's capabilities for clients with and without the extension, over
// both handshakes (initialize, and per-request capabilities), stateful and
// stateless.
func TestOffer_Negotiation(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		ts := newServer(t, stateless, nil, 300)
		for _, p := range protocols {
			t.Run(fmt.Sprintf("stateless=%v/%s", stateless, p.name), func(t *testing.T) {
				if stateless && p.version != "" {
					// A stateless server keeps nothing of an initialize
					// handshake: only per-request capabilities reach it.
					with, err := ts.connect(t, "", true, p.version)
					if err != nil {
						t.Fatal(err)
					}
					for name, tool := range toolsJSON(t, with) {
						if _, ok := tool["_meta"]; ok {
							t.Errorf("stateless, old protocol: %s has _meta %v, though the server cannot know the client's capabilities", name, tool["_meta"])
						}
					}
					return
				}
				with, err := ts.connect(t, "", true, p.version)
				if err != nil {
					t.Fatal(err)
				}
				without, err := ts.connect(t, "", false, p.version)
				if err != nil {
					t.Fatal(err)
				}

				// Handshake capabilities.
				wc := with.InitializeResult().Capabilities
				if _, ok := wc.Extensions[mcpapp.ExtensionID]; !ok || wc.Resources == nil {
					t.Errorf("announcing client: server capabilities %+v lack the extension or resources", wc)
				}
				oc := without.InitializeResult().Capabilities
				if _, ok := oc.Extensions[mcpapp.ExtensionID]; ok || oc.Resources != nil {
					t.Errorf("plain client: server capabilities offer the extension or resources: extensions %v, resources %+v", oc.Extensions, oc.Resources)
				}

				// tools/list.
				wt, ot := toolsJSON(t, with), toolsJSON(t, without)
				if len(wt) != len(mcpserver.ToolNames) {
					t.Fatalf("tools: %d, want %d", len(wt), len(mcpserver.ToolNames))
				}
				for _, name := range mcpserver.ToolNames {
					meta, _ := wt[name]["_meta"].(map[string]any)
					viewed := name == "query_dataset" || name == "execute_multi_query"
					if viewed {
						want := map[string]any{
							"ui":                    map[string]any{"resourceUri": mcpapp.ResultURI},
							"openai/outputTemplate": mcpapp.ResultURI,
						}
						if diff := cmp.Diff(want, meta); diff != "" {
							t.Errorf("%s _meta for an announcing client (-want +got):\n%s", name, diff)
						}
					} else if meta != nil {
						t.Errorf("%s has _meta %v: only the query tools show the view", name, meta)
					}
					if _, ok := ot[name]["_meta"]; ok {
						t.Errorf("plain client: %s has _meta %v", name, ot[name]["_meta"])
					}
					// Apart from _meta, both clients see the same tool.
					w := maps(wt[name])
					delete(w, "_meta")
					if diff := cmp.Diff(w, ot[name]); diff != "" {
						t.Errorf("%s differs between clients beyond _meta (-announcing +plain):\n%s", name, diff)
					}
				}

				// resources/list.
				wr, err := with.ListResources(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(wr.Resources) != 1 || wr.Resources[0].URI != mcpapp.ResultURI || wr.Resources[0].MIMEType != mcpapp.MIMEType {
					t.Errorf("announcing client: resources/list = %+v", wr.Resources)
				}
				if or, err := without.ListResources(context.Background(), nil); err == nil && len(or.Resources) != 0 {
					t.Errorf("plain client: resources/list = %+v, want none", or.Resources)
				}
			})
		}
	}
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestRead_Resource reads the view with tokens on: URI, MIME type, CSP and
// permissions metadata, a self-contained HTML5 document; and without a
// token it is refused like a tool call.
func TestRead_Resource(t *testing.T) {
	ts := newServer(t, false, map[string]string{"streaming": "2"}, 300)
	if _, err := ts.connect(t, "", true, ""); err == nil {
		t.Fatal("connected without a token while tokens exist")
	}
	if _, err := ts.connect(t, "mcpa_wrong", true, ""); err == nil {
		t.Fatal("connected with a wrong token")
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			cs, err := ts.connect(t, ts.tokens["streaming"], true, p.version)
			if err != nil {
				t.Fatal(err)
			}
			res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: mcpapp.ResultURI})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Contents) != 1 {
				t.Fatalf("contents: %d, want 1", len(res.Contents))
			}
			c := res.Contents[0]
			if c.URI != mcpapp.ResultURI || c.MIMEType != "text/html;profile=mcp-app" {
				t.Errorf("uri %q mime %q", c.URI, c.MIMEType)
			}
			if c.Text != mcpapp.HTML() || !strings.HasPrefix(c.Text, "<!doctype html>") {
				t.Errorf("text is not the embedded document (%d bytes, starts %q)", len(c.Text), c.Text[:min(40, len(c.Text))])
			}
			b, _ := json.Marshal(c.Meta)
			var meta struct {
				UI struct {
					CSP *struct {
						ConnectDomains  []string `json:"connectDomains"`
						ResourceDomains []string `json:"resourceDomains"`
					} `json:"csp"`
					Permissions struct {
						ClipboardWrite *struct{} `json:"clipboardWrite"`
					} `json:"permissions"`
					PrefersBorder *bool `json:"prefersBorder"`
				} `json:"ui"`
			}
			if err := json.Unmarshal(b, &meta); err != nil {
				t.Fatal(err)
			}
			if meta.UI.CSP == nil || meta.UI.CSP.ConnectDomains == nil || len(meta.UI.CSP.ConnectDomains) != 0 || len(meta.UI.CSP.ResourceDomains) != 0 {
				t.Errorf("_meta.ui.csp = %s: want a declared CSP with no domains", b)
			}
			if meta.UI.Permissions.ClipboardWrite == nil || meta.UI.PrefersBorder == nil {
				t.Errorf("_meta.ui = %s: want clipboardWrite and prefersBorder", b)
			}
			if _, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "ui://mcp-analytics/other"}); err == nil {
				t.Error("read an unknown ui:// resource")
			}
		})
	}
}

// TestHTML_SelfContained checks the embedded view loads nothing from the
// network: no external scripts, styles, fonts or images, no source maps.
func TestHTML_SelfContained(t *testing.T) {
	html := mcpapp.HTML()
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script[^>]+src=`),
		regexp.MustCompile(`(?i)<link[^>]+href=`),
		regexp.MustCompile(`(?i)<img[^>]+src=["']?https?:`),
		regexp.MustCompile(`(?i)<style>[^<]*@import`),
		regexp.MustCompile(`(?i)<style>[^<]*url\(\s*["']?(https?:)?//`),
		regexp.MustCompile(`sourceMappingURL`),
	} {
		if loc := re.FindStringIndex(html); loc != nil {
			t.Errorf("view loads from outside (%s): %q", re, html[loc[0]:min(loc[1]+60, len(html))])
		}
	}
	if n := strings.Count(html, "<script"); n != 1 {
		t.Errorf("%d script elements, want the one inline bundle", n)
	}
	if len(html) > 600<<10 {
		t.Errorf("view is %d KB: keep it under 600 KB", len(html)>>10)
	}
}
