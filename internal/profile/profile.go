// Package profile summarises a dataset's tables and columns for the model
// (SPEC §6 level 3, issue 5): row estimates, grain, null shares, distinct
// counts, top values of categorical columns, ranges of numbers and dates,
// and the dataset's date range.
//
// It reads the database's own statistics wherever it can, so profiling is
// cheap on big tables: on PostgreSQL pg_stats and pg_class (one catalog
// query for the whole dataset, no table scanned); on DuckDB SUMMARIZE. A
// PostgreSQL table without statistics (never analysed) is profiled from a
// bounded sample (its first 10,000 rows) under a timeout instead.
package profile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// SampleRows is how many rows a table without statistics is profiled from.
const SampleRows = 10000

// topN is how many top values are kept per categorical column.
const topN = 10

// Input is what a profile is taken from.
type Input struct {
	DatasetID int64
	Driver    string // catalog.DriverPostgres or catalog.DriverDuckDB
	Source    source.Source
	Tables    []source.Table
	// Grain names each table's grain ("user level", "event level",
	// "reference").
	Grain func(source.Table) string
	// Timeout bounds each sampling query (default 30 s).
	Timeout time.Duration
}

// Run profiles a dataset.
func Run(ctx context.Context, in Input) (catalog.Profile, error) {
	if in.Timeout <= 0 {
		in.Timeout = 30 * time.Second
	}
	p := catalog.Profile{DatasetID: in.DatasetID, ProfiledAt: time.Now().UTC()}
	var err error
	switch in.Driver {
	case catalog.DriverPostgres:
		err = postgres(ctx, in, &p)
	case catalog.DriverDuckDB:
		err = duckdb(ctx, in, &p)
	default:
		err = fmt.Errorf("cannot profile driver %q", in.Driver)
	}
	if err != nil {
		return p, err
	}
	p.DateFrom, p.DateTo = dateRange(p)
	return p, nil
}

func newTable(in Input, t source.Table) catalog.TableProfile {
	tp := catalog.TableProfile{Name: t.Name, RowEstimate: t.RowEstimate, Columns: make([]catalog.ColumnProfile, len(t.Columns))}
	if in.Grain != nil {
		tp.Grain = in.Grain(t)
	}
	for i, c := range t.Columns {
		tp.Columns[i] = catalog.ColumnProfile{Name: c.Name, Type: c.Type, Distinct: -1}
	}
	return tp
}

// IsDate reports whether a column type holds dates or timestamps.
func IsDate(typ string) bool {
	return typ == "date" || strings.HasPrefix(typ, "timestamp")
}

