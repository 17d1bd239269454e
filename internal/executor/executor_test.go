package executor

import (
	"context"
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
			e := New(tt.limit)
			var running, peak atomic.Int32
			var wg sync.WaitGroup
			for range tt.calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					slots := make([]int, tt.jobs)
					e.Run(context.Background(), tt.jobs, func(ctx context.Context, i int) {
						n := running.Add(1)
						for {
							p := peak.Load()
							if n <= p || peak.CompareAndSwap(p, n) {
								break
							}
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
	e.Run(ctx, 5, func(ctx context.Context, i int) {
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
