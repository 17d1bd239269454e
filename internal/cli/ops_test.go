package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/demo"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
)

// serverProc is "mcp-analytics serve" running as a child process.
type serverProc struct {
	base    string // http://127.0.0.1:port
	metrics string // the metrics_listen URL, when one is printed
	cmd     *exec.Cmd
	exited  chan error
}

// startServer starts serve as a child process (this test binary, run as
// the CLI) and waits for its banner.
func startServer(ctx context.Context, t *testing.T, environ []string, out *bytes.Buffer, mu *sync.Mutex, args ...string) *serverProc {
	t.Helper()
	args = append([]string{"serve", "--no-demo", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), environ...), "MCPA_TEST_AS_CLI=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, exited: make(chan error, 1)}
	endpoint := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			out.WriteString(line + "\n")
			mu.Unlock()
			if m := metricsRE.FindStringSubmatch(line); m != nil {
				mu.Lock()
				p.metrics = m[1]
				mu.Unlock()
			}
			if m := endpointRE.FindStringSubmatch(line); m != nil {
				endpoint <- m[1]
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	select {
	case url := <-endpoint:
		p.base = strings.TrimSuffix(url, "/mcp")
		time.Sleep(50 * time.Millisecond) // the metrics line follows the endpoint's
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the server printed no endpoint within 60 s:\n%s", out.String())
	}
	return p
}

var metricsRE = regexp.MustCompile(`metrics: +(http://\S+)`)

func connectAs(ctx context.Context, t *testing.T, base, token, client string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: client, Version: "2.0.1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: apptest.Bearer{Token: token}}}, nil)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// get fetches url with an optional bearer token and returns status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metricSum sums the samples of a Prometheus text exposition whose name
// is name and whose labels include every label="value" of want.
func metricSum(text, name string, want ...string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum
}

// TestServe_OperateAsAService drives two real server processes on one
// PostgreSQL catalog as a team would: calls with API tokens from two
// clients are found in "mcp-analytics log" with their client and token;
// /metrics (scraped with a metrics token) counts exactly the calls made;
// SIGTERM during a running query drains the replica (readyz 503), cancels
// the query after the grace period, writes its log record and exits 0; a
// token revoked through the CLI is refused by the other replica within
// 5 s; and no secret (the dataset's password, a token) appears in any
// output, the log or the metrics.
func TestServe_OperateAsAService(t *testing.T) {
	// Mostly waiting on child processes and PostgreSQL: overlap.
	t.Parallel()
	storeURL := pgtest.NewDatabase(t)
	dataURL := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	pgtest.Connect(ctx, t, dataURL)
	if _, err := provision.DemoPostgres(ctx, nil, dataURL, demo.Options{Users: 500, Anchor: time.Now()}, io.Discard); err != nil {
		t.Fatal(err)
	}
	const password = "0psPanelS3cret"
	dsn := provision.WithSearchPath(strings.Replace(dataURL, "postgres@", "postgres:"+password+"@", 1), "demo_sample_dataset")
	environ := []string{"MCPA_STORE=" + storeURL, "MCPA_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}
	var outputs bytes.Buffer
	var mu sync.Mutex
	// cli runs a command; its output joins those searched for secrets,
	// except the stdout of "tokens create", which is the token itself.
	cli := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := Run(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: append(environ, "MCPA_DATA_DIR="+t.TempDir())})
		mu.Lock()
		if len(args) < 2 || args[0] != "tokens" || args[1] != "create" {
			outputs.WriteString(stdout.String())
		}
		outputs.WriteString(stderr.String())
		mu.Unlock()
		if code != 0 {
			t.Fatalf("mcp-analytics %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	id := atoi(t, cli("datasets", "add", "--name", "Team Panel", "--dsn", dsn, "--weight-scale", "1000"))
	analyst := strings.TrimSpace(cli("tokens", "create", "--name", "analyst", "--datasets", strconv.Itoa(id)))
	other := strings.TrimSpace(cli("tokens", "create", "--name", "second-team", "--datasets", "all"))
	prom := strings.TrimSpace(cli("tokens", "create", "--name", "prometheus", "--scopes", "metrics"))
	secrets := []string{password, analyst, other, prom}

	r1 := startServer(ctx, t, append(environ, "MCPA_METRICS_LISTEN=127.0.0.1:0"), &outputs, &mu, "--stateless")
	r2 := startServer(ctx, t, append(environ, "MCPA_SHUTDOWN_GRACE=1s"), &outputs, &mu)
	for _, r := range []*serverProc{r1, r2} {
		if code, body := get(t, r.base+"/healthz", ""); code != 200 {
			t.Errorf("/healthz = %d %q", code, body)
		}
		if code, body := get(t, r.base+"/readyz", ""); code != 200 || body != "ready\n" {
			t.Errorf("/readyz = %d %q", code, body)
		}
	}

	// Calls on both replicas, from two clients with two tokens.
	c1 := connectAs(ctx, t, r1.base, analyst, "ops-analyst")
	c2 := connectAs(ctx, t, r2.base, other, "ops-second")
	const n1, n2 = 7, 4
	for i := range n1 {
		q := fmt.Sprintf("SELECT nccs, COUNT(*) FROM users WHERE age > %d GROUP BY nccs", 20+i)
		if md, isErr, err := callTool(ctx, c1, "query_dataset", map[string]any{"dataset_id": id, "query": q}); err != nil || isErr {
			t.Fatalf("query %d on replica 1: %v %s", i, err, md)
		}
	}
	callTool(ctx, c2, "execute_multi_query", map[string]any{"queries": []map[string]any{
		{"dataset_id": id, "query": "SELECT gender, COUNT(*) FROM users GROUP BY gender", "label": "Gender"},
		{"dataset_id": id, "query": "DROP TABLE users", "label": "Hostile"},
	}})
	callTool(ctx, c2, "get_context", map[string]any{"level": 1})
	callTool(ctx, c2, "list_available_datasets", nil)
	callTool(ctx, c2, "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT pg_read_file('/etc/passwd')"})

	// Metrics: a metrics token reads them; an MCP token or none does not.
	if code, _ := get(t, r1.base+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token = %d, want 401", code)
	}
	if code, _ := get(t, r1.base+"/metrics", analyst); code != http.StatusForbidden {
		t.Errorf("/metrics with an MCP token = %d, want 403", code)
	}
	if code, body := get(t, r1.base+"/mcp", prom); code != http.StatusForbidden {
		t.Errorf("/mcp with a metrics token = %d %q, want 403", code, body)
	}
	mu.Lock()
	private := r1.metrics
	mu.Unlock()
	if code, text := get(t, private, ""); code != 200 || !strings.Contains(text, "mcp_server_operation_duration_seconds") {
		t.Errorf("metrics_listen %q without a token = %d", private, code)
	}
	scrapes := map[*serverProc]string{}
	for r, want := range map[*serverProc][3]float64{r1: {n1, n1, 0}, r2: {n2, 1, 2}} {
		code, text := get(t, r.base+"/metrics", prom)
		if code != 200 {
			t.Fatalf("/metrics with the metrics token = %d", code)
		}
		scrapes[r] = text
		calls := metricSum(text, "mcp_server_operation_duration_seconds_count", `mcp_method_name="tools/call"`)
		okQueries := metricSum(text, "mcpa_queries_total", `outcome="ok"`)
		rejected := metricSum(text, "mcpa_guard_rejections_total")
		if calls != want[0] || okQueries != want[1] || rejected != want[2] {
			t.Errorf("replica %s: tools/call %v, ok queries %v, guard rejections %v; want %v", r.base, calls, okQueries, rejected, want)
		}
		for _, name := range []string{"mcpa_queries_in_flight", "mcpa_queries_queued", "mcpa_query_slot_wait_seconds_count",
			"mcpa_pool_connections", "mcpa_plan_cache_lookups_total", "mcpa_query_log_pending_records", "mcpa_response_bytes_total", "mcpa_rows_returned_total"} {
			if !strings.Contains(text, name) {
				t.Errorf("replica %s: /metrics has no %s", r.base, name)
			}
		}
	}

	// SIGTERM on replica 2 while a query runs longer than its 1 s grace.
	slow := make(chan string, 1)
	go func() {
		md, _, err := callTool(ctx, c2, "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT COUNT(*) FROM users a, users b, users c, users d"})
		slow <- fmt.Sprint(md, err)
	}()
	time.Sleep(700 * time.Millisecond)
	signalled := time.Now()
	if err := r2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if code, body := get(t, r2.base+"/readyz", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "draining") {
		t.Errorf("/readyz while draining = %d %q, want 503 with the reason", code, body)
	}
	select {
	case err := <-r2.exited:
		if err != nil {
			t.Errorf("replica 2 after SIGTERM: %v, want exit 0", err)
		}
		t.Logf("replica 2 exited %s after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatal("replica 2 did not exit within 20 s of SIGTERM")
	}
	if answer := <-slow; !strings.Contains(answer, "cancelled") && !strings.Contains(answer, "EOF") && !strings.Contains(answer, "closed") {
		t.Logf("the running call's answer: %s", answer)
	}

	// The log: every call with its client and token, the multi-query's
	// queries, the cancelled query of the drained replica.
	var lines []catalog.QueryRecord
	for _, l := range strings.Split(strings.TrimSpace(cli("log", "--format", "json", "--limit", "1000")), "\n") {
		var r catalog.QueryRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, r)
	}
	count := func(keep func(r catalog.QueryRecord) bool) int {
		n := 0
		for _, r := range lines {
			if keep(r) {
				n++
			}
		}
		return n
	}
	if n := count(func(r catalog.QueryRecord) bool {
		return r.Kind == "call" && r.ClientName == "ops-analyst" && r.ClientVersion == "2.0.1" && r.Principal == "token:analyst" && r.Outcome == "ok"
	}); n != n1 {
		t.Errorf("%d calls of ops-analyst with token analyst in the log, want %d", n, n1)
	}
	if n := count(func(r catalog.QueryRecord) bool {
		return r.ClientName == "ops-second" && r.Principal == "token:second-team"
	}); n != n2+2+1 {
		t.Errorf("%d records of ops-second, want %d (calls, the multi-query's queries, the drained query)", n, n2+3)
	}
	if n := count(func(r catalog.QueryRecord) bool {
		return r.Tool == "query_dataset" && r.Outcome == "cancelled" && strings.Contains(r.QuerySent, "users d")
	}); n != 1 {
		mu.Lock()
		t.Errorf("%d records of the query cancelled by the drain, want 1; outputs:\n%s", n, outputs.String())
		mu.Unlock()
	}
	if n := count(func(r catalog.QueryRecord) bool {
		return r.Kind == "query" && r.GuardRule != "" && r.Label == "Hostile"
	}); n != 1 {
		t.Errorf("the refused query of the multi-query call is not in the log with its rule")
	}
	table := cli("log", "--token", "analyst", "--search", "age > 2")
	if strings.Count(table, "ops-analyst/2.0.1") != n1 || !strings.Contains(table, "token:analyst") {
		t.Errorf("log --token analyst:\n%s", table)
	}
	rows, err := csv.NewReader(strings.NewReader(cli("log", "--format", "csv", "--outcome", "caller_error"))).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "seq" {
		t.Errorf("log --format csv --outcome caller_error = %v, %v; want a header and 2 rows", rows, err)
	}

	// Revoking a token through the CLI: refused by replica 1 within 5 s.
	cli("tokens", "revoke", "analyst")
	revoked := time.Now()
	for {
		_, _, err := callTool(ctx, c1, "list_available_datasets", nil)
		if err != nil {
			t.Logf("replica 1 refused the revoked token after %s", time.Since(revoked).Round(time.Millisecond))
			break
		}
		if time.Since(revoked) > 5*time.Second {
			t.Fatal("replica 1 still accepts the token 5 s after it was revoked")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get(t, r1.base+"/metrics", prom); code != 200 {
		t.Errorf("the metrics token stopped working after another token was revoked: %d", code)
	}

	all := outputs.String() + strings.Join(scrapes2(scrapes), "") + cli("log", "--format", "csv", "--limit", "1000")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("a secret (%.8s…) appears in the output, the log or the metrics", s)
		}
	}
}

func scrapes2(m map[*serverProc]string) []string {
	var out []string
	for _, s := range m {
		out = append(out, s)
	}
	return out
}
