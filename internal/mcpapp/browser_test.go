package mcpapp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// The browser test plays an MCP Apps host in real Chromium: the test host
// page (testdata/host.html, built from web/result-view/host) connects to the
// running Go server with the official MCP client, reads the view through
// resources/read with a bearer token, runs it in a sandboxed iframe through
// ext-apps' AppBridge, and hands it real tool results (and hand-made ones
// carrying issue 14's Total rows and significance letters). The test then
// reads the view's DOM and compares it with the structuredContent the
// server returned. Screenshots go to .artifacts/mcpapp at the repository
// root (or $MCPA_ARTIFACTS_DIR).

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MCPA_ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".artifacts", "mcpapp")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// host is one tab of the test host page.
type host struct {
	t       *testing.T
	ctx     context.Context
	console *pgtest.Console // console errors and exceptions, from the page and the views
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := pgtest.Chromium(t)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		// Keep the sandboxed view in the page's process, so the test can
		// read its DOM through the page's target.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "Translate,IsolateSandboxedIframes,site-per-process"),
		chromedp.WindowSize(1100, 1000),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	return bctx
}

// open loads the host page in a new tab and connects its MCP client.
func open(t *testing.T, bctx context.Context, ts *testServer, token string, announce bool) (*host, []toolInfo) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	h := &host{t: t, ctx: ctx}
	h.console = pgtest.WatchConsole(t, ctx)
	url := ts.url + "/host.html#token=" + token
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load the host page: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.mcpaHostReady === true`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("host page not ready: %v", err)
	}
	var tools []toolInfo
	h.eval(fmt.Sprintf(`mcpaHost.connect(%v)`, announce), &tools)
	return h, tools
}

type toolInfo struct {
	Name        string         `json:"name"`
	ResourceURI string         `json:"resourceUri"`
	Meta        map[string]any `json:"meta"`
}

// eval evaluates expr in the host page, awaiting a promise, and decodes its
// value into out (nil to ignore it).
func (h *host) eval(expr string, out any) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 2*time.Minute)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		h.t.Fatalf("%s: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s: decode %s: %v", expr, raw, err)
		}
	}
}

// frameEval evaluates expr in the document of the view named frame (an
// isolated world: the same DOM, none of the view's globals).
func (h *host) frameEval(frame, expr string, out any) error {
	ctx, cancel := context.WithTimeout(h.ctx, time.Minute)
	defer cancel()
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return err
	}
	var id cdp.FrameID
	for _, c := range tree.FrameTree.ChildFrames {
		if c.Frame.Name == frame {
			id = c.Frame.ID
		}
	}
	if id == "" {
		return fmt.Errorf("no frame %q", frame)
	}
	world, err := chromedp.Call(ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: id, WorldName: "mcpa-test"})
	if err != nil {
		return err
	}
	yes := true
	res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, ContextID: world.ExecutionContextID, ReturnByValue: &yes, AwaitPromise: &yes})
	if err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		d := res.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		return errors.New(msg)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// shown is what show() returns: the tool result the host passed to the view.
type shown struct {
	IsError           bool            `json:"isError"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	Text              string          `json:"text"`
	Policy            string          `json:"policy"`
}

// show runs the view of a tool call (or of a hand-made result) in a frame
// of the given width and theme, and waits until it has drawn.
func (h *host) show(id, tool string, args any, fixture json.RawMessage, theme string, width int) shown {
	h.t.Helper()
	a, _ := json.Marshal(args)
	res := "null"
	if fixture != nil {
		b, _ := json.Marshal(map[string]any{"content": []any{map[string]any{"type": "text", "text": "(fixture)"}}, "structuredContent": fixture})
		res = string(b)
	}
	var out shown
	h.eval(fmt.Sprintf(`mcpaHost.show({id: %q, tool: %q, args: %s, result: %s, theme: %q, width: %d})`, id, tool, a, res, theme, width), &out)
	h.waitRendered(id)
	return out
}

