package catalog

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// QueryLog is the audit trail of tool calls kept in the catalog store
// (SPEC §9). Records are written in batches by the querylog package and
// never change the catalog's Version: a busy log must not make replicas
// reload their datasets.
//
// A record is identified by its ID, chosen by the writer: appending a
// batch again (after a timeout whose commit did happen, or when a spool
// file is replayed) stores each record once. The store numbers records in
// the order it receives them (Seq), which is what paging and following
// use; Time is when the call started, on the clock of the replica that
// served it.
type QueryLog interface {
	// AppendQueryLog stores records; records whose ID is already stored
	// are skipped.
	AppendQueryLog(ctx context.Context, records []QueryRecord) error
	// QueryLogRecords returns the records matching f, in f.Order, at most
	// f.Limit of them (100 when 0).
	QueryLogRecords(ctx context.Context, f LogFilter) ([]QueryRecord, error)
	// AggregateQueryLog counts the records matching a.Filter per time
	// bucket and per value of a.By (see [Aggregate]).
	AggregateQueryLog(ctx context.Context, a Aggregate) ([]AggregateRow, error)
	// PruneQueryLog deletes the records that started before before and
	// returns how many it deleted.
	PruneQueryLog(ctx context.Context, before time.Time) (int64, error)
}

// Kinds of query log records.
const (
	// KindCall is one tool call. For query_dataset and get_dataset_sample
	// it also holds the query's details.
	KindCall = "call"
	// KindQuery is one query inside an execute_multi_query call; CallID
	// names its call and Position its place in the request (1-based).
	KindQuery = "query"
	// KindAdmin is an action taken in the admin console (a dataset added,
	// changed, tested, re-profiled or removed; a token created or revoked).
	// Tool names the action ("admin.dataset_added"...), Principal who took
	// it and Message what changed. Such records are not tool calls: the
	// dashboard and the MCP metrics count only KindCall.
	KindAdmin = "admin"
)

// Outcomes of a call or query.
const (
	OutcomeOK = "ok"
	// OutcomeCallerError is a mistake the caller can fix: bad SQL, a
	// refused statement, an unknown dataset, invalid arguments.
	OutcomeCallerError = "caller_error"
	// OutcomeDatabaseError is an error the database reported, or a
	// database that could not be reached.
	OutcomeDatabaseError = "database_error"
	OutcomeTimeout       = "timeout"
	// OutcomeCancelled is a call whose client went away or that the server
	// cancelled while shutting down.
	OutcomeCancelled = "cancelled"
	// OutcomeInternal is our fault: a bug, logged with a reference id.
	OutcomeInternal = "internal"
)

// Outcomes lists every outcome, for validation and documentation.
var Outcomes = []string{OutcomeOK, OutcomeCallerError, OutcomeDatabaseError, OutcomeTimeout, OutcomeCancelled, OutcomeInternal}

// QueryRecord is one entry of the query log. It never holds result rows,
// connection strings or token values.
type QueryRecord struct {
	// ID is chosen by the writer and unique (32 hex digits).
	ID string `json:"id"`
	// Seq is the store's running number, 0 until stored.
	Seq      int64  `json:"seq"`
	Kind     string `json:"kind"`
	CallID   string `json:"call_id,omitempty"`
	Position int    `json:"position,omitempty"`
	Label    string `json:"label,omitempty"`
	// Time is when the call (or query) started.
	Time       time.Time `json:"time"`
	DurationMS float64   `json:"duration_ms"`
	// WaitMS is how long the query waited for a slot of the server-wide
	// bound on queries running at once.
	WaitMS      float64 `json:"wait_ms,omitempty"`
	Tool        string  `json:"tool"`
	DatasetID   int64   `json:"dataset_id,omitempty"`
	DatasetName string  `json:"dataset,omitempty"`
	// QuerySent is the SQL as the client sent it; QueryRun the SQL that
	// ran after the guard, weighting and the row cap ("" when it never
	// got that far).
	QuerySent string       `json:"query_sent,omitempty"`
	QueryRun  string       `json:"query_run,omitempty"`
	Options   QueryOptions `json:"options"`
	// Weighted reports that the weighting rewrite was applied.
	Weighted  bool `json:"weighted"`
	Rows      int  `json:"rows"`
	Truncated bool `json:"truncated"`
	// Bytes is the size of the answer the client received (text and
	// structured content); for a query of a multi-query call, the size of
	// its part.
	Bytes  int  `json:"bytes"`
	Cached bool `json:"cached,omitempty"`
	// Outcome is one of the Outcome* constants.
	Outcome string `json:"outcome"`
	// Message is the error the client saw ("" when ok).
	Message string `json:"message,omitempty"`
	// SQLState is the database's error code, when it gave one.
	SQLState string `json:"sqlstate,omitempty"`
	// GuardRule is the code of the SQL guard rule that refused the query.
	GuardRule     string `json:"guard_rule,omitempty"`
	ClientName    string `json:"client_name,omitempty"`
	ClientVersion string `json:"client_version,omitempty"`
	SessionID     string `json:"session_id,omitempty"`
	// Principal is who called: the API token's name ("token analyst") or
	// the OAuth subject; "" without auth.
	Principal string `json:"principal,omitempty"`
	// Instance names the server process that served the call
	// (host:pid), to tell replicas apart.
	Instance string `json:"instance,omitempty"`
}

