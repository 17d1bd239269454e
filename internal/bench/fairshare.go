package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// FairShareRow is the fair-share part: one client (an MCP session) floods
// the server with execute_multi_query batches of 30 queries, several at
// once, against the dataset RTTMS away, while a second client asks one
// primary-key lookup at a time. Its latency under the flood is compared
// with its latency on the idle server.
type FairShareRow struct {
	RTTMS float64 `json:"rtt_ms"`
	// FloodBatches is how many batches of 30 the flooding client keeps in
	// flight; FloodQueries how many queries it completed while the second
	// client was measured, FloodPerSec at what rate.
	FloodBatches int     `json:"flood_batches"`
	FloodQueries int     `json:"flood_queries"`
	FloodPerSec  float64 `json:"flood_queries_per_sec"`
	Samples      int     `json:"samples"`
	IdleP50      float64 `json:"idle_p50_ms"`
	IdleP95      float64 `json:"idle_p95_ms"`
	FloodP50     float64 `json:"flood_p50_ms"`
	FloodP95     float64 `json:"flood_p95_ms"`
	// QueueP50 and QueueP95 are the second client's queue_ms under the
	// flood: how long its query waited for a slot.
	QueueP50 float64 `json:"queue_p50_ms"`
	QueueP95 float64 `json:"queue_p95_ms"`
	RatioP50 float64 `json:"ratio_p50"`
	RatioP95 float64 `json:"ratio_p95"`
	Errors   int     `json:"errors"`
}

// floodBatches is how many 30-query batches the flooding client keeps in
// flight: each takes its client's whole allowance, so the others queue
// behind it.
const floodBatches = 4

// fairshare measures the second client's latency idle and under the flood.
func (b *run) fairshare(ctx context.Context, r *Report) error {
	rm := b.h.remotes[0]
	b.step("fair share: one client floods with %d batches of 30 queries at once, %s away; another asks single lookups", floodBatches, rm.rtt)
	victim, err := b.h.connect(ctx)
	if err != nil {
		return err
	}
	defer victim.Close()
	flooder, err := b.h.connect(ctx)
	if err != nil {
		return err
	}
	defer flooder.Close()
	n := max(b.cfg.Iterations/4, 5)
	ask := func(i int) (time.Duration, float64, error) {
		start := time.Now()
		res, err := victim.CallTool(ctx, &mcp.CallToolParams{Name: "query_dataset",
			Arguments: map[string]any{"dataset_id": rm.dataset, "query": pkLookup(b.cfg.Users, i)}})
		d := time.Since(start)
		if err != nil {
			return d, 0, err
		}
		if res.IsError {
			return d, 0, &callError{text: firstText(res)}
		}
		var out struct {
			QueueMS float64 `json:"queue_ms"`
		}
		raw, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(raw, &out)
		return d, out.QueueMS, nil
	}
	row := FairShareRow{RTTMS: millis(rm.rtt), FloodBatches: floodBatches, Samples: n}
	// Warm the pools, then measure the idle server.
	for i := range 3 {
		if _, _, err := ask(i); err != nil {
			return fmt.Errorf("fair share, warm-up: %w", err)
		}
	}
	var idle samples
	for i := range n {
		d, _, err := ask(i)
		if err != nil {
			return fmt.Errorf("fair share, idle: %w", err)
		}
		idle = append(idle, d)
	}

	floodCtx, stopFlood := context.WithCancel(ctx)
	var flooded atomic.Int64
	var wg sync.WaitGroup
	qs := multiQueries(b.cfg.Users, 30)
	for range floodBatches {
		wg.Go(func() {
			for floodCtx.Err() == nil {
				if err := multi(floodCtx, flooder, rm.dataset, qs); err == nil {
					flooded.Add(30)
				}
			}
		})
	}
	// Let the flood take its slots before measuring.
	time.Sleep(max(5*rm.rtt, 200*time.Millisecond))
	start, before := time.Now(), flooded.Load()
	var under, queued samples
	for i := range n {
		d, q, err := ask(n + i)
		if err != nil {
			row.Errors++
			continue
		}
		under = append(under, d)
		queued = append(queued, time.Duration(q*float64(time.Millisecond)))
	}
	// The flood is counted in whole batches of 30: with few, fast samples
	// none may have ended yet, so the window stays open until one has
	// (bounded), and the rate is over the window as it was.
	for flooded.Load() == before && time.Since(start) < 30*time.Second && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	elapsed, done := time.Since(start), flooded.Load()-before
	stopFlood()
	wg.Wait()
	if len(under) == 0 {
		return fmt.Errorf("fair share: every call under the flood failed")
	}
	row.FloodQueries = int(done)
	row.FloodPerSec = round(float64(done)/elapsed.Seconds(), 1)
	row.IdleP50, row.IdleP95 = idle.median(), idle.percentile(95)
	row.FloodP50, row.FloodP95 = under.median(), under.percentile(95)
	row.QueueP50, row.QueueP95 = queued.median(), queued.percentile(95)
	row.RatioP50, row.RatioP95 = ratio(row.FloodP50, row.IdleP50), ratio(row.FloodP95, row.IdleP95)
	r.FairShare = &row
	return nil
}
