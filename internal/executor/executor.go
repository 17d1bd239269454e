// Package executor runs a call's queries concurrently under one server-wide
// bound. Results go into indexed slots owned by the caller, so they come
// back in request order whatever order they finish in, and one job's
// failure never cancels its siblings.
package executor

import (
	"context"
	"sync"
)

// Executor bounds how many jobs run at once across every call it serves.
type Executor struct {
	slots chan struct{}
}

// New returns an executor that runs at most limit jobs at once.
func New(limit int) *Executor {
	if limit < 1 {
		limit = 1
	}
	return &Executor{slots: make(chan struct{}, limit)}
}

// Limit returns the number of jobs that may run at once.
func (e *Executor) Limit() int { return cap(e.slots) }

// Run calls job(ctx, i) for every i in [0, n) and returns when all have
// returned. At most Limit jobs run at once, counting those of concurrent
// calls. A job whose turn has not come when ctx ends is still called, with
// that ended ctx, so it reports the cancellation in its own slot.
func (e *Executor) Run(ctx context.Context, n int, job func(ctx context.Context, i int)) {
	if n == 1 {
		// One job runs on the caller's goroutine: a single query_dataset
		// call then costs no goroutine hand-off.
		select {
		case e.slots <- struct{}{}:
			defer func() { <-e.slots }()
		case <-ctx.Done():
		}
		job(ctx, 0)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		select {
		case e.slots <- struct{}{}:
		case <-ctx.Done():
			job(ctx, i)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-e.slots }()
			job(ctx, i)
		}()
	}
	wg.Wait()
}
