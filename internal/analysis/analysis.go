// Package analysis is the use case behind every tool: it takes a request,
// applies the dataset's limits, guards the SQL (sqlguard), weights it
// (weighting), runs it (source, through the executor's server-wide bound)
// and returns result values for the render and mcpserver packages.
//
// A query's text is parsed once; the parse tree is classified (raw or
// aggregated), rewritten and given its row cap (LIMIT cap+1) before it is
// deparsed and sent, so the database stops early and the scanner never
// buffers more than the cap.
package analysis

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/executor"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// Service answers the tools' requests.
type Service struct {
	reg        *dataset.Registry
	exec       *executor.Executor
	maxQueries int
	plans      *planCache[QueryPlan]
	shapes     *planCache[shapeEntry]
	// templateFills counts plans filled in from a shape's template.
	templateFills atomic.Int64
	results       *resultCache // nil: no result cache (the default)
	examples      *exampleCache
	stats         stats
	log           *slog.Logger
}

// New returns a service over the registry's datasets. maxQueries bounds
// execute_multi_query (SPEC §3: 30).
func New(reg *dataset.Registry, exec *executor.Executor, maxQueries int, log *slog.Logger, opts ...Option) *Service {
	s := &Service{reg: reg, exec: exec, maxQueries: maxQueries, plans: newPlanCache[QueryPlan](1024), shapes: newPlanCache[shapeEntry](1024), examples: &exampleCache{maxEntries: 256}, log: log.With("component", "analysis")}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Request is one query of a call.
type Request struct {
	DatasetID    int64
	Query        string
	Label        string
	ApplyWeights bool
	MergeNCCS    bool
	ShowSQL      bool
	// StandardErrors adds the standard errors of weighted counts, shares
	// and reach (those of means are always there).
	StandardErrors bool
	// Totals adds Total rows to a grouped weighted answer (the tools'
	// default), marked in the is_total column and placed after the groups.
	Totals bool
	// CompareBy names the grouping column whose groups are compared; the
	// Total rolls it up. Alpha is the tests' level (0: 0.05), Correction
	// "none" (or "") or "bonferroni". With CompareByIfGrouped (a call-wide
	// compare_by of execute_multi_query) a query that does not group by the
	// column is simply not compared.
	CompareBy          string
	CompareByIfGrouped bool
	Alpha              float64
	Correction         string
	// MaxRows lowers the row cap for this request (0: the dataset's limits).
	MaxRows int
}

// Query runs one query (query_dataset).
func (s *Service) Query(ctx context.Context, req Request) result.Result {
	var r result.Result
	q := s.stats.enqueue(1)
	s.exec.Run(ctx, 1, func(ctx context.Context, _ int, waited time.Duration) {
		q.start()
		defer q.done()
		r = s.run(ctx, req)
		r.QueueMS = ms(waited)
	})
	return r
}

// run executes one request end to end. It never panics on user input and
// always returns a result: failures are carried in it.
func (s *Service) run(ctx context.Context, req Request) (r result.Result) {
	start := time.Now()
	r = result.Result{Label: req.Label, DatasetID: req.DatasetID, Query: req.Query, Columns: []result.Column{}, Rows: [][]any{}}
	defer func() {
		if p := recover(); p != nil {
			ref := s.internal(ctx, fmt.Errorf("panic: %v", p), req)
			r.OK, r.Error = false, "internal error (ref "+ref+"); the query was not run"
			r.Trace.Outcome = catalog.OutcomeInternal
		}
		r.TimeMS = ms(time.Since(start))
	}()
	h, plan := s.start(ctx, req, &r)
	if h == nil {
		return r
	}
	defer h.Release()

	var key resultKey
	if s.results != nil {
		key = resultKey{dataset: h.Dataset.ID, version: h.Dataset.UpdatedAt, sql: plan.SQL, cap: plan.Cap}
		t, age, ok := s.results.get(key)
		s.stats.resultLookup(ok)
		if ok {
			r.Cached, r.CacheAgeS = true, age.Seconds()
			r.Notes = append(r.Notes, fmt.Sprintf("Cached answer from %s ago (result cache on, kept for %s).", age.Round(time.Second), s.results.ttl))
			s.finish(ctx, h, &r, req, plan, t, nil)
			return r
		}
	}
	qctx, cancel := context.WithTimeout(ctx, h.Limits.QueryTimeout)
	defer cancel()
	t, err := h.Source.Query(qctx, plan.SQL, plan.Cap)
	if err == nil && s.results != nil {
		s.results.put(key, t)
	}
	s.finish(ctx, h, &r, req, plan, t, err)
	return r
}

// finish puts a query's answer (or its error) into r, with the columns
// described for the answer's number formats (display.go) and unknown
// names explained (suggest.go).
func (s *Service) finish(ctx context.Context, h *dataset.Handle, r *result.Result, req Request, plan QueryPlan, t *result.Table, err error) {
	if err != nil {
		s.fail(ctx, r, err, req)
		if msg, ok := explain(h, plan, err); ok {
			r.Error = msg
		}
		return
	}
	r.OK = true
	r.Trace.Outcome = catalog.OutcomeOK
	if t.Cut != "" {
		r.Notes = append(r.Notes, t.Cut)
	}
	if plan.Aggregated {
		r.GroupColumns = plan.Groups
	}
	if plan.Added.Total != "" {
		totalsLast(t, plan.Added.Total)
	}
	if plan.Compare != nil {
		if err := compare(t, r, plan, req); err != nil {
			r.OK, r.Error = false, s.message(ctx, err, req)
			return
		}
	}
	suppress(t, r, plan)
	if plan.Added.ZeroWeight != "" {
		zeroWeightNote(t, r, plan.Added.ZeroWeight)
	}
	if plan.Added.LowBase != "" {
		lowBaseNote(t, r, plan)
	}
	r.SetTable(t)
	display(h, plan, r)
}

// start opens req's dataset and plans req. On failure r carries the error
// and the handle is nil; otherwise the caller releases the handle.
func (s *Service) start(ctx context.Context, req Request, r *result.Result) (*dataset.Handle, QueryPlan) {
	*r = result.Result{Label: req.Label, DatasetID: req.DatasetID, Query: req.Query, Columns: []result.Column{}, Rows: [][]any{}}
	if ctx.Err() != nil {
		s.fail(ctx, r, ctx.Err(), req)
		return nil, QueryPlan{}
	}
	h, err := s.reg.Open(ctx, req.DatasetID)
	if err != nil {
		s.fail(ctx, r, err, req)
		return nil, QueryPlan{}
	}
	r.Dataset = h.Dataset.Name
	plan, err := s.PlanCached(h, req)
	if err != nil {
		h.Release()
		s.fail(ctx, r, err, req)
		return nil, QueryPlan{}
	}
	r.Trace.SQL = plan.SQL
	r.Aggregated = plan.Aggregated
	r.RowLimit = plan.Cap
	r.Weighting = plan.Weighting
	if req.ShowSQL {
		r.SQL = plan.SQL
	}
	return h, plan
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d.Microseconds())/10) / 100
}
