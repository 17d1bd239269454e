package analysis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

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

// dateRanges lists the periods of h's date columns with their tables'
// grain.
func dateRanges(h *dataset.Handle) []DateRangeInfo {
	grain := map[string]string{}
	for _, t := range h.Tables {
		grain[t.Name] = h.Roles.Grain(t)
	}
	var out []DateRangeInfo
	for _, r := range h.DateRanges {
		if r.From == "" {
			continue
		}
		out = append(out, DateRangeInfo{Table: r.Table, Column: r.Column, Grain: grain[r.Table], From: r.From, To: r.To})
	}
	return out
}

// EventPeriods words the periods of a dataset's event tables for a listing,
// "app_usage 2026-04-01 to 2026-06-30; orders 2025-07-01 to 2026-06-30" (a
// table with several date columns by the earliest and latest of them), or,
// when no event table has dates, the dataset's whole range.
func EventPeriods(ranges []DateRangeInfo, from, to string) string {
	type span struct{ from, to string }
	var order []string
	spans := map[string]span{}
	for _, r := range ranges {
		if r.Grain != "event level" {
			continue
		}
		sp, seen := spans[r.Table]
		if !seen {
			order = append(order, r.Table)
			sp = span{r.From, r.To}
		}
		sp.from, sp.to = min(sp.from, r.From), max(sp.to, r.To)
		spans[r.Table] = sp
	}
	if len(order) == 0 {
		if from == "" {
			return ""
		}
		return from + " to " + to
	}
	parts := make([]string, len(order))
	for i, t := range order {
		parts[i] = t + " " + spans[t].from + " to " + spans[t].to
	}
	return strings.Join(parts, "; ")
}

// profileStatus says when and how a dataset was profiled.
func profileStatus(h *dataset.Handle) string {
	if h.Profile == nil {
		return "not profiled"
	}
	return fmt.Sprintf("profiled %s (%s)", h.Profile.ProfiledAt.UTC().Format("2006-01-02 15:04 UTC"), h.Profile.Method)
}

// DatasetList is the structured output of list_available_datasets.
type DatasetList struct {
	Datasets []DatasetInfo `json:"datasets" jsonschema:"the datasets you may query"`
}

// Datasets describes every dataset, opening them concurrently with a
// bounded wait so one unreachable database does not hold the others up.
func (s *Service) Datasets(ctx context.Context) DatasetList {
	list := s.reg.List(ctx)
	out := DatasetList{Datasets: make([]DatasetInfo, len(list))}
	var wg sync.WaitGroup
	for i, d := range list {
		out.Datasets[i] = DatasetInfo{ID: d.ID, Name: d.Name, Description: d.Description, Driver: d.Driver, Tables: []string{}, Rows: -1, Profile: "unknown"}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			h, err := s.reg.Open(ctx, d.ID)
			if err != nil {
				// The message already says the dataset is unavailable, and why.
				out.Datasets[i].Status = s.message(ctx, err, Request{DatasetID: d.ID})
				return
			}
			defer h.Release()
			info := &out.Datasets[i]
			info.Status = "ready"
			info.Profile = profileStatus(h)
			info.DateColumns = h.Roles.DateColumns
			for _, t := range h.Tables {
				info.Tables = append(info.Tables, t.Name)
				if t.Name == h.Roles.WeightsTable {
					info.Rows = rowEstimate(h, t)
				}
			}
			if h.Roles.WeightColumn != "" {
				info.WeightColumn = h.Roles.WeightsTable + "." + h.Roles.WeightColumn
			}
			info.RespondentKey = h.Roles.RespondentKey
			info.NCCSColumn = h.Roles.NCCSColumn
			info.DateFrom, info.DateTo = h.DateRange[0], h.DateRange[1]
			info.DateRanges = dateRanges(h)
		}()
	}
	wg.Wait()
	return out
}

// ColumnInfo describes one column in get_dataset_schema.
type ColumnInfo struct {
	Name        string `json:"name" jsonschema:"column name"`
	Type        string `json:"type" jsonschema:"database type"`
	Nullable    bool   `json:"nullable" jsonschema:"whether the column may hold NULL"`
	Role        string `json:"role,omitempty" jsonschema:"weight, respondent key, NCCS or date"`
	Description string `json:"description,omitempty" jsonschema:"what the column means"`
	// The codebook of an imported survey file.
	Measure  string               `json:"measure,omitempty" jsonschema:"measurement level from the survey file's codebook: nominal, ordinal or scale"`
	Values   []catalog.ValueLabel `json:"value_labels,omitempty" jsonschema:"the survey file's value labels: the column holds the labels, not the codes (filter with WHERE col = 'label')"`
	Missing  []string             `json:"missing_codes,omitempty" jsonschema:"the survey file's user-missing codes, imported as NULL"`
	Codes    string               `json:"code_column,omitempty" jsonschema:"sibling column holding the original codes"`
	Unit     string               `json:"unit,omitempty" jsonschema:"unit of the values, e.g. ₹ (answers show money with it)"`
	DateFrom string               `json:"date_from,omitempty" jsonschema:"earliest date in a date column"`
	DateTo   string               `json:"date_to,omitempty" jsonschema:"latest date in a date column"`
}

