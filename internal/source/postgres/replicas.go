package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

var _ source.Source = (*Replicated)(nil)

// ReplicaOptions configure how a dataset with read replicas routes its
// queries.
type ReplicaOptions struct {
	// NoPrimaryFallback makes queries fail while no replica is healthy,
	// instead of going to the primary (which then carries no analytics
	// load at all).
	NoPrimaryFallback bool
	// MaxLag skips a replica whose replay is further behind the primary
	// than this; 0 does not check.
	MaxLag time.Duration
	// ProbeEvery is how often replicas are checked: one taken out after a
	// failure is put back when a probe succeeds, and lag is measured. 0
	// means 2 s.
	ProbeEvery time.Duration
}

// Replicated is a PostgreSQL dataset served by read replicas, with the
// primary as the fallback. Every query is read-only, so any member can
// answer it:
//   - queries go round-robin to the healthy replicas within MaxLag, or to
//     the primary when there is none (unless NoPrimaryFallback);
//   - a query whose connection broke (the member went away) is run once
//     more on another member, and the member that failed is taken out;
//   - a background probe puts a member back once it answers again, and
//     measures each replica's lag.
type Replicated struct {
	primary  *member
	replicas []*member
	opts     ReplicaOptions
	next     atomic.Uint64
	log      *slog.Logger
	stop     context.CancelFunc
	done     chan struct{}
}

// member is the primary or one replica.
type member struct {
	src  *Source
	name string

	mu      sync.Mutex
	down    bool          // taken out after a failure, until a probe succeeds
	lagging bool          // behind by more than MaxLag at the last probe
	lag     time.Duration // at the last probe
}

func (m *member) usable() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.down && !m.lagging
}

// errNoReplica is why a query fails when no replica may take it and the
// primary may not either.
var errNoReplica = errors.New("no healthy read replica, and queries may not go to the primary (replica fallback: none)")

// OpenReplicated opens pools on the primary and on each replica (none
// connects before it is used, as with [Open]) and starts probing the
// replicas.
func OpenReplicated(ctx context.Context, primaryDSN string, replicaDSNs []string, opts Options, ropts ReplicaOptions) (*Replicated, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if ropts.ProbeEvery <= 0 {
		ropts.ProbeEvery = 2 * time.Second
	}
	r := &Replicated{opts: ropts, log: log, done: make(chan struct{})}
	primary, err := Open(ctx, primaryDSN, opts)
	if err != nil {
		return nil, err
	}
	r.primary = &member{src: primary, name: "primary"}
	for i, dsn := range replicaDSNs {
		o := opts
		o.Logger = log.With("member", fmt.Sprintf("replica %d", i+1))
		src, err := Open(ctx, dsn, o)
		if err != nil {
			r.closeMembers()
			return nil, fmt.Errorf("replica %d: %w", i+1, err)
		}
		r.replicas = append(r.replicas, &member{src: src, name: fmt.Sprintf("replica %d", i+1)})
	}
	pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	r.stop = stop
	go r.probeLoop(pctx)
	return r, nil
}

// Close stops probing and closes every pool once its queries are done.
func (r *Replicated) Close() {
	r.stop()
	<-r.done
	r.closeMembers()
}

func (r *Replicated) closeMembers() {
	r.primary.src.Close()
	for _, m := range r.replicas {
		m.src.Close()
	}
}

// Query implements [source.Source].
func (r *Replicated) Query(ctx context.Context, sql string, maxRows int) (*result.Table, error) {
	var t *result.Table
	err := r.do(ctx, func(m *member) error {
		var err error
		t, err = m.src.Query(ctx, sql, maxRows)
		return err
	})
	return t, err
}

// Tables implements [source.Source].
func (r *Replicated) Tables(ctx context.Context) ([]source.Table, error) {
	var tables []source.Table
	err := r.do(ctx, func(m *member) error {
		var err error
		tables, err = m.src.Tables(ctx)
		return err
	})
	return tables, err
}

