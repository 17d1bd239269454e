package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/executor"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/pgcluster"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

// SoakReport is the soak part: mixed load through several MCP sessions on
// a dataset with a streaming replica, both clusters of its own, while
// faults are injected. Every successful answer is compared with the
// answer to the same question before any fault (the reference run).
type SoakReport struct {
	DurationS float64 `json:"duration_s"`
	Sessions  int     `json:"sessions"`
	Calls     int     `json:"calls"`
	Queries   int     `json:"queries"`
	Answers   int     `json:"answers"`
	Wrong     int     `json:"wrong"`
	// Cancelled counts the calls the clients cancelled on purpose.
	Cancelled int `json:"cancelled"`
	// ErrorsDuringOutages are failed queries that started or ended within
	// a fault's window, by class; ErrorsOutsideOutages the others.
	ErrorsDuringOutages  map[string]int `json:"errors_during_outages"`
	ErrorsOutsideOutages int            `json:"errors_outside_outages"`
	ErrorsOutside        map[string]int `json:"errors_outside,omitempty"`
	Faults               []SoakFault    `json:"faults"`
	RSSBeforeMiB         float64        `json:"rss_before_mib"`
	RSSPeakMiB           float64        `json:"rss_peak_mib"`
	RSSAfterMiB          float64        `json:"rss_after_mib"`
	GoroutinesBefore     int            `json:"goroutines_before"`
	GoroutinesAfter      int            `json:"goroutines_after"`
}

// SoakFault is one injected fault.
type SoakFault struct {
	AtS       float64 `json:"at_s"`
	Fault     string  `json:"fault"`
	DurationS float64 `json:"duration_s"`
}

// soakGrace extends a fault's window: a replica taken out is probed back
// within seconds, and calls in flight when a fault ends still see it.
const soakGrace = 3 * time.Second

// soakServer is the server under the soak: `serve` wired in-process over a
// catalog of its own, following catalog changes.
type soakServer struct {
	dir      string
	store    *sqlitestore.Store
	reg      *dataset.Registry
	stop     context.CancelFunc
	httpDone chan error
	endpoint string
	client   *http.Client
}

