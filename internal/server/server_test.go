package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

// env is a real HTTP server over the DuckDB demo datasets 1 and 2, with API
// tokens in its catalog.
type env struct {
	url    string
	tokens map[string]string // name → secret
}

// newEnv starts the server; tokens maps a token name to its datasets
// ("all" or ids).
func newEnv(t *testing.T, stateless bool, tokens map[string]string, opts server.Options) *env {
	t.Helper()
	ctx := context.Background()
	f := apptest.New(t, apptest.Options{Users: 300})
	e := &env{tokens: map[string]string{}}
	for name, ds := range tokens {
		all, ids, err := auth.ParseDatasets(ds)
		if err != nil {
			t.Fatal(err)
		}
		secret, hash := auth.NewToken()
		if _, err := f.Store.AddToken(ctx, catalog.Token{Name: name, Hash: hash, AllDatasets: all, Datasets: ids}); err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = secret
	}
	a, err := auth.New(ctx, auth.Config{}, f.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Auth = a
	opts.Stateless = stateless
	srv := mcpserver.New(f.Service, mcpserver.Options{Version: "test"})
	ts := httptest.NewServer(server.Handler(srv, opts))
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// connect opens a go-sdk client session with a token.
func (e *env) connect(t *testing.T, token string) (*mcp.ClientSession, error) {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: e.url + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: apptest.Bearer{Token: token}},
	}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func callText(t *testing.T, cs *mcp.ClientSession, name string, args any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// TestHandler_TokenScope checks, with the go-sdk client, that a token sees
// only its datasets in every tool, and another dataset is "not found".
func TestHandler_TokenScope(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(fmt.Sprintf("stateless=%v", stateless), func(t *testing.T) {
			e := newEnv(t, stateless, map[string]string{"streaming": "2", "admin": "all"}, server.Options{})
			if _, err := e.connect(t, "mcpa_wrong"); err == nil {
				t.Fatal("connected with a wrong token")
			}
			cs, err := e.connect(t, e.tokens["streaming"])
			if err != nil {
				t.Fatal(err)
			}
			md, isErr := callText(t, cs, "list_available_datasets", map[string]any{})
			if isErr || !strings.Contains(md, "Streaming") || strings.Contains(md, "Sample Dataset") {
				t.Errorf("list_available_datasets with a dataset-2 token:\n%s", md)
			}
			hidden := []struct {
				tool string
				args map[string]any
			}{
				{"get_dataset_schema", map[string]any{"dataset_id": 1}},
				{"query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT COUNT(*) FROM users"}},
				{"get_dataset_sample", map[string]any{"dataset_id": 1, "table_name": "users"}},
				{"get_context", map[string]any{"level": 2, "dataset_id": 1}},
				{"execute_multi_query", map[string]any{"queries": []any{map[string]any{"dataset_id": 1, "query": "SELECT 1"}}}},
			}
			for _, h := range hidden {
				md, _ := callText(t, cs, h.tool, h.args)
				if !strings.Contains(md, "dataset 1 not found") || strings.Contains(md, "Sample Dataset") {
					t.Errorf("%s on dataset 1 with a dataset-2 token:\n%s", h.tool, md)
				}
			}
			md, isErr = callText(t, cs, "query_dataset", map[string]any{"dataset_id": 2, "query": "SELECT COUNT(*) FROM users"})
			if isErr || !strings.Contains(md, "**Rows**: 1") {
				t.Errorf("query_dataset on dataset 2:\n%s", md)
			}
			md, _ = callText(t, cs, "get_context", map[string]any{"level": 1})
			if strings.Contains(md, "Sample Dataset") {
				t.Errorf("get_context level 1 shows dataset 1:\n%s", md)
			}

			admin, err := e.connect(t, e.tokens["admin"])
			if err != nil {
				t.Fatal(err)
			}
			md, _ = callText(t, admin, "list_available_datasets", map[string]any{})
			if !strings.Contains(md, "Streaming") || !strings.Contains(md, "Sample Dataset") {
				t.Errorf("list_available_datasets with an all-datasets token:\n%s", md)
			}
		})
	}
}

// rawResponse is an HTTP answer with its JSON-RPC message decoded (from
// JSON or the first SSE event).
type rawResponse struct {
	status  int
	header  http.Header
	body    string
	message map[string]any
}

func (e *env) post(t *testing.T, headers map[string]string, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequest("POST", e.url+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := rawResponse{status: resp.StatusCode, header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				r.body = data
				break
			}
		}
	} else {
		b, _ := io.ReadAll(resp.Body)
		r.body = string(b)
	}
	_ = json.Unmarshal([]byte(r.body), &r.message)
	return r
}

// toolText returns the text and isError of a tools/call answer.
func (r rawResponse) toolText() (string, bool) {
	res, _ := r.message["result"].(map[string]any)
	var b strings.Builder
	content, _ := res["content"].([]any)
	for _, c := range content {
		if m, ok := c.(map[string]any); ok {
			s, _ := m["text"].(string)
			b.WriteString(s)
		}
	}
	isErr, _ := res["isError"].(bool)
	return b.String(), isErr
}

