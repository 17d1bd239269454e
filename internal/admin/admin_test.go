package admin_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/admin"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

func sessionCookie(t *testing.T, p page) *http.Cookie {
	t.Helper()
	for _, line := range p.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == admin.CookieName && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no %s cookie set (status %d)", admin.CookieName, p.status)
	return nil
}

func checkCookie(t *testing.T, c *http.Cookie, secure bool) {
	t.Helper()
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin" || c.Secure != secure || c.MaxAge <= 0 {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/admin, Secure=%v and an expiry", c, secure)
	}
}

func checkHeaders(t *testing.T, p page) {
	t.Helper()
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows scripts or inline content", csp)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", p.header.Get("X-Content-Type-Options"))
	}
}

func TestConsole_OpenOnLoopback(t *testing.T) {
	s, _ := newStack(t, stackOptions{})
	b := s.browser(t)
	p := b.get("/admin/")
	if p.status != http.StatusOK || !strings.Contains(p.body, "Open console.") {
		t.Fatalf("GET /admin/ without tokens: %d, banner shown: %v", p.status, strings.Contains(p.body, "Open console."))
	}
	checkHeaders(t, p)
	checkCookie(t, sessionCookie(t, p), false)
	if !strings.Contains(p.body, "local (open console)") {
		t.Error("the open console does not say who the visitor is in the log")
	}

	// A page reached through another name (DNS rebinding) is refused.
	req, _ := http.NewRequest(http.MethodGet, s.url+"/admin/", nil)
	req.Host = "attacker.example:80"
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Errorf("open console with Host attacker.example: %d, want 403", p.status)
	}
	// /admin redirects to /admin/.
	if p := b.get("/admin"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/" {
		t.Errorf("GET /admin: %d %s", p.status, p.header.Get("Location"))
	}
	// Sign-in is not needed: the sign-in page goes to the dashboard.
	if p := b.get("/admin/signin"); p.status != http.StatusSeeOther {
		t.Errorf("GET /admin/signin on an open console: %d, want 303", p.status)
	}
}

