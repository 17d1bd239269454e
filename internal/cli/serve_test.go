package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe_SeesNewDatasets runs "serve" with no configuration but a data
// directory, registers a dataset with "datasets add" from another command
// while it runs, and checks an MCP client sees it within seconds.
func TestServe_SeesNewDatasets(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0"},
			Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: stderr, Environ: []string{"MCPA_CATALOG_POLL=200ms"}})
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, stderr.String())
		}
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
	for _, want := range []string{"mcp-analytics ", "datasets:     2", "1. Sample Dataset (duckdb)", "2. Streaming Panel (duckdb)", "tools:        list_available_datasets"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, stderr.String())
		}
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "live", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	datasets := func() string {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_available_datasets", Arguments: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Content[0].(*mcp.TextContent).Text
	}
	if md := datasets(); !strings.Contains(md, "**Total**: 2") {
		t.Fatalf("before: %s", md)
	}
	code, _, errOut := run(t, "datasets", "add", "--data-dir", dir, "--name", "Copy of the sample", "--driver", "duckdb", "--dsn", dir+"/demo/sample_dataset.duckdb")
	if code != 0 {
		t.Fatalf("datasets add: %s", errOut)
	}
	added := time.Now()
	for !strings.Contains(datasets(), "Copy of the sample") {
		if time.Since(added) > 5*time.Second {
			t.Fatal("the running server did not see the new dataset within 5 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query_dataset", Arguments: map[string]any{"dataset_id": 3, "query": "SELECT COUNT(*) FROM users"}})
	if err != nil || res.IsError {
		t.Errorf("query on the new dataset: %v %v", err, res.Content[0].(*mcp.TextContent).Text)
	}
}
