package admin_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// maxPageBytes is the budget for one page.
const maxPageBytes = 200 << 10

// fillLog stores n synthetic records over the last 30 days, shaped like
// real traffic: several tools, clients, datasets and outcomes.
func fillLog(t testing.TB, s *stack, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	tools := []string{"query_dataset", "query_dataset", "query_dataset", "execute_multi_query", "get_dataset_schema", "list_available_datasets", "get_context", "get_dataset_sample"}
	clients := []string{"claude-ai", "ChatGPT", "cursor", "mcp-inspector"}
	outcomes := []string{"ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "caller_error", "database_error", "timeout"}
	now := time.Now().UTC()
	recs := make([]catalog.QueryRecord, 0, n)
	for i := range n {
		r := catalog.QueryRecord{ID: fmt.Sprintf("f%031x", i), Kind: catalog.KindCall, Time: now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))),
			DurationMS: 1 + rng.ExpFloat64()*40, Tool: tools[rng.IntN(len(tools))], ClientName: clients[rng.IntN(len(clients))],
			Outcome: outcomes[rng.IntN(len(outcomes))], Principal: "token:analyst" + strconv.Itoa(rng.IntN(5))}
		if r.Tool == "query_dataset" || r.Tool == "get_dataset_sample" {
			r.DatasetID, r.DatasetName = 1+rng.Int64N(2), "Sample Dataset"
			r.QuerySent = fmt.Sprintf("SELECT gender, COUNT(*) FROM users WHERE age > %d GROUP BY gender", rng.IntN(60))
			r.QueryRun = r.QuerySent + " LIMIT 1001"
			r.Rows = rng.IntN(20)
		}
		if r.Outcome == "caller_error" {
			r.GuardRule, r.Message = []string{"denied_relation", "not_select", "denied_function"}[rng.IntN(3)], "refused"
		}
		recs = append(recs, r)
	}
	for i := 0; i < len(recs); i += 1000 {
		if err := s.f.Store.AppendQueryLog(context.Background(), recs[i:min(i+1000, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	return recs[0].ID
}

// budgetPages are the console's pages, for the size and time budget.
func budgetPages(recordID string) []string {
	return []string{"/admin/", "/admin/?range=7d", "/admin/?range=30d", "/admin/log", "/admin/log?outcome=caller_error&period=7d",
		"/admin/log/" + recordID, "/admin/datasets", "/admin/datasets/1", "/admin/datasets/1/edit", "/admin/datasets/new",
		"/admin/tokens", "/admin/try"}
}

// serverMS reads the total of the Server-Timing header.
func serverMS(h http.Header) float64 {
	st := h.Get("Server-Timing")
	_, rest, ok := strings.Cut(st, "total;dur=")
	if !ok {
		return -1
	}
	v, _ := strconv.ParseFloat(strings.TrimSpace(strings.Split(rest, ",")[0]), 64)
	return v
}

// TestConsole_PageBudget checks every page stays under 200 KB on the demo
// datasets with 2,000 and 20,000 log records, and logs each page's size
// and its server time (median of 7 loads after a warm-up) — figures, not
// assertions: timings depend on the machine.
func TestConsole_PageBudget(t *testing.T) {
	for _, n := range []int{2000, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { pageBudget(t, n) })
	}
}

func pageBudget(t *testing.T, n int) {
	s, _ := newStack(t, stackOptions{})
	id := fillLog(t, s, n)
	b := s.browser(t)
	var lines []string
	for _, path := range budgetPages(id) {
		var times []float64
		var size int
		var first float64
		for i := range 8 {
			p := b.get(path)
			if p.status != http.StatusOK {
				t.Fatalf("GET %s: %d", path, p.status)
			}
			size = len(p.body)
			if i == 0 { // the first load fills the caches (datasets, examples, long dashboard ranges)
				first = serverMS(p.header)
			} else {
				times = append(times, serverMS(p.header))
			}
		}
		slices.Sort(times)
		if size > maxPageBytes {
			t.Errorf("GET %s: %d bytes, over the %d budget", path, size, maxPageBytes)
		}
		lines = append(lines, fmt.Sprintf("%-45s %7.1f KB  first %7.2f ms  then median %6.2f ms, max %6.2f ms", path, float64(size)/1024, first, times[len(times)/2], times[len(times)-1]))
	}
	t.Logf("page sizes and server times (%d log records over 30 days, demo datasets):\n%s", n, strings.Join(lines, "\n"))
}

// BenchmarkConsole_Pages measures each page's full server time (handler
// and template) on the same data.
func BenchmarkConsole_Pages(b *testing.B) {
	s, _ := newStack(b, stackOptions{})
	id := fillLog(b, s, 20000)
	br := s.browser(b)
	for _, path := range budgetPages(id) {
		br.get(path)
		b.Run(strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(path), func(b *testing.B) {
			for b.Loop() {
				if p := br.get(path); p.status != http.StatusOK {
					b.Fatalf("GET %s: %d", path, p.status)
				}
			}
		})
	}
}