func TestConsole_SignIn(t *testing.T) {
	s, tokens := newStack(t, stackOptions{Tokens: map[string][]string{"boss": {catalog.ScopeAdmin}, "analyst": {catalog.ScopeMCP}}})
	b := s.browser(t)
	p := b.get("/admin/log?tool=query_dataset")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/admin/signin?next=") {
		t.Fatalf("GET without a session: %d → %q, want a redirect to sign-in", p.status, p.header.Get("Location"))
	}
	if p := b.get("/admin/"); strings.Contains(p.body, "Open console") {
		t.Error("the open-console banner is shown although tokens exist")
	}
	for _, tt := range []struct {
		name, token string
		status      int
		says        string
	}{
		{"empty", "", http.StatusBadRequest, "Paste an API token"},
		{"unknown", "mcpa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", http.StatusUnauthorized, "unknown or revoked"},
		{"not a token", "hello", http.StatusUnauthorized, "unknown or revoked"},
		{"mcp scope only", tokens["analyst"], http.StatusForbidden, "lacks the admin scope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := b.signIn(tt.token)
			if p.status != tt.status || !strings.Contains(p.body, tt.says) {
				t.Errorf("sign in: %d, want %d saying %q", p.status, tt.status, tt.says)
			}
			if p := b.get("/admin/tokens"); p.status != http.StatusSeeOther {
				t.Errorf("after a refused sign-in, /admin/tokens answers %d", p.status)
			}
		})
	}
	// A POST without a session is refused outright.
	if p := b.post("/admin/tokens", url.Values{"name": {"x"}}); p.status != http.StatusForbidden {
		t.Errorf("POST without a session: %d, want 403", p.status)
	}

	p = b.signIn(tokens["boss"])
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/" {
		t.Fatalf("sign in with the admin token: %d → %q", p.status, p.header.Get("Location"))
	}
	checkCookie(t, sessionCookie(t, p), false)
	if p := b.get("/admin/tokens"); p.status != http.StatusOK || !strings.Contains(p.body, "token:boss") {
		t.Fatalf("after sign-in /admin/tokens: %d", p.status)
	}

	// Behind a TLS proxy the cookie is Secure.
	b2 := s.browser(t)
	csrf := b2.csrf("/admin/signin")
	p = b2.post("/admin/signin", url.Values{"csrf": {csrf}, "token": {tokens["boss"]}}, "X-Forwarded-Proto", "https")
	checkCookie(t, sessionCookie(t, p), true)

	// A forged or altered cookie is not a session.
	b3 := s.browser(t)
	u, _ := url.Parse(s.url + "/admin/")
	c := sessionCookie(t, p)
	b3.c.Jar.SetCookies(u, []*http.Cookie{{Name: admin.CookieName, Value: "x" + c.Value, Path: "/admin"}})
	if p := b3.get("/admin/"); p.status != http.StatusSeeOther {
		t.Errorf("altered cookie: %d, want a redirect to sign-in", p.status)
	}

	// Revoking the token ends its sessions.
	ts, _ := s.f.Store.Tokens(context.Background())
	for _, tk := range ts {
		if tk.Name == "boss" {
			if err := s.f.Store.RevokeToken(context.Background(), tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if p := b.get("/admin/tokens"); p.status != http.StatusSeeOther {
		t.Errorf("after revoking the admin token: %d, want a redirect to sign-in", p.status)
	}
}

func TestConsole_CSRF(t *testing.T) {
	s, tokens := newStack(t, stackOptions{Tokens: map[string][]string{"boss": {catalog.ScopeAdmin}}})
	b := s.browser(t)
	b.signIn(tokens["boss"])
	csrf := b.csrf("/admin/tokens")
	form := func(token string) url.Values {
		v := url.Values{"name": {"ci"}, "scope": {"metrics"}}
		if token != "" {
			v.Set("csrf", token)
		}
		return v
	}
	// Another visitor's token (valid for their session) is wrong here.
	other := s.browser(t)
	otherCSRF := other.csrf("/admin/signin")
	for _, tt := range []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"missing", form(""), nil},
		{"wrong", form("AAAAAAAAAAAAAAAAAAAAAAAAAAA"), nil},
		{"another session's", form(otherCSRF), nil},
		{"cross-site", form(csrf), []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://attacker.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := b.post("/admin/tokens", tt.form, tt.headers...)
			if p.status != http.StatusForbidden {
				t.Errorf("POST /admin/tokens with %s CSRF token: %d, want 403", tt.name, p.status)
			}
		})
	}
	list, _ := s.f.Store.Tokens(context.Background())
	if len(list) != 1 {
		t.Fatalf("a refused form created a token: %d tokens", len(list))
	}
	// Each state-changing route refuses a POST without the token.
	for _, path := range []string{"/admin/tokens/1/revoke", "/admin/datasets", "/admin/datasets/1", "/admin/datasets/1/test",
		"/admin/datasets/1/profile", "/admin/datasets/1/remove", "/admin/try", "/admin/signout"} {
		if p := b.post(path, url.Values{"confirm": {"Sample Dataset"}}); p.status != http.StatusForbidden {
			t.Errorf("POST %s without CSRF token: %d, want 403", path, p.status)
		}
	}
	if _, err := s.f.Store.Get(context.Background(), apptest.DuckSample); err != nil {
		t.Errorf("the dataset is gone after refused forms: %v", err)
	}
	// State never changes on GET.
	if p := b.get("/admin/tokens/1/revoke"); p.status == http.StatusOK || p.status == http.StatusSeeOther {
		t.Errorf("GET of a revoke URL: %d", p.status)
	}
	if p := b.post("/admin/tokens", form(csrf)); p.status != http.StatusOK || !strings.Contains(p.body, "Token “ci” created") {
		t.Errorf("POST with the right CSRF token: %d", p.status)
	}
}