func (b *run) soak(ctx context.Context, r *Report) (err error) {
	cfg := b.cfg
	b.step("soak: starting a PostgreSQL primary and a streaming replica of its own")
	primary, err := pgcluster.StartPrimary(ctx)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	defer primary.Close()
	schema := PanelSchema(cfg.Users)
	if _, err := EnsurePanel(ctx, primary.DSN(""), Panel{Users: cfg.Users}); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	// The panel is UNLOGGED, which a replica cannot read: log it.
	if err := execSQL(ctx, primary.DSN(""), fmt.Sprintf("ALTER TABLE %[1]s.app_usage SET LOGGED; ALTER TABLE %[1]s.users SET LOGGED; ANALYZE %[1]s.users; ANALYZE %[1]s.app_usage", pgx.Identifier{schema}.Sanitize())); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	replica, err := primary.StartReplica(ctx)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	defer replica.Close()

	s, err := b.startSoakServer(ctx, provision.WithSearchPath(primary.DSN(""), schema), provision.WithSearchPath(replica.DSN(""), schema))
	if err != nil {
		return err
	}
	defer s.close()

	// The questions, and the reference run: each answered once before any
	// fault.
	var questions []string
	questions = append(questions, multiQueries(cfg.Users, 10)...)
	for i := range 4 {
		questions = append(questions, pkLookup(cfg.Users, i), smallAggregate(cfg.Users, i))
	}
	questions = append(questions, heavyAggregate(0, 0), "SELECT * FROM users ORDER BY user_id")
	ref, err := s.connect(ctx)
	if err != nil {
		return err
	}
	reference := make([][][]any, len(questions))
	for i, q := range questions {
		res, err := callQuery(ctx, ref, q)
		if err != nil {
			ref.Close()
			return fmt.Errorf("soak, reference run: %q: %w", q, err)
		}
		reference[i] = res.Rows
	}
	ref.Close()

	sessions := min(cfg.Sessions, 12)
	clients := make([]*mcp.ClientSession, sessions)
	for i := range clients {
		if clients[i], err = s.connect(ctx); err != nil {
			closeAll(clients)
			return err
		}
	}
	runtime.GC()
	rep := &SoakReport{Sessions: sessions, ErrorsDuringOutages: map[string]int{}, ErrorsOutside: map[string]int{}}
	rep.GoroutinesBefore, rep.RSSBeforeMiB = runtime.NumGoroutine(), mib(rssBytes())
	peak := rssBytes()

	start := time.Now()
	deadline := start.Add(cfg.SoakDuration)
	var (
		mu      sync.Mutex
		windows [][2]time.Time
		faults  []SoakFault
	)
	fault := func(name string, f func() error) {
		at := time.Now()
		err := f()
		end := time.Now()
		if err != nil {
			name += " (failed: " + err.Error() + ")"
		}
		b.step("soak: %s at %.0f s", name, at.Sub(start).Seconds())
		mu.Lock()
		windows = append(windows, [2]time.Time{at, end.Add(soakGrace)})
		faults = append(faults, SoakFault{AtS: round(at.Sub(start).Seconds(), 1), Fault: name, DurationS: round(end.Sub(at).Seconds(), 1)})
		mu.Unlock()
	}
	inOutage := func(from, to time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range windows {
			if !to.Before(w[0]) && !from.After(w[1]) {
				return true
			}
		}
		return false
	}

	var calls, queries, answers, wrong, cancelled atomic.Int64
	type failure struct {
		class    string
		from, to time.Time
	}
	var failMu sync.Mutex
	var failures []failure
	fail := func(class string, from, to time.Time) {
		failMu.Lock()
		failures = append(failures, failure{class, from, to})
		failMu.Unlock()
	}
	check := func(q int, res soakResult) {
		if !res.OK {
			return
		}
		answers.Add(1)
		if !sameRows(reference[q], res.Rows) {
			wrong.Add(1)
			b.step("soak: WRONG answer to %q: %.300v, want %.300v", questions[q], res.Rows, reference[q])
		}
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	for c, cs := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			for time.Now().Before(deadline) && loadCtx.Err() == nil {
				calls.Add(1)
				from := time.Now()
				if rng.IntN(10) < 7 {
					q := rng.IntN(len(questions))
					queries.Add(1)
					res, err := callQuery(loadCtx, cs, questions[q])
					if err != nil {
						fail(errorClass(err), from, time.Now())
						continue
					}
					if !res.OK {
						fail(errorClass(errors.New(res.Error)), from, time.Now())
					}
					check(q, res)
					continue
				}
				picks := make([]int, 3+rng.IntN(8))
				sqls := make([]string, len(picks))
				for i := range picks {
					picks[i] = rng.IntN(len(questions))
					sqls[i] = questions[picks[i]]
				}
				queries.Add(int64(len(picks)))
				results, err := callMulti(loadCtx, cs, sqls)
				if err != nil {
					fail(errorClass(err), from, time.Now())
					continue
				}
				for i, res := range results {
					if !res.OK {
						fail(errorClass(errors.New(res.Error)), from, time.Now())
					}
					check(picks[i], res)
				}
			}
		})
	}
	// Client cancellations: a heavy question abandoned after a few ms.
	wg.Go(func() {
		cs := clients[0]
		for i := 0; time.Now().Before(deadline) && loadCtx.Err() == nil; i++ {
			time.Sleep(1500 * time.Millisecond)
			cctx, cancel := context.WithTimeout(loadCtx, time.Duration(5+i%40)*time.Millisecond)
			_, err := callQuery(cctx, cs, heavyAggregate(0, 0))
			cancel()
			if err != nil && cctx.Err() != nil {
				cancelled.Add(1)
			}
		}
	})
	// RSS sampling.
	stopSampling := peakRSS(peak, 20*time.Millisecond)

	// The faults, spread over the run.
	at := func(frac float64) {
		time.Sleep(time.Until(start.Add(time.Duration(frac * float64(cfg.SoakDuration)))))
	}
	pooled := "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'mcp-analytics' AND pid <> pg_backend_pid()"
	terminate := func() error {
		return errors.Join(execSQL(ctx, primary.DSN(""), pooled), execSQL(ctx, replica.DSN(""), pooled))
	}
	at(0.10)
	fault("pg_terminate_backend of every pooled connection", terminate)
	at(0.20)
	fault("catalog change: the dataset updated (its pools are replaced)", func() error { return s.touch(ctx, "updated during the soak") })
	at(0.30)
	fault("catalog change: a dataset added and removed", func() error { return s.addRemove(ctx, primary.DSN("")) })
	at(0.40)
	replicaDown := time.Now()
	fault("replica killed (pg_ctl stop -m immediate)", func() error { return replica.Stop(ctx, "immediate") })
	at(0.50)
	fault("primary restarted (pg_ctl restart -m fast) while the replica is down", func() error { return primary.Restart(ctx) })
	at(0.60)
	fault("replica started again", func() error { return replica.Start(ctx) })
	mu.Lock()
	windows = append(windows, [2]time.Time{replicaDown, time.Now().Add(soakGrace)})
	mu.Unlock()
	at(0.70)
	fault("pg_terminate_backend of every pooled connection", terminate)
	at(0.80)
	fault("catalog change: the dataset updated again", func() error { return s.touch(ctx, "updated again") })

	wg.Wait()
	stopLoad()
	closeAll(clients)
	peak = stopSampling()
	s.client.CloseIdleConnections()
	rep.GoroutinesAfter = runtime.NumGoroutine()
	for end := time.Now().Add(5 * time.Second); rep.GoroutinesAfter > rep.GoroutinesBefore && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		rep.GoroutinesAfter = runtime.NumGoroutine()
	}
	runtime.GC()
	rep.RSSPeakMiB, rep.RSSAfterMiB = mib(peak), mib(rssBytes())
	rep.DurationS = round(time.Since(start).Seconds(), 1)
	rep.Calls, rep.Queries, rep.Answers = int(calls.Load()), int(queries.Load()), int(answers.Load())
	rep.Wrong, rep.Cancelled, rep.Faults = int(wrong.Load()), int(cancelled.Load()), faults
	for _, f := range failures {
		if inOutage(f.from, f.to) {
			rep.ErrorsDuringOutages[f.class]++
		} else {
			rep.ErrorsOutsideOutages++
			rep.ErrorsOutside[f.class]++
		}
	}
	r.Soak = rep
	return nil
}

