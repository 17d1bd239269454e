package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

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

func (c *Console) dashboardFor(ctx context.Context, rg timeRange) (dashboardData, error) {
	n := int(rg.Span / rg.Bucket)
	now := c.now().UTC()
	since := now.Truncate(rg.Bucket).Add(-time.Duration(n-1) * rg.Bucket)
	d := dashboardData{Range: rg, Ranges: ranges, Since: since}
	calls := catalog.LogFilter{Since: since, Kind: catalog.KindCall}
	store := c.opts.Store
	agg := func(f catalog.LogFilter, by string, bucket time.Duration) ([]catalog.AggregateRow, error) {
		return store.AggregateQueryLog(ctx, catalog.Aggregate{Filter: f, By: by, Bucket: bucket})
	}
	total, err := agg(calls, catalog.ByNone, 0)
	if err != nil {
		return d, err
	}
	if len(total) > 0 {
		t := total[0]
		d.Calls, d.Errors = t.Count, t.Errors
		d.ErrRate = fmt.Sprintf("%.1f %%", 100*t.ErrorRate())
		d.P50, d.P95 = fmtMS(t.P50MS), fmtMS(t.P95MS)
	}
	over := func(by, title string) (columnChart, error) {
		rows, err := agg(calls, by, rg.Bucket)
		if err != nil {
			return columnChart{}, err
		}
		cs := make([]counted, len(rows))
		for i, r := range rows {
			cs[i] = counted{r.Start, r.Key, r.Count}
		}
		return newColumnChart(title, by, since, rg.Bucket, n, cs, rg.Tick), nil
	}
	if d.ByTool, err = over(catalog.ByTool, "Calls over time by tool"); err != nil {
		return d, err
	}
	if d.ByClient, err = over(catalog.ByClient, "Calls over time by client"); err != nil {
		return d, err
	}
	if d.Tools, err = agg(calls, catalog.ByTool, 0); err != nil {
		return d, err
	}
	var labels []string
	var values []float64
	for _, t := range d.Tools {
		labels, values = append(labels, t.Key), append(values, t.P95MS)
	}
	d.Latency = newHBar("p95 latency by tool", "p95", labels, values, fmtMS)

	// Busiest datasets and guard rejections count queries: the single
	// query of query_dataset / get_dataset_sample (kind call) and each
	// query of execute_multi_query (kind query).
	names := map[string]string{}
	if list, err := store.List(ctx); err == nil {
		for _, ds := range list {
			names[fmt.Sprint(ds.ID)] = ds.Name
		}
	}
	perDataset, perRule := map[string]float64{}, map[string]float64{}
	var dsOrder, ruleOrder []string
	for _, kind := range []string{catalog.KindCall, catalog.KindQuery} {
		f := catalog.LogFilter{Since: since, Kind: kind}
		rows, err := agg(f, catalog.ByDataset, 0)
		if err != nil {
			return d, err
		}
		for _, r := range rows {
			id, name, _ := strings.Cut(r.Key, " ")
			if id == "0" || id == "" || kind == catalog.KindCall && r.Key == "" {
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
		if rows, err = agg(f, catalog.ByGuardRule, 0); err != nil {
			return d, err
		}
		for _, r := range rows {
			if r.Key == "" {
				continue
			}
			if _, ok := perRule[r.Key]; !ok {
				ruleOrder = append(ruleOrder, r.Key)
			}
			perRule[r.Key] += float64(r.Count)
		}
	}
	d.Datasets = sortedHBar("Busiest datasets", "queries", dsOrder, perDataset, 10)
	d.Guard = sortedHBar("Guard rejections by rule", "rejections", ruleOrder, perRule, 10)
	orows, err := agg(calls, catalog.ByOutcome, 0)
	if err != nil {
		return d, err
	}
	labels, values = nil, nil
	for _, r := range orows {
		labels, values = append(labels, r.Key), append(values, float64(r.Count))
	}
	d.Outcomes = newHBar("Calls by outcome", "calls", labels, values, fmtCount)
	recs, err := store.QueryLogRecords(ctx, catalog.LogFilter{Since: since, Order: catalog.OrderSlowest, Limit: 40})
	if err != nil {
		return d, err
	}
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
