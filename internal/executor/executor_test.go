package executor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestExecutor_Run(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		calls int // concurrent calls sharing the executor
		jobs  int
	}{
		{"one call under the limit", 10, 1, 3},
		{"one call over the limit", 10, 1, 30},
		{"the bound is server-wide", 4, 3, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(tt.limit, PerClient(tt.limit))
			// The jobs hold their slots until as many run at once as the
			// limit allows: an executor running fewer at a time (one at a
			// time, say) leaves them waiting, and the test fails.
			wantPeak := min(tt.limit, tt.calls*tt.jobs)
			reached := make(chan struct{})
			var once sync.Once
			var running, peak atomic.Int32
			var wg sync.WaitGroup
			for range tt.calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					runs := make([]atomic.Int32, tt.jobs)
					slots := make([]int, tt.jobs)
					e.Run(context.Background(), tt.jobs, func(ctx context.Context, i int, _ time.Duration) {
						runs[i].Add(1)
						n := running.Add(1)
						for {
							p := peak.Load()
							if n <= p || peak.CompareAndSwap(p, n) {
								break
							}
						}
						if int(n) == wantPeak {
							once.Do(func() { close(reached) })
						}
						select {
						case <-reached:
						case <-time.After(10 * time.Second):
							t.Errorf("job %d: never %d jobs at once (peak %d): the executor does not run jobs concurrently", i, wantPeak, peak.Load())
						}
						// Later jobs finish first: order must still hold.
						time.Sleep(time.Duration(tt.jobs-i) * time.Millisecond)
						slots[i] = i + 1
						running.Add(-1)
					})
					for i, v := range slots {
						if v != i+1 {
							t.Errorf("slot %d = %d: a job did not run or ran out of order", i, v)
						}
						if n := runs[i].Load(); n != 1 {
							t.Errorf("job %d ran %d times, want once", i, n)
						}
					}
				}()
			}
			wg.Wait()
			if p := int(peak.Load()); p > tt.limit {
				t.Errorf("peak concurrency %d exceeds limit %d", p, tt.limit)
			}
		})
	}
}

func TestExecutor_RunCancelled(t *testing.T) {
	e := New(1)
	ctx, cancel := context.WithCancel(context.Background())
	var sawCancel atomic.Int32
	e.Run(ctx, 5, func(ctx context.Context, i int, _ time.Duration) {
		if i == 0 {
			cancel()
			return
		}
		if ctx.Err() != nil {
			sawCancel.Add(1)
		}
	})
	if sawCancel.Load() != 4 {
		t.Errorf("%d of 4 waiting jobs saw the cancellation", sawCancel.Load())
	}
}

// TestExecutor_PerClient floods the executor from one client whose jobs
// block, and checks that the client never holds more than its allowance
// and that another client's job runs while the flood is still blocked.
func TestExecutor_PerClient(t *testing.T) {
	tests := []struct {
		name      string
		limit     int
		perClient int
		want      int // the flooding client's allowance
	}{
		{"default is half the slots", 10, 0, 5},
		{"configured", 10, 3, 3},
		{"never above the limit", 4, 9, 4},
		{"at least one", 1, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(tt.limit, PerClient(tt.perClient))
			if e.PerClientLimit() != tt.want {
				t.Fatalf("PerClientLimit() = %d, want %d", e.PerClientLimit(), tt.want)
			}
			unblock := make(chan struct{})
			var running, peak atomic.Int32
			started := make(chan struct{}, 30)
			flood := make(chan struct{})
			go func() {
				defer close(flood)
				e.Run(WithClient(context.Background(), "flood"), 30, func(ctx context.Context, i int, _ time.Duration) {
					n := running.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					started <- struct{}{}
					<-unblock
					running.Add(-1)
				})
			}()
			for range tt.want {
				<-started
			}
			if tt.want < tt.limit {
				// Another client gets a slot while the flood holds its
				// allowance and has 30-allowance jobs waiting.
				done := make(chan struct{})
				go e.Run(WithClient(context.Background(), "other"), 1, func(context.Context, int, time.Duration) { close(done) })
				<-done
			}
			close(unblock)
			<-flood
			if p := int(peak.Load()); p != tt.want {
				t.Errorf("the flooding client ran %d jobs at once, want its allowance %d", p, tt.want)
			}
		})
	}
}

// TestExecutor_RoundRobin holds the only slot, queues work from three
// clients, and checks that slots are then handed out one job per client
// per turn, each client's jobs in their own order.
func TestExecutor_RoundRobin(t *testing.T) {
	e := New(1, PerClient(1))
	hold := make(chan struct{})
	held := make(chan struct{})
	go e.Run(WithClient(context.Background(), "a"), 1, func(context.Context, int, time.Duration) {
		close(held)
		<-hold
	})
	<-held
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	queue := func(client string, n int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Run(WithClient(context.Background(), client), n, func(_ context.Context, i int, waited time.Duration) {
				mu.Lock()
				order = append(order, fmt.Sprintf("%s%d", client, i))
				mu.Unlock()
				if waited <= 0 {
					t.Errorf("job %s%d waited %v: it queued behind the held slot", client, i, waited)
				}
			})
		}()
		// Wait until the jobs are queued, so the arrival order is known.
		for {
			e.mu.Lock()
			c := e.clients[client]
			queued := c != nil && len(c.waiting) > 0
			e.mu.Unlock()
			if queued {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	queue("a", 3)
	queue("b", 3)
	queue("c", 1)
	close(hold)
	wg.Wait()
	// The ring holds the clients in the order their work queued: a, b, c.
	want := []string{"a0", "b0", "c0", "a1", "b1", "a2", "b2"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("jobs ran in order %v, want %v (one per client per turn)", order, want)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.clients) != 0 || len(e.ring) != 0 || e.running != 0 {
		t.Errorf("after all jobs: %d clients, %d in the ring, %d running; want none", len(e.clients), len(e.ring), e.running)
	}
}

// TestExecutor_CancelWhileQueued ends a waiting job's context: the job is
// called with the ended context, and the slot it never got is not lost.
func TestExecutor_CancelWhileQueued(t *testing.T) {
	e := New(1)
	hold := make(chan struct{})
	held := make(chan struct{})
	go e.Run(context.Background(), 1, func(context.Context, int, time.Duration) {
		close(held)
		<-hold
	})
	<-held
	ctx, cancel := context.WithCancel(WithClient(context.Background(), "x"))
	called := make(chan error, 1)
	go e.Run(ctx, 1, func(ctx context.Context, _ int, _ time.Duration) { called <- ctx.Err() })
	for {
		e.mu.Lock()
		queued := e.clients["x"] != nil
		e.mu.Unlock()
		if queued {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-called; err == nil {
		t.Error("the cancelled job was called with a live context")
	}
	close(hold)
	ran := make(chan struct{})
	go e.Run(context.Background(), 1, func(context.Context, int, time.Duration) { close(ran) })
	<-ran
}
