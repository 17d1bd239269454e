package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sync/errgroup"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/executor"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
	"github.com/mcp-analytics/mcp-analytics/internal/source/postgres"
)

// harness is the system under test, wired as `mcp-analytics serve` wires
// it, plus raw pgx pools with the same settings to compare against:
//   - dataset local reaches PostgreSQL directly;
//   - one remote dataset per simulated round-trip time reaches it through
//     a latency proxy.
type harness struct {
	limits   config.Limits
	dir      string
	store    *sqlitestore.Store
	reg      *dataset.Registry
	svc      *analysis.Service
	stopHTTP context.CancelFunc
	httpDone chan error
	endpoint string
	client   *http.Client
	rawLocal *pgxpool.Pool
	local    int64
	remotes  []*remote
}

// remote is the benchmark panel behind a latency proxy, as a dataset of the
// server and as a raw pgx pool.
type remote struct {
	rtt     time.Duration
	proxy   *Proxy
	dataset int64
	raw     *pgxpool.Pool
}

func newHarness(ctx context.Context, cfg Config) (_ *harness, err error) {
	h := &harness{limits: cfg.Limits}
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	localDSN := provision.WithSearchPath(cfg.DSN, PanelSchema(cfg.Users))
	target, err := tcpAddress(cfg.DSN)
	if err != nil {
		return h, err
	}

	if h.dir, err = os.MkdirTemp("", "mcpa-bench-"); err != nil {
		return h, fmt.Errorf("create a catalog directory: %w", err)
	}
	if h.store, err = sqlitestore.Open(ctx, filepath.Join(h.dir, "catalog.sqlite")); err != nil {
		return h, err
	}
	add := func(name, description, dsn string) (int64, error) {
		added, err := h.store.Add(ctx, catalog.Dataset{Name: name, Description: description, DSN: dsn,
			Driver: catalog.DriverPostgres, Settings: provision.DemoSettings})
		if err != nil {
			return 0, fmt.Errorf("register the benchmark dataset: %w", err)
		}
		return added.ID, nil
	}
	if h.local, err = add("Bench Panel", "benchmark panel, direct", localDSN); err != nil {
		return h, err
	}
	remoteDSNs := make([]string, len(cfg.RTTs))
	for i, rtt := range cfg.RTTs {
		rm := &remote{rtt: rtt}
		h.remotes = append(h.remotes, rm)
		if rm.proxy, err = NewProxy(target, rtt); err != nil {
			return h, err
		}
		if remoteDSNs[i], err = withAddress(localDSN, rm.proxy.Addr()); err != nil {
			return h, err
		}
		if rm.dataset, err = add(fmt.Sprintf("Bench Panel (%s away)", rtt), fmt.Sprintf("benchmark panel, %s away", rtt), remoteDSNs[i]); err != nil {
			return h, err
		}
	}

	// Log as `serve` does, but into io.Discard: formatting each call's
	// log line is part of the cost measured.
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h.reg = dataset.New(h.store, dataset.SourceOpener(log), cfg.Limits, log)
	if err := h.reg.Refresh(ctx); err != nil {
		return h, err
	}
	h.svc = analysis.New(h.reg, executor.New(cfg.Limits.MaxConcurrent, executor.PerClient(cfg.Limits.MaxConcurrentPerClient)), cfg.Limits.MaxQueries, log)
	srv := mcpserver.New(h.svc, mcpserver.Options{
		Version: "bench", Logger: log,
		Render: render.Options{MaxCell: cfg.Limits.MaxCellChars, MaxBytes: cfg.Limits.MaxAnswerBytes},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return h, fmt.Errorf("listen for the MCP server: %w", err)
	}
	h.endpoint = "http://" + ln.Addr().String() + "/mcp"
	httpCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h.stopHTTP, h.httpDone = stop, make(chan error, 1)
	go func() {
		h.httpDone <- server.Serve(httpCtx, ln, server.Handler(srv, server.Options{Logger: log}), server.ServeOptions{Logger: log})
	}()
	// Every session keeps its connections: the default transport keeps
	// only two idle connections per host, which would make the load test
	// measure TCP handshakes.
	h.client = &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}

	opts := postgres.Options{
		MinConns: cfg.Limits.PoolMinConns, MaxConns: cfg.Limits.PoolMaxConns, IdleTimeout: cfg.Limits.PoolIdle,
		ConnectTimeout: cfg.Limits.ConnectTimeout, QueryTimeout: cfg.Limits.QueryTimeout,
	}
	pool := func(dsn string) (*pgxpool.Pool, error) {
		pc, err := postgres.Config(dsn, opts)
		if err != nil {
			return nil, err
		}
		p, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return nil, fmt.Errorf("open the raw pgx pool: %w", err)
		}
		return p, nil
	}
	if h.rawLocal, err = pool(localDSN); err != nil {
		return h, err
	}
	for i, rm := range h.remotes {
		if rm.raw, err = pool(remoteDSNs[i]); err != nil {
			return h, err
		}
	}
	return h, nil
}

