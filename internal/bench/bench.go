package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sync/errgroup"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
)

// Config shapes a run. Zero fields take the defaults of [DefaultConfig].
type Config struct {
	// DSN is the PostgreSQL database the panel is generated into and
	// queried from. It must be reachable over TCP (the latency proxy
	// forwards to its host and port).
	DSN string
	// Users is the panel size (panelists).
	Users int
	// RTTs are the round-trip times latency proxies add for the
	// multi-query and throughput comparisons, one remote dataset each.
	// SPEC §10's multi-query goals are judged at 20 ms (or at the first
	// RTT when 20 ms is not among them).
	RTTs []time.Duration
	// Iterations is the number of samples per per-call overhead case; the
	// heavy aggregate takes a tenth of them (at least 3).
	Iterations int
	// Repeats is the number of runs per multi-query size (the median is
	// reported).
	Repeats int
	// MultiSizes are the numbers of queries compared as one
	// execute_multi_query call and as sequential query_dataset calls.
	MultiSizes []int
	// Sessions and Calls shape the load: Sessions concurrent MCP sessions
	// making Calls calls each.
	Sessions int
	Calls    int
	// Clients is the number of concurrent clients of the throughput
	// comparison with raw pgx.
	Clients int
	// Limits are the server's limits (pool sizes, concurrency, caps).
	Limits config.Limits
	// Parts are the parts to measure (see [Parts]); empty means all.
	Parts []string
	// Against are other MCP database servers measured on the same panel
	// (part "against").
	Against []Against
	// ImportRespondents × ImportVariables is the .sav file and
	// ParquetRows the Parquet file of part "import"; ImportDir keeps the
	// generated files between runs (default: a directory in the system's
	// temporary directory); Executable is the mcp-analytics binary run as
	// the import command (default: this process's own).
	ImportRespondents int
	ImportVariables   int
	ParquetRows       int
	ImportDir         string
	Executable        string
	// Progress receives a line per step; nil means none.
	Progress io.Writer
	// SoakDuration is how long the soak part (asked for by name) runs.
	SoakDuration time.Duration
	// Events is the number of app_usage rows of part "weighted"'s panel
	// (of Users panelists); 0 means five per panelist. WeightedReps is how
	// many times each of its questions is timed each way (the median is
	// reported). WorkMem and ParallelWorkers are the benchmark dataset's
	// session settings in that part ("" and nil: the database's).
	Events       int
	WeightedReps int
	// WeightedQuestions keeps the questions whose names contain one of
	// these (all when empty).
	WeightedQuestions []string
	WorkMem           string
	ParallelWorkers   *int
}

