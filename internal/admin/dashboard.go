package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// timeRange is one choice of the dashboard's range switch.
type timeRange struct {
	Key    string
	Label  string
	Span   time.Duration
	Bucket time.Duration
	Tick   string // time format of the axis labels
}

var ranges = []timeRange{
	{"24h", "24 h", 24 * time.Hour, time.Hour, "15:04"},
	{"7d", "7 d", 7 * 24 * time.Hour, 6 * time.Hour, "Mon 02"},
	{"30d", "30 d", 30 * 24 * time.Hour, 24 * time.Hour, "Jan 02"},
}

func rangeOf(key string) timeRange {
	for _, r := range ranges {
		if r.Key == key {
			return r
		}
	}
	return ranges[0]
}

type dashboardData struct {
	Range    timeRange
	Ranges   []timeRange
	Since    time.Time
	Calls    int64
	Errors   int64
	ErrRate  string
	P50, P95 string
	ByTool   columnChart
	ByClient columnChart
	Tools    []catalog.AggregateRow
	Latency  hbarChart
	Datasets hbarChart
	Outcomes hbarChart
	Guard    hbarChart
	Slowest  []catalog.QueryRecord
	// AsOf is when cached figures were read (zero when fresh).
	AsOf time.Time
}

// dashboard draws the query log of the chosen range: calls over time by
// tool and by client, latency percentiles, error rate, busiest datasets,
// slowest queries and guard rejections. It counts tool calls (kind call),
// as /metrics' mcp_server_operation_duration_seconds does.
func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	rg := rangeOf(r.URL.Query().Get("range"))
	d, err := c.dashboardFor(ctx, rg)
	if err != nil {
		c.log.ErrorContext(ctx, "read the query log for the dashboard", "err", err)
		c.fail(w, r, s, http.StatusServiceUnavailable, "The query log cannot be read right now; try again shortly.")
		return
	}
	c.render(w, r, s, http.StatusOK, "dashboard", "Dashboard", d)
}

// dashboardTTL is how long a range's figures are reused: the 24 h view is
// always fresh (it is the one compared with /metrics); the longer ranges
// read more of the log and change little within a minute.
func dashboardTTL(rg timeRange) time.Duration {
	switch rg.Key {
	case "7d":
		return 15 * time.Second
	case "30d":
		return time.Minute
	}
	return 0
}

type cachedDashboard struct {
	at   time.Time
	data dashboardData
}

func (c *Console) dashboardFor(ctx context.Context, rg timeRange) (dashboardData, error) {
	ttl := dashboardTTL(rg)
	if ttl > 0 {
		c.dashMu.Lock()
		e, ok := c.dash[rg.Key]
		c.dashMu.Unlock()
		if ok && c.now().Sub(e.at) < ttl {
			e.data.AsOf = e.at
			return e.data, nil
		}
	}
	d, err := c.readDashboard(ctx, rg)
	if err == nil && ttl > 0 {
		c.dashMu.Lock()
		c.dash[rg.Key] = cachedDashboard{at: c.now(), data: d}
		c.dashMu.Unlock()
	}
	return d, err
}

