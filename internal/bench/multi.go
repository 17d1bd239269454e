package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sync/errgroup"
)

// multiQuerySpan is how many consecutive panelists each multi-query
// question reads, through the primary key.
const multiQuerySpan = 500

// multiQueries returns n cheap, different aggregates, the kind of
// questions an assistant batches: shares, totals, means and reach, each on
// a narrow slice of the panel read through an index. SPEC §10's goal for
// execute_multi_query is about round trips to a database 20 ms away, so
// the questions are chosen so that the database's own time per query is
// small next to the round trip (the report shows it, measured with raw pgx
// next to the database); means and reach percentages are included because
// the design's constants no longer make them scan the weights table.
func multiQueries(users, n int) []string {
	states := []string{"Maharashtra", "Delhi", "Karnataka", "Tamil Nadu", "Uttar Pradesh", "West Bengal", "Gujarat", "Telangana", "Rajasthan", "Kerala"}
	span := min(users, multiQuerySpan)
	out := make([]string, n)
	for i := range out {
		lo := 1 + (i*3571)%max(users-span, 1)
		hi := lo + span
		switch i % 5 {
		case 0:
			out[i] = fmt.Sprintf("SELECT nccs, COUNT(*) FROM users WHERE state = '%s' AND user_id BETWEEN %d AND %d GROUP BY nccs", states[i%len(states)], lo, hi)
		case 1:
			out[i] = fmt.Sprintf("SELECT gender, SUM(spend) AS spend FROM users WHERE user_id BETWEEN %d AND %d GROUP BY gender", lo, hi)
		case 2:
			out[i] = fmt.Sprintf("SELECT app_name, SUM(usage_minutes) AS minutes FROM app_usage WHERE user_id BETWEEN %d AND %d GROUP BY app_name", lo, hi)
		case 3:
			out[i] = fmt.Sprintf("SELECT age_group, AVG(spend) AS avg_spend FROM users WHERE user_id BETWEEN %d AND %d GROUP BY age_group", lo, hi)
		default:
			out[i] = fmt.Sprintf("SELECT app_name, COUNT(DISTINCT user_id) AS reach FROM app_usage WHERE user_id BETWEEN %d AND %d GROUP BY app_name", lo, hi)
		}
	}
	return out
}

// multi compares one execute_multi_query call with the same queries as
// sequential query_dataset calls, against the remote dataset.
func (b *run) multi(ctx context.Context, r *Report) error {
	cs, err := b.h.connect(ctx)
	if err != nil {
		return err
	}
	defer cs.Close()
	for _, rm := range b.h.remotes {
		if err := b.multiAt(ctx, r, cs, rm); err != nil {
			return err
		}
	}
	return nil
}

// multiAt measures every multi-query size against the dataset rm.rtt away.
func (b *run) multiAt(ctx context.Context, r *Report, cs *mcp.ClientSession, rm *remote) error {
	largest := 0
	for _, n := range b.cfg.MultiSizes {
		largest = max(largest, n)
	}
	// Warm up, as a server that has been answering for a while is: every
	// pooled connection open, and every PostgreSQL backend behind them
	// having planned these kinds of queries before (a backend's first
	// query on a table or function loads catalog entries: milliseconds).
	warm := multiQueries(b.cfg.Users, largest)
	warmRun := make([]string, len(warm))
	var err error
	for i, q := range warm {
		if warmRun[i], err = b.h.plan(ctx, b.h.local, q); err != nil {
			return err
		}
	}
	for range 5 {
		if err := multi(ctx, cs, rm.dataset, warm); err != nil {
			return fmt.Errorf("warm up execute_multi_query: %w", err)
		}
		for _, pool := range []*pgxpool.Pool{b.h.rawLocal, rm.raw} {
			if _, err := parallel(ctx, pool, warmRun, b.cfg.Limits.MaxConcurrent); err != nil {
				return fmt.Errorf("warm up raw pgx: %w", err)
			}
		}
	}
	rttMS := millis(rm.rtt)
	for _, n := range b.cfg.MultiSizes {
		b.step("measuring %d queries: one execute_multi_query vs %d sequential query_dataset calls at %s RTT", n, n, rm.rtt)
		sqls := multiQueries(b.cfg.Users, n)
		asRun := make([]string, n)
		for i, q := range sqls {
			if asRun[i], err = b.h.plan(ctx, b.h.local, q); err != nil {
				return err
			}
		}
		var seq, one, db, dbSeq, rawRemote samples
		for range b.cfg.Repeats {
			d, err := timed(func() error {
				for _, q := range sqls {
					if err := query(ctx, cs, rm.dataset, q); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("sequential query_dataset: %w", err)
			}
			seq = append(seq, d)
			if d, err = timed(func() error { return multi(ctx, cs, rm.dataset, sqls) }); err != nil {
				return fmt.Errorf("execute_multi_query: %w", err)
			}
			one = append(one, d)
			if d, err = parallel(ctx, b.h.rawLocal, asRun, b.cfg.Limits.MaxConcurrent); err != nil {
				return fmt.Errorf("raw pgx: %w", err)
			}
			db = append(db, d)
			if d, err = parallel(ctx, b.h.rawLocal, asRun, 1); err != nil {
				return fmt.Errorf("raw pgx: %w", err)
			}
			dbSeq = append(dbSeq, d)
			if d, err = parallel(ctx, rm.raw, asRun, b.cfg.Limits.MaxConcurrent); err != nil {
				return fmt.Errorf("raw pgx through the proxy: %w", err)
			}
			rawRemote = append(rawRemote, d)
		}
		waves := (n + b.cfg.Limits.MaxConcurrent - 1) / b.cfg.Limits.MaxConcurrent
		lower := rttMS + db.median()
		r.Multi = append(r.Multi, MultiRow{
			RTTMS: rttMS, Queries: n, SequentialMS: seq.median(), MultiMS: one.median(),
			Speedup:    ratio(seq.median(), one.median()),
			DatabaseMS: db.median(), DatabaseSequentialMS: dbSeq.median(), LowerBoundMS: round(lower, 3),
			RatioToLowerBound: ratio(one.median(), lower),
			WavesAtLimit:      waves,
			LowerBoundAtLimit: round(float64(waves)*rttMS+db.median(), 3),
			RawPgxRemoteMS:    rawRemote.median(),
		})
	}
	return nil
}

// parallel runs sqls through pool, at most limit at once, and returns the
// wall time.
func parallel(ctx context.Context, pool *pgxpool.Pool, sqls []string, limit int) (time.Duration, error) {
	return timed(func() error {
		var g errgroup.Group
		g.SetLimit(limit)
		for _, q := range sqls {
			g.Go(func() error { return rawQuery(ctx, pool, q) })
		}
		return g.Wait()
	})
}
