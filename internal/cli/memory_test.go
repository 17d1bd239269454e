package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// giantRSSBound is the most a real server process may grow (peak RSS over
// its RSS once warm) while it answers ten concurrent queries that each
// return one 100 MB value from PostgreSQL. Before reads were bounded, one
// such query took the process from 82 to 477 MB, so ten would take
// gigabytes; now each stops at the row's length word.
const giantRSSBound = 64 << 20

// TestServe_GiantValuesKeepMemoryBounded starts "serve" as a child process
// over a PostgreSQL dataset, sends ten concurrent queries for a 100 MB
// value from ten MCP sessions, and checks the process's peak RSS (VmHWM)
// against giantRSSBound. Every answer is the capped note, not an error.
func TestServe_GiantValuesKeepMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process and makes PostgreSQL build ten 100 MB values")
	}
	dsn := pgtest.NewDatabase(t)
	dir := t.TempDir()
	if code, _, stderr := run(t, "datasets", "add", "--data-dir", dir, "--name", "Giants", "--driver", "postgres", "--dsn", dsn); code != 0 {
		t.Fatalf("datasets add: %s", stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--no-demo")
	cmd.Env = append(os.Environ(), "MCPA_TEST_AS_CLI=1", "MCPA_LOG_LEVEL=warn")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	endpoint := ""
	re := regexp.MustCompile(`MCP endpoint: (http://\S+/mcp)`)
	for deadline := time.Now().Add(60 * time.Second); endpoint == ""; time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			endpoint = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s", stderr.String())
		}
	}

	const n = 10
	sessions := make([]*mcp.ClientSession, n)
	for i := range sessions {
		c := mcp.NewClient(&mcp.Implementation{Name: "giants", Version: "1"}, nil)
		cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		sessions[i] = cs
	}
	ask := func(cs *mcp.ClientSession, sql string) (string, error) {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query_dataset", Arguments: map[string]any{"dataset_id": 1, "query": sql}})
		if err != nil {
			return "", err
		}
		text := res.Content[0].(*mcp.TextContent).Text
		if res.IsError {
			return text, fmt.Errorf("tool error: %s", text)
		}
		return text, nil
	}
	// Warm: every session has called once, the pool holds its connections.
	var wg sync.WaitGroup
	for _, cs := range sessions {
		wg.Go(func() {
			if _, err := ask(cs, "SELECT 1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	warm := procStatus(t, cmd.Process.Pid, "VmRSS")

	answers := make([]string, n)
	for i, cs := range sessions {
		wg.Go(func() {
			var err error
			if answers[i], err = ask(cs, "SELECT repeat('x', 100000000) AS giant"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	peak := procStatus(t, cmd.Process.Pid, "VmHWM")
	t.Logf("server RSS once warm %.1f MiB, peak over ten concurrent 100 MB values %.1f MiB (+%.1f MiB; bound +%d MiB)",
		mibs(warm), mibs(peak), mibs(peak-warm), giantRSSBound>>20)
	if peak-warm > giantRSSBound {
		t.Errorf("peak RSS %.1f MiB is %.1f MiB over the warm %.1f MiB; bound %d MiB", mibs(peak), mibs(peak-warm), mibs(warm), giantRSSBound>>20)
	}
	for i, a := range answers {
		if !strings.Contains(a, "Row 1 is 95.4 MB, more than the 4 MB a query may read") {
			t.Errorf("answer %d:\n%s", i, a)
		}
	}
	// The server still answers.
	if _, err := ask(sessions[0], "SELECT 2"); err != nil {
		t.Error(err)
	}
}

// procStatus reads a memory figure (VmRSS, VmHWM) of process pid, in bytes.
func procStatus(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		pgtest.Skip(t, "/proc", err.Error())
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func mibs(b int) float64 { return float64(b) / (1 << 20) }
