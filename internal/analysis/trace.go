package analysis

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
)

// fail puts err into r: the message the caller sees (see message) and,
// in r.Trace, its outcome class, SQLSTATE and guard rule for the query
// log and the metrics.
func (s *Service) fail(ctx context.Context, r *result.Result, err error, req Request) {
	r.OK = false
	r.Error = s.message(ctx, err, req)
	r.Trace.Outcome, r.Trace.SQLState, r.Trace.GuardRule = classify(ctx, err)
}

// classify returns the outcome class of a failed query (catalog.Outcome*),
// the database's SQLSTATE and the guard rule, where there are any.
func classify(ctx context.Context, err error) (outcome, sqlstate, rule string) {
	var (
		guardErr   *sqlguard.Error
		queryErr   *source.QueryError
		timeoutErr *source.TimeoutError
		busyErr    *source.BusyError
		unavailErr *source.UnavailableError
		nf         *dataset.NotFoundError
		inputErr   *InputError
		pgErr      *pgconn.PgError
	)
	switch {
	case errors.As(err, &guardErr):
		return catalog.OutcomeCallerError, "", guardErr.Code
	case errors.As(err, &nf), errors.As(err, &inputErr):
		return catalog.OutcomeCallerError, "", ""
	case errors.As(err, &queryErr):
		return catalog.OutcomeDatabaseError, queryErr.Code, ""
	case errors.As(err, &timeoutErr):
		return catalog.OutcomeTimeout, "57014", ""
	case errors.As(err, &busyErr):
		return catalog.OutcomeDatabaseError, "", ""
	case errors.As(err, &unavailErr):
		if errors.As(unavailErr.Err, &pgErr) {
			return catalog.OutcomeDatabaseError, pgErr.Code, ""
		}
		return catalog.OutcomeDatabaseError, "", ""
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return catalog.OutcomeTimeout, "", ""
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return catalog.OutcomeCancelled, "", ""
	}
	return catalog.OutcomeInternal, "", ""
}

// Stats are the service's counters, for the metrics.
type Stats struct {
	// Queued is the number of queries waiting for a slot of the
	// server-wide bound; Running those holding one.
	Queued, Running int64
	// PlanHits and PlanMisses count lookups of the exact-text plan cache;
	// TemplateFills the misses answered from a shape's template.
	PlanHits, PlanMisses, TemplateFills int64
	// ResultHits and ResultMisses count lookups of the result cache (both
	// zero when it is off).
	ResultHits, ResultMisses int64
}

// Stats returns the current counters.
func (s *Service) Stats() Stats {
	return Stats{
		Queued: s.stats.queued.Load(), Running: s.stats.running.Load(),
		PlanHits: s.stats.planHits.Load(), PlanMisses: s.stats.planMisses.Load(), TemplateFills: s.templateFills.Load(),
		ResultHits: s.stats.resultHits.Load(), ResultMisses: s.stats.resultMisses.Load(),
	}
}

type stats struct {
	queued, running          atomic.Int64
	planHits, planMisses     atomic.Int64
	resultHits, resultMisses atomic.Int64
}

func (st *stats) resultLookup(hit bool) {
	if hit {
		st.resultHits.Add(1)
	} else {
		st.resultMisses.Add(1)
	}
}

// queue tracks the jobs of one executor run: queued until they get a
// slot, running until they return it.
type queue struct{ st *stats }

func (st *stats) enqueue(n int) queue {
	st.queued.Add(int64(n))
	return queue{st: st}
}

// start moves one job from queued to running.
func (q queue) start() {
	q.st.queued.Add(-1)
	q.st.running.Add(1)
}

func (q queue) done() { q.st.running.Add(-1) }