// rowEstimate is the database's estimate of a table's rows, or the
// profile's when the database has none.
func rowEstimate(h *dataset.Handle, t source.Table) int64 {
	if t.RowEstimate >= 0 || h.Profile == nil {
		return t.RowEstimate
	}
	if tp, ok := h.Profile.Table(t.Name); ok {
		return tp.RowEstimate
	}
	return t.RowEstimate
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

// Schema describes a dataset's tables with their grain and column roles.
func (s *Service) Schema(ctx context.Context, id int64) (Schema, error) {
	h, err := s.reg.Open(ctx, id)
	if err != nil {
		return Schema{}, &InputError{Message: s.message(ctx, err, Request{DatasetID: id})}
	}
	defer h.Release()
	out := Schema{DatasetID: id, Dataset: h.Dataset.Name, Description: h.Dataset.Description,
		RespondentKey: h.Roles.RespondentKey, NCCSColumn: h.Roles.NCCSColumn, WeightScale: h.Roles.WeightScale,
		DateFrom: h.DateRange[0], DateTo: h.DateRange[1], Profile: profileStatus(h), Tables: []TableInfo{}}
	if h.Roles.WeightColumn != "" {
		out.WeightColumn = h.Roles.WeightsTable + "." + h.Roles.WeightColumn
	}
	for _, t := range h.Tables {
		ti := TableInfo{Name: t.Name, Description: h.Descriptions[t.Name], Grain: h.Roles.Grain(t), RowEstimate: rowEstimate(h, t)}
		ti.DateFrom, ti.DateTo, _ = h.TableDates(t.Name)
		var tc catalog.TableCodebook
		if h.Codebook != nil {
			tc, _ = h.Codebook.Table(t.Name)
			if tc.Source != "" {
				ti.Source = tc.Source
			}
		}
		for _, c := range t.Columns {
			ci := ColumnInfo{Name: c.Name, Type: c.Type, Nullable: c.Nullable, Role: h.Roles.ColumnRole(t.Name, c),
				Description: h.Descriptions[t.Name+"."+c.Name], Unit: h.Units[t.Name+"."+c.Name]}
			for _, r := range h.DateRanges {
				if r.Table == t.Name && r.Column == c.Name {
					ci.DateFrom, ci.DateTo = r.From, r.To
				}
			}
			if v, ok := tc.Variable(c.Name); ok {
				ci.Measure, ci.Values, ci.Missing, ci.Codes = v.Measure, v.Values, v.Missing, v.CodeColumn
				if ci.Description == "" {
					ci.Description = v.Describe()
				}
			}
			ti.Columns = append(ti.Columns, ci)
		}
		out.Tables = append(out.Tables, ti)
	}
	return out, nil
}

// Sample returns up to min(limit, raw row limit) rows of a table
// (get_dataset_sample). NCCS labels are merged as in any raw query.
func (s *Service) Sample(ctx context.Context, id int64, table string, limit int) result.Result {
	req := Request{DatasetID: id, Label: table, MergeNCCS: true}
	h, err := s.reg.Open(ctx, id)
	if err != nil {
		return result.Result{DatasetID: id, Error: s.message(ctx, err, req), Columns: []result.Column{}, Rows: [][]any{}}
	}
	names := make([]string, len(h.Tables))
	var found string
	for i, t := range h.Tables {
		names[i] = t.Name
		if strings.EqualFold(t.Name, table) {
			found = t.Name
		}
	}
	rawCap := h.Limits.RawRows
	h.Release()
	if found == "" {
		slices.Sort(names)
		return result.Result{DatasetID: id, Dataset: h.Dataset.Name, Columns: []result.Column{}, Rows: [][]any{},
			Error: fmt.Sprintf("table %q not found in dataset %d; its tables are: %s", table, id, strings.Join(names, ", "))}
	}
	if limit <= 0 {
		limit = 10
	}
	req.Query = "SELECT * FROM " + source.QuoteIdent(found)
	req.MaxRows = min(limit, rawCap)
	r := s.Query(ctx, req)
	r.Query = ""
	// A sample is a few rows of a larger table by design: the raw-query
	// "showing 5 of more than 5 rows" note would only confuse.
	r.Truncated = false
	if r.OK && limit > rawCap {
		r.Notes = append(r.Notes, fmt.Sprintf("Samples are limited to %d rows (the raw row limit); you asked for %d. Use GROUP BY queries to see the whole table in aggregate.", rawCap, limit))
	}
	return r
}