func (h *host) waitRendered(id string) {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var state string
	for time.Now().Before(deadline) {
		if err := h.frameEval(id, `document.getElementById("root").dataset.state`, &state); err == nil && (state == "rendered" || state == "error") {
			// Let the size report and a resize redraw settle.
			time.Sleep(300 * time.Millisecond)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("view %s not rendered within 60 s (state %q)", id, state)
}

// page is what the test reads back from a view's DOM.
type viewPage struct {
	State       string  `json:"state"`
	RenderMS    string  `json:"renderMs"`
	Theme       string  `json:"theme"`
	Background  string  `json:"bg"`
	Color       string  `json:"color"`
	ScrollWidth int     `json:"scrollWidth"`
	ClientWidth int     `json:"clientWidth"`
	Height      float64 `json:"height"`
	Summary     string  `json:"summary"`
	Failed      []string
	Cards       []card `json:"cards"`
}

type card struct {
	Kind     string   `json:"kind"`
	Mode     string   `json:"mode"`
	Title    string   `json:"title"`
	Bars     int      `json:"bars"`
	LowBase  int      `json:"lowBase"`
	Other    int      `json:"other"`
	Whiskers int      `json:"whiskers"`
	Letters  []string `json:"letters"`
	Labels   []string `json:"labels"`
	Values   []string `json:"values"`
	Legend   []string `json:"legend"`
	Lines    int      `json:"lines"`
	Points   int      `json:"points"`
	Bands    int      `json:"bands"`
	Refs     int      `json:"refs"`
	Tail     string   `json:"tail"`
	Tips     []string `json:"tips"`
	Rows     int      `json:"rows"`
	SVGWidth float64  `json:"svgWidth"`
	TextFill string   `json:"textFill"`
	Notes    string   `json:"notes"`
}

const readView = `(() => {
  const q = (s, el = document) => [...el.querySelectorAll(s)];
  const cards = q(".card").map((c) => ({
    kind: c.dataset.kind || "", mode: c.dataset.mode || "", title: c.querySelector("h2")?.textContent || "",
    bars: q("rect.bar", c).length, lowBase: q("rect.bar.low-base", c).length, other: q("rect.bar.other", c).length,
    whiskers: q("g.whisker", c).length, letters: q("text.sig-letter", c).map((e) => e.textContent),
    labels: q("text.label", c).map((e) => e.textContent), values: q("text.value", c).map((e) => e.textContent),
    legend: q("g.legend-item", c).map((e) => e.textContent), lines: q("path.line:not(.total-line)", c).length,
    points: q("circle.point", c).length, bands: q("polygon.moe-band", c).length, refs: q(".total-ref", c).length,
    tail: c.querySelector(".tail-note")?.textContent || "", tips: q("rect.bar", c).map((e) => e.getAttribute("aria-label")),
    rows: q("table tbody tr", c).length, svgWidth: c.querySelector("svg")?.getBoundingClientRect().width || 0,
    textFill: c.querySelector("svg text.label")?.getAttribute("fill") || "", notes: c.querySelector(".after")?.textContent || "",
  }));
  const root = document.getElementById("root");
  return {
    state: root.dataset.state, renderMs: root.dataset.renderMs || "", theme: document.documentElement.dataset.theme || "",
    bg: getComputedStyle(document.body).backgroundColor, color: getComputedStyle(document.body).color,
    scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
    height: document.documentElement.getBoundingClientRect().height,
    summary: document.querySelector(".summary")?.textContent || "", failed: q(".failed li").map((e) => e.textContent), cards,
  };
})()`

func (h *host) read(id string) viewPage {
	h.t.Helper()
	var p viewPage
	if err := h.frameEval(id, readView, &p); err != nil {
		h.t.Fatalf("read view %s: %v", id, err)
	}
	return p
}

func (h *host) click(id, selector string) {
	h.t.Helper()
	if err := h.frameEval(id, fmt.Sprintf(`(() => { const b = document.querySelector(%q); if (!b) throw new Error(%q); b.click(); return true; })()`, selector, "no "+selector), nil); err != nil {
		h.t.Fatalf("click %s in %s: %v", selector, id, err)
	}
	time.Sleep(200 * time.Millisecond)
}

func (h *host) screenshot(id, name string) {
	h.t.Helper()
	if err := chromedp.Do(h.ctx, chromedp.ScrollIntoView(chromedp.ID(id))); err != nil {
		h.t.Fatalf("scroll to %s: %v", id, err)
	}
	buf, err := chromedp.Run(h.ctx, chromedp.Screenshot(chromedp.ID(id)))
	if err != nil {
		h.t.Fatalf("screenshot %s: %v", id, err)
	}
	path := filepath.Join(artifactsDir(h.t), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.t.Logf("screenshot: %s", path)
}

func (h *host) checkClean() {
	h.t.Helper()
	for _, b := range h.console.Errors() {
		h.t.Errorf("browser reported: %s", b)
	}
}

func decodeResult(t *testing.T, raw json.RawMessage) result.Result {
	t.Helper()
	var r result.Result
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("structuredContent: %v", err)
	}
	if !r.OK {
		t.Fatalf("query failed: %s", r.Error)
	}
	return r
}

func col(r result.Result, name string) int {
	for i, c := range r.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// groupRows are the rows of a result that are groups, not Total rows
// (is_total).
func groupRows(r result.Result) [][]any {
	t := col(r, "is_total")
	var out [][]any
	for _, row := range r.Rows {
		if t < 0 || row[t] != true {
			out = append(out, row)
		}
	}
	return out
}

func label(v any) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(v)
}

// checkBars compares a bar chart with the rows: one bar per row, labelled
// with the category and ending in its weighted share (one decimal), a
// whisker per margin of error, hatching where low_base is set; in the order
// given, or else sorted by value (NULL last).
func checkBars(t *testing.T, c card, r result.Result, dim string, order ...string) {
	t.Helper()
	r.Rows = groupRows(r) // the Total row is a reference line, not a bar
	di, pi, mi, li := col(r, dim), col(r, "weighted_pct"), col(r, "moe_pct"), col(r, "low_base")
	if c.Bars != len(r.Rows) || len(c.Labels) != len(r.Rows) || len(c.Values) != len(r.Rows) {
		t.Fatalf("%d bars, %d labels, %d values for %d rows", c.Bars, len(c.Labels), len(c.Values), len(r.Rows))
	}
	want := map[string]string{}
	whiskers, low := 0, 0
	for _, row := range r.Rows {
		want[label(row[di])] = fmt.Sprintf("%.1f%%", row[pi].(float64))
		if row[mi] != nil && row[mi].(float64) > 0 {
			whiskers++
		}
		if row[li] == true {
			low++
		}
	}
	if order != nil && !slices.Equal(c.Labels, order) {
		t.Errorf("bars in order %v, want %v", c.Labels, order)
	}
	prev := math.Inf(1)
	for i, l := range c.Labels {
		if want[l] != c.Values[i] {
			t.Errorf("bar %q shows %q, structuredContent says %q", l, c.Values[i], want[l])
		}
		if l != "NULL" && order == nil {
			var v float64
			fmt.Sscanf(strings.TrimSuffix(c.Values[i], "%"), "%g", &v)
			if v > prev+1e-9 {
				t.Errorf("bars not sorted by value: %q (%v) after %v", l, v, prev)
			}
			prev = v
		}
	}
	if c.Whiskers != whiskers {
		t.Errorf("%d whiskers, want %d (rows with a margin of error)", c.Whiskers, whiskers)
	}
	if c.LowBase != low {
		t.Errorf("%d hatched bars, want %d (low_base rows)", c.LowBase, low)
	}
}

func loadFixture(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestView_Browser(t *testing.T) {
	bctx := newBrowser(t)
	ts := newServer(t, false, map[string]string{"analyst": "all"}, 2000)
	hostPage, err := os.ReadFile(filepath.Join("testdata", "host.html"))
	if err != nil {
		t.Fatal(err)
	}
	ts.mux.HandleFunc("GET /host.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(hostPage)
	})
	token := ts.tokens["analyst"]
	renderMS := map[string]string{}

	t.Run("negotiation", func(t *testing.T) {
		_, tools := open(t, bctx, ts, token, true)
		for _, tool := range tools {
			viewed := tool.Name == "query_dataset" || tool.Name == "execute_multi_query"
			if viewed != (tool.ResourceURI == "ui://mcp-analytics/result") {
				t.Errorf("announcing host: %s has view %q", tool.Name, tool.ResourceURI)
			}
		}
		_, plain := open(t, bctx, ts, token, false)
		for _, tool := range plain {
			if tool.ResourceURI != "" || tool.Meta != nil {
				t.Errorf("plain host: %s has _meta %v", tool.Name, tool.Meta)
			}
		}
	})

	t.Run("grouped weighted shares", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		s := h.show("v", "query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"}, nil, "light", 640)
		if !strings.Contains(s.Policy, "connect-src 'none'") {
			t.Errorf("host CSP %q does not forbid connections", s.Policy)
		}
		r := decodeResult(t, s.StructuredContent)
		p := h.read("v")
		renderMS["4 categories"] = p.RenderMS
		if len(p.Cards) != 1 || p.Cards[0].Kind != "bars" {
			t.Fatalf("cards %+v, want one bar chart", p.Cards)
		}
		// NCCS classes in class order, NULL last.
		checkBars(t, p.Cards[0], r, "nccs", "A", "B", "C/D/E", "NULL")
		h.screenshot("v", "grouped-weighted-light")

		// Table toggle, CSV, PNG and SVG downloads through ui/download-file.
		h.click("v", `button[data-act="table"]`)
		if p := h.read("v"); p.Cards[0].Mode != "table" || p.Cards[0].Rows != len(r.Rows) {
			t.Errorf("table view: mode %q with %d rows, want %d", p.Cards[0].Mode, p.Cards[0].Rows, len(r.Rows))
		}
		h.screenshot("v", "grouped-weighted-table")
		h.click("v", `button[data-act="chart"]`)
		h.click("v", `button[data-act="csv"]`)
		h.click("v", `button[data-act="png"]`)
		h.click("v", `button[data-act="svg"]`)
		type download struct {
			URI, MIMEType, Head, Data string
			Size                      int
			Base64                    bool
		}
		var downloads []download
		deadline := time.Now().Add(10 * time.Second)
		for len(downloads) < 2 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			h.eval(`mcpaHost.downloads`, &downloads)
		}
		if len(downloads) != 2 {
			t.Fatalf("downloads %+v, want a PNG and an SVG", downloads)
		}
		slices.SortFunc(downloads, func(a, b download) int { return strings.Compare(a.MIMEType, b.MIMEType) })
		png, err := base64.StdEncoding.DecodeString(downloads[0].Data)
		if err != nil {
			t.Fatalf("PNG download is not base64: %v", err)
		}
		for name, data := range map[string][]byte{"export.png": png, "export.svg": []byte(downloads[1].Data)} {
			if err := os.WriteFile(filepath.Join(artifactsDir(t), name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if d := downloads[0]; d.MIMEType != "image/png" || !strings.HasPrefix(d.Head, "iVBORw0KGgo") || d.Size < 2000 || !strings.HasSuffix(d.URI, ".png") {
			t.Errorf("PNG download %+v", d)
		}
		if d := downloads[1]; d.MIMEType != "image/svg+xml" || !strings.HasPrefix(d.Head, "<svg") || !strings.HasSuffix(d.URI, ".svg") {
			t.Errorf("SVG download %+v", d)
		}

		// Size reports follow the content.
		var sizes []struct{ Width, Height float64 }
		h.eval(`mcpaHost.sizes("v")`, &sizes)
		now := h.read("v")
		if len(sizes) == 0 || math.Abs(sizes[len(sizes)-1].Height-now.Height) > 2 {
			t.Errorf("size reports %v; the document is %.0f px high", sizes, now.Height)
		}

		// A theme change from the host redraws in dark colours.
		h.eval(`mcpaHost.setTheme("v", "dark")`, nil)
		time.Sleep(400 * time.Millisecond)
		dark := h.read("v")
		if dark.Theme != "dark" || dark.Cards[0].TextFill == p.Cards[0].TextFill || luminance(dark.Background) > 0.3 {
			t.Errorf("after switching to dark: theme %q, label fill %q (was %q), background %s", dark.Theme, dark.Cards[0].TextFill, p.Cards[0].TextFill, dark.Background)
		}
		h.screenshot("v", "grouped-weighted-switched-dark")
		h.checkClean()
	})

	t.Run("letters, totals and low base from issue 14's contract", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		h.show("m", "query_dataset", nil, loadFixture(t, "means_letters"), "light", 640)
		c := h.read("m").Cards[0]
		if c.Kind != "bars" || c.Bars != 4 || c.Whiskers != 4 || c.Refs != 1 || c.LowBase != 1 {
			t.Errorf("means with letters: %+v", c)
		}
		if !slices.Equal(c.Letters, []string{"BC", "C"}) {
			t.Errorf("letters %v, want [BC C]", c.Letters)
		}
		if !slices.Equal(c.Labels, []string{"A (A)", "B (B)", "C/D/E (C)", "NULL (D)"}) {
			t.Errorf("labels %v", c.Labels)
		}
		if !strings.Contains(strings.Join(c.Tips, "|"), "Low base: n = 21") {
			t.Errorf("no low-base tooltip in %v", c.Tips)
		}
		h.screenshot("m", "fixture-means-letters-total")

		h.show("x", "query_dataset", nil, loadFixture(t, "crosstab_letters"), "light", 640)
		x := h.read("x").Cards[0]
		if x.Kind != "grouped" || x.Bars != 6 || x.Whiskers != 6 || len(x.Legend) != 2 {
			t.Errorf("crosstab with letters: %+v", x)
		}
		if !slices.Equal(x.Letters, []string{"A", "B"}) && !slices.Equal(x.Letters, []string{"B", "A"}) {
			t.Errorf("letters %v, want one A and one B", x.Letters)
		}
		if !strings.Contains(x.Notes, "Rao-Scott F test: F(1.98, 39,120.4) = 4.81, p = 0.008") {
			t.Errorf("overall test missing from notes %q", x.Notes)
		}
		h.screenshot("x", "fixture-crosstab-letters")
		h.checkClean()
	})

	t.Run("crosstab", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		s := h.show("c", "query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT gender, nccs, COUNT(*) FROM users GROUP BY gender, nccs"}, nil, "light", 640)
		r := decodeResult(t, s.StructuredContent)
		c := h.read("c").Cards[0]
		genders, classes := map[string]bool{}, map[string]bool{}
		for _, row := range groupRows(r) {
			genders[label(row[0])] = true
			classes[label(row[1])] = true
		}
		// One legend entry per series, and one for the Total rows (the
		// Total of each category, drawn as a mark on its cluster).
		series := min(len(genders), len(classes)) + 1
		// A row suppressed by disclosure control (fewer than min_cell
		// panelists: gender Other × NCCS NULL) keeps its labels but has no
		// figure to draw.
		bars, pct := 0, col(r, "weighted_pct")
		for _, row := range groupRows(r) {
			if pct < 0 || row[pct] != nil {
				bars++
			}
		}
		if c.Kind != "grouped" || c.Bars != bars || len(c.Legend) != series {
			t.Errorf("crosstab: kind %s, %d bars for %d rows with figures, legend %v (want %d entries)", c.Kind, c.Bars, bars, c.Legend, series)
		}
		h.screenshot("c", "crosstab-light")
		h.checkClean()
	})

	t.Run("monthly trend", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		s := h.show("t", "query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT date_trunc('month', order_date) AS month, COUNT(DISTINCT user_id) AS buyers FROM orders GROUP BY 1 ORDER BY 1"}, nil, "light", 640)
		r := decodeResult(t, s.StructuredContent)
		c := h.read("t").Cards[0]
		if c.Kind != "line" || c.Lines != 1 || c.Points != len(groupRows(r)) || c.Bands != 1 || c.Refs != 1 {
			t.Errorf("month series: %+v for %d rows", c, len(r.Rows))
		}
		h.screenshot("t", "monthly-trend-light")
		h.checkClean()
	})

	t.Run("multi-query with a failure", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		queries := []map[string]any{
			{"dataset_id": 1, "label": "Gender", "query": "SELECT gender, COUNT(*) FROM users GROUP BY gender"},
			{"dataset_id": 1, "label": "Age by NCCS", "query": "SELECT age_group, nccs, COUNT(*) FROM users GROUP BY 1, 2"},
			{"dataset_id": 1, "label": "Broken", "query": "SELECT * FROM no_such_table"},
			{"dataset_id": 1, "label": "Monthly orders", "query": "SELECT date_trunc('month', order_date) AS month, COUNT(*) FROM orders GROUP BY 1 ORDER BY 1"},
		}
		s := h.show("q", "execute_multi_query", map[string]any{"queries": queries}, nil, "light", 760)
		var m result.Multi
		if err := json.Unmarshal(s.StructuredContent, &m); err != nil {
			t.Fatal(err)
		}
		p := h.read("q")
		if len(p.Cards) != m.Succeeded || len(p.Failed) != m.Failed || m.Failed != 1 {
			t.Fatalf("%d cards and %d failures listed for %d succeeded, %d failed", len(p.Cards), len(p.Failed), m.Succeeded, m.Failed)
		}
		kinds := []string{}
		for i, c := range p.Cards {
			kinds = append(kinds, c.Kind)
			if !strings.Contains(c.Title, queries[[]int{0, 1, 3}[i]]["label"].(string)) {
				t.Errorf("card %d titled %q", i, c.Title)
			}
		}
		if !slices.Equal(kinds, []string{"bars", "grouped", "line"}) {
			t.Errorf("chart kinds %v", kinds)
		}
		if !strings.Contains(p.Failed[0], "Broken") || !strings.Contains(p.Failed[0], "no_such_table") {
			t.Errorf("failure listed as %q", p.Failed[0])
		}
		h.screenshot("q", "multi-query")
		h.checkClean()
	})

	t.Run("30-query batch", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		dims := []string{"gender", "age_group", "nccs", "town_class", "device_type", "platform", "subscription_type", "state", "city"}
		var queries []map[string]any
		for i := 0; len(queries) < 30; i++ {
			d := dims[i%len(dims)]
			q := map[string]any{"dataset_id": 1, "label": fmt.Sprintf("Q%d %s", len(queries)+1, d), "query": fmt.Sprintf("SELECT %s, COUNT(*) FROM users GROUP BY 1", d)}
			if i >= len(dims) {
				q["query"] = fmt.Sprintf("SELECT %s, AVG(age) AS avg_age FROM users GROUP BY 1", d)
			}
			if len(queries) == 28 {
				q = map[string]any{"dataset_id": 1, "label": "Q29 typo", "query": "SELECT gendr, COUNT(*) FROM users GROUP BY 1"}
			}
			queries = append(queries, q)
		}
		s := h.show("b", "execute_multi_query", map[string]any{"queries": queries}, nil, "light", 1000)
		var m result.Multi
		if err := json.Unmarshal(s.StructuredContent, &m); err != nil {
			t.Fatal(err)
		}
		p := h.read("b")
		renderMS["30-query batch"] = p.RenderMS
		if m.Total != 30 || len(p.Cards) != m.Succeeded || len(p.Failed) != m.Failed {
			t.Fatalf("30 queries: %d cards, %d failed listed; server says %d ok, %d failed", len(p.Cards), len(p.Failed), m.Succeeded, m.Failed)
		}
		for i, c := range p.Cards {
			if c.Kind != "bars" || c.Bars == 0 || c.Bars > 12 {
				t.Errorf("card %d (%s): kind %s with %d bars", i, c.Title, c.Kind, c.Bars)
			}
		}
		h.screenshot("b", "batch-30")
		h.checkClean()
	})

	t.Run("low bases", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		s := h.show("l", "query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT state, COUNT(*) FROM users GROUP BY state"}, nil, "light", 640)
		r := decodeResult(t, s.StructuredContent)
		c := h.read("l").Cards[0]
		if len(groupRows(r)) <= 25 {
			checkBars(t, c, r, "state")
		}
		if c.LowBase == 0 {
			t.Fatalf("no hatched bar; rows %v", r.Rows)
		}
		n := 0
		for _, tip := range c.Tips {
			if strings.Contains(tip, "Low base") {
				n++
			}
		}
		if n != c.LowBase {
			t.Errorf("%d low-base tooltips for %d hatched bars", n, c.LowBase)
		}
		h.screenshot("l", "low-base")
		h.checkClean()
	})

	t.Run("1000 rows", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		s := h.show("k", "query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT city || ' ' || age AS city_age, COUNT(*) FROM users GROUP BY 1"}, nil, "light", 640)
		r := decodeResult(t, s.StructuredContent)
		p := h.read("k")
		renderMS["1,000 rows"] = p.RenderMS
		c := p.Cards[0]
		if len(r.Rows) != 1000 {
			t.Fatalf("%d rows, want the 1,000-row cap", len(r.Rows))
		}
		if c.Bars != 25 || c.Other != 1 || !strings.Contains(c.Tail, "combined in “Other”") {
			t.Errorf("1,000 rows: %d bars, %d Other, note %q", c.Bars, c.Other, c.Tail)
		}
		h.screenshot("k", "thousand-rows")
		h.click("k", `button[data-act="table"]`)
		if c := h.read("k").Cards[0]; c.Rows != 1000 {
			t.Errorf("table shows %d rows, want 1,000", c.Rows)
		}
		h.checkClean()
	})

	t.Run("dark at 320 px", func(t *testing.T) {
		h, _ := open(t, bctx, ts, token, true)
		s := h.show("d", "query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"}, nil, "dark", 320)
		r := decodeResult(t, s.StructuredContent)
		p := h.read("d")
		if p.Theme != "dark" || luminance(p.Background) > 0.3 || luminance(p.Color) < 0.6 {
			t.Errorf("dark theme: data-theme %q, background %s, text %s", p.Theme, p.Background, p.Color)
		}
		if p.ScrollWidth > p.ClientWidth || p.Cards[0].SVGWidth > 320 {
			t.Errorf("at 320 px the view overflows: scroll width %d, client %d, chart %.0f", p.ScrollWidth, p.ClientWidth, p.Cards[0].SVGWidth)
		}
		checkBars(t, p.Cards[0], r, "nccs", "A", "B", "C/D/E", "NULL")
		h.screenshot("d", "dark-320")

		h.show("d2", "query_dataset", nil, loadFixture(t, "crosstab_letters"), "dark", 320)
		p2 := h.read("d2")
		if p2.ScrollWidth > p2.ClientWidth || p2.Cards[0].Bars != 6 || len(p2.Cards[0].Letters) != 2 {
			t.Errorf("crosstab at 320 px dark: %+v (scroll %d, client %d)", p2.Cards[0], p2.ScrollWidth, p2.ClientWidth)
		}
		h.screenshot("d2", "dark-320-crosstab")

		h.show("d3", "query_dataset", map[string]any{"dataset_id": 1, "query": "SELECT date_trunc('month', order_date) AS month, COUNT(DISTINCT user_id) AS buyers FROM orders GROUP BY 1 ORDER BY 1"}, nil, "dark", 320)
		p3 := h.read("d3")
		if p3.ScrollWidth > p3.ClientWidth || p3.Cards[0].Kind != "line" {
			t.Errorf("line at 320 px dark: kind %s, scroll %d, client %d", p3.Cards[0].Kind, p3.ScrollWidth, p3.ClientWidth)
		}
		h.screenshot("d3", "dark-320-trend")
		h.checkClean()
	})

	t.Logf("render time in the browser (model + first drawing), ms: %v", renderMS)
}

// luminance is the relative luminance of a CSS rgb()/rgba() colour.
func luminance(css string) float64 {
	var r, g, b float64
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(css, "rgba("), "rgb("), ")")
	parts := strings.Split(s, ",")
	if len(parts) < 3 {
		return -1
	}
	fmt.Sscanf(strings.TrimSpace(parts[0]), "%g", &r)
	fmt.Sscanf(strings.TrimSpace(parts[1]), "%g", &g)
	fmt.Sscanf(strings.TrimSpace(parts[2]), "%g", &b)
	return (0.2126*r + 0.7152*g + 0.0722*b) / 255
}
