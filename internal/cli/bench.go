package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/bench"
)

func runBench(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("bench", env)
	var common commonFlags
	common.register(fs)
	d := bench.DefaultConfig()
	dsn := fs.String("dsn", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL database to generate the panel into (schema mcpa_bench_<users>) and query")
	users := fs.Int("users", d.Users, "panelists in the generated panel (the issue's figure is 1000000)")
	rtt := fs.String("rtt", "20ms", "comma-separated round-trip times latency proxies add for the multi-query and throughput comparisons (SPEC §10's goals are at 20ms)")
	iterations := fs.Int("iterations", d.Iterations, "samples per per-call case (the heavy aggregate takes a tenth)")
	repeats := fs.Int("repeats", d.Repeats, "runs per multi-query size; the median is reported")
	sizes := fs.String("multi", "3,10,30", "comma-separated numbers of queries for the multi-query comparison")
	sessions := fs.Int("sessions", d.Sessions, "concurrent MCP sessions in the load test")
	calls := fs.Int("calls", d.Calls, "calls per session (load) and per client (throughput)")
	clients := fs.Int("clients", d.Clients, "concurrent clients in the throughput comparison with raw pgx")
	parts := fs.String("parts", strings.Join(bench.Parts, ","), "comma-separated parts to measure; also "+strings.Join(bench.ExtraParts, ", ")+", only when named")
	against := fs.String("against", "", "another MCP server to measure on the same panel: its Streamable HTTP URL, or a command line speaking MCP over stdio")
	againstName := fs.String("against-name", "other server", "label of --against in the report")
	againstTool := fs.String("against-tool", "query", "the tool of --against that runs SQL")
	againstSQL := fs.String("against-sql-arg", "sql", "the argument of --against-tool that takes the SQL")
	againstArgs := fs.String("against-args", "", `further fixed arguments of --against-tool, as a JSON object (e.g. {"database": "bench"})`)
	importN := fs.Int("import-respondents", d.ImportRespondents, "part import: respondents in the generated .sav file")
	importVars := fs.Int("import-variables", d.ImportVariables, "part import: variables in the generated .sav file")
	parquetRows := fs.Int("parquet-rows", d.ParquetRows, "part import: rows in the generated Parquet file")
	importDir := fs.String("import-dir", "", "part import: where the generated files are kept between runs (default: in the system's temporary directory)")
	jsonPath := fs.String("json", "", "also write the report as JSON to this file (- for stdout)")
	drop := fs.Bool("drop", false, "drop the generated panel when done")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the whole run to this file")
	soakDuration := fs.Duration("soak-duration", bench.DefaultConfig().SoakDuration, "how long the soak part runs (--parts soak; it starts a PostgreSQL primary and replica of its own)")
	events := fs.Int("events", 0, "part weighted: app_usage rows of its panel of --users panelists (default: five per panelist; the issue's figures are 5000000 and 20000000)")
	weightedReps := fs.Int("weighted-reps", d.WeightedReps, "part weighted: times each question is run each way (the median is reported)")
	questions := fs.String("questions", "", "part weighted: comma-separated parts of question names to run, e.g. 'users),reach' (default: all ten)")
	workMem := fs.String("work-mem", "", "part weighted: work_mem of the benchmark dataset's sessions, e.g. 64MB (default: the database's)")
	parallel := fs.String("max-parallel-workers", "", "part weighted: max_parallel_workers_per_gather of the benchmark dataset's sessions (default: the database's)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Message: "unexpected arguments: " + strings.Join(fs.Args(), " "), Hint: "mcp-analytics bench --users 1000000 --rtt 20ms"}
	}
	cfg, err := common.load(env)
	if err != nil {
		return err
	}
	bc := bench.Config{
		DSN: *dsn, Users: *users, Iterations: *iterations, Repeats: *repeats,
		Sessions: *sessions, Calls: *calls, Clients: *clients, Limits: cfg.Limits, Progress: env.Stderr,
		ImportRespondents: *importN, ImportVariables: *importVars, ParquetRows: *parquetRows, ImportDir: *importDir,
		SoakDuration: *soakDuration,
		Events:       *events, WeightedReps: *weightedReps, WorkMem: *workMem,
	}
	for q := range strings.SplitSeq(*questions, ",") {
		if q = strings.TrimSpace(q); q != "" {
			bc.WeightedQuestions = append(bc.WeightedQuestions, q)
		}
	}
	if *parallel != "" {
		n, err := strconv.Atoi(*parallel)
		if err != nil {
			return &UsageError{Message: fmt.Sprintf("--max-parallel-workers: %q is not a number", *parallel), Hint: "--max-parallel-workers 2"}
		}
		bc.ParallelWorkers = &n
	}
	if *against != "" {
		a := bench.Against{Name: *againstName, Tool: *againstTool, SQLArg: *againstSQL}
		if strings.HasPrefix(*against, "http://") || strings.HasPrefix(*against, "https://") {
			a.Endpoint = *against
		} else {
			a.Command = strings.Fields(*against)
		}
		if *againstArgs != "" {
			if err := json.Unmarshal([]byte(*againstArgs), &a.Args); err != nil {
				return &UsageError{Message: "--against-args must be a JSON object: " + err.Error(), Hint: `--against-args '{"database": "bench"}'`}
			}
		}
		bc.Against = append(bc.Against, a)
	}
	for s := range strings.SplitSeq(*rtt, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return &UsageError{Message: fmt.Sprintf("--rtt: %q is not a duration", s), Hint: "--rtt 5ms,20ms,50ms"}
		}
		bc.RTTs = append(bc.RTTs, d)
	}
	for p := range strings.SplitSeq(*parts, ",") {
		bc.Parts = append(bc.Parts, strings.TrimSpace(p))
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return &UsageError{Message: fmt.Sprintf("--multi: %q is not a number", s), Hint: "--multi 3,10,30"}
		}
		bc.MultiSizes = append(bc.MultiSizes, n)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("create the CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			if f, err := os.Create(*memProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	rep, err := bench.Run(ctx, bc)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, rep.Markdown())
	if *jsonPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("encode the report: %w", err)
		}
		b = append(b, '\n')
		if *jsonPath == "-" {
			_, err = env.Stdout.Write(b)
		} else {
			err = os.WriteFile(*jsonPath, b, 0o644)
		}
		if err != nil {
			return fmt.Errorf("write the JSON report: %w", err)
		}
	}
	if *drop {
		if err := bench.DropPanel(ctx, *dsn, bench.Panel{Users: *users}); err != nil {
			return err
		}
		if slices.Contains(bc.Parts, "weighted") {
			return bench.DropPanel(ctx, *dsn, bench.Panel{Users: *users, Events: bc.WeightedEvents()})
		}
	}
	return nil
}
