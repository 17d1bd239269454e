// Package metrics exposes the server's Prometheus metrics at /metrics,
// through prometheus/client_golang with a registry of the process's own
// (no global state).
//
// MCP calls follow the OpenTelemetry semantic conventions for MCP servers,
// in Prometheus form: mcp_server_operation_duration_seconds by
// mcp_method_name, gen_ai_tool_name and error_type ("tool_error" for a
// result with isError, the JSON-RPC error code for a protocol error, empty
// on success), and mcp_server_session_duration_seconds. The rest carry the
// mcpa_ prefix: queries by dataset and outcome with their duration, guard
// rejections by rule, rows and bytes returned, queries running and
// queued and their wait for a slot, connection pool statistics per
// dataset, plan and result cache lookups, and the query log's backlog.
//
// A nil *Metrics records nothing, so callers need not check.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
)

// Metrics holds the collectors of one server process.
type Metrics struct {
	reg       *prometheus.Registry
	operation *prometheus.HistogramVec
	session   *prometheus.HistogramVec
	queries   *prometheus.CounterVec
	queryDur  *prometheus.HistogramVec
	rejected  *prometheus.CounterVec
	rows      *prometheus.CounterVec
	bytes     *prometheus.CounterVec
	slotWait  prometheus.Histogram
}

// operationBuckets are the OpenTelemetry MCP conventions' boundaries, with
// three below 10 ms, where most of our calls fall.
var operationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

// New returns the metrics of a server of the given version, with Go
// runtime and process collectors.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		operation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_server_operation_duration_seconds",
			Help:    "Duration of MCP requests handled by the server (OpenTelemetry mcp.server.operation.duration).",
			Buckets: operationBuckets,
		}, []string{"mcp_method_name", "gen_ai_tool_name", "error_type"}),
		session: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_server_session_duration_seconds",
			Help:    "Duration of MCP sessions, observed when they end (OpenTelemetry mcp.server.session.duration).",
			Buckets: []float64{1, 5, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400},
		}, []string{"mcp_protocol_version", "network_transport"}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpa_queries_total",
			Help: "SQL queries answered (query_dataset, each query of execute_multi_query, samples), by dataset and outcome.",
		}, []string{"dataset", "outcome"}),
		queryDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcpa_query_duration_seconds",
			Help:    "Duration of SQL queries, guard to last row, by dataset and outcome.",
			Buckets: operationBuckets,
		}, []string{"dataset", "outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpa_guard_rejections_total",
			Help: "Queries the SQL guard refused, by rule.",
		}, []string{"rule"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpa_rows_returned_total",
			Help: "Result rows returned to clients, by dataset.",
		}, []string{"dataset"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpa_response_bytes_total",
			Help: "Bytes of tool results (text and structured content) returned to clients, by tool.",
		}, []string{"tool"}),
		slotWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mcpa_query_slot_wait_seconds",
			Help:    "Time queries waited for a slot of the server-wide bound on queries running at once.",
			Buckets: []float64{0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60},
		}),
	}
	reg.MustRegister(m.operation, m.session, m.queries, m.queryDur, m.rejected, m.rows, m.bytes, m.slotWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcpa_build_info", Help: "Always 1; the version label is the server's version.",
			ConstLabels: prometheus.Labels{"version": version}}, func() float64 { return 1 }))
	return m
}

// Registry returns the registry (for tests: prometheus/testutil).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveOperation records one MCP request: its method, the tool for
// tools/call, and its error type ("" on success).
func (m *Metrics) ObserveOperation(method, tool, errorType string, d time.Duration) {
	if m == nil {
		return
	}
	m.operation.WithLabelValues(method, tool, errorType).Observe(d.Seconds())
}

// ObserveSession records a session that ended.
func (m *Metrics) ObserveSession(protocolVersion, transport string, d time.Duration) {
	if m == nil {
		return
	}
	m.session.WithLabelValues(protocolVersion, transport).Observe(d.Seconds())
}

// Query is one answered SQL query.
type Query struct {
	Dataset   string // the dataset's id and name, "3 Panel"; "" when unknown
	Outcome   string
	Duration  time.Duration
	SlotWait  time.Duration
	Rows      int
	GuardRule string
}

// DatasetLabel is the dataset label of a query: id and name.
func DatasetLabel(id int64, name string) string {
	if id == 0 {
		return ""
	}
	if name == "" {
		return strconv.FormatInt(id, 10)
	}
	return strconv.FormatInt(id, 10) + " " + name
}

// ObserveQuery records one answered query.
func (m *Metrics) ObserveQuery(q Query) {
	if m == nil {
		return
	}
	m.queries.WithLabelValues(q.Dataset, q.Outcome).Inc()
	m.queryDur.WithLabelValues(q.Dataset, q.Outcome).Observe(q.Duration.Seconds())
	m.slotWait.Observe(q.SlotWait.Seconds())
	if q.Rows > 0 {
		m.rows.WithLabelValues(q.Dataset).Add(float64(q.Rows))
	}
	if q.GuardRule != "" {
		m.rejected.WithLabelValues(q.GuardRule).Inc()
	}
}

