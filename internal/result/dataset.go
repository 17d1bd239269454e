package result

import "time"

// DatasetInfo is one line of list_available_datasets.
type DatasetInfo struct {
	ID            int64    `json:"id" jsonschema:"dataset id to pass to the other tools"`
	Name          string   `json:"name" jsonschema:"dataset name"`
	Description   string   `json:"description,omitempty" jsonschema:"what the dataset holds"`
	Driver        string   `json:"driver" jsonschema:"postgres or duckdb"`
	Tables        []string `json:"tables" jsonschema:"table names"`
	Rows          int64    `json:"rows" jsonschema:"estimated rows of the user-level table (panelists), -1 when unknown"`
	DateFrom      string   `json:"date_from,omitempty" jsonschema:"earliest date in the dataset"`
	DateTo        string   `json:"date_to,omitempty" jsonschema:"latest date in the dataset"`
	WeightColumn  string   `json:"weight_column,omitempty" jsonschema:"weight column as table.column"`
	RespondentKey string   `json:"respondent_key,omitempty" jsonschema:"column identifying a panelist"`
	NCCSColumn    string   `json:"nccs_column,omitempty" jsonschema:"NCCS (socio-economic class) column"`
	DateColumns   []string `json:"date_columns,omitempty" jsonschema:"date and timestamp columns as table.column"`
	// DateRanges are the periods the tables cover: event tables often
	// differ (a year of orders, three months of app usage).
	DateRanges []DateRangeInfo `json:"date_ranges,omitempty" jsonschema:"earliest and latest date of each date column"`
	Profile    string          `json:"profile" jsonschema:"when and how the dataset was profiled, or not profiled"`
	Status     string          `json:"status" jsonschema:"ready, or why the dataset cannot be used right now"`
}

// DateRangeInfo is the period one date column covers.
type DateRangeInfo struct {
	Table  string `json:"table" jsonschema:"table name"`
	Column string `json:"column" jsonschema:"date or timestamp column"`
	Grain  string `json:"grain" jsonschema:"the table's grain: user level, event level or reference"`
	From   string `json:"from,omitempty" jsonschema:"earliest date (YYYY-MM-DD)"`
	To     string `json:"to,omitempty" jsonschema:"latest date (YYYY-MM-DD)"`
}

// DatasetList is the structured output of list_available_datasets.
type DatasetList struct {
	Datasets []DatasetInfo `json:"datasets" jsonschema:"the datasets you may query"`
}

// ColumnInfo describes one column in get_dataset_schema.
type ColumnInfo struct {
	Name        string `json:"name" jsonschema:"column name"`
	Type        string `json:"type" jsonschema:"database type"`
	Nullable    bool   `json:"nullable" jsonschema:"whether the column may hold NULL"`
	Role        string `json:"role,omitempty" jsonschema:"weight, respondent key, NCCS or date"`
	Description string `json:"description,omitempty" jsonschema:"what the column means"`
	// The codebook of an imported survey file.
	Measure  string       `json:"measure,omitempty" jsonschema:"measurement level from the survey file's codebook: nominal, ordinal or scale"`
	Values   []ValueLabel `json:"value_labels,omitempty" jsonschema:"the survey file's value labels: the column holds the labels, not the codes (filter with WHERE col = 'label')"`
	Missing  []string     `json:"missing_codes,omitempty" jsonschema:"the survey file's user-missing codes, imported as NULL"`
	Codes    string       `json:"code_column,omitempty" jsonschema:"sibling column holding the original codes"`
	Unit     string       `json:"unit,omitempty" jsonschema:"unit of the values, e.g. ₹ (answers show money with it)"`
	DateFrom string       `json:"date_from,omitempty" jsonschema:"earliest date in a date column"`
	DateTo   string       `json:"date_to,omitempty" jsonschema:"latest date in a date column"`
}

// TableInfo describes one table in get_dataset_schema.
type TableInfo struct {
	Name        string       `json:"name" jsonschema:"table name"`
	Description string       `json:"description,omitempty" jsonschema:"what one row of the table is, from the data dictionary"`
	Source      string       `json:"source,omitempty" jsonschema:"the survey file the table was imported from"`
	Grain       string       `json:"grain" jsonschema:"user level (one row per panelist, carries the weight), event level (many rows per panelist) or reference"`
	RowEstimate int64        `json:"row_estimate" jsonschema:"estimated rows, -1 when unknown"`
	DateFrom    string       `json:"date_from,omitempty" jsonschema:"earliest date in the table's date columns"`
	DateTo      string       `json:"date_to,omitempty" jsonschema:"latest date in the table's date columns"`
	Columns     []ColumnInfo `json:"columns" jsonschema:"columns in order"`
}