// DefaultConfig returns the settings of a quick run (a few minutes on two
// cores, most of it generating the panel the first time).
func DefaultConfig() Config {
	return Config{
		Users:      100_000,
		RTTs:       []time.Duration{20 * time.Millisecond},
		Iterations: 200,
		Repeats:    9,
		MultiSizes: []int{3, 10, 30},
		Sessions:   50,
		Calls:      40,
		Clients:    20,
		Limits:     config.DefaultLimits(),

		ImportRespondents: 1_000_000,
		ImportVariables:   100,
		ParquetRows:       10_000_000,
		// Long enough for every fault and the recovery after it.
		SoakDuration: 3 * time.Minute,
		WeightedReps: 3,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Users == 0 {
		c.Users = d.Users
	}
	if len(c.RTTs) == 0 {
		c.RTTs = d.RTTs
	}
	if c.Iterations == 0 {
		c.Iterations = d.Iterations
	}
	if c.Repeats == 0 {
		c.Repeats = d.Repeats
	}
	if len(c.MultiSizes) == 0 {
		c.MultiSizes = d.MultiSizes
	}
	if c.Sessions == 0 {
		c.Sessions = d.Sessions
	}
	if c.Calls == 0 {
		c.Calls = d.Calls
	}
	if c.Clients == 0 {
		c.Clients = d.Clients
	}
	if c.Limits == (config.Limits{}) {
		c.Limits = d.Limits
	}
	if c.ImportRespondents == 0 {
		c.ImportRespondents = d.ImportRespondents
	}
	if c.ImportVariables == 0 {
		c.ImportVariables = d.ImportVariables
	}
	if c.ParquetRows == 0 {
		c.ParquetRows = d.ParquetRows
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.SoakDuration == 0 {
		c.SoakDuration = d.SoakDuration
	}
	if c.WeightedReps == 0 {
		c.WeightedReps = d.WeightedReps
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.DSN == "" && !c.importOnly() {
		errs = append(errs, errors.New("a PostgreSQL connection string is required"))
	}
	if c.ImportVariables < 3 {
		errs = append(errs, fmt.Errorf("the import's .sav needs at least 3 variables, not %d", c.ImportVariables))
	}
	if c.Events < 0 {
		errs = append(errs, fmt.Errorf("events must be 0 (five per panelist) or more, not %d", c.Events))
	}
	if c.WorkMem != "" {
		if _, err := config.WorkMemKB(c.WorkMem); err != nil {
			errs = append(errs, fmt.Errorf("work_mem: %w", err))
		}
	}
	if c.ParallelWorkers != nil {
		if err := config.CheckParallelWorkers(*c.ParallelWorkers); err != nil {
			errs = append(errs, fmt.Errorf("parallel workers: %w", err))
		}
	}
	for name, v := range map[string]int{"users": c.Users, "iterations": c.Iterations, "repeats": c.Repeats, "sessions": c.Sessions, "calls": c.Calls, "clients": c.Clients, "weighted repetitions": c.WeightedReps} {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, not %d", name, v))
		}
	}
	for _, rtt := range c.RTTs {
		if rtt <= 0 {
			errs = append(errs, fmt.Errorf("a simulated round-trip time must be positive, not %s", rtt))
		}
	}
	for _, a := range c.Against {
		if err := a.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range c.Parts {
		if !slices.Contains(Parts, p) && !slices.Contains(ExtraParts, p) {
			errs = append(errs, fmt.Errorf("unknown part %q (the parts are %s)", p, strings.Join(append(slices.Clone(Parts), ExtraParts...), ", ")))
		}
	}
	for _, n := range c.MultiSizes {
		if n < 1 || n > c.Limits.MaxQueries {
			errs = append(errs, fmt.Errorf("multi-query sizes must be between 1 and %d, not %d", c.Limits.MaxQueries, n))
		}
	}
	return errors.Join(errs...)
}

// Parts are the parts of a run, in the order they are measured; a run
// without --parts measures them all.
var Parts = []string{"rewrite", "overhead", "multi", "throughput", "load", "fairshare", "against"}

// ExtraParts run only when asked for by name: the import part runs the
// mcp-analytics binary on files of gigabytes, the soak takes minutes and
// starts PostgreSQL clusters of its own, and the weighted part runs on a
// panel of its own (millions of events: minutes to generate, and its
// questions take seconds each).
var ExtraParts = []string{"import", "soak", "weighted"}

// importOnly reports whether the run measures only the import, which needs
// neither PostgreSQL nor the panel.
func (c Config) importOnly() bool { return len(c.Parts) == 1 && c.Parts[0] == "import" }

// standalone reports whether every part of the run brings its own data
// (import, weighted), so that the default panel and the MCP harness are
// not needed.
func (c Config) standalone() bool {
	return len(c.Parts) > 0 && !slices.ContainsFunc(c.Parts, func(p string) bool { return p != "import" && p != "weighted" })
}

// Run generates the panel if needed, starts the server in-process and
// measures everything in one run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Report{Users: cfg.Users, RTTMS: millis(goalRTT(cfg.RTTs)), Machine: machine(ctx, cfg.DSN)}
	step := func(format string, args ...any) { fmt.Fprintf(cfg.Progress, format+"\n", args...) }
	if cfg.standalone() {
		b := &run{cfg: cfg, step: step}
		if slices.Contains(cfg.Parts, "import") {
			if err := b.measureImport(ctx, r); err != nil {
				return nil, err
			}
		}
		if slices.Contains(cfg.Parts, "weighted") {
			if err := b.weighted(ctx, r); err != nil {
				return nil, err
			}
		}
		r.Goals = goals(r)
		return r, nil
	}

	start := time.Now()
	made, err := EnsurePanel(ctx, cfg.DSN, Panel{Users: cfg.Users})
	if err != nil {
		return nil, err
	}
	if made {
		step("generated a panel of %d users in %s", cfg.Users, time.Since(start).Round(time.Millisecond))
	}
	h, err := newHarness(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer h.close()
	b := &run{cfg: cfg, h: h, step: step}
	measure := map[string]func(context.Context, *Report) error{
		"rewrite": b.rewrite, "overhead": b.overhead, "multi": b.multi, "throughput": b.throughput, "load": b.load,
		"fairshare": b.fairshare, "against": b.against, "import": b.measureImport, "soak": b.soak, "weighted": b.weighted,
	}
	for _, part := range append(slices.Clone(Parts), ExtraParts...) {
		if len(cfg.Parts) > 0 && !slices.Contains(cfg.Parts, part) || len(cfg.Parts) == 0 && slices.Contains(ExtraParts, part) {
			continue
		}
		if err := measure[part](ctx, r); err != nil {
			return nil, err
		}
	}
	r.Goals = goals(r)
	return r, nil
}

// goalRTT is the round-trip time SPEC §10's multi-query goals are judged
// at: 20 ms if measured, else the first one.
func goalRTT(rtts []time.Duration) time.Duration {
	if slices.Contains(rtts, 20*time.Millisecond) {
		return 20 * time.Millisecond
	}
	return rtts[0]
}

type run struct {
	cfg  Config
	h    *harness
	step func(format string, args ...any)
}

// Queries of the per-call cases. The ~5 ms aggregate scans a fixed slice
// of the panel through the primary key, so its cost does not grow with
// the panel; the heavy one scans everything.
func pkLookup(users, i int) string {
	return fmt.Sprintf("SELECT user_id, gender, age_group, nccs, state, spend FROM users WHERE user_id = %d", 1+(i*7919)%users)
}

func smallAggregate(users, i int) string {
	lo := 1 + (i*1009)%max(users-15_000, 1)
	return fmt.Sprintf("SELECT gender, COUNT(*) AS panelists, SUM(spend) AS spend FROM users WHERE user_id BETWEEN %d AND %d GROUP BY gender", lo, lo+15_000)
}

func heavyAggregate(_, _ int) string {
	return "SELECT state, nccs, COUNT(*) AS panelists, AVG(spend) AS avg_spend FROM users GROUP BY state, nccs"
}

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

// throughput compares Clients concurrent MCP sessions with as many
// goroutines using raw pgx over the same pool settings, on primary-key
// lookups: next to the database (CPU-bound: what each call costs) and
// through the latency proxy (a warehouse RTT away: what clients see).
func (b *run) throughput(ctx context.Context, r *Report) error {
	type distance struct {
		rtt     time.Duration
		dataset int64
		raw     *pgxpool.Pool
	}
	at := []distance{{0, b.h.local, b.h.rawLocal}}
	for _, rm := range b.h.remotes {
		at = append(at, distance{rm.rtt, rm.dataset, rm.raw})
	}
	for _, d := range at {
		b.step("measuring throughput at %s RTT: %d clients x %d calls, MCP vs raw pgx", d.rtt, b.cfg.Clients, b.cfg.Calls)
		row, err := b.throughputAt(ctx, d.dataset, d.raw)
		if err != nil {
			return err
		}
		row.RTTMS = millis(d.rtt)
		r.Throughput = append(r.Throughput, row)
	}
	return nil
}

func (b *run) throughputAt(ctx context.Context, dataset int64, pool *pgxpool.Pool) (ThroughputRow, error) {
	sessions, err := b.sessions(ctx, b.cfg.Clients)
	defer closeAll(sessions)
	if err != nil {
		return ThroughputRow{}, err
	}
	ours, err := b.drive(ctx, len(sessions), func(ctx context.Context, client, i int) error {
		return query(ctx, sessions[client], dataset, pkLookup(b.cfg.Users, client*b.cfg.Calls+i))
	})
	if err != nil {
		return ThroughputRow{}, err
	}
	plans := make([]string, b.cfg.Clients*b.cfg.Calls)
	for i := range plans {
		if plans[i], err = b.h.plan(ctx, dataset, pkLookup(b.cfg.Users, i)); err != nil {
			return ThroughputRow{}, err
		}
	}
	raw, err := b.drive(ctx, b.cfg.Clients, func(ctx context.Context, client, i int) error {
		return rawQuery(ctx, pool, plans[client*b.cfg.Calls+i])
	})
	if err != nil {
		return ThroughputRow{}, err
	}
	return b.throughputRow(ours, raw), nil
}

// throughputRow compares a closed-loop load through MCP with the same
// load on raw pgx.
func (b *run) throughputRow(ours, raw driven) ThroughputRow {
	return ThroughputRow{
		Clients: b.cfg.Clients, Calls: b.cfg.Clients * b.cfg.Calls,
		OursPerSec: ours.perSec, RawPerSec: raw.perSec,
		OursP50: ours.lat.median(), OursP99: ours.lat.percentile(99),
		RawP50: raw.lat.median(), RawP99: raw.lat.percentile(99),
		ThroughputRatio: ratio(ours.perSec, raw.perSec),
		P99Ratio:        ratio(ours.lat.percentile(99), raw.lat.percentile(99)),
		Errors:          ours.errors + raw.errors,
	}
}

// load runs Sessions concurrent MCP sessions and watches the process's
// memory and goroutines.
func (b *run) load(ctx context.Context, r *Report) error {
	b.step("load: %d sessions x %d calls", b.cfg.Sessions, b.cfg.Calls)
	runtime.GC()
	goroutinesBefore, idle := runtime.NumGoroutine(), rssBytes()
	peak := idle
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				peak = max(peak, rssBytes())
			}
		}
	})
	sessions, err := b.sessions(ctx, b.cfg.Sessions)
	var res driven
	if err == nil {
		res, err = b.drive(ctx, len(sessions), func(ctx context.Context, client, i int) error {
			return query(ctx, sessions[client], b.h.local, pkLookup(b.cfg.Users, client*b.cfg.Calls+i))
		})
	}
	closeAll(sessions)
	close(stopSampling)
	sampler.Wait()
	if err != nil {
		return err
	}
	// Sessions end asynchronously on the server: give them a moment.
	b.h.client.CloseIdleConnections()
	goroutinesAfter := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); goroutinesAfter > goroutinesBefore && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		goroutinesAfter = runtime.NumGoroutine()
	}
	runtime.GC()
	r.Load = &LoadRow{
		Sessions: b.cfg.Sessions, Calls: b.cfg.Sessions * b.cfg.Calls,
		PerSec: res.perSec, P50: res.lat.median(), P99: res.lat.percentile(99), Errors: res.errors,
		IdleRSSMiB: mib(idle), PeakRSSMiB: mib(peak), AfterRSSMiB: mib(rssBytes()),
		GoroutinesBefore: goroutinesBefore, GoroutinesAfter: goroutinesAfter,
	}
	return nil
}

