package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := openStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec := func(label, outcome, client string) catalog.QueryRecord {
		return catalog.QueryRecord{ID: querylog.NewID(), Kind: catalog.KindCall, Time: time.Now(), DurationMS: 3, Tool: "query_dataset",
			DatasetID: 1, DatasetName: "Panel", QuerySent: "SELECT 1 -- " + label, Outcome: outcome, ClientName: client, Label: label}
	}
	if err := store.AppendQueryLog(ctx, []catalog.QueryRecord{rec("one", "ok", "claude-ai"), rec("two", "caller_error", "ChatGPT")}); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + dir
	for _, tt := range []struct {
		args []string
		want []string // substrings, in order
		code int
	}{
		{[]string{"log", dd}, []string{"TIME", "SELECT 1 -- one", "caller_error"}, 0},
		{[]string{"log", dd, "--client", "chatgpt", "--format", "json"}, []string{`"label":"two"`}, 0},
		{[]string{"log", dd, "--format", "csv", "--search", "one"}, []string{"seq,id,time", ",one,query_dataset,"}, 0},
		{[]string{"log", dd, "--outcome", "fine"}, []string{"outcome must be one of"}, 2},
		{[]string{"log", dd, "--since", "yesterday"}, []string{"neither a duration"}, 2},
	} {
		code, stdout, stderr := run(t, tt.args...)
		out := stdout + stderr
		at := 0
		for _, w := range tt.want {
			i := strings.Index(out[at:], w)
			if i < 0 {
				t.Errorf("%v: output lacks %q (in order):\n%s", tt.args, w, out)
				break
			}
			at += i
		}
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d", tt.args, code, tt.code)
		}
	}

	// --follow prints what is written after it started, once each.
	fctx, cancel := context.WithCancel(ctx)
	var out lockedBuffer
	done := make(chan int)
	go func() {
		done <- Run(fctx, []string{"log", dd, "--follow", "--every", "50ms", "--format", "json", "--limit", "1"}, Env{Stdout: &out, Stderr: &out})
	}()
	time.Sleep(200 * time.Millisecond)
	for i := range 3 {
		if err := store.AppendQueryLog(ctx, []catalog.QueryRecord{rec(fmt.Sprintf("new%d", i), "ok", "claude-ai")}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "\n") < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond) // a few more polls: nothing may repeat
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("log --follow exited %d", code)
	}
	got := out.String()
	if strings.Count(got, "\n") != 4 || !strings.Contains(got, `"label":"two"`) || !strings.Contains(got, `"label":"new2"`) || strings.Contains(got, `"label":"one"`) {
		t.Errorf("log --follow printed:\n%s\nwant the last record, then the three new ones once each", got)
	}
}