// Schema is the structured output of get_dataset_schema.
type Schema struct {
	DatasetID     int64       `json:"dataset_id" jsonschema:"dataset id"`
	Dataset       string      `json:"dataset" jsonschema:"dataset name"`
	Description   string      `json:"description,omitempty" jsonschema:"what the dataset holds"`
	WeightColumn  string      `json:"weight_column,omitempty" jsonschema:"weight column as table.column"`
	RespondentKey string      `json:"respondent_key,omitempty" jsonschema:"column identifying a panelist"`
	NCCSColumn    string      `json:"nccs_column,omitempty" jsonschema:"NCCS column (merged A1->A, C/D/E in results)"`
	WeightScale   float64     `json:"weight_scale,omitempty" jsonschema:"factor turning weighted counts into people"`
	DateFrom      string      `json:"date_from,omitempty" jsonschema:"earliest date"`
	DateTo        string      `json:"date_to,omitempty" jsonschema:"latest date"`
	Profile       string      `json:"profile" jsonschema:"when and how the dataset was profiled, or not profiled (get_context level 3 shows the profile)"`
	Tables        []TableInfo `json:"tables" jsonschema:"tables of the dataset"`
}

// Context is the structured output of get_context. Level, Examples and
// the parts below (not sent: they are what render.Context writes the
// Markdown from) are filled in by the analysis service.
type Context struct {
	Level     int    `json:"level" jsonschema:"the level returned (levels 0..level are included)"`
	Markdown  string `json:"markdown" jsonschema:"the context, in Markdown"`
	Tokens    int    `json:"approx_tokens" jsonschema:"approximate size in tokens (4 characters a token)"`
	Truncated bool   `json:"truncated" jsonschema:"true when a level was cut to its budget"`
	// Examples are level 3's example queries.
	Examples []ContextExample `json:"examples,omitempty" jsonschema:"level 3: example queries, each run and checked to be weighted"`

	// Rules are the limits level 0 states.
	Rules ContextRules `json:"-"`
	// Datasets is level 1 (nil below it).
	Datasets *DatasetList `json:"-"`
	// NeedsDataset is set at level 2 or 3 without a dataset id.
	NeedsDataset bool `json:"-"`
	// Schema is level 2 and Detail level 3 (nil when not asked for).
	Schema *Schema        `json:"-"`
	Detail *ContextDetail `json:"-"`
}

// ContextRules are the output limits level 0 of get_context states.
type ContextRules struct {
	RawRows, AggregatedRows, MaxQueries int
}

// ContextDetail is level 3 of get_context for one dataset (or one of its
// tables): the stored profile, a few sample rows per table and the
// checked example queries (in Context.Examples).
type ContextDetail struct {
	DatasetID int64
	// Unavailable says why the details could not be read ("" when they
	// could).
	Unavailable string
	// Profiled is when the profile was taken (zero: no profile could be
	// taken), by Method.
	Profiled time.Time
	Method   string
	Tables   []ContextTable
}

// ContextTable is one table of level 3.
type ContextTable struct {
	Name, Grain string
	Rows        int64
	Columns     []ColumnProfile // from the stored profile; empty without one
	Sample      *Result         // a few rows; nil when none could be read
}

// ColumnProfile is a column's stored profile as level 3 shows it.
type ColumnProfile struct {
	Name, Type string
	NullShare  float64
	Distinct   int64 // -1 when unknown
	Min, Max   string
	Top        []ValueShare
}

// ValueShare is a common value and its share of rows (0..1).
type ValueShare struct {
	Value string
	Share float64
}

// ValueLabel is a value label of an imported survey file: the code and
// the label the column holds instead.
type ValueLabel struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// ContextExample is an example query of level 3: it was run before being
// shown, and aggregated examples were checked to be weighted.
type ContextExample struct {
	Question string `json:"question" jsonschema:"what the query answers"`
	SQL      string `json:"sql" jsonschema:"the query, to pass to query_dataset or execute_multi_query as written"`
}
