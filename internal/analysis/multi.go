package analysis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// Multi runs up to maxQueries queries concurrently (execute_multi_query).
// Results are in request order; one failure does not affect the others.
func (s *Service) Multi(ctx context.Context, reqs []Request) (result.Multi, error) {
	if err := s.validate(reqs); err != nil {
		return result.Multi{}, err
	}
	start := time.Now()
	m := result.Multi{Results: make([]result.Result, len(reqs)), Total: len(reqs), Parallel: len(reqs) > 1}
	if len(reqs) > s.exec.PerClientLimit() {
		s.pipelined(ctx, reqs, m.Results)
	} else {
		q := s.stats.enqueue(len(reqs))
		s.exec.Run(ctx, len(reqs), func(ctx context.Context, i int, waited time.Duration) {
			q.start()
			defer q.done()
			m.Results[i] = s.run(ctx, reqs[i])
			m.Results[i].QueueMS = ms(waited)
		})
	}
	for i := range m.Results {
		if m.Results[i].Label == "" {
			m.Results[i].Label = fmt.Sprintf("Query %d", i+1)
		}
		if m.Results[i].OK {
			m.Succeeded++
		} else {
			m.Failed++
		}
	}
	m.TotalMS = ms(time.Since(start))
	return m, nil
}

// validate applies the seed's validation rules, naming the offending entry.
func (s *Service) validate(reqs []Request) error {
	if len(reqs) == 0 {
		return &InputError{Message: "At least 1 query required"}
	}
	if len(reqs) > s.maxQueries {
		return &InputError{Message: fmt.Sprintf("Maximum %d queries allowed per request (got %d); split them into several calls", s.maxQueries, len(reqs))}
	}
	var bad []string
	for i, r := range reqs {
		if r.DatasetID == 0 || strings.TrimSpace(r.Query) == "" {
			name := fmt.Sprintf("entry %d", i+1)
			if r.Label != "" {
				name += fmt.Sprintf(" (%q)", clipLabel(r.Label))
			}
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		return &InputError{Message: "Each query must have 'dataset_id' and 'query' fields: missing in " + strings.Join(bad, ", ")}
	}
	return nil
}

// clipLabel shortens a label quoted in a message: labels are the caller's
// free text, and thirty long ones must not make a long message.
func clipLabel(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// batchSource is a source that can send several queries in one round trip
// (source/postgres pipelines them on one connection).
type batchSource interface {
	QueryBatch(ctx context.Context, sqls []string, maxRows []int) ([]*result.Table, []error)
}

// pipelined runs a call with more queries than its client may run at once
// (the executor's per-client allowance, half of SPEC §3's 10 by default). Run one by one, they would need several waves of round trips; here
// each dataset's queries are dealt over at most that many connections and
// each connection's share is pipelined (source/postgres QueryBatch), so
// the whole call costs about one round trip plus the database's time. Each
// share counts as one running job, so the server-wide bound on queries
// running at once in the database still holds. Datasets whose source
// cannot pipeline are run query by query. A pipelined query's time is that
// of its share.
func (s *Service) pipelined(ctx context.Context, reqs []Request, out []result.Result) {
	type item struct {
		i    int
		h    *dataset.Handle
		plan QueryPlan
	}
	var single []int
	byDataset := map[int64][]item{}
	var datasets []int64
	starts := make([]time.Time, len(reqs))
	for i, req := range reqs {
		starts[i] = time.Now()
		h, plan := s.start(ctx, req, &out[i])
		if h == nil {
			out[i].TimeMS = ms(time.Since(starts[i]))
			continue
		}
		if _, ok := h.Source.(batchSource); !ok {
			h.Release()
			single = append(single, i)
			continue
		}
		if _, seen := byDataset[req.DatasetID]; !seen {
			datasets = append(datasets, req.DatasetID)
		}
		byDataset[req.DatasetID] = append(byDataset[req.DatasetID], item{i: i, h: h, plan: plan})
	}
	var shares [][]item
	for _, id := range datasets {
		items := byDataset[id]
		k := min(len(items), s.exec.PerClientLimit(), max(items[0].h.Limits.PoolMaxConns, 1))
		first := len(shares)
		for range k {
			shares = append(shares, nil)
		}
		for j, it := range items {
			shares[first+j%k] = append(shares[first+j%k], it)
		}
	}
	q := s.stats.enqueue(len(shares) + len(single))
	s.exec.Run(ctx, len(shares)+len(single), func(ctx context.Context, j int, waited time.Duration) {
		q.start()
		defer q.done()
		if j >= len(shares) {
			i := single[j-len(shares)]
			out[i] = s.run(ctx, reqs[i])
			out[i].QueueMS = ms(waited)
			return
		}
		share := shares[j]
		defer func() {
			for _, it := range share {
				out[it.i].QueueMS = ms(waited)
			}
			if p := recover(); p != nil {
				ref := s.internal(ctx, fmt.Errorf("panic: %v", p), reqs[share[0].i])
				for _, it := range share {
					out[it.i].OK, out[it.i].Error = false, "internal error (ref "+ref+"); the query was not run"
					out[it.i].Trace.Outcome = catalog.OutcomeInternal
				}
			}
			for _, it := range share {
				it.h.Release()
				out[it.i].TimeMS = ms(time.Since(starts[it.i]))
			}
		}()
		if ctx.Err() != nil {
			for _, it := range share {
				s.fail(ctx, &out[it.i], ctx.Err(), reqs[it.i])
			}
			return
		}
		sqls := make([]string, len(share))
		caps := make([]int, len(share))
		for n, it := range share {
			sqls[n], caps[n] = it.plan.SQL, it.plan.Cap
		}
		// The database runs a share's queries one after the other: each
		// keeps its own statement_timeout there; the wait here allows for
		// all of them.
		qctx, cancel := context.WithTimeout(ctx, time.Duration(len(share))*share[0].h.Limits.QueryTimeout)
		defer cancel()
		tables, errs := share[0].h.Source.(batchSource).QueryBatch(qctx, sqls, caps)
		for n, it := range share {
			s.finish(ctx, it.h, &out[it.i], reqs[it.i], it.plan, tables[n], errs[n])
		}
	})
}