// sessions opens n MCP sessions concurrently. On error, the ones opened
// are returned too so that the caller closes them.
func (b *run) sessions(ctx context.Context, n int) ([]*mcp.ClientSession, error) {
	out := make([]*mcp.ClientSession, n)
	var g errgroup.Group
	g.SetLimit(16)
	for i := range out {
		g.Go(func() (err error) {
			out[i], err = b.h.connect(ctx)
			return err
		})
	}
	err := g.Wait()
	if err != nil {
		return out, err
	}
	return out, nil
}

func closeAll(sessions []*mcp.ClientSession) {
	for _, cs := range sessions {
		if cs != nil {
			cs.Close()
		}
	}
}

// driven is the outcome of a closed-loop load.
type driven struct {
	lat    samples
	perSec float64
	errors int
}

// drive runs clients goroutines making Calls calls each, one after the
// other, and collects every call's latency. Failed calls are counted, not
// fatal, unless nothing succeeds.
func (b *run) drive(ctx context.Context, clients int, call func(ctx context.Context, client, i int) error) (driven, error) {
	lat := make([]samples, clients)
	errs := make([]int, clients)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := range b.cfg.Calls {
				d, err := timed(func() error { return call(ctx, c, i) })
				if err != nil {
					errs[c]++
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lat[c] = append(lat[c], d)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var out driven
	for c := range clients {
		out.lat = append(out.lat, lat[c]...)
		out.errors += errs[c]
	}
	if len(out.lat) == 0 && firstErr != nil {
		return out, fmt.Errorf("every call failed: %w", firstErr)
	}
	out.perSec = round(float64(len(out.lat))/elapsed.Seconds(), 1)
	return out, nil
}

func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// machine describes where the figures come from.
func machine(ctx context.Context, dsn string) Machine {
	m := Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(string(b))
	}
	if conn, err := pgx.Connect(ctx, dsn); err == nil {
		_ = conn.QueryRow(ctx, "SHOW server_version").Scan(&m.PostgreSQL)
		conn.Close(ctx)
	}
	return m
}
