package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/admin"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

// stack is a server wired as 'mcp-analytics serve' wires it: the MCP
// server with the query log recorder, auth, and the console at /admin,
// over the demo datasets in real DuckDB (and PostgreSQL when asked).
type stack struct {
	f    *apptest.Fixture
	url  string
	qlog *querylog.Writer
}

type stackOptions struct {
	Postgres bool
	// Tokens to create before the server starts: name → scopes.
	Tokens map[string][]string
	// Auth is the auth configuration (its TokenRefresh is set to 200 ms).
	Auth auth.Config
}

func newStack(t testing.TB, o stackOptions) (*stack, map[string]string) {
	t.Helper()
	ctx := context.Background()
	f := apptest.New(t, apptest.Options{Users: 300, Postgres: o.Postgres})
	secrets := map[string]string{}
	for name, scopes := range o.Tokens {
		secret, hash := auth.NewToken()
		if _, err := f.Store.AddToken(ctx, catalog.Token{Name: name, Hash: hash, AllDatasets: true, Scopes: scopes}); err != nil {
			t.Fatal(err)
		}
		secrets[name] = secret
	}
	qlog := querylog.New(f.Store, querylog.Options{SpoolDir: filepath.Join(f.Dir, "spool"), FlushEvery: 100 * time.Millisecond})
	qctx, cancel := context.WithCancel(ctx)
	qlog.Start(qctx)
	t.Cleanup(func() {
		cctx, c2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer c2()
		_ = qlog.Close(cctx)
		cancel()
	})
	o.Auth.TokenRefresh = 200 * time.Millisecond
	authn, err := auth.New(ctx, o.Auth, f.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := mcpserver.New(f.Service, mcpserver.Options{Version: "test"})
	console, err := admin.New(ctx, admin.Options{Store: f.Store, Registry: f.Registry, Service: f.Service, MCP: srv, QueryLog: qlog,
		Auth: authn, Loopback: true, Limits: f.Config.Limits, Instance: "test:1"})
	if err != nil {
		t.Fatal(err)
	}
	h := server.Handler(srv, server.Options{Auth: authn, Admin: console.Handler()})
	srv.AddReceivingMiddleware(mcpserver.NewRecorder(mcpserver.RecordOptions{QueryLog: qlog, Instance: "test:1", Transport: "tcp",
		Principal: func(req mcp.Request) string {
			g, _ := auth.GrantFromRequest(req)
			return g.Principal
		}}).Middleware)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &stack{f: f, url: ts.URL, qlog: qlog}, secrets
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func (s *stack) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: s.url, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(body), header: resp.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post sends a form; headers are extra request headers.
func (b *browser) post(path string, form url.Values, headers ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token of a page's forms.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("GET %s (%d): no CSRF token in the page", path, p.status)
	}
	return m[1]
}

// signIn signs in with token.
func (b *browser) signIn(token string) page {
	b.t.Helper()
	csrf := b.csrf("/admin/signin")
	return b.post("/admin/signin", url.Values{"csrf": {csrf}, "token": {token}, "next": {"/admin/"}})
}

// adminRecords returns the admin events in the query log.
func (s *stack) adminRecords(t testing.TB) []catalog.QueryRecord {
	t.Helper()
	recs, err := s.f.Store.QueryLogRecords(context.Background(), catalog.LogFilter{Kind: catalog.KindAdmin, Order: catalog.OrderOldest})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// flush writes the buffered query log records.
func (s *stack) flush(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.qlog.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// mcpClient connects a go-sdk client over HTTP, with token when not "".
func (s *stack) mcpClient(t testing.TB, name, token string) *mcp.ClientSession {
	t.Helper()
	hc := http.DefaultClient
	if token != "" {
		hc = &http.Client{Transport: apptest.Bearer{Token: token}}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1.0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: s.url + "/mcp", MaxRetries: -1, HTTPClient: hc}, nil)
	if err != nil {
		t.Fatalf("connect the MCP client: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// tryCall connects with token and calls list_available_datasets.
func (s *stack) tryCall(token string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "probe", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.url + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: apptest.Bearer{Token: token}}}, nil)
	if err != nil {
		return err
	}
	defer cs.Close()
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_available_datasets", Arguments: map[string]any{}})
	return err
}

// eventually polls cond for up to 5 s.
func eventually(cond func() bool) bool {
	for range 100 {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
