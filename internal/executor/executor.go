// Package executor runs a call's queries concurrently under one server-wide
// bound, shared fairly between clients. Results go into indexed slots owned
// by the caller, so they come back in request order whatever order they
// finish in, and one job's failure never cancels its siblings.
//
// Fair share: each client (an API token, an OAuth subject, or an MCP
// session when there is no auth; see [WithClient]) may hold at most its
// allowance of the slots at once (half of them by default), and when slots
// free up, waiting work is served round-robin across the clients that have
// some, one job per client per turn. A client that floods the server with
// batches of slow queries therefore never holds more than its allowance,
// and another client's query waits at most for one slot to free up, not
// behind the whole flood.
package executor

import (
	"context"
	"sync"
	"time"
)

// Executor bounds how many jobs run at once across every call it serves,
// and how many of them one client may hold.
type Executor struct {
	limit     int
	perClient int

	mu      sync.Mutex
	running int
	clients map[string]*client
	// ring lists the clients with waiting work, in the order they are
	// served; next is the position of the client served next.
	ring []*client
	next int
}

// client is one client's share: its running jobs and its waiting ones, in
// arrival order.
type client struct {
	key     string
	running int
	waiting []*waiter
	inRing  bool
}

// waiter is one job waiting for a slot. granted is closed when it gets one.
type waiter struct {
	c       *client
	granted chan struct{}
	done    bool // granted (under mu)
}

// Option configures an Executor.
type Option func(*Executor)

// PerClient sets how many jobs one client may run at once; n <= 0 keeps the
// default, half the limit (at least 1). It is capped at the limit.
func PerClient(n int) Option {
	return func(e *Executor) {
		if n > 0 {
			e.perClient = n
		}
	}
}

// New returns an executor that runs at most limit jobs at once, of which
// one client may run at most its allowance (see [PerClient]).
func New(limit int, opts ...Option) *Executor {
	if limit < 1 {
		limit = 1
	}
	e := &Executor{limit: limit, perClient: max(limit/2, 1), clients: map[string]*client{}}
	for _, o := range opts {
		o(e)
	}
	e.perClient = min(e.perClient, limit)
	return e
}

// Limit returns the number of jobs that may run at once.
func (e *Executor) Limit() int { return e.limit }

// PerClientLimit returns the number of jobs one client may run at once.
func (e *Executor) PerClientLimit() int { return e.perClient }

type clientKey struct{}

// WithClient returns ctx naming the client on whose behalf its jobs run.
// Jobs of a context without a client share the allowance of the client "".
func WithClient(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, clientKey{}, key)
}

// Client returns the client ctx names ("" when none).
func Client(ctx context.Context) string {
	k, _ := ctx.Value(clientKey{}).(string)
	return k
}

// Job is one unit of work of a call. waited is how long it queued for a
// slot (the server-wide bound or its client's allowance); a job whose turn
// had not come when ctx ended is still called, with that ended ctx, so it
// reports the cancellation in its own slot.
type Job func(ctx context.Context, i int, waited time.Duration)

// Run calls job(ctx, i, waited) for every i in [0, n) and returns when all
// have returned. At most Limit jobs run at once, counting those of
// concurrent calls, and at most PerClientLimit of them for the client of
// ctx. All n jobs queue at once, so the call keeps its client's place in
// the round-robin; a goroutine is started only for a job that got a slot.
func (e *Executor) Run(ctx context.Context, n int, job Job) {
	if n <= 0 {
		return
	}
	start := time.Now()
	ws := e.enqueue(Client(ctx), n)
	if n == 1 {
		// One job runs on the caller's goroutine: a single query_dataset
		// call then costs no goroutine hand-off.
		if e.wait(ctx, ws[0]) {
			defer e.release(ws[0].c)
		}
		job(ctx, 0, time.Since(start))
		return
	}
	var wg sync.WaitGroup
	for i, w := range ws {
		if !e.wait(ctx, w) {
			job(ctx, i, time.Since(start))
			continue
		}
		waited := time.Since(start)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer e.release(w.c)
			job(ctx, i, waited)
		}()
	}
	wg.Wait()
}

// enqueue queues n jobs of client key and grants what can be granted at
// once.
func (e *Executor) enqueue(key string, n int) []*waiter {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.clients[key]
	if c == nil {
		c = &client{key: key}
		e.clients[key] = c
	}
	ws := make([]*waiter, n)
	for i := range ws {
		ws[i] = &waiter{c: c, granted: make(chan struct{})}
	}
	c.waiting = append(c.waiting, ws...)
	if !c.inRing {
		c.inRing = true
		e.ring = append(e.ring, c)
	}
	e.dispatchLocked()
	return ws
}

// wait waits until w holds a slot and reports true, or until ctx ends and
// reports false, holding nothing.
func (e *Executor) wait(ctx context.Context, w *waiter) bool {
	select {
	case <-w.granted:
		return true
	default:
	}
	select {
	case <-w.granted:
		return true
	case <-ctx.Done():
	}
	e.mu.Lock()
	if w.done {
		// Granted while ctx ended: give the slot back.
		e.mu.Unlock()
		e.release(w.c)
		return false
	}
	c := w.c
	for i, x := range c.waiting {
		if x == w {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			break
		}
	}
	e.forgetLocked(c)
	e.mu.Unlock()
	return false
}

// release gives back a slot of client c and hands free slots on.
func (e *Executor) release(c *client) {
	e.mu.Lock()
	e.running--
	c.running--
	e.dispatchLocked()
	e.forgetLocked(c)
	e.mu.Unlock()
}

// dispatchLocked grants free slots to waiting jobs, round-robin over the
// clients in the ring: one job per client per turn, skipping clients at
// their allowance.
func (e *Executor) dispatchLocked() {
	for e.running < e.limit && len(e.ring) > 0 {
		granted := false
		for range len(e.ring) {
			if e.next >= len(e.ring) {
				e.next = 0
			}
			c := e.ring[e.next]
			if c.running >= e.perClient || len(c.waiting) == 0 {
				e.next++
				continue
			}
			w := c.waiting[0]
			c.waiting = c.waiting[1:]
			w.done = true
			c.running++
			e.running++
			close(w.granted)
			granted = true
			if len(c.waiting) == 0 {
				e.removeFromRingLocked(e.next)
			} else {
				e.next++
			}
			break
		}
		if !granted {
			return // every waiting client is at its allowance
		}
	}
}

// removeFromRingLocked takes the client at position i out of the ring,
// keeping the round-robin position on the client after it.
func (e *Executor) removeFromRingLocked(i int) {
	e.ring[i].inRing = false
	e.ring = append(e.ring[:i], e.ring[i+1:]...)
	if e.next > i {
		e.next--
	}
	if e.next >= len(e.ring) {
		e.next = 0
	}
}

// forgetLocked drops c from the ring when it no longer waits, and from the
// clients when it holds nothing either, so the map does not grow with every
// session ever seen.
func (e *Executor) forgetLocked(c *client) {
	if len(c.waiting) == 0 && c.inRing {
		for i, x := range e.ring {
			if x == c {
				e.removeFromRingLocked(i)
				break
			}
		}
	}
	if len(c.waiting) == 0 && c.running == 0 && e.clients[c.key] == c {
		delete(e.clients, c.key)
	}
}