// TestConsole_Hostile stores hostile strings where the console shows
// stored text, and checks they render as text.
func TestConsole_Hostile(t *testing.T) {
	s, _ := newStack(t, stackOptions{})
	ctx := context.Background()
	const script = `<script>alert(1)</script>`
	const img = `"><img src=x onerror=alert(2)>`
	const js = `javascript:alert(3)`
	hostile := script + img + js
	s.f.UpdateDataset(t, apptest.DuckSample, func(d *catalog.Dataset) { d.Description = hostile })
	if err := s.f.Store.SetDescriptions(ctx, apptest.DuckSample, []catalog.Description{{Table: "users", Column: "gender", Description: hostile, Unit: img}}); err != nil {
		t.Fatal(err)
	}
	if err := s.f.Registry.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	rec := catalog.QueryRecord{ID: strings.Repeat("ab", 16), Kind: catalog.KindCall, Time: time.Now().UTC(), Tool: "query_dataset",
		DatasetID: 1, DatasetName: img, QuerySent: "SELECT '" + hostile + "'", QueryRun: hostile, Outcome: catalog.OutcomeCallerError,
		Message: hostile, Label: js, ClientName: script, ClientVersion: img, Principal: js, SessionID: img}
	if err := s.f.Store.AppendQueryLog(ctx, []catalog.QueryRecord{rec}); err != nil {
		t.Fatal(err)
	}
	b := s.browser(t)
	for _, path := range []string{"/admin/", "/admin/log", "/admin/log/" + rec.ID, "/admin/datasets", "/admin/datasets/1",
		"/admin/datasets/1/edit", "/admin/log?q=" + url.QueryEscape(hostile) + "&client=" + url.QueryEscape(img), "/admin/try?dataset=1&q=" + url.QueryEscape(hostile)} {
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Errorf("GET %s: %d", path, p.status)
		}
		for _, bad := range []string{"<script", "<img", `href="javascript:`, "onerror=alert(2)>"} {
			if strings.Contains(p.body, bad) {
				i := strings.Index(p.body, bad)
				t.Errorf("GET %s: page contains %q unescaped: …%s…", path, bad, p.body[max(0, i-80):min(len(p.body), i+80)])
			}
		}
		if path != "/admin/" && !strings.Contains(p.body, "&lt;script&gt;") && !strings.Contains(p.body, "&#34;&gt;&lt;img") && !strings.Contains(p.body, "%3Cscript%3E") {
			t.Errorf("GET %s: the hostile text is not shown (escaped) at all", path)
		}
	}
	// CSV export is text too, and keeps a spreadsheet from running a
	// formula.
	rec2 := rec
	rec2.ID, rec2.QuerySent = strings.Repeat("cd", 16), `=HYPERLINK("http://x")`
	_ = s.f.Store.AppendQueryLog(ctx, []catalog.QueryRecord{rec2})
	p := b.get("/admin/log.csv")
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("CSV content type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("CSV: %d rows, %v", len(rows), err)
	}
	if got := rows[1][len(rows[1])-2]; got != `'=HYPERLINK("http://x")` {
		t.Errorf("CSV formula cell = %q", got)
	}
}