// soakResult is one query's answer as the client saw it.
type soakResult struct {
	OK    bool    `json:"ok"`
	Error string  `json:"error"`
	Rows  [][]any `json:"rows"`
}

func callQuery(ctx context.Context, cs *mcp.ClientSession, sql string) (soakResult, error) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query_dataset", Arguments: map[string]any{"dataset_id": 1, "query": sql}})
	if err != nil {
		return soakResult{}, err
	}
	var out soakResult
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil || (!out.OK && out.Error == "") {
		return soakResult{Error: firstText(res)}, nil
	}
	return out, nil
}

func callMulti(ctx context.Context, cs *mcp.ClientSession, sqls []string) ([]soakResult, error) {
	qs := make([]map[string]any, len(sqls))
	for i, q := range sqls {
		qs[i] = map[string]any{"dataset_id": 1, "query": q}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "execute_multi_query", Arguments: map[string]any{"queries": qs}})
	if err != nil {
		return nil, err
	}
	var out struct {
		Results []soakResult `json:"results"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil || len(out.Results) != len(sqls) {
		return nil, &callError{text: firstText(res)}
	}
	return out.Results, nil
}

// errorClass names the kind of a failure for the report.
func errorClass(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "cannot be reached"), strings.Contains(msg, "unavailable"):
		return "database unavailable"
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "ran out of time"):
		return "timeout"
	case strings.Contains(msg, "busy"):
		return "busy"
	case strings.Contains(msg, "cancelled"), strings.Contains(msg, "canceled"):
		return "cancelled"
	case strings.Contains(msg, "internal error"):
		return "internal error"
	case strings.Contains(msg, "not found"):
		return "dataset not found"
	}
	var ce *callError
	if !errors.As(err, &ce) && !strings.Contains(msg, "**Error**") {
		return "transport"
	}
	return "other: " + clipClass(msg)
}

func clipClass(s string) string {
	if len(s) > 60 {
		return s[:60]
	}
	return s
}

// sameRows reports whether two answers hold the same rows in any order,
// floats equal to 1e-9 relative (parallel sums may differ in the last
// digits).
func sameRows(want, got [][]any) bool {
	if len(want) != len(got) {
		return false
	}
	key := func(rows [][]any) [][]any {
		out := slices.Clone(rows)
		sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
		return out
	}
	w, g := key(want), key(got)
	for i := range w {
		if len(w[i]) != len(g[i]) {
			return false
		}
		for j := range w[i] {
			a, aok := w[i][j].(float64)
			b, bok := g[i][j].(float64)
			switch {
			case aok && bok:
				if math.Abs(a-b) > 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b))) {
					return false
				}
			case fmt.Sprint(w[i][j]) != fmt.Sprint(g[i][j]):
				return false
			}
		}
	}
	return true
}

func execSQL(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// startSoakServer serves a catalog with one dataset, the panel on the
// primary with its replica, following catalog changes every 200 ms.
func (b *run) startSoakServer(ctx context.Context, primaryDSN, replicaDSN string) (_ *soakServer, err error) {
	s := &soakServer{}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "mcpa-soak-"); err != nil {
		return s, err
	}
	if s.store, err = sqlitestore.Open(ctx, filepath.Join(s.dir, "catalog.sqlite")); err != nil {
		return s, err
	}
	settings := provision.DemoSettings
	settings.Replicas = catalog.Replicas{DSNs: []string{replicaDSN}}
	if _, err := s.store.Add(ctx, catalog.Dataset{Name: "Soak Panel", Description: "benchmark panel with a streaming replica",
		Driver: catalog.DriverPostgres, DSN: primaryDSN, Settings: settings}); err != nil {
		return s, err
	}
	// Internal errors are worth seeing: they go to the progress output.
	log := slog.New(slog.NewTextHandler(b.cfg.Progress, &slog.HandlerOptions{Level: slog.LevelError}))
	limits := b.cfg.Limits
	s.reg = dataset.New(s.store, dataset.SourceOpener(log), limits, log)
	if err := s.reg.Refresh(ctx); err != nil {
		return s, err
	}
	svc := analysis.New(s.reg, executor.New(limits.MaxConcurrent, executor.PerClient(limits.MaxConcurrentPerClient)), limits.MaxQueries, log)
	srv := mcpserver.New(svc, mcpserver.Options{Version: "soak", Logger: log,
		Render: render.Options{MaxCell: limits.MaxCellChars, MaxBytes: limits.MaxAnswerBytes}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	s.endpoint = "http://" + ln.Addr().String() + "/mcp"
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop, s.httpDone = stop, make(chan error, 1)
	go s.reg.Watch(sctx, 200*time.Millisecond)
	go func() {
		s.httpDone <- server.Serve(sctx, ln, server.Handler(srv, server.Options{Logger: log}), server.ServeOptions{Logger: log})
	}()
	s.client = &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	return s, nil
}

func (s *soakServer) connect(ctx context.Context) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "mcp-analytics-soak", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.endpoint, HTTPClient: s.client, MaxRetries: -1}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect an MCP client: %w", err)
	}
	return cs, nil
}

// touch changes the soak dataset's description: a new catalog version,
// so the registry replaces its pools once their queries are done.
func (s *soakServer) touch(ctx context.Context, description string) error {
	d, err := s.store.Get(ctx, 1)
	if err != nil {
		return err
	}
	d.Description = description
	return s.store.Update(ctx, d)
}

// addRemove adds a dataset, lets the server load it, and removes it.
func (s *soakServer) addRemove(ctx context.Context, dsn string) error {
	d, err := s.store.Add(ctx, catalog.Dataset{Name: "Scratch", Driver: catalog.DriverPostgres, DSN: dsn})
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	return s.store.Remove(ctx, d.ID)
}

func (s *soakServer) close() {
	if s.stop != nil {
		s.stop()
		<-s.httpDone
	}
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	if s.reg != nil {
		s.reg.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// markdown renders the soak's figures.
func (s *SoakReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Soak: %d MCP sessions for %s s, mixed query_dataset / execute_multi_query, with faults\n\n", s.Sessions, num(s.DurationS))
	b.WriteString("| calls | queries | answers checked | wrong | cancelled by the client | errors during outages | errors outside outages | RSS before → peak → after | goroutines before → after |\n|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %s | %d | %s → %s → %s MiB | %d → %d |\n", thousands(s.Calls), thousands(s.Queries), thousands(s.Answers), s.Wrong,
		s.Cancelled, classes(s.ErrorsDuringOutages), s.ErrorsOutsideOutages, num(s.RSSBeforeMiB), num(s.RSSPeakMiB), num(s.RSSAfterMiB), s.GoroutinesBefore, s.GoroutinesAfter)
	b.WriteString("\n| at (s) | fault | took (s) |\n|---|---|---|\n")
	for _, f := range s.Faults {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", num(f.AtS), f.Fault, num(f.DurationS))
	}
	if s.ErrorsOutsideOutages > 0 {
		fmt.Fprintf(&b, "\nErrors outside outages: %s.\n", classes(s.ErrorsOutside))
	}
	return b.String()
}

// classes writes error counts by class, most frequent first.
func classes(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}