// IsNumber reports whether a column type holds numbers.
func IsNumber(typ string) bool {
	for _, p := range []string{"integer", "bigint", "smallint", "tinyint", "hugeint", "ubigint", "uinteger", "usmallint", "utinyint",
		"numeric", "decimal", "double", "real", "float"} {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}

// IsCategorical reports whether a column's top values are worth showing:
// text or boolean with at most catalog.MaxCategorical distinct values.
func IsCategorical(c catalog.ColumnProfile) bool {
	text := c.Type == "text" || c.Type == "boolean" || strings.HasPrefix(c.Type, "character") || strings.HasPrefix(c.Type, "varchar")
	return text && c.Distinct > 0 && c.Distinct <= catalog.MaxCategorical
}

// dateRange is the earliest Min and latest Max of the date columns,
// as dates.
func dateRange(p catalog.Profile) (string, string) {
	var lo, hi string
	for _, t := range p.Tables {
		for _, c := range t.Columns {
			if !IsDate(c.Type) || c.Min == "" || c.Max == "" {
				continue
			}
			cmin, cmax := firstN(c.Min, 10), firstN(c.Max, 10)
			if lo == "" || cmin < lo {
				lo = cmin
			}
			if hi == "" || cmax > hi {
				hi = cmax
			}
		}
	}
	return lo, hi
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// widen extends [min, max] of a number or date column with values seen
// (most common values, histogram bounds), comparing numbers as numbers.
func widen(c *catalog.ColumnProfile, values ...string) {
	num := IsNumber(c.Type)
	less := func(a, b string) bool {
		if num {
			fa, errA := strconv.ParseFloat(a, 64)
			fb, errB := strconv.ParseFloat(b, 64)
			if errA == nil && errB == nil {
				return fa < fb
			}
		}
		return a < b
	}
	for _, v := range values {
		if v == "" {
			continue
		}
		if c.Min == "" || less(v, c.Min) {
			c.Min = v
		}
		if c.Max == "" || less(c.Max, v) {
			c.Max = v
		}
	}
}

func sortTop(top []catalog.ValueShare) []catalog.ValueShare {
	sort.SliceStable(top, func(i, j int) bool { return top[i].Share > top[j].Share })
	if len(top) > topN {
		top = top[:topN]
	}
	return top
}

// text renders a scanned value as profile text.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format("2006-01-02 15:04:05")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func number(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

// sample profiles one table from at most SampleRows rows: one aggregate
// query for every column, then one top-values query per categorical
// column. Used where the database has no statistics for the table.
func sample(ctx context.Context, in Input, t source.Table, tp *catalog.TableProfile) error {
	if len(t.Columns) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	from := fmt.Sprintf("(SELECT * FROM %s LIMIT %d) AS s", source.QuoteIdent(t.Name), SampleRows)
	sel := []string{"COUNT(*)"}
	for _, c := range t.Columns {
		q := source.QuoteIdent(c.Name)
		sel = append(sel, "COUNT("+q+")", "COUNT(DISTINCT "+q+")", "CAST(MIN("+q+") AS VARCHAR)", "CAST(MAX("+q+") AS VARCHAR)")
	}
	res, err := in.Source.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+from, 1)
	if err != nil {
		return fmt.Errorf("sample table %s: %w", t.Name, err)
	}
	if len(res.Rows) != 1 {
		return fmt.Errorf("sample table %s: no summary row", t.Name)
	}
	row := res.Rows[0]
	total := number(row[0])
	if tp.RowEstimate < 0 && total < SampleRows {
		tp.RowEstimate = int64(total)
	}
	for i := range tp.Columns {
		c := &tp.Columns[i]
		nonNull := number(row[1+4*i])
		if total > 0 {
			c.NullShare = (total - nonNull) / total
		}
		c.Distinct = int64(number(row[2+4*i]))
		if IsNumber(c.Type) || IsDate(c.Type) {
			c.Min, c.Max = text(row[3+4*i]), text(row[4+4*i])
		}
		if IsCategorical(*c) && total > 0 {
			top, err := topValues(ctx, in.Source, from, c.Name, total)
			if err != nil {
				return err
			}
			c.Top = top
		}
	}
	return nil
}

// topValues counts the most common values of a column in from.
func topValues(ctx context.Context, src source.Source, from, col string, total float64) ([]catalog.ValueShare, error) {
	q := source.QuoteIdent(col)
	res, err := src.Query(ctx, fmt.Sprintf("SELECT CAST(%s AS VARCHAR) AS v, COUNT(*) AS n FROM %s WHERE %s IS NOT NULL GROUP BY %s ORDER BY n DESC, v LIMIT %d",
		q, from, q, q, topN), topN)
	if err != nil {
		return nil, fmt.Errorf("top values of %s: %w", col, err)
	}
	var top []catalog.ValueShare
	for _, r := range res.Rows {
		top = append(top, catalog.ValueShare{Value: text(r[0]), Share: number(r[1]) / total})
	}
	return top, nil
}

// Names returns the table names of a profile, for messages.
func Names(p catalog.Profile) []string {
	var out []string
	for _, t := range p.Tables {
		out = append(out, t.Name)
	}
	return slices.Clip(out)
}