// TestConsole_Validation submits every form with mistakes and checks each
// is answered 400 with what to fix, changing nothing.
func TestConsole_Validation(t *testing.T) {
	s, _ := newStack(t, stackOptions{})
	ctx := context.Background()
	b := s.browser(t)
	csrf := b.csrf("/admin/tokens")
	type tc struct {
		name string
		path string
		form url.Values
		says string
	}
	tok := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	ds := func(kv ...string) url.Values {
		v := tok("name", "New panel", "driver", "duckdb", "dsn", apptestPath(s))
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	cases := []tc{
		{"token: no name", "/admin/tokens", tok("scope", "mcp", "datasets", "all"), "Name: token name is empty"},
		{"token: numeric name", "/admin/tokens", tok("name", "42", "scope", "mcp", "datasets", "all"), "must not look like ids"},
		{"token: bad character", "/admin/tokens", tok("name", "a b", "scope", "mcp", "datasets", "all"), "contains"},
		{"token: no scope", "/admin/tokens", tok("name", "x", "datasets", "all"), "tick at least one"},
		{"token: unknown scope", "/admin/tokens", tok("name", "x", "scope", "root", "datasets", "all"), "unknown scope"},
		{"token: mcp without datasets", "/admin/tokens", tok("name", "x", "scope", "mcp"), "an mcp token needs them"},
		{"token: bad datasets", "/admin/tokens", tok("name", "x", "scope", "mcp", "datasets", "1,banana"), "not a positive integer"},
		{"token: missing dataset", "/admin/tokens", tok("name", "x", "scope", "mcp", "datasets", "99"), "dataset 99 does not exist"},
		{"dataset: bad name", "/admin/datasets", ds("name", "<b>"), "Name must be"},
		{"dataset: taken name", "/admin/datasets", ds("name", "sample dataset"), "already called"},
		{"dataset: bad driver", "/admin/datasets", ds("driver", "oracle"), "Driver must be"},
		{"dataset: no dsn", "/admin/datasets", ds("dsn", ""), "needs the path"},
		{"dataset: bad postgres dsn", "/admin/datasets", ds("driver", "postgres", "dsn", "mysql://x"), "postgres:// URL"},
		{"dataset: unreachable", "/admin/datasets", ds("driver", "postgres", "dsn", "postgres://nobody:s3cret@127.0.0.1:1/x?sslmode=disable"), "Connection test failed"},
		{"dataset: missing file", "/admin/datasets", ds("dsn", "/nonexistent/x.duckdb"), "Connection test failed"},
		{"dataset: bad rows", "/admin/datasets", ds("raw_rows", "0"), "Raw row limit: a whole number of at least 1"},
		{"dataset: bad timeout", "/admin/datasets", ds("query_timeout", "soon"), "Query timeout"},
		{"dataset: bad scale", "/admin/datasets", ds("weight_scale", "-2"), "Weight scale"},
		{"dataset: bad preset", "/admin/datasets", ds("nccs_preset", "x"), "preset must be"},
		{"edit: bad dictionary", "/admin/datasets/1", ds("name", "Sample Dataset", "dsn", "", "dictionary", "table,column,description\n\"unclosed"), "Data dictionary"},
		{"edit: bad min cell", "/admin/datasets/1", ds("name", "Sample Dataset", "dsn", "", "min_cell", "-1"), "Minimum cell"},
		{"edit: name taken", "/admin/datasets/1", ds("name", "Streaming Panel", "dsn", ""), "already called"},
		{"edit: bad new dsn", "/admin/datasets/1", ds("name", "Sample Dataset", "dsn", "/nonexistent/y.duckdb"), "Connection test of the new connection string failed"},
		{"remove: wrong confirmation", "/admin/datasets/1/remove", tok("confirm", "sample"), "Type the dataset&#39;s name exactly"},
		{"try: no dataset", "/admin/try", tok("query", "SELECT 1"), "Dataset: choose a dataset"},
		{"try: no SQL", "/admin/try", tok("dataset", "1"), "SQL: write a SELECT"},
	}
	before, _ := s.f.Store.List(ctx)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.post(c.path, c.form)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, c.says) {
				i := strings.Index(p.body, `class="error"`)
				t.Errorf("POST %s: %d, want 400 saying %q; error box: %.300s", c.path, p.status, c.says, p.body[max(0, i):])
			}
			if strings.Contains(p.body, "s3cret") || strings.Contains(p.body, "value=\"/nonexistent") {
				t.Errorf("POST %s: the connection string is shown back", c.path)
			}
		})
	}
	after, _ := s.f.Store.List(ctx)
	if len(after) != len(before) || after[0].Name != before[0].Name || after[0].UpdatedAt != before[0].UpdatedAt {
		t.Errorf("refused forms changed the datasets: %v → %v", before, after)
	}
	if tokens, _ := s.f.Store.Tokens(ctx); len(tokens) != 0 {
		t.Errorf("refused forms created %d tokens", len(tokens))
	}
	if p := b.get("/admin/log?outcome=maybe"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "outcome must be") {
		t.Errorf("log filter with a bad outcome: %d", p.status)
	}
	for _, q := range []string{"dataset=x", "from=yesterday", "to=2026-13-01T00:00", "from=2026-12-02T10:00&to=2026-12-02T09:00", "period=week"} {
		if p := b.get("/admin/log?" + q); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Please fix") {
			t.Errorf("log filter %s: %d, want 400 with what to fix", q, p.status)
		}
	}
	for _, path := range []string{"/admin/datasets/99", "/admin/datasets/x/edit", "/admin/log/" + strings.Repeat("0", 32), "/admin/log/zz", "/admin/nope"} {
		if p := b.get(path); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.status)
		}
	}
}

// apptestPath is the DuckDB file of the sample dataset (a valid DSN).
func apptestPath(s *stack) string {
	d, _ := s.f.Store.Get(context.Background(), apptest.DuckSample)
	return d.DSN
}

