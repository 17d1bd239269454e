package profile

import (
	"context"
	"fmt"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// duckdb profiles each table with SUMMARIZE (DuckDB's own one-pass column
// statistics: approximate distinct counts, min, max, null share) and the
// top values of categorical columns with one GROUP BY each.
func duckdb(ctx context.Context, in Input, p *catalog.Profile) error {
	p.Method = "duckdb summarize"
	for _, t := range in.Tables {
		tp := newTable(in, t)
		qctx, cancel := context.WithTimeout(ctx, in.Timeout)
		res, err := in.Source.Query(qctx, "SUMMARIZE "+source.QuoteIdent(t.Name), 10_000)
		if err != nil {
			cancel()
			return fmt.Errorf("summarize table %s: %w", t.Name, err)
		}
		idx := map[string]int{}
		for i, c := range res.Columns {
			idx[c.Name] = i
		}
		for _, need := range []string{"column_name", "min", "max", "approx_unique", "null_percentage", "count"} {
			if _, ok := idx[need]; !ok {
				cancel()
				return fmt.Errorf("summarize table %s: no %s column", t.Name, need)
			}
		}
		var count float64
		for _, r := range res.Rows {
			name := text(r[idx["column_name"]])
			count = number(r[idx["count"]])
			for i := range tp.Columns {
				c := &tp.Columns[i]
				if c.Name != name {
					continue
				}
				c.NullShare = number(r[idx["null_percentage"]]) / 100
				c.Distinct = int64(number(r[idx["approx_unique"]]))
				if IsNumber(c.Type) || IsDate(c.Type) {
					c.Min, c.Max = text(r[idx["min"]]), text(r[idx["max"]])
				}
			}
		}
		if len(res.Rows) > 0 {
			tp.RowEstimate = int64(count)
		}
		for i := range tp.Columns {
			c := &tp.Columns[i]
			if !IsCategorical(*c) || count == 0 {
				continue
			}
			top, err := topValues(qctx, in.Source, source.QuoteIdent(t.Name), c.Name, count)
			if err != nil {
				cancel()
				return err
			}
			c.Top = top
		}
		cancel()
		p.Tables = append(p.Tables, tp)
	}
	return nil
}
