package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/demo"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
)

// liveChangeLimit is how soon every replica must see a catalog change
// (issue 5: within 5 seconds).
const liveChangeLimit = 5 * time.Second

// TestServe_TwoReplicasFollowOneStore runs two real server processes on
// one PostgreSQL catalog while MCP clients keep calling both. A dataset is
// added, changed and removed with the CLI; each replica must reflect every
// change within 5 s, and the calls on an untouched dataset must never fail.
// The dataset's password must appear in no output.
func TestServe_TwoReplicasFollowOneStore(t *testing.T) {
	storeURL := pgtest.NewDatabase(t)
	dataURL := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pgtest.Connect(ctx, t, dataURL) // skips when PostgreSQL is absent
	if _, err := provision.DemoPostgres(ctx, nil, dataURL, demo.Options{Users: 500, Anchor: time.Now()}, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The dataset's connection string carries a password the test hunts
	// for in every output (trust authentication ignores it).
	const password = "Rep1icaS3cret"
	sampleDSN := provision.WithSearchPath(strings.Replace(dataURL, "postgres@", "postgres:"+password+"@", 1), "demo_sample_dataset")
	streamingDSN := provision.WithSearchPath(strings.Replace(dataURL, "postgres@", "postgres:"+password+"@", 1), "demo_streaming_panel")
	if !strings.Contains(sampleDSN, password) {
		t.Fatalf("could not put a password into %s", dataURL)
	}
	environ := []string{
		"MCPA_STORE=" + storeURL,
		"MCPA_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	}
	var outputs bytes.Buffer // everything every command and server printed
	var outMu sync.Mutex
	cli := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := Run(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: append(environ, "MCPA_DATA_DIR="+t.TempDir())})
		outMu.Lock()
		outputs.WriteString(stdout.String() + stderr.String())
		outMu.Unlock()
		if code != 0 {
			t.Fatalf("mcp-analytics %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	stable := atoi(t, cli("datasets", "add", "--name", "Stable", "--dsn", streamingDSN, "--weight-scale", "1000"))

	replicas := make([]*mcp.ClientSession, 2)
	for i := range replicas {
		replicas[i] = startReplica(ctx, t, environ, &outputs, &outMu)
	}

	// Clients keep calling the untouched dataset on both replicas.
	var calls, failures atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, cs := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				md, isErr, err := callTool(ctx, cs, "query_dataset", map[string]any{"dataset_id": stable, "query": "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"})
				calls.Add(1)
				if err != nil || isErr || !strings.Contains(md, "C/D/E") {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%v %v %s", err, isErr, md))
				}
			}
		}()
	}

	// seen waits until every replica's answer satisfies ok and returns the
	// slowest replica's delay.
	seen := func(what string, tool string, args map[string]any, ok func(md string, isErr bool) bool) time.Duration {
		t.Helper()
		start := time.Now()
		var slowest time.Duration
		for i, cs := range replicas {
			for {
				md, isErr, err := callTool(ctx, cs, tool, args)
				if err == nil && ok(md, isErr) {
					slowest = max(slowest, time.Since(start))
					break
				}
				if time.Since(start) > liveChangeLimit {
					t.Fatalf("replica %d did not see %s within %s; last answer:\n%s", i+1, what, liveChangeLimit, md)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		t.Logf("%s seen by both replicas after %s", what, slowest.Round(time.Millisecond))
		return slowest
	}

	idText := strings.TrimSpace(cli("datasets", "add", "--name", "Live Panel", "--dsn", sampleDSN, "--description", "first words"))
	id := atoi(t, idText)
	seen("the new dataset", "list_available_datasets", nil, func(md string, _ bool) bool { return strings.Contains(md, "Live Panel") })
	seen("a query on the new dataset", "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT gender, COUNT(*) FROM users GROUP BY gender"},
		func(md string, isErr bool) bool { return !isErr && strings.Contains(md, "weighted_count") })

	cli("datasets", "update", idText, "--description", "second words", "--weight-scale", "1000")
	seen("the changed description", "get_dataset_schema", map[string]any{"dataset_id": id}, func(md string, _ bool) bool { return strings.Contains(md, "second words") })

	cli("datasets", "describe", idText, "--table", "users", "--column", "nccs", "--text", "Class from the dictionary")
	seen("the new column description", "get_dataset_schema", map[string]any{"dataset_id": id}, func(md string, _ bool) bool {
		return strings.Contains(md, "Class from the dictionary")
	})

	cli("datasets", "remove", idText)
	seen("the removal", "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT COUNT(*) FROM users"},
		func(md string, isErr bool) bool { return isErr && strings.Contains(md, "not found") })

	// The changes can all be seen within a few hundred milliseconds: let the
	// clients make at least ten calls before stopping them, so the check
	// below does not depend on how fast the machine is.
	for deadline := time.Now().Add(liveChangeLimit); calls.Load() < 10 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d calls on the untouched dataset during and just after the changes, %d failed", calls.Load(), failures.Load())
	if calls.Load() < 10 || failures.Load() > 0 {
		t.Errorf("%d of %d calls on the untouched dataset failed; first: %v", failures.Load(), calls.Load(), firstFailure.Load())
	}
	for _, cs := range replicas {
		cs.Close()
	}
	cancel()
	outMu.Lock()
	defer outMu.Unlock()
	if strings.Contains(outputs.String(), password) {
		t.Errorf("the dataset's password appears in the output:\n%s", outputs.String())
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a dataset id: %q", s)
	}
	return n
}

var endpointRE = regexp.MustCompile(`MCP endpoint: (http://\S+)`)

// startReplica starts "serve" as a child process and connects an MCP
// client to it.
func startReplica(ctx context.Context, t *testing.T, environ []string, out *bytes.Buffer, mu *sync.Mutex) *mcp.ClientSession {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--no-demo", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	// Polling every 30 s: changes seen sooner came by LISTEN/NOTIFY.
	cmd.Env = append(append(os.Environ(), environ...), "MCPA_TEST_AS_CLI=1", "MCPA_CATALOG_POLL=30s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	endpoint := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			out.WriteString(line + "\n")
			mu.Unlock()
			if m := endpointRE.FindStringSubmatch(line); m != nil {
				endpoint <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-endpoint:
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the replica printed no endpoint within 30 s:\n%s", out.String())
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "replica-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	return cs
}

// callTool calls a tool and returns its Markdown (with the structured
// content appended) and whether it is an error result.
func callTool(ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) (string, bool, error) {
	if args == nil {
		args = map[string]any{}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", false, err
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.StructuredContent != nil {
		js, _ := json.Marshal(res.StructuredContent)
		b.Write(js)
	}
	return b.String(), res.IsError, nil
}
