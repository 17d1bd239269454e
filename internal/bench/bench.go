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
	"time"

	"github.com/jackc/pgx/v5"

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
