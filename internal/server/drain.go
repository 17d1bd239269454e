package server

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Drain counts the /mcp requests in flight and refuses new ones once the
// server starts shutting down, so a load balancer moves clients to other
// replicas while the calls already running finish. /readyz reports the
// drain as soon as it starts.
type Drain struct {
	draining atomic.Bool

	mu       sync.Mutex
	inFlight int // HTTP requests carrying calls
	calls    int // MCP calls being handled (see Middleware)
	waiters  []chan struct{}
}

// NewDrain returns a drain that has not started.
func NewDrain() *Drain { return &Drain{} }

// Draining reports whether the drain has started.
func (d *Drain) Draining() bool { return d.draining.Load() }

// InFlight returns the number of requests and calls being served.
func (d *Drain) InFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return max(d.inFlight, d.calls)
}

// begin starts the drain and returns the requests in flight.
func (d *Drain) begin() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.draining.Store(true)
	return max(d.inFlight, d.calls)
}

// idle returns a channel closed once no request is in flight.
func (d *Drain) idle() <-chan struct{} {
	ch := make(chan struct{})
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inFlight == 0 && d.calls == 0 {
		close(ch)
	} else {
		d.waiters = append(d.waiters, ch)
	}
	return ch
}

// wrap counts POST requests (the ones carrying calls) and refuses every
// request with 503 once draining.
func (d *Drain) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		if d.draining.Load() {
			d.mu.Unlock()
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			http.Error(w, "the server is shutting down; retry (another replica will answer)", http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost {
			d.mu.Unlock()
			next.ServeHTTP(w, r)
			return
		}
		d.inFlight++
		d.mu.Unlock()
		defer d.release(func() { d.inFlight-- })
		next.ServeHTTP(w, r)
	})
}

// Middleware is an MCP receiving middleware counting the calls being
// handled: with stateful sessions a call can outlive the HTTP request
// that carried it, and the server must not stop (nor close the query log)
// before its handler has returned. Install it outside the query log's
// recorder, so a call counts until its record is written.
func (d *Drain) Middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		d.mu.Lock()
		d.calls++
		d.mu.Unlock()
		defer d.release(func() { d.calls-- })
		return next(ctx, method, req)
	}
}

// release applies dec under the lock and wakes the waiters once idle.
func (d *Drain) release(dec func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dec()
	if d.inFlight == 0 && d.calls == 0 {
		for _, ch := range d.waiters {
			close(ch)
		}
		d.waiters = nil
	}
}
