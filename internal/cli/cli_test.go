package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// TestMain lets the tests run this package's command line as a real child
// process (for the stdio transport): the test binary re-executes itself with
// MCPA_TEST_AS_CLI=1 and behaves as mcp-analytics.
func TestMain(m *testing.M) {
	if os.Getenv("MCPA_TEST_AS_CLI") == "1" {
		os.Exit(Run(context.Background(), os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()}))
	}
	os.Exit(m.Run())
}

// run runs the command line in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: []string{}})
	return code, stdout.String(), stderr.String()
}

func TestRun_Commands(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", nil, 2, "", "Usage: mcp-analytics <command>"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"version", []string{"version"}, 0, "mcp-analytics ", ""},
		{"query needs a dataset", []string{"query", "--data-dir", dir, "SELECT 1"}, 2, "", "--dataset is required"},
		{"query generates the demo on first use", []string{"query", "--data-dir", dir, "--dataset", "1", "SELECT gender, COUNT(*) FROM users GROUP BY gender"}, 0, "**Rows**: 3", "generating the demo datasets"},
		{"query reports errors", []string{"query", "--data-dir", dir, "--dataset", "1", "DELETE FROM users"}, 1, "**Error**: DELETE statements are not allowed", "query failed"},
		{"datasets list", []string{"datasets", "list", "--data-dir", dir}, 0, "Sample Dataset", ""},
		{"datasets add needs a dsn", []string{"datasets", "add", "--data-dir", dir, "--name", "x"}, 2, "", "--name and --dsn are required"},
		{"datasets add hides the password", []string{"datasets", "add", "--data-dir", dir, "--name", "Warehouse", "--dsn", "postgres://reader:s3cret@db.internal/panel"}, 0, "3\n", "postgres://reader:***@db.internal/panel"},
		{"datasets list hides the password", []string{"datasets", "list", "--data-dir", dir}, 0, "reader:***@", ""},
		{"datasets remove", []string{"datasets", "remove", "--data-dir", dir, "3"}, 0, "", "removed dataset 3"},
		{"datasets remove unknown", []string{"datasets", "remove", "--data-dir", dir, "3"}, 1, "", "dataset not found"},
		{"bad flag", []string{"serve", "--nope"}, 2, "", "flag provided but not defined"},
		{"bench: a round-trip time that is not one", []string{"bench", "--rtt", "5ms,far"}, 2, "", `--rtt: "far" is not a duration`},
		{"bench: an unknown part", []string{"bench", "--parts", "multi,latency"}, 1, "", `unknown part "latency"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("the password leaked:\n%s%s", stdout, stderr)
			}
		})
	}
}

// TestServe_Stdio starts "serve --stdio" as a child process, as Claude
// Desktop does, and drives it with the SDK's client.
func TestServe_Stdio(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--stdio", "--data-dir", dir)
	cmd.Env = append(os.Environ(), "MCPA_TEST_AS_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "stdio-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 6 {
		t.Fatalf("tools/list: %v (%d tools)", err, len(tools.Tools))
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "execute_multi_query", Arguments: map[string]any{"queries": []any{
		map[string]any{"dataset_id": 1, "query": "SELECT gender, COUNT(*) FROM users GROUP BY gender", "label": "Gender"},
		map[string]any{"dataset_id": 2, "query": "SELECT COUNT(*) FROM events", "label": "Events"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	md := res.Content[0].(*mcp.TextContent).Text
	if res.IsError || !strings.Contains(md, "**Successful**: 2 ✅") {
		t.Errorf("execute_multi_query over stdio:\n%s", md)
	}
	cs.Close()
	if !strings.Contains(stderr.String(), "MCP endpoint: stdio") || !strings.Contains(stderr.String(), "execute_multi_query") {
		t.Errorf("banner missing from stderr:\n%s", stderr.String())
	}
}

// TestDemoLoad loads the demo into PostgreSQL with COPY, registers it, and
// queries it through the pipeline.
func TestDemoLoad(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	dir := t.TempDir()
	code, stdout, stderr := run(t, "demo", "load", "--data-dir", dir, "--dsn", dsn, "--users", "2000")
	if code != 0 {
		t.Fatalf("demo load: exit %d\n%s", code, stderr)
	}
	ids := strings.Fields(stdout)
	if len(ids) != 2 {
		t.Fatalf("demo load printed %q, want two dataset ids", stdout)
	}
	code, stdout, stderr = run(t, "query", "--data-dir", dir, "--dataset", ids[0], "SELECT nccs, COUNT(*) FROM users GROUP BY nccs")
	if code != 0 || !strings.Contains(stdout, "C/D/E") {
		t.Errorf("query on the PostgreSQL demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_ = filepath.Join
}