func (h *harness) close() {
	if h.rawLocal != nil {
		h.rawLocal.Close()
	}
	for _, rm := range h.remotes {
		if rm.raw != nil {
			rm.raw.Close()
		}
	}
	if h.stopHTTP != nil {
		h.stopHTTP()
		<-h.httpDone
	}
	if h.client != nil {
		h.client.CloseIdleConnections()
	}
	if h.reg != nil {
		h.reg.Close()
	}
	for _, rm := range h.remotes {
		if rm.proxy != nil {
			rm.proxy.Close()
		}
	}
	if h.store != nil {
		h.store.Close()
	}
	if h.dir != "" {
		os.RemoveAll(h.dir)
	}
}

// connect opens an MCP session over Streamable HTTP, as an assistant's
// client would.
func (h *harness) connect(ctx context.Context) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "mcp-analytics-bench", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: h.endpoint, HTTPClient: h.client, MaxRetries: -1}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect an MCP client: %w", err)
	}
	return cs, nil
}

// callError is a tool call answered with isError.
type callError struct{ text string }

func (e *callError) Error() string { return "tool error: " + e.text }

// query calls query_dataset and fails unless the query ran.
func query(ctx context.Context, cs *mcp.ClientSession, id int64, sql string) error {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query_dataset", Arguments: map[string]any{"dataset_id": id, "query": sql}})
	if err != nil {
		return err
	}
	if res.IsError {
		return &callError{text: firstText(res)}
	}
	return nil
}

// multi calls execute_multi_query and fails unless every query ran.
func multi(ctx context.Context, cs *mcp.ClientSession, id int64, sqls []string) error {
	qs := make([]map[string]any, len(sqls))
	for i, q := range sqls {
		qs[i] = map[string]any{"dataset_id": id, "query": q, "label": "q" + strconv.Itoa(i+1)}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "execute_multi_query", Arguments: map[string]any{"queries": qs}})
	if err != nil {
		return err
	}
	var out struct {
		Succeeded int `json:"succeeded"`
	}
	b, err := json.Marshal(res.StructuredContent)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil || res.IsError || out.Succeeded != len(sqls) {
		return &callError{text: fmt.Sprintf("%d of %d queries succeeded: %.300s", out.Succeeded, len(sqls), firstText(res))}
	}
	return nil
}

func firstText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			return t.Text
		}
	}
	return ""
}

// plan returns the SQL the server runs for sql on dataset id: guarded,
// weighted, NCCS-merged and capped.
func (h *harness) plan(ctx context.Context, id int64, sql string) (string, error) {
	hd, err := h.reg.Open(ctx, id)
	if err != nil {
		return "", err
	}
	defer hd.Release()
	p, err := analysis.Plan(hd, analysis.Request{DatasetID: id, Query: sql, ApplyWeights: true, MergeNCCS: true})
	if err != nil {
		return "", fmt.Errorf("plan %q: %w", sql, err)
	}
	return p.SQL, nil
}

// rawQuery runs sql through pgx and reads every value, as a program using
// pgx directly would.
func rawQuery(ctx context.Context, pool *pgxpool.Pool, sql string) error {
	rows, err := pool.Query(ctx, sql)
	if err != nil {
		return err
	}
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			rows.Close()
			return err
		}
	}
	return rows.Err()
}

// tcpAddress returns the host:port a DSN connects to.
func tcpAddress(dsn string) (string, error) {
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "", errors.New("the connection string is not a valid PostgreSQL URL or key=value string")
	}
	if strings.HasPrefix(pc.Host, "/") {
		return "", fmt.Errorf("the latency proxy needs a TCP address, not the socket directory %s", pc.Host)
	}
	return net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port))), nil
}

// withAddress points a DSN at addr instead of its host and port.
func withAddress(dsn string, addr *net.TCPAddr) (string, error) {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = addr.String()
		return u.String(), nil
	}
	// In key=value form a later key wins.
	return fmt.Sprintf("%s host=%s port=%d", dsn, addr.IP, addr.Port), nil
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

// peakRSS samples the process's resident memory every interval, starting
// from start, until the returned function is called; it returns the
// highest value seen.
func peakRSS(start int64, every time.Duration) (stop func() int64) {
	peak := start
	done := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				peak = max(peak, rssBytes())
			}
		}
	})
	return func() int64 {
		close(done)
		sampler.Wait()
		return peak
	}
}
