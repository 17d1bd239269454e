package bench

import (
	"context"
	"fmt"
)

// overhead compares query_dataset over Streamable HTTP with raw pgx
// running the same SQL, sample by sample, alternating so that drift in
// the machine's load affects both alike.
func (b *run) overhead(ctx context.Context, r *Report) error {
	cs, err := b.h.connect(ctx)
	if err != nil {
		return err
	}
	defer cs.Close()
	heavy := max(b.cfg.Iterations/10, 3)
	cases := []struct {
		name  string
		sql   func(users, i int) string
		iters int
	}{
		{"primary-key lookup", pkLookup, b.cfg.Iterations},
		{"~5 ms aggregate", smallAggregate, b.cfg.Iterations},
		{"heavy aggregate (full scan)", heavyAggregate, heavy},
	}
	for _, c := range cases {
		b.step("measuring per-call overhead: %s (%d samples)", c.name, c.iters)
		var ours, asRun, asWritten samples
		for i := -3; i < c.iters; i++ { // three warm-up rounds
			sql := c.sql(b.cfg.Users, max(i, 0))
			run, err := b.h.plan(ctx, b.h.local, sql)
			if err != nil {
				return err
			}
			d1, err := timed(func() error { return rawQuery(ctx, b.h.rawLocal, run) })
			if err != nil {
				return fmt.Errorf("raw pgx %q: %w", run, err)
			}
			d2, err := timed(func() error { return query(ctx, cs, b.h.local, sql) })
			if err != nil {
				return fmt.Errorf("query_dataset %q: %w", sql, err)
			}
			d3, err := timed(func() error { return rawQuery(ctx, b.h.rawLocal, sql) })
			if err != nil {
				return fmt.Errorf("raw pgx %q: %w", sql, err)
			}
			if i >= 0 {
				asRun, ours, asWritten = append(asRun, d1), append(ours, d2), append(asWritten, d3)
			}
		}
		r.Overhead = append(r.Overhead, OverheadRow{
			Case: c.name, SQL: c.sql(b.cfg.Users, 0), Samples: c.iters,
			RawP50: asRun.median(), RawP95: asRun.percentile(95),
			OursP50: ours.median(), OursP95: ours.percentile(95),
			RawAsWrittenP50: asWritten.median(),
			RatioP50:        ratio(ours.median(), asRun.median()),
			RatioP95:        ratio(ours.percentile(95), asRun.percentile(95)),
		})
	}
	return nil
}
