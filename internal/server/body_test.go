package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

// TestHandler_HostileBodies sends bodies that are too large or too deeply
// nested over a raw connection and reads the status line. The server must
// answer without waiting for the rest of a huge body: the test sends only
// its start, so a server that read it all would never answer.
func TestHandler_HostileBodies(t *testing.T) {
	e := newEnv(t, false, nil, server.Options{MaxBodyBytes: 1 << 20})
	u, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	tests := []struct {
		name    string
		headers string
		body    string // what is sent of the body
		status  int
		message string
	}{
		{"a declared 100 MB body", "Content-Length: 104857600\r\n", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"` + strings.Repeat("x", 4096),
			http.StatusRequestEntityTooLarge, "request body exceeds 1048576 bytes"},
		{"a chunked body past the cap", "Transfer-Encoding: chunked\r\n", chunked(strings.Repeat("y", 64<<10), 20),
			http.StatusRequestEntityTooLarge, "request body exceeds 1048576 bytes"},
		{"nesting 100,000 deep", fmt.Sprintf("Content-Length: %d\r\n", len(deep)), deep,
			http.StatusBadRequest, "nested more than 64 levels deep"},
		{"nesting inside a valid call", "", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query_dataset","arguments":{"dataset_id":1,"query":` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat("}", 100) + `}}}`,
			http.StatusBadRequest, "nested more than 64 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := tt.headers
			if headers == "" {
				headers = fmt.Sprintf("Content-Length: %d\r\n", len(tt.body))
			}
			c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			go func() {
				_, _ = io.WriteString(c, "POST /mcp HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"+headers+"\r\n"+tt.body)
			}()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.message) {
				t.Errorf("status %d %q, want %d and %q", resp.StatusCode, b, tt.status, tt.message)
			}
		})
	}
}

// chunked encodes n chunks of s in HTTP/1.1 chunked transfer coding,
// without the final empty chunk (the body never ends).
func chunked(s string, n int) string {
	var b strings.Builder
	for range n {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(s), s)
	}
	return b.String()
}
