// Package result holds the values passed between the layers: a query's table
// of rows, what the weighting did to it, and the outcome of one query of a
// call. It does no I/O. The JSON form of [Result] and [Multi] is the
// structuredContent the MCP tools return, so field names follow SPEC §4.
package result

import "github.com/mcp-analytics/mcp-analytics/internal/significance"

// Column describes one result column. Type is the database's type name in
// lower case (for example "bigint", "text", "double precision", "date").
//
// Kind and Unit say how the Markdown shows the column's numbers (whole
// people, fixed-decimal percentages, ₹ amounts, identifiers without
// separators). They are display hints only: structuredContent carries the
// raw values and neither field, so its meaning does not depend on them.
type Column struct {
	Name string `json:"name" jsonschema:"column name as the database returned it"`
	Type string `json:"type" jsonschema:"database type name, lower case"`
	Kind Kind   `json:"-"`
	Unit string `json:"-"`
}

// Kind is what a column's numbers are, for formatting. The zero value means
// unknown: numbers are shown by their value alone.
type Kind string

// Kinds of columns.
const (
	// KindID is an identifier (the respondent key, id, *_id): digits as
	// stored, never with thousands separators.
	KindID Kind = "id"
	// KindCount is people or a count (weighted_count, weighted_reach, n,
	// n_eff, COUNT(...)): whole numbers.
	KindCount Kind = "count"
	// KindPercent is a percentage or a margin in percentage points
	// (weighted_pct, reach_pct, moe_pct): fixed decimals.
	KindPercent Kind = "percent"
	// KindMean is a mean or its standard error (weighted_avg_x, AVG(x)).
	KindMean Kind = "mean"
	// KindTotal is a sum of a measure (weighted_sum_x, SUM(x)).
	KindTotal Kind = "total"
)

// Table is a capped result set. Each value in Rows is one of nil, bool,
// int64, float64 or string: the source layer converts dates and times to ISO
// 8601 strings and decimals to float64, so the table marshals to JSON and
// renders without knowing the database it came from.
type Table struct {
	Columns []Column
	Rows    [][]any
	// Truncated reports that the database had more rows than Rows holds.
	Truncated bool
	// Cut says why reading stopped before the row cap (a row, or the rows
	// together, took more bytes than a query may read), in words for the
	// caller; empty when the row cap alone applied.
	Cut string
}

// Weighting says what the survey-weighting step did to a query.
type Weighting struct {
	Applied bool `json:"applied" jsonschema:"true when the SQL was rewritten to add weighted figures"`
	// WeightColumn is the weight column of the dataset, qualified by its
	// table (users.weight), or empty when the dataset has none.
	WeightColumn string `json:"weight_column,omitempty" jsonschema:"the dataset's weight column as table.column"`
	// ReasonIfNot explains why weights were not applied.
	ReasonIfNot string `json:"reason_if_not,omitempty" jsonschema:"why weights were not applied"`
	// WeightScale multiplies weighted counts into people (1 when unset).
	WeightScale float64 `json:"weight_scale,omitempty" jsonschema:"factor that turns weighted counts into people"`
	NCCSMerged  bool    `json:"nccs_merged,omitempty" jsonschema:"true when NCCS classes were merged through the merge map"`
	// Notes say, in words for the analyst, exactly what was done.
	Notes []string `json:"notes,omitempty" jsonschema:"what the weighting step did, in words"`
	// AddedColumns names the columns the rewrite added to the result.
	AddedColumns []string `json:"added_columns,omitempty" jsonschema:"columns the rewrite added beside those the SQL asked for"`
	// Legend explains the added columns that need it (n, n_eff, margins of
	// error, low_base…) under their actual names.
	Legend []Term `json:"legend,omitempty" jsonschema:"what the added columns such as n, n_eff, moe_pct and low_base mean"`
}

// Term explains one column.
type Term struct {
	Column  string `json:"column" jsonschema:"column name"`
	Meaning string `json:"meaning" jsonschema:"what the column holds, in plain words"`
}