// TestConsole_Actions does each admin action once and finds it in the
// query log as an admin event naming who did it.
func TestConsole_Actions(t *testing.T) {
	s, tokens := newStack(t, stackOptions{Tokens: map[string][]string{"boss": {catalog.ScopeAdmin}}})
	ctx := context.Background()
	b := s.browser(t)
	b.signIn(tokens["boss"])
	csrf := b.csrf("/admin/tokens")

	p := b.post("/admin/tokens", url.Values{"csrf": {csrf}, "name": {"team"}, "scope": {"mcp"}, "datasets": {"1"}})
	secret := between(p.body, `id="new-token">`, "<")
	if p.status != http.StatusOK || !strings.HasPrefix(secret, "mcpa_") {
		t.Fatalf("create token: %d, secret %q", p.status, secret)
	}
	if strings.Contains(b.get("/admin/tokens").body, secret) {
		t.Error("the token's value is shown again after creation")
	}
	// The new token works on /mcp (once the server's token set has been
	// refreshed: 200 ms in this stack).
	if !eventually(func() bool { return s.tryCall(secret) == nil }) {
		t.Fatalf("the new token is refused on /mcp: %v", s.tryCall(secret))
	}

	p = b.post("/admin/datasets", url.Values{"csrf": {csrf}, "name": {"Copy of sample"}, "driver": {"duckdb"}, "dsn": {apptestPath(s)},
		"description": {"a copy"}, "dictionary": {"table,column,description,unit\nusers,user_id,Panelist id,\n"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("add dataset: %d %s", p.status, between(p.body, `class="error"`, "</div>"))
	}
	loc := p.header.Get("Location")
	var id int64
	fmt.Sscanf(loc, "/admin/datasets/%d", &id)
	if p := b.get(loc); p.status != http.StatusOK || !strings.Contains(p.body, "Dataset added.") || !strings.Contains(p.body, "Panelist id") {
		t.Errorf("the new dataset's page: %d", p.status)
	}
	path := fmt.Sprintf("/admin/datasets/%d", id)
	edit := url.Values{"csrf": {csrf}, "name": {"Copy of sample"}, "description": {"changed"}, "weight_column": {"weight"},
		"raw_rows": {"3"}, "query_timeout": {"20s"}, "dictionary": {"table,column,description,unit\nusers,gender,Gender of the panelist,\n"}}
	if p := b.post(path, edit); p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.status, between(p.body, `class="error"`, "</div>"))
	}
	d, _ := s.f.Store.Get(ctx, id)
	dict, _ := s.f.Store.Descriptions(ctx, id)
	if d.Description != "changed" || d.Settings.Limits.RawRows != 3 || d.Settings.Limits.QueryTimeout != 20*time.Second || len(dict) != 1 || dict[0].Column != "gender" {
		t.Errorf("after edit: %+v, dictionary %+v", d, dict)
	}
	if p := b.post(path+"/test", url.Values{"csrf": {csrf}}); p.status != http.StatusOK || !strings.Contains(p.body, "Connected in") {
		t.Errorf("test: %d", p.status)
	}
	if p := b.post(path+"/profile", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Errorf("re-profile: %d", p.status)
	}
	if p := b.post(path+"/remove", url.Values{"csrf": {csrf}, "confirm": {"Copy of sample"}}); p.status != http.StatusSeeOther {
		t.Errorf("remove: %d", p.status)
	}
	if _, err := s.f.Store.Get(ctx, id); err == nil {
		t.Error("the dataset is still there")
	}
	var tokenID int64
	list, _ := s.f.Store.Tokens(ctx)
	for _, tk := range list {
		if tk.Name == "team" {
			tokenID = tk.ID
		}
	}
	if p := b.post(fmt.Sprintf("/admin/tokens/%d/revoke", tokenID), url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Errorf("revoke: %d", p.status)
	}

	var got []string
	for _, r := range s.adminRecords(t) {
		if r.Principal != "token:boss" || r.ClientName != admin.ClientName || r.Outcome != catalog.OutcomeOK {
			t.Errorf("admin event %+v: want principal token:boss", r)
		}
		got = append(got, r.Tool)
	}
	want := []string{"admin.token_created", "admin.dataset_added", "admin.dataset_changed", "admin.dataset_tested", "admin.profile_refreshed",
		"admin.dataset_removed", "admin.token_revoked"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("admin events:\n got %v\nwant %v", got, want)
	}
	// They are on the log page, filterable by kind.
	p = b.get("/admin/log?kind=admin")
	if n := strings.Count(p.body, `<tr class="rec">`); n != len(want) {
		t.Errorf("log page, kind admin: %d rows, want %d", n, len(want))
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// TestConsole_TryIt runs a query through the console and compares it with
// the same call made by an MCP client over HTTP: same Markdown.
func TestConsole_TryIt(t *testing.T) {
	s, _ := newStack(t, stackOptions{})
	b := s.browser(t)
	csrf := b.csrf("/admin/try")
	const q = "SELECT gender, COUNT(*) AS people FROM users GROUP BY gender ORDER BY gender"
	p := b.post("/admin/try", url.Values{"csrf": {csrf}, "dataset": {"1"}, "query": {q}, "apply_weights": {"1"}, "merge_nccs": {"1"}})
	if p.status != http.StatusOK {
		t.Fatalf("try: %d", p.status)
	}
	md := between(p.body, `<pre class="md" id="markdown">`, "</pre>")
	cs := s.mcpClient(t, "claude-ai", "")
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "query_dataset", Arguments: map[string]any{"dataset_id": 1, "query": q}})
	if err != nil {
		t.Fatal(err)
	}
	want := res.Content[0].(*mcp.TextContent).Text
	if md == "" || htmlUnescape(md) != stripTiming(want) && stripTiming(htmlUnescape(md)) != stripTiming(want) {
		t.Errorf("Try it's Markdown differs from the tool's:\n--- console\n%s\n--- tool\n%s", htmlUnescape(md), want)
	}
	if !strings.Contains(p.body, `<table class="data result">`) {
		t.Error("no result table")
	}
	s.flush(t)
	recs, _ := s.f.Store.QueryLogRecords(context.Background(), catalog.LogFilter{Client: admin.ClientName, Tool: "query_dataset"})
	if len(recs) != 1 || recs[0].QuerySent != q || recs[0].ClientVersion != "local (open console)" {
		t.Errorf("query log records of the admin console's call: %+v", recs)
	}
	// A refused statement shows the assistant's error.
	p = b.post("/admin/try", url.Values{"csrf": {csrf}, "dataset": {"1"}, "query": {"DELETE FROM users"}})
	if !strings.Contains(p.body, "The assistant gets an error") {
		t.Errorf("a DELETE through Try it: %d", p.status)
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
}

// stripTiming drops the lines that carry run times, which differ between
// two runs of one query.
func stripTiming(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, " ms") || strings.Contains(l, "cached") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestConsole_Dashboard makes MCP calls over HTTP and checks the dashboard
// counts them: the tiles, the bars per tool, the columns over time.
func TestConsole_Dashboard(t *testing.T) {
	s, _ := newStack(t, stackOptions{})
	ctx := context.Background()
	cs := s.mcpClient(t, "claude-ai", "")
	calls := map[string]int{"list_available_datasets": 2, "query_dataset": 3, "get_dataset_schema": 1}
	for tool, n := range calls {
		for i := range n {
			args := map[string]any{"dataset_id": 1}
			switch tool {
			case "list_available_datasets":
				args = map[string]any{}
			case "query_dataset":
				args["query"] = fmt.Sprintf("SELECT gender, COUNT(*) FROM users WHERE %d = %d GROUP BY gender", i, i)
				if i == 2 {
					args["query"] = "DROP TABLE users"
				}
			}
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args}); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.flush(t)
	b := s.browser(t)
	for _, rg := range []string{"24h", "7d", "30d"} {
		p := b.get("/admin/?range=" + rg)
		if got := between(p.body, `id="calls">`, "<"); got != "6" {
			t.Errorf("%s: calls tile %q, want 6", rg, got)
		}
		latency := between(p.body, `id="latency">`, "</figure>")
		if n := strings.Count(latency, `<g class="bar"`); n != len(calls) {
			t.Errorf("%s: %d bars in the latency-by-tool chart, want %d", rg, n, len(calls))
		}
		byTool := between(p.body, `id="by-tool">`, "</svg>")
		total := 0
		for _, part := range strings.Split(byTool, `data-count="`)[1:] {
			var n int
			fmt.Sscanf(part, "%d", &n)
			total += n
		}
		if total != 6 {
			t.Errorf("%s: the calls-over-time columns add up to %d, want 6", rg, total)
		}
		if guard := between(p.body, `id="guard">`, "</figure>"); strings.Count(guard, `<g class="bar"`) != 1 {
			t.Errorf("%s: guard rejections chart: %q", rg, guard)
		}
		if client := between(p.body, `id="by-client">`, "</figure>"); !strings.Contains(client, "claude-ai") {
			t.Errorf("%s: client chart lacks claude-ai", rg)
		}
	}
	// Filters and paging of the log page.
	for _, tt := range []struct {
		query string
		rows  int
	}{
		{"tool=query_dataset", 3},
		{"outcome=caller_error", 1},
		{"client=CLAUDE-AI", 6},
		{"q=" + url.QueryEscape("WHERE 1 = 1"), 1},
		{"period=1h&dataset=1", 4},
		{"from=" + time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04") + "&to=" + time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04"), 6},
		{"to=" + time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04"), 0},
		{"kind=admin", 0},
	} {
		p := b.get("/admin/log?" + tt.query)
		if n := strings.Count(p.body, `<tr class="rec">`); n != tt.rows {
			t.Errorf("log?%s: %d rows, want %d", tt.query, n, tt.rows)
		}
	}
}

var olderRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// TestConsole_Paging pages through more records than a page holds.
func TestConsole_Paging(t *testing.T) {
	s, _ := newStack(t, stackOptions{})
	var recs []catalog.QueryRecord
	for i := range 120 {
		recs = append(recs, catalog.QueryRecord{ID: fmt.Sprintf("%032x", i+1), Kind: catalog.KindCall, Time: time.Now().UTC(), Tool: "get_context",
			Outcome: catalog.OutcomeOK, DurationMS: float64(i)})
	}
	if err := s.f.Store.AppendQueryLog(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	b := s.browser(t)
	seen, next, pages := 0, "/admin/log?tool=get_context", 0
	for next != "" {
		p := b.get(next)
		seen += strings.Count(p.body, `<tr class="rec">`)
		next = ""
		if m := olderRE.FindStringSubmatch(p.body); m != nil {
			next = htmlUnescape(m[1])
		}
		pages++
	}
	if seen != 120 || pages != 3 {
		t.Errorf("paged %d records in %d pages, want 120 in 3", seen, pages)
	}
	p := b.get("/admin/log.csv?tool=get_context")
	if rows, _ := csv.NewReader(strings.NewReader(p.body)).ReadAll(); len(rows) != 121 {
		t.Errorf("CSV export: %d rows, want 121", len(rows))
	}
}

// TestConsole_UnreachableDataset shows a dataset whose database cannot be
// opened: listed as unavailable with the reason, its page and its test
// say why, and no page fails.
func TestConsole_UnreachableDataset(t *testing.T) {
	s, _ := newStack(t, stackOptions{})
	s.f.UpdateDataset(t, apptest.DuckSample, func(d *catalog.Dataset) { d.DSN = "/nonexistent/gone.duckdb" })
	b := s.browser(t)
	p := b.get("/admin/datasets")
	row := between(p.body, `data-id="1"`, "</tr>")
	if p.status != http.StatusOK || !strings.Contains(row, "unavailable") || strings.Contains(row, "reachable</span>") {
		t.Errorf("datasets page: %d, row %q", p.status, row)
	}
	if !strings.Contains(between(p.body, `data-id="2"`, "</tr>"), "reachable") {
		t.Error("the other dataset is not reachable")
	}
	if p := b.get("/admin/datasets/1"); p.status != http.StatusOK || !strings.Contains(p.body, `<div class="error">`) {
		t.Errorf("dataset page of an unreachable dataset: %d", p.status)
	}
	csrf := b.csrf("/admin/datasets/1")
	if p := b.post("/admin/datasets/1/test", url.Values{"csrf": {csrf}}); !strings.Contains(p.body, "Cannot be used") {
		t.Errorf("test of an unreachable dataset: %d %s", p.status, between(p.body, `id="test-result">`, "</div>"))
	}
	if p := b.post("/admin/datasets/1/profile", url.Values{"csrf": {csrf}}); p.status != http.StatusBadGateway || !strings.Contains(p.body, "Profiling failed") {
		t.Errorf("re-profile of an unreachable dataset: %d", p.status)
	}
}
