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
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
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
		// As cmd/mcp-analytics does: SIGTERM and SIGINT end ctx.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Run(ctx, os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()})
		stop()
		os.Exit(code)
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

// TestServe_StdioGarbage writes lines that are not JSON-RPC to a real
// "serve --stdio" child process: each gets its JSON-RPC error (or, for a
// notification-shaped line, nothing), the server keeps answering, and
// closing stdin ends the process with exit code 0.
func TestServe_StdioGarbage(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--stdio", "--data-dir", dir, "--no-demo")
	cmd.Env = append(os.Environ(), "MCPA_TEST_AS_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	type reply struct {
		ID     any             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	send := func(t *testing.T, line string) {
		t.Helper()
		if _, err := io.WriteString(stdin, line+"\n"); err != nil {
			t.Fatalf("write %q: %v\n%s", line, err, stderr.String())
		}
	}
	next := func(t *testing.T) reply {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("stdout ended: %v\nstderr:\n%s", lines.Err(), stderr.String())
		}
		var r reply
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatalf("reply %q is not JSON: %v", lines.Text(), err)
		}
		return r
	}
	send(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"garbage-test","version":"1"}}}`)
	if r := next(t); r.Error != nil || len(r.Result) == 0 {
		t.Fatalf("initialize: %+v", r)
	}
	send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	tests := []struct {
		name string
		line string
		code int
		id   any
	}{
		{"not JSON", `hello, server`, -32700, nil},
		{"cut-off JSON", `{"jsonrpc":"2.0","id":2,"method":"tools/list"`, -32700, nil},
		{"binary", "\x00\x01\xff\xfe", -32700, nil},
		{"JSON but no message", `{"foo": 1}`, -32600, nil},
		{"an id but no method", `{"jsonrpc":"2.0","id":7}`, -32600, float64(7)},
		{"a batch", `[{"jsonrpc":"2.0","id":3,"method":"tools/list"}]`, -32600, nil},
		{"a bare number", `42`, -32600, nil},
		{"far too long", `{"x":"` + strings.Repeat("y", 5<<20) + `"}`, -32700, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send(t, "")
			send(t, tt.line)
			r := next(t)
			if r.Error == nil || r.Error.Code != tt.code || r.ID != tt.id {
				t.Errorf("reply %+v (error %+v), want code %d and id %v", r, r.Error, tt.code, tt.id)
			}
			// The server still answers.
			send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, 100+i))
			if r := next(t); r.Error != nil || !strings.Contains(string(r.Result), "execute_multi_query") || r.ID != float64(100+i) {
				t.Errorf("tools/list after the bad line: %+v", r)
			}
		})
	}

	// Closing stdin ends the server, cleanly.
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve --stdio exited with %v after stdin closed\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve --stdio still running 30 s after stdin closed\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "bad message on stdin") {
		t.Errorf("the bad lines were not logged:\n%s", stderr.String())
	}
}