// QueryOptions are the weighting options of a query as the call gave them
// (after defaults).
type QueryOptions struct {
	ApplyWeights   bool `json:"apply_weights"`
	MergeNCCS      bool `json:"merge_nccs"`
	StandardErrors bool `json:"standard_errors,omitempty"`
	ShowSQL        bool `json:"show_sql,omitempty"`
	// Limit is get_dataset_sample's limit.
	Limit int `json:"limit,omitempty"`
	// Totals, CompareBy, Alpha and Correction are the Total rows and
	// significance tests asked for.
	Totals     bool    `json:"totals,omitempty"`
	CompareBy  string  `json:"compare_by,omitempty"`
	Alpha      float64 `json:"alpha,omitempty"`
	Correction string  `json:"correction,omitempty"`
}

// Record order of [LogFilter].
const (
	OrderNewest  = "newest"  // by Seq, newest first (the default)
	OrderOldest  = "oldest"  // by Seq, oldest first (for following)
	OrderSlowest = "slowest" // by duration, slowest first
)

// LogFilter selects query log records. Zero fields do not filter.
type LogFilter struct {
	Since, Until time.Time // Since <= Time < Until
	DatasetID    int64
	Tool         string
	// Client matches the client name exactly, case-insensitively.
	Client    string
	Outcome   string
	Kind      string
	Principal string
	SessionID string
	CallID    string
	GuardRule string
	// Text finds records whose SQL (sent or run), label or message
	// contains it, case-insensitively.
	Text string
	// AfterSeq and BeforeSeq page through records: AfterSeq > 0 keeps
	// those with a larger Seq, BeforeSeq > 0 those with a smaller one.
	AfterSeq, BeforeSeq int64
	Order               string
	Limit               int
}

// MaxLogLimit bounds LogFilter.Limit.
const MaxLogLimit = 10000

// Dimensions of [Aggregate].
const (
	ByNone      = ""
	ByTool      = "tool"
	ByClient    = "client"
	ByDataset   = "dataset"
	ByOutcome   = "outcome"
	ByGuardRule = "guard_rule"
	ByPrincipal = "principal"
	ByKind      = "kind"
)

// Aggregate asks for counts of the records matching Filter (its paging,
// order and limit are ignored), grouped per Bucket of time (none when 0)
// and per value of By. The admin dashboard draws its charts from it:
// calls over time by tool or client, latency percentiles, error rates,
// busiest datasets, guard rejections by rule.
type Aggregate struct {
	Filter LogFilter
	By     string
	Bucket time.Duration
}

// AggregateRow is one group of an [Aggregate].
type AggregateRow struct {
	// Start is the start of the time bucket (zero without buckets).
	Start time.Time `json:"start"`
	// Key is the value of the By dimension: a tool name, client name,
	// outcome, guard rule, principal, kind, or a dataset's id and name as
	// "3 Panel"; "" without a dimension.
	Key   string `json:"key"`
	Count int64  `json:"count"`
	// Errors counts the records whose outcome is not ok.
	Errors  int64   `json:"errors"`
	TotalMS float64 `json:"total_ms"`
	MaxMS   float64 `json:"max_ms"`
	// P50MS and P95MS are percentiles of the duration, from a histogram
	// with buckets about 9 % wide (see [DurationBucket]).
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	Rows  int64   `json:"rows"`
	Bytes int64   `json:"bytes"`
}