func callBody(tool, args string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
}

// TestHandler_Protocol sends hostile and malformed requests as raw HTTP to
// a stateless server with auth: each gets a clear refusal, and the server
// keeps answering good requests in between.
func TestHandler_Protocol(t *testing.T) {
	e := newEnv(t, true, map[string]string{"sample": "1"}, server.Options{MaxBodyBytes: 64 << 10, AllowedOrigins: []string{"https://app.example.com"}})
	ok := map[string]string{"Authorization": "Bearer " + e.tokens["sample"]}
	with := func(kv ...string) map[string]string {
		h := map[string]string{"Authorization": ok["Authorization"]}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(h, kv[i])
			} else {
				h[kv[i]] = kv[i+1]
			}
		}
		return h
	}
	good := callBody("query_dataset", `{"dataset_id": 1, "query": "SELECT COUNT(*) AS n FROM users"}`)

	tests := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		// For 200 answers: want is in the tool text (isError set) or in the
		// JSON-RPC error message; for others in the body.
		want string
	}{
		{"good call", ok, good, 200, "**Rows**: 1"},
		{"no token", with("Authorization", ""), good, 401, "missing bearer token"},
		{"wrong token", with("Authorization", "Bearer mcpa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), good, 401, "unknown or revoked API token"},
		{"not a token", with("Authorization", "Bearer hello"), good, 401, "not an API token"},
		{"bad origin", with("Origin", "https://evil.example.com"), good, 403, "origin https://evil.example.com is not allowed"},
		{"null origin", with("Origin", "null"), good, 403, "not allowed"},
		{"allowed origin", with("Origin", "https://app.example.com"), good, 200, "**Rows**: 1"},
		{"cross-site fetch", with("Sec-Fetch-Site", "cross-site"), good, 403, "cross-origin"},
		{"oversized body", ok, callBody("query_dataset", `{"dataset_id": 1, "query": "SELECT '`+strings.Repeat("x", 70<<10)+`'"}`), 413, "exceeds"},
		{"malformed JSON", ok, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{`, 400, ""},
		{"not JSON-RPC", ok, `[1,2,3]`, 400, ""},
		{"unknown method", ok, `{"jsonrpc":"2.0","id":1,"method":"admin/drop","params":{}}`, 400, ""},
		{"unknown tool", ok, callBody("drop_dataset", `{}`), 200, "unknown tool"},
		{"duplicate key", ok, callBody("query_dataset", `{"dataset_id": 1, "query": "SELECT 1", "query": "SELECT * FROM users"}`), 200, `key "query" appears twice`},
		{"case-variant key", ok, callBody("query_dataset", `{"dataset_id": 1, "query": "SELECT 1", "QUERY": "DROP TABLE users"}`), 200, `keys "query" and "QUERY" differ only in case`},
		{"duplicate key in another tool", ok, callBody("get_dataset_sample", `{"dataset_id": 1, "table_name": "users", "limit": 1, "limit": 2}`), 200, `appears twice`},
		{"case-variant key in a nested query", ok, callBody("execute_multi_query", `{"queries": [{"dataset_id": 1, "query": "SELECT 1", "Query": "SELECT 2"}]}`), 200, "differ only in case"},
		{"Kelvin-sign key", ok, callBody("query_dataset", `{"dataset_id": 1, "query": "SELECT 1", "\u212aey": 1, "key": 2}`), 200, "differ only in case"},
		{"dataset_id as a word", ok, callBody("query_dataset", `{"dataset_id": "one", "query": "SELECT 1"}`), 200, "dataset_id must be a whole number such as 1."},
		{"negative dataset_id", ok, callBody("query_dataset", `{"dataset_id": -1, "query": "SELECT 1"}`), 200, "not found"},
		{"float dataset_id", ok, callBody("query_dataset", `{"dataset_id": 1.5, "query": "SELECT 1"}`), 200, "dataset_id must be a whole number such as 1, not 1.5"},
		{"huge dataset_id", ok, callBody("query_dataset", `{"dataset_id": 123456789012345678901234567890, "query": "SELECT 1"}`), 200, "dataset_id must be a whole number"},
		{"exponent dataset_id", ok, callBody("query_dataset", `{"dataset_id": 1e23, "query": "SELECT 1"}`), 200, "dataset_id must be a whole number"},
		{"float limit", ok, callBody("get_dataset_sample", `{"dataset_id": 1, "table_name": "users", "limit": 2.5}`), 200, "limit must be a whole number"},
		{"missing query", ok, callBody("query_dataset", `{"dataset_id": 1}`), 200, "query"},
		{"unknown argument", ok, callBody("query_dataset", `{"dataset_id": 1, "query": "SELECT 1", "sql": "DROP TABLE users"}`), 200, "sql"},
		{"arguments not an object", ok, callBody("query_dataset", `[1]`), 200, "arguments"},
		{"token for another dataset", ok, callBody("query_dataset", `{"dataset_id": 2, "query": "SELECT 1"}`), 200, "dataset 2 not found"},
		{"still serving", ok, good, 200, "**Rows**: 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, tt.headers, tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d; body: %.300s", r.status, tt.status, r.body)
			}
			switch {
			case tt.status == 401:
				if ch := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Bearer realm="mcp-analytics"`) {
					t.Errorf("WWW-Authenticate = %q", ch)
				}
				if !strings.Contains(r.body, tt.want) {
					t.Errorf("body %q does not contain %q", r.body, tt.want)
				}
			case tt.status != 200:
				if !strings.Contains(r.body, tt.want) {
					t.Errorf("body %.300q does not contain %q", r.body, tt.want)
				}
			default:
				text, isErr := r.toolText()
				if rpcErr, ok := r.message["error"].(map[string]any); ok {
					text, isErr = fmt.Sprint(rpcErr["message"]), true
				}
				if !strings.Contains(text, tt.want) || (isErr != (tt.want != "**Rows**: 1")) {
					t.Errorf("isError=%v, want text containing %q; got:\n%.500s", isErr, tt.want, r.body)
				}
			}
		})
	}
	if r := e.post(t, with("Origin", "https://app.example.com"), good); r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("allowed origin: CORS headers %v", r.header)
	}
	pre, _ := http.NewRequest("OPTIONS", e.url+"/mcp", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestHandler_SessionBoundToToken checks that a stateful session opened
// with one token cannot be used with another, even one that may see more.
func TestHandler_SessionBoundToToken(t *testing.T) {
	e := newEnv(t, false, map[string]string{"a": "1", "b": "all"}, server.Options{})
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	r := e.post(t, map[string]string{"Authorization": "Bearer " + e.tokens["a"]}, init)
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != 200 || sid == "" {
		t.Fatalf("initialize: %d %q %s", r.status, sid, r.body)
	}
	call := callBody("list_available_datasets", `{}`)
	for _, tt := range []struct {
		token  string
		status int
	}{
		{e.tokens["b"], http.StatusForbidden},
		{e.tokens["a"], http.StatusOK},
	} {
		r := e.post(t, map[string]string{"Authorization": "Bearer " + tt.token, "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18"}, call)
		if r.status != tt.status {
			t.Errorf("session of token a used with a token: status %d, want %d (%s)", r.status, tt.status, r.body)
		}
	}
}

// TestHandler_NoAuth checks that without tokens the endpoint is open, that
// the SDK's DNS-rebinding defence holds on loopback, and that /readyz does
// not reveal why it is not ready.
func TestHandler_NoAuth(t *testing.T) {
	e := newEnv(t, true, nil, server.Options{Ready: func(context.Context) error { return fmt.Errorf("catalog /secret/path unreadable") }})
	good := callBody("list_available_datasets", `{}`)
	if r := e.post(t, nil, good); r.status != 200 {
		t.Errorf("no auth configured: status %d: %s", r.status, r.body)
	}
	if r := e.post(t, map[string]string{"Host": "evil.example.com"}, good); r.status != 403 {
		t.Errorf("rebinding Host: status %d, want 403", r.status)
	}
	resp, err := http.Get(e.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || strings.Contains(string(b), "secret") {
		t.Errorf("/readyz: %d %q", resp.StatusCode, b)
	}
}

// TestHandler_OAuthMetadata checks that in OAuth mode the protected
// resource metadata is served at both well-known paths and that a 401
// points to it.
func TestHandler_OAuthMetadata(t *testing.T) {
	f := apptest.New(t, apptest.Options{Users: 300})
	a, err := auth.New(context.Background(), auth.Config{
		Issuer: "https://idp.example.com", JWKSURL: "http://127.0.0.1:1/jwks", Resource: "https://analytics.example.com/mcp",
	}, f.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.Handler(mcpserver.New(f.Service, mcpserver.Options{}), server.Options{Auth: a, Stateless: true}))
	defer ts.Close()
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var meta map[string]any
		json.NewDecoder(resp.Body).Decode(&meta)
		resp.Body.Close()
		if resp.StatusCode != 200 || meta["resource"] != "https://analytics.example.com/mcp" || fmt.Sprint(meta["authorization_servers"]) != "[https://idp.example.com]" {
			t.Errorf("GET %s: %d %v", path, resp.StatusCode, meta)
		}
	}
	e := &env{url: ts.URL}
	r := e.post(t, nil, callBody("list_available_datasets", `{}`))
	want := `Bearer realm="mcp-analytics", resource_metadata="https://analytics.example.com/.well-known/oauth-protected-resource/mcp"`
	if r.status != 401 || r.header.Get("WWW-Authenticate") != want {
		t.Errorf("no token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	// The signing keys cannot be fetched: a JWT is not accepted, and the
	// answer says so without detail.
	r = e.post(t, map[string]string{"Authorization": "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln"}, callBody("list_available_datasets", `{}`))
	if r.status != 503 {
		t.Errorf("JWKS unreachable: %d %s", r.status, r.body)
	}
}