// ObserveResponse records the size of a tool result.
func (m *Metrics) ObserveResponse(tool string, bytes int) {
	if m == nil {
		return
	}
	m.bytes.WithLabelValues(tool).Add(float64(bytes))
}

// WatchService exposes the service's queue and cache counters.
func (m *Metrics) WatchService(svc *analysis.Service) {
	m.reg.MustRegister(&serviceCollector{svc: svc})
}

// WatchQueryLog exposes the query log's backlog.
func (m *Metrics) WatchQueryLog(w *querylog.Writer) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcpa_query_log_pending_records",
			Help: "Query log records not yet in the catalog store (buffered or spooled to disk)."},
			func() float64 { return float64(w.Pending()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpa_query_log_stored_records_total",
			Help: "Query log records this process wrote to the catalog store."},
			func() float64 { return float64(w.Stored()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcpa_query_log_dropped_records_total",
			Help: "Query log records lost because neither the store, the spool nor memory could take them."},
			func() float64 { return float64(w.Dropped()) }),
	)
}

// WatchPools exposes the connection pool statistics of the registry's
// open PostgreSQL datasets.
func (m *Metrics) WatchPools(reg *dataset.Registry) {
	m.reg.MustRegister(&poolCollector{reg: reg})
}

type serviceCollector struct{ svc *analysis.Service }

var (
	inFlightDesc = prometheus.NewDesc("mcpa_queries_in_flight", "Queries holding a slot of the server-wide bound.", nil, nil)
	queuedDesc   = prometheus.NewDesc("mcpa_queries_queued", "Queries waiting for a slot of the server-wide bound.", nil, nil)
	planDesc     = prometheus.NewDesc("mcpa_plan_cache_lookups_total", "Plan cache lookups by result: hit (same text), template (same shape, filled in), miss (planned).", []string{"result"}, nil)
	resultDesc   = prometheus.NewDesc("mcpa_result_cache_lookups_total", "Result cache lookups by result (none while result_cache_ttl is 0).", []string{"result"}, nil)
)

func (c *serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inFlightDesc
	ch <- queuedDesc
	ch <- planDesc
	ch <- resultDesc
}

func (c *serviceCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.svc.Stats()
	ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(st.Running))
	ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(planDesc, prometheus.CounterValue, float64(st.PlanHits), "hit")
	ch <- prometheus.MustNewConstMetric(planDesc, prometheus.CounterValue, float64(st.TemplateFills), "template")
	ch <- prometheus.MustNewConstMetric(planDesc, prometheus.CounterValue, float64(st.PlanMisses-st.TemplateFills), "miss")
	ch <- prometheus.MustNewConstMetric(resultDesc, prometheus.CounterValue, float64(st.ResultHits), "hit")
	ch <- prometheus.MustNewConstMetric(resultDesc, prometheus.CounterValue, float64(st.ResultMisses), "miss")
}

// pooled is a source backed by a pgxpool (source/postgres).
type pooled interface{ Pool() *pgxpool.Pool }

type poolCollector struct{ reg *dataset.Registry }

var (
	poolConnsDesc    = prometheus.NewDesc("mcpa_pool_connections", "Connections of a dataset's pool by state.", []string{"dataset", "state"}, nil)
	poolMaxDesc      = prometheus.NewDesc("mcpa_pool_max_connections", "Largest size of a dataset's pool.", []string{"dataset"}, nil)
	poolAcquiresDesc = prometheus.NewDesc("mcpa_pool_acquires_total", "Connections taken from a dataset's pool.", []string{"dataset"}, nil)
	poolEmptyDesc    = prometheus.NewDesc("mcpa_pool_empty_acquires_total", "Acquires that found no idle connection and waited for one or for a new one.", []string{"dataset"}, nil)
	poolWaitDesc     = prometheus.NewDesc("mcpa_pool_acquire_wait_seconds_total", "Time spent waiting for connections of a dataset's pool.", []string{"dataset"}, nil)
	poolCanceledDesc = prometheus.NewDesc("mcpa_pool_canceled_acquires_total", "Acquires abandoned because their call ended first.", []string{"dataset"}, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConnsDesc, poolMaxDesc, poolAcquiresDesc, poolEmptyDesc, poolWaitDesc, poolCanceledDesc} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, os := range c.reg.OpenSources() {
		p, ok := os.Source.(pooled)
		if !ok {
			continue
		}
		st := p.Pool().Stat()
		ds := DatasetLabel(os.ID, os.Name)
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(st.AcquiredConns()), ds, "acquired")
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(st.IdleConns()), ds, "idle")
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(st.ConstructingConns()), ds, "constructing")
		ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(st.MaxConns()), ds)
		ch <- prometheus.MustNewConstMetric(poolAcquiresDesc, prometheus.CounterValue, float64(st.AcquireCount()), ds)
		ch <- prometheus.MustNewConstMetric(poolEmptyDesc, prometheus.CounterValue, float64(st.EmptyAcquireCount()), ds)
		ch <- prometheus.MustNewConstMetric(poolWaitDesc, prometheus.CounterValue, st.AcquireDuration().Seconds(), ds)
		ch <- prometheus.MustNewConstMetric(poolCanceledDesc, prometheus.CounterValue, float64(st.CanceledAcquireCount()), ds)
	}
}