// Result is the outcome of one query of a call, successful or not.
type Result struct {
	Label     string   `json:"label,omitempty" jsonschema:"the caller's label for this query"`
	DatasetID int64    `json:"dataset_id" jsonschema:"dataset the query ran on"`
	Dataset   string   `json:"dataset,omitempty" jsonschema:"dataset name"`
	OK        bool     `json:"ok" jsonschema:"true when the query ran"`
	Error     string   `json:"error,omitempty" jsonschema:"what went wrong and how to fix it, when ok is false"`
	Query     string   `json:"query,omitempty" jsonschema:"the SQL as sent"`
	SQL       string   `json:"sql,omitempty" jsonschema:"the SQL that was sent (also when it failed), when show_sql was requested"`
	Columns   []Column `json:"columns" jsonschema:"result columns in order"`
	Rows      [][]any  `json:"rows" jsonschema:"result rows; each row is an array of values in column order"`
	RowCount  int      `json:"row_count" jsonschema:"number of rows returned"`
	Truncated bool     `json:"truncated" jsonschema:"true when the database had more rows than the cap allowed"`
	RowLimit  int      `json:"row_limit,omitempty" jsonschema:"the row cap that applied to this query"`
	// Aggregated reports the parse-tree classification of the query.
	Aggregated bool    `json:"aggregated" jsonschema:"true when the query aggregates (GROUP BY or aggregate functions)"`
	TimeMS     float64 `json:"time_ms" jsonschema:"this query's own time in milliseconds"`
	// QueueMS is how long the query waited for a slot (the server-wide
	// bound on queries running at once, or its client's fair share of it)
	// before it started; TimeMS does not include it.
	QueueMS float64 `json:"queue_ms,omitempty" jsonschema:"how long the query waited for a free slot before it ran, in milliseconds"`
	// Cached reports an answer served from the result cache, CacheAgeS its age.
	Cached    bool      `json:"cached,omitempty" jsonschema:"true when the answer came from the result cache"`
	CacheAgeS float64   `json:"cache_age_s,omitempty" jsonschema:"age of a cached answer in seconds"`
	Weighting Weighting `json:"weighting" jsonschema:"what survey weighting did"`
	// GroupColumns names the grouping columns of an aggregated answer (the
	// labels of its rows).
	GroupColumns []string `json:"group_columns,omitempty" jsonschema:"the grouping columns of an aggregated answer"`
	// Suppressed lists the rows (0-based) whose figures were blanked because
	// fewer panelists than the dataset's minimum cell size are behind them;
	// their group labels are kept.
	Suppressed []int `json:"suppressed_rows,omitempty" jsonschema:"rows whose figures were blanked: too few panelists behind them (disclosure control)"`
	// SuppressedMark is what a blanked figure shows in the Markdown.
	SuppressedMark string `json:"-"`
	// Significance holds the tests compare_by asked for: the groups'
	// letters, one entry of letters per row, every pair's z and p, and the
	// overall test.
	Significance *significance.Significance `json:"significance,omitempty" jsonschema:"significance tests between the compare_by groups: letters per row, every pair's z and p, the overall test"`
	// Notes are further remarks for the analyst (rows capped, low bases...).
	Notes []string `json:"notes,omitempty" jsonschema:"remarks about this result"`
	// Trace is what the query log records beyond what the client sees; it
	// is never sent.
	Trace Trace `json:"-"`
}

// Trace describes how a query ran, for the query log and the metrics.
type Trace struct {
	// SQL is the SQL that ran (or was about to), after the guard,
	// weighting and the row cap; "" when planning failed.
	SQL string
	// Outcome is one of catalog's Outcome* values; "" is read as ok when
	// Error is empty and as a caller error otherwise.
	Outcome string
	// SQLState is the database's error code, when it gave one.
	SQLState string
	// GuardRule is the code of the SQL guard rule that refused the query.
	GuardRule string
}

// SetTable copies a table into the result.
func (r *Result) SetTable(t *Table) {
	r.Columns = t.Columns
	r.Rows = t.Rows
	r.RowCount = len(t.Rows)
	r.Truncated = t.Truncated
}

// Multi is the outcome of an execute_multi_query call.
type Multi struct {
	Results   []Result `json:"results" jsonschema:"one entry per query, in request order"`
	Total     int      `json:"total" jsonschema:"number of queries"`
	Succeeded int      `json:"succeeded" jsonschema:"queries that ran"`
	Failed    int      `json:"failed" jsonschema:"queries that failed"`
	TotalMS   float64  `json:"total_ms" jsonschema:"wall time of the whole call in milliseconds"`
	Parallel  bool     `json:"parallel" jsonschema:"true when the queries ran concurrently"`
}

// Float returns a numeric cell value (as the sources scan them: int64,
// float64, and the narrower integer and float types) as a float64; ok is
// false for any other value, NULL included.
func Float(v any) (f float64, ok bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}
