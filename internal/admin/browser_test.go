package admin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// The browser test uses the console as an administrator would, in real
// Chromium: sign in, add a DuckDB and a PostgreSQL dataset through the
// form, find MCP calls made by a go-sdk client over HTTP in the log page,
// count the dashboard's bars, revoke a token and see the next call
// refused. Every page is screenshotted into $MCPA_ADMIN_SHOTS (default a
// temporary directory), and any console error — a Content-Security-Policy
// violation among them — fails the test.

func shotsDir(t *testing.T) string {
	dir := os.Getenv("MCPA_ADMIN_SHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type tab struct {
	t       *testing.T
	ctx     context.Context
	base    string
	shots   string
	console *pgtest.Console
}

func newTab(t *testing.T, base string) *tab {
	t.Helper()
	exe := pgtest.Chromium(t)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	tb := &tab{t: t, ctx: ctx, base: base, shots: shotsDir(t)}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	tb.console = pgtest.WatchConsole(t, ctx)
	return tb
}

func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// shot saves a full-page screenshot.
func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func (b *tab) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func (b *tab) errors() []string { return b.console.Errors() }

func TestBrowser_Console(t *testing.T) {
	pgtest.Chromium(t)
	s, tokens := newStack(t, stackOptions{Postgres: true, Tokens: map[string][]string{
		"admin": {catalog.ScopeAdmin}, "analyst": {catalog.ScopeMCP},
	}})
	ctx := context.Background()
	b := newTab(t, s.url)

	// Sign in.
	b.open("/admin/")
	b.do("sign-in page", chromedp.WaitVisible(chromedp.ID("token")))
	b.shot("01-signin")
	b.do("sign in", chromedp.SetValue(chromedp.ID("token"), tokens["admin"]), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("calls")))

	// Add a DuckDB dataset and a PostgreSQL dataset through the form.
	duck, _ := s.f.Store.Get(ctx, apptest.DuckSample)
	pg, _ := s.f.Store.Get(ctx, apptest.PostgresSample)
	add := func(name, driver, dsn, desc string) {
		b.open("/admin/datasets/new")
		b.do("add "+name,
			chromedp.SetValue(chromedp.ID("drv"), driver),
			chromedp.SetValue(chromedp.ID("dsn"), dsn),
			chromedp.SetValue(chromedp.ID("dname"), name),
			chromedp.SetValue(chromedp.ID("ddesc"), desc),
			chromedp.Submit(chromedp.ID("dname")),
			chromedp.WaitVisible(chromedp.CSS(".flash")))
		if got := b.text(".flash"); !strings.Contains(got, "Dataset added") {
			t.Fatalf("after adding %s: %q", name, got)
		}
	}
	b.open("/admin/datasets/new")
	b.shot("05-dataset-new")
	add("Panel copy (DuckDB)", "duckdb", duck.DSN, "The sample panel, added from the console.")
	add("Panel copy (PostgreSQL)", "postgres", pg.DSN, "The sample panel in PostgreSQL, added from the console.")
	b.shot("07-dataset-detail")
	if strings.Contains(b.text("body"), "postgres://") && strings.Contains(b.text("body"), pg.DSN) {
		t.Error("the PostgreSQL connection string is shown in full")
	}
	list, _ := s.f.Store.List(ctx)
	var pgID int64
	for _, d := range list {
		if d.Name == "Panel copy (PostgreSQL)" {
			pgID = d.ID
		}
	}
	if pgID == 0 {
		t.Fatal("the PostgreSQL dataset was not added")
	}
	b.open("/admin/datasets")
	if n := b.count("tr.dataset"); n != len(list) {
		t.Errorf("datasets page lists %d datasets, want %d", n, len(list))
	}
	if n := b.count("tr.dataset .badge.ok"); n != len(list) {
		t.Errorf("%d datasets reachable, want %d", n, len(list))
	}
	b.shot("04-datasets")
	b.open(fmt.Sprintf("/admin/datasets/%d/edit", pgID))
	b.shot("06-dataset-edit")

	// MCP calls from a real client, with the analyst token.
	cs := s.mcpClient(t, "claude-ai", tokens["analyst"])
	const q = "SELECT gender, COUNT(*) AS people FROM users GROUP BY gender"
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"list_available_datasets", map[string]any{}},
		{"get_dataset_schema", map[string]any{"dataset_id": pgID}},
		{"query_dataset", map[string]any{"dataset_id": pgID, "query": q}},
		{"query_dataset", map[string]any{"dataset_id": pgID, "query": "SELECT * FROM pg_catalog.pg_authid"}},
	}
	for _, c := range calls {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args}); err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
	}
	s.flush(t)
	b.open("/admin/log?client=claude-ai")
	if n := b.count("tr.rec"); n != len(calls) {
		t.Errorf("log page shows %d calls of claude-ai, want %d", n, len(calls))
	}
	body := b.text("table.log")
	for _, want := range []string{"query_dataset", "get_dataset_schema", "token:analyst", "Panel copy (PostgreSQL)", "SELECT gender"} {
		if !strings.Contains(body, want) {
			t.Errorf("log page lacks %q", want)
		}
	}
	b.shot("03-log")
	b.do("open a record", chromedp.Click(chromedp.Search(`//tr[contains(., "SELECT gender")]//a`)), chromedp.WaitVisible(chromedp.CSS("pre.sql")))
	if n := b.count("pre.sql"); n != 2 {
		t.Errorf("record page shows %d SQL blocks, want 2 (as sent, as run)", n)
	}
	b.shot("03b-log-detail")

	// The dashboard: one bar per tool called.
	b.open("/admin/?range=24h")
	if got := b.text("#calls"); got != fmt.Sprint(len(calls)) {
		t.Errorf("dashboard calls tile %q, want %d", got, len(calls))
	}
	if n := b.count("#latency g.bar"); n != 3 {
		t.Errorf("latency-by-tool chart has %d bars, want 3 (one per tool called)", n)
	}
	if n := b.count("#guard g.bar"); n != 1 {
		t.Errorf("guard rejections chart has %d bars, want 1", n)
	}
	b.shot("02-dashboard")
	b.open("/admin/?range=7d")
	b.shot("02b-dashboard-7d")

	// Try it.
	b.open(fmt.Sprintf("/admin/try?dataset=%d", pgID))
	b.do("try it", chromedp.SetValue(chromedp.ID("sql"), q), chromedp.Submit(chromedp.ID("sql")), chromedp.WaitVisible(chromedp.ID("markdown")))
	if md := b.text("#markdown"); !strings.Contains(md, "gender") {
		t.Errorf("Try it Markdown: %q", md)
	}
	b.shot("09-try")

	// Create a token, then revoke the analyst's and see its next call
	// refused.
	b.open("/admin/tokens")
	b.do("create a token", chromedp.SetValue(chromedp.ID("tname"), "dashboards"), chromedp.SetValue(chromedp.ID("tds"), "all"),
		chromedp.Submit(chromedp.ID("tname")), chromedp.WaitVisible(chromedp.ID("new-token")))
	b.shot("08-tokens-created")
	b.do("revoke the analyst's token", chromedp.Click(chromedp.CSS(`tr[data-name="analyst"] button`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
	b.shot("08b-tokens")
	if !eventually(func() bool { return s.tryCall(tokens["analyst"]) != nil }) {
		t.Error("the revoked token still works on /mcp")
	} else if err := s.tryCall(tokens["analyst"]); !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("the revoked token's call fails with %v, want Unauthorized", err)
	}
	b.open("/admin/log?kind=admin")
	if n := b.count("tr.rec"); n != 4 {
		t.Errorf("%d admin events, want 4 (two datasets added, a token created, one revoked)", n)
	}
	b.shot("10-log-admin")
	if bad := b.errors(); len(bad) > 0 {
		t.Errorf("browser console errors (CSP violations?): %q", bad)
	}
	t.Logf("screenshots in %s", b.shots)
}
