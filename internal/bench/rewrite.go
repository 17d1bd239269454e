package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
)

// rewrite measures the rewrite path alone: parse, guard, classify,
// weight, cap and deparse, as analysis.Plan does per query.
func (b *run) rewrite(ctx context.Context, r *Report) error {
	b.step("measuring the rewrite path")
	hd, err := b.h.reg.Open(ctx, b.h.local)
	if err != nil {
		return fmt.Errorf("open the benchmark dataset: %w", err)
	}
	defer hd.Release()
	// Each case has its text and, for the repeated-shape column, the text
	// of the i-th question of the same shape (other literals).
	fixed := func(q string) func(int) string { return func(int) string { return q } }
	users := b.cfg.Users
	cases := []struct {
		name string
		sql  func(i int) string
	}{
		{"primary-key lookup (raw)", func(i int) string { return pkLookup(users, i) }},
		{"grouped aggregate", func(i int) string { return smallAggregate(users, i) }},
		{"event-level reach (join to users)", func(i int) string {
			return fmt.Sprintf("SELECT app_name, COUNT(DISTINCT user_id) AS reach FROM app_usage WHERE usage_minutes > %d GROUP BY app_name", 2+i%50)
		}},
		{"weighted mean", func(i int) string {
			return fmt.Sprintf("SELECT age_group, AVG(spend) FROM users WHERE spend > %d GROUP BY age_group", 2+i%500)
		}},
		{"share of total (window over aggregate)", fixed("SELECT nccs, COUNT(*) AS n, 100.0 * COUNT(*) / SUM(COUNT(*)) OVER () AS pct FROM users GROUP BY nccs")},
		{"two-stage mean (CTE per panelist)", fixed("WITH per_user AS (SELECT user_id, SUM(usage_minutes) AS total FROM app_usage GROUP BY user_id) SELECT AVG(total) FROM per_user")},
	}
	for _, c := range cases {
		req := analysis.Request{DatasetID: b.h.local, Query: c.sql(0), ApplyWeights: true, MergeNCCS: true}
		if _, err := analysis.Plan(hd, req); err != nil {
			return fmt.Errorf("plan %q: %w", req.Query, err)
		}
		first, allocs := measurePlan(func(int) error { _, err := analysis.Plan(hd, req); return err })
		repeated, _ := measurePlan(func(i int) error {
			r := req
			r.Query = c.sql(i)
			_, err := b.h.svc.PlanCached(hd, r)
			return err
		})
		r.Rewrite = append(r.Rewrite, RewriteRow{
			Case: c.name, SQL: req.Query,
			MicrosPerQuery: round(first, 1), AllocsPerQuery: allocs,
			RepeatedMicrosPerQuery: round(repeated, 2),
		})
	}
	return nil
}

// measurePlan calls plan for at least 50 times and 200 ms and returns the
// microseconds and allocations per call.
func measurePlan(plan func(i int) error) (micros float64, allocs int) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.Mallocs
	n, start := 0, time.Now()
	for n < 50 || time.Since(start) < 200*time.Millisecond {
		if err := plan(n); err != nil {
			return 0, 0
		}
		n++
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&ms)
	return float64(elapsed.Nanoseconds()) / float64(n) / 1e3, int((ms.Mallocs - before) / uint64(n))
}