// ErrorRate is the share of records that did not end ok.
func (r AggregateRow) ErrorRate() float64 {
	if r.Count == 0 {
		return 0
	}
	return float64(r.Errors) / float64(r.Count)
}

// bucketsPerDoubling sets the resolution of duration histograms.
const bucketsPerDoubling = 8

// DurationBucket is the histogram bucket of a duration in milliseconds,
// stored with each record so that stores can compute percentiles by
// counting: bucket b holds durations up to [BucketUpperMS](b), each bucket
// about 9 % wider than the one before.
func DurationBucket(ms float64) int {
	if ms <= 0.01 {
		return 0
	}
	return int(math.Ceil(math.Log2(ms/0.01) * bucketsPerDoubling))
}

// BucketUpperMS is the largest duration of bucket b.
func BucketUpperMS(b int) float64 {
	return 0.01 * math.Exp2(float64(b)/bucketsPerDoubling)
}

// Percentile returns the q-th quantile (0..1) of a histogram of
// duration buckets (bucket → count), as the upper bound of the bucket
// holding it, capped at max.
func Percentile(hist map[int]int64, q float64, max float64) float64 {
	var total int64
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return 0
	}
	buckets := make([]int, 0, len(hist))
	for b := range hist {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	rank := int64(math.Ceil(q * float64(total)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for _, b := range buckets {
		seen += hist[b]
		if seen >= rank {
			return math.Min(BucketUpperMS(b), max)
		}
	}
	return max
}

// Validate reports a filter a store cannot run.
func (f LogFilter) Validate() error {
	switch f.Order {
	case "", OrderNewest, OrderOldest, OrderSlowest:
	default:
		return fmt.Errorf("order must be %s, %s or %s, not %q", OrderNewest, OrderOldest, OrderSlowest, f.Order)
	}
	if f.Outcome != "" && !slices.Contains(Outcomes, f.Outcome) {
		return fmt.Errorf("outcome must be one of %s, not %q", strings.Join(Outcomes, ", "), f.Outcome)
	}
	if f.Kind != "" && f.Kind != KindCall && f.Kind != KindQuery && f.Kind != KindAdmin {
		return fmt.Errorf("kind must be %s, %s or %s, not %q", KindCall, KindQuery, KindAdmin, f.Kind)
	}
	if f.Limit < 0 || f.Limit > MaxLogLimit {
		return fmt.Errorf("limit must be between 1 and %d, not %d", MaxLogLimit, f.Limit)
	}
	return nil
}

// Validate reports an aggregate a store cannot run.
func (a Aggregate) Validate() error {
	if err := a.Filter.Validate(); err != nil {
		return err
	}
	if _, ok := aggregateColumns[a.By]; !ok {
		return fmt.Errorf("cannot group the query log by %q", a.By)
	}
	if a.Bucket < 0 || a.Bucket > 0 && a.Bucket < time.Second {
		return fmt.Errorf("time buckets must be at least 1s, not %s", a.Bucket)
	}
	return nil
}

// aggregateColumns maps a dimension to the SQL expression grouping by it;
// both stores name their columns the same way.
var aggregateColumns = map[string]string{
	ByNone:      "''",
	ByTool:      "tool",
	ByClient:    "client_name",
	ByDataset:   "dataset_id || ' ' || dataset",
	ByOutcome:   "outcome",
	ByGuardRule: "guard_rule",
	ByPrincipal: "principal",
	ByKind:      "kind",
}

// LogSQL builds the parts of query log SQL that both stores share, with
// placeholders written by ph (ph(1) is "$1" or "?1").
type LogSQL struct {
	ph   func(n int) string
	args []any
	// Like is the case-insensitive LIKE operator of the store.
	Like string
}

// NewLogSQL returns a builder writing placeholders with ph.
func NewLogSQL(ph func(n int) string, like string) *LogSQL { return &LogSQL{ph: ph, Like: like} }

// Args returns the arguments of the placeholders written so far.
func (b *LogSQL) Args() []any { return b.args }

// Arg adds an argument and returns its placeholder.
func (b *LogSQL) Arg(v any) string { return b.arg(v) }

func (b *LogSQL) arg(v any) string {
	b.args = append(b.args, v)
	return b.ph(len(b.args))
}

// Where returns the WHERE clause (possibly empty) selecting f's records
// from a table with the query log's columns.
func (b *LogSQL) Where(f LogFilter) string {
	var conds []string
	eq := func(col string, v any) { conds = append(conds, col+" = "+b.arg(v)) }
	if !f.Since.IsZero() {
		conds = append(conds, "at_us >= "+b.arg(f.Since.UnixMicro()))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "at_us < "+b.arg(f.Until.UnixMicro()))
	}
	if f.DatasetID != 0 {
		eq("dataset_id", f.DatasetID)
	}
	if f.Tool != "" {
		eq("tool", f.Tool)
	}
	if f.Client != "" {
		conds = append(conds, "lower(client_name) = "+b.arg(strings.ToLower(f.Client)))
	}
	if f.Outcome != "" {
		eq("outcome", f.Outcome)
	}
	if f.Kind != "" {
		eq("kind", f.Kind)
	}
	if f.Principal != "" {
		eq("principal", f.Principal)
	}
	if f.SessionID != "" {
		eq("session_id", f.SessionID)
	}
	if f.CallID != "" {
		p := b.arg(f.CallID)
		conds = append(conds, "(call_id = "+p+" OR id = "+p+")")
	}
	if f.GuardRule != "" {
		eq("guard_rule", f.GuardRule)
	}
	if f.Text != "" {
		p := b.arg("%" + escapeLike(f.Text) + "%")
		var ors []string
		for _, col := range []string{"query_sent", "query_run", "label", "message"} {
			ors = append(ors, col+" "+b.Like+" "+p+" ESCAPE '\\'")
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if f.AfterSeq > 0 {
		conds = append(conds, "seq > "+b.arg(f.AfterSeq))
	}
	if f.BeforeSeq > 0 {
		conds = append(conds, "seq < "+b.arg(f.BeforeSeq))
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// OrderLimit returns the ORDER BY and LIMIT clauses of f.
func (b *LogSQL) OrderLimit(f LogFilter) string {
	order := " ORDER BY seq DESC"
	switch f.Order {
	case OrderOldest:
		order = " ORDER BY seq"
	case OrderSlowest:
		order = " ORDER BY duration_ms DESC, seq DESC"
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	return order + " LIMIT " + b.arg(limit)
}

// Group returns the SQL expression of a's dimension.
func (a Aggregate) Group() string { return aggregateColumns[a.By] }

// escapeLike escapes LIKE's wildcards so Text matches literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// LogColumns lists the query log's columns in the order stores read and
// write them (after seq).
const LogColumns = `id, kind, call_id, position, label, at_us, duration_ms, duration_bucket, wait_ms, tool, dataset_id, dataset,
	query_sent, query_run, options, weighted, rows_returned, truncated, bytes, cached, outcome, message, sqlstate, guard_rule,
	client_name, client_version, session_id, principal, instance`

// FoldAggregate turns the rows a store read for an [Aggregate] — one per
// (bucket, key, duration bucket) with its sums — into AggregateRows with
// percentiles, ordered by bucket and then by count, largest first.
type FoldAggregate struct {
	rows  map[foldKey]*AggregateRow
	hists map[foldKey]map[int]int64
	order []foldKey
}

type foldKey struct {
	bucket int64
	key    string
}

// Add adds one group read from the store.
func (f *FoldAggregate) Add(bucket int64, bucketWidth time.Duration, key string, durBucket int, count, errors int64, totalMS, maxMS float64, rows, bytes int64) {
	if f.rows == nil {
		f.rows, f.hists = map[foldKey]*AggregateRow{}, map[foldKey]map[int]int64{}
	}
	k := foldKey{bucket, key}
	r, ok := f.rows[k]
	if !ok {
		r = &AggregateRow{Key: key}
		if bucketWidth > 0 {
			r.Start = time.UnixMicro(bucket * bucketWidth.Microseconds()).UTC()
		}
		f.rows[k], f.hists[k] = r, map[int]int64{}
		f.order = append(f.order, k)
	}
	r.Count += count
	r.Errors += errors
	r.TotalMS += totalMS
	r.MaxMS = math.Max(r.MaxMS, maxMS)
	r.Rows += rows
	r.Bytes += bytes
	f.hists[k][durBucket] += count
}

// Rows returns the folded rows.
func (f *FoldAggregate) Rows() []AggregateRow {
	out := make([]AggregateRow, 0, len(f.order))
	for _, k := range f.order {
		r := *f.rows[k]
		r.P50MS = Percentile(f.hists[k], 0.50, r.MaxMS)
		r.P95MS = Percentile(f.hists[k], 0.95, r.MaxMS)
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b AggregateRow) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}