// readDashboard reads the figures of a range: a few aggregates of the
// query log, read concurrently (the store serves them in parallel).
func (c *Console) readDashboard(ctx context.Context, rg timeRange) (dashboardData, error) {
	n := int(rg.Span / rg.Bucket)
	now := c.now().UTC()
	since := now.Truncate(rg.Bucket).Add(-time.Duration(n-1) * rg.Bucket)
	d := dashboardData{Range: rg, Ranges: ranges, Since: since}
	calls := catalog.LogFilter{Since: since, Kind: catalog.KindCall}
	store := c.opts.Store
	var (
		total, toolTime, clientTime, tools, dsCalls, dsQueries, rules, outcomes []catalog.AggregateRow
		recs                                                                    []catalog.QueryRecord
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	agg := func(dst *[]catalog.AggregateRow, f catalog.LogFilter, by string, bucket time.Duration) {
		g.Go(func() error {
			rows, err := store.AggregateQueryLog(gctx, catalog.Aggregate{Filter: f, By: by, Bucket: bucket})
			*dst = rows
			return err
		})
	}
	agg(&total, calls, catalog.ByNone, 0)
	agg(&toolTime, calls, catalog.ByTool, rg.Bucket)
	agg(&clientTime, calls, catalog.ByClient, rg.Bucket)
	agg(&tools, calls, catalog.ByTool, 0)
	agg(&outcomes, calls, catalog.ByOutcome, 0)
	// Busiest datasets count queries: the single query of query_dataset /
	// get_dataset_sample (kind call) and each query of
	// execute_multi_query (kind query). Only calls and queries have guard
	// rules, so one pass over every kind counts the rejections.
	agg(&dsCalls, calls, catalog.ByDataset, 0)
	agg(&dsQueries, catalog.LogFilter{Since: since, Kind: catalog.KindQuery}, catalog.ByDataset, 0)
	agg(&rules, catalog.LogFilter{Since: since}, catalog.ByGuardRule, 0)
	g.Go(func() error {
		var err error
		recs, err = store.QueryLogRecords(gctx, catalog.LogFilter{Since: since, Order: catalog.OrderSlowest, Limit: 40})
		return err
	})
	var list []catalog.Dataset
	g.Go(func() error {
		list, _ = store.List(gctx) // names for records that lack them; optional
		return nil
	})
	if err := g.Wait(); err != nil {
		return d, err
	}

	if len(total) > 0 {
		t := total[0]
		d.Calls, d.Errors = t.Count, t.Errors
		d.ErrRate = fmt.Sprintf("%.1f %%", 100*t.ErrorRate())
		d.P50, d.P95 = fmtMS(t.P50MS), fmtMS(t.P95MS)
	}
	over := func(rows []catalog.AggregateRow, by, title string) columnChart {
		cs := make([]counted, len(rows))
		for i, r := range rows {
			cs[i] = counted{r.Start, r.Key, r.Count}
		}
		return newColumnChart(title, by, since, rg.Bucket, n, cs, rg.Tick)
	}
	d.ByTool = over(toolTime, catalog.ByTool, "Calls over time by tool")
	d.ByClient = over(clientTime, catalog.ByClient, "Calls over time by client")
	d.Tools = tools
	var labels []string
	var values []float64
	for _, t := range d.Tools {
		labels, values = append(labels, t.Key), append(values, t.P95MS)
	}
	d.Latency = newHBar("p95 latency by tool", "p95", labels, values, fmtMS)

	names := map[string]string{}
	for _, ds := range list {
		names[fmt.Sprint(ds.ID)] = ds.Name
	}
	perDataset, perRule := map[string]float64{}, map[string]float64{}
	var dsOrder, ruleOrder []string
	for _, r := range append(dsCalls, dsQueries...) {
		id, name, _ := strings.Cut(r.Key, " ")
		if id == "0" || id == "" {
			continue
		}
		if name == "" {
			name = names[id]
		}
		if name == "" {
			name = "removed dataset"
		}
		k := name + " (#" + id + ")"
		if _, ok := perDataset[k]; !ok {
			dsOrder = append(dsOrder, k)
		}
		perDataset[k] += float64(r.Count)
	}
	for _, r := range rules {
		if r.Key == "" {
			continue
		}
		if _, ok := perRule[r.Key]; !ok {
			ruleOrder = append(ruleOrder, r.Key)
		}
		perRule[r.Key] += float64(r.Count)
	}
	d.Datasets = sortedHBar("Busiest datasets", "queries", dsOrder, perDataset, 10)
	d.Guard = sortedHBar("Guard rejections by rule", "rejections", ruleOrder, perRule, 10)
	labels, values = nil, nil
	for _, r := range outcomes {
		labels, values = append(labels, r.Key), append(values, float64(r.Count))
	}
	d.Outcomes = newHBar("Calls by outcome", "calls", labels, values, fmtCount)
	for _, r := range recs {
		if r.Kind != catalog.KindAdmin && r.QuerySent != "" && len(d.Slowest) < 10 {
			d.Slowest = append(d.Slowest, r)
		}
	}
	return d, nil
}

// sortedHBar draws the n largest values, largest first.
func sortedHBar(title, unit string, keys []string, values map[string]float64, n int) hbarChart {
	ks := append([]string(nil), keys...)
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && values[ks[j]] > values[ks[j-1]]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	if len(ks) > n {
		ks = ks[:n]
	}
	vs := make([]float64, len(ks))
	for i, k := range ks {
		vs[i] = values[k]
	}
	return newHBar(title, unit, ks, vs, fmtCount)
}

func fmtMS(ms float64) string {
	switch {
	case ms == 0:
		return "0 ms"
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 10000:
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
}

func fmtCount(v float64) string { return fmt.Sprintf("%.0f", v) }