// QueryBatch pipelines sqls on one member (see [Source.QueryBatch]). When
// that member's connection broke, the queries it could not answer run
// once more, together, on another member.
func (r *Replicated) QueryBatch(ctx context.Context, sqls []string, maxRows []int) ([]*result.Table, []error) {
	m := r.pick(nil)
	if m == nil {
		errs := make([]error, len(sqls))
		for i := range errs {
			errs[i] = &source.UnavailableError{Err: errNoReplica}
		}
		return make([]*result.Table, len(sqls)), errs
	}
	tables, errs := m.src.QueryBatch(ctx, sqls, maxRows)
	var again []int
	for i, err := range errs {
		if broken(err) && ctx.Err() == nil {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return tables, errs
	}
	r.takeOut(m, errs[again[0]])
	other := r.pick(m)
	if other == nil {
		return tables, errs
	}
	sub, subMax := make([]string, len(again)), make([]int, len(again))
	for j, i := range again {
		sub[j], subMax[j] = sqls[i], maxRows[i]
	}
	t2, e2 := other.src.QueryBatch(ctx, sub, subMax)
	for j, i := range again {
		tables[i], errs[i] = t2[j], e2[j]
	}
	return tables, errs
}

// CanWrite reports whether the primary's role could write (see
// [Source.CanWrite]).
func (r *Replicated) CanWrite(ctx context.Context) (bool, error) {
	return r.primary.src.CanWrite(ctx)
}

// do runs f on a member, and once more on another member when the first
// one's connection broke.
func (r *Replicated) do(ctx context.Context, f func(m *member) error) error {
	m := r.pick(nil)
	if m == nil {
		return &source.UnavailableError{Err: errNoReplica}
	}
	err := f(m)
	if err == nil || !broken(err) || ctx.Err() != nil {
		return err
	}
	r.takeOut(m, err)
	other := r.pick(m)
	if other == nil {
		return err
	}
	r.log.InfoContext(ctx, "query retried on another member", "failed", m.name, "retry", other.name)
	return f(other)
}

// broken reports whether err means the member could not be reached or its
// connection broke (as opposed to the query's own error, a timeout or a
// cancellation), so that another member may answer.
func broken(err error) bool {
	var unavailable *source.UnavailableError
	return errors.As(err, &unavailable)
}

// pick returns the member a query goes to: the next usable replica in
// round-robin order other than not, else the primary (unless it is not,
// or NoPrimaryFallback), else nil.
func (r *Replicated) pick(not *member) *member {
	n := len(r.replicas)
	start := int(r.next.Add(1) % uint64(max(n, 1)))
	for k := range n {
		m := r.replicas[(start+k)%n]
		if m != not && m.usable() {
			return m
		}
	}
	if r.opts.NoPrimaryFallback || r.primary == not {
		return nil
	}
	return r.primary
}

// takeOut marks a replica as down until a probe finds it answering again.
// The primary is never taken out: it is the last resort.
func (r *Replicated) takeOut(m *member, cause error) {
	if m == r.primary {
		return
	}
	m.mu.Lock()
	was := m.down
	m.down = true
	m.mu.Unlock()
	if !was {
		r.log.Warn("read replica taken out; probing it until it answers", "member", m.name, "err", cause)
	}
}

// probeLoop checks every replica each ProbeEvery until ctx ends.
func (r *Replicated) probeLoop(ctx context.Context) {
	defer close(r.done)
	if len(r.replicas) == 0 {
		return
	}
	t := time.NewTicker(r.opts.ProbeEvery)
	defer t.Stop()
	for {
		if r.opts.MaxLag > 0 {
			r.probeAll(ctx)
		} else {
			// Without a lag bound only members taken out need a probe.
			for _, m := range r.replicas {
				m.mu.Lock()
				down := m.down
				m.mu.Unlock()
				if down {
					r.probe(ctx, m)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Replicated) probeAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, m := range r.replicas {
		wg.Go(func() { r.probe(ctx, m) })
	}
	wg.Wait()
}

// lagSQL measures how far a replica's replay is behind: zero when it has
// replayed all it received (an idle primary sends nothing), else the age
// of the last transaction replayed (or, when it has replayed none since
// it started, the time since it started); zero on a primary.
const lagSQL = `SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
  ELSE EXTRACT(EPOCH FROM now() - COALESCE(pg_last_xact_replay_timestamp(), pg_postmaster_start_time())) END::float8`

// probe checks one replica and updates its state.
func (r *Replicated) probe(ctx context.Context, m *member) {
	pctx, cancel := context.WithTimeout(ctx, max(r.opts.ProbeEvery, time.Second))
	defer cancel()
	var seconds float64
	err := m.src.pool.QueryRow(pctx, lagSQL).Scan(&seconds)
	if ctx.Err() != nil {
		return
	}
	lag := time.Duration(seconds * float64(time.Second))
	m.mu.Lock()
	wasDown, wasLagging := m.down, m.lagging
	m.down = err != nil
	if err == nil {
		m.lag = lag
		m.lagging = r.opts.MaxLag > 0 && lag > r.opts.MaxLag
	}
	down, lagging := m.down, m.lagging
	m.mu.Unlock()
	switch {
	case wasDown && !down:
		r.log.Info("read replica answers again; back in use", "member", m.name, "lag", lag)
	case !wasDown && down:
		r.log.Warn("read replica does not answer; taken out", "member", m.name, "err", err)
	}
	if lagging != wasLagging && !down {
		if lagging {
			r.log.Warn("read replica lags; skipped until it catches up", "member", m.name, "lag", lag, "max_lag", r.opts.MaxLag)
		} else {
			r.log.Info("read replica caught up; back in use", "member", m.name, "lag", lag)
		}
	}
}

// Status describes each member for operators: "primary", then each
// replica as "replica N: ok|down|lagging (lag)".
func (r *Replicated) Status() []string {
	out := []string{"primary"}
	for _, m := range r.replicas {
		m.mu.Lock()
		state := "ok"
		switch {
		case m.down:
			state = "down"
		case m.lagging:
			state = "lagging"
		}
		out = append(out, fmt.Sprintf("%s: %s (lag %s)", m.name, state, m.lag.Round(time.Millisecond)))
		m.mu.Unlock()
	}
	return out
}
