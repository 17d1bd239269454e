package profile

import (
	"context"
	"fmt"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// statsQuery reads pg_stats for every table on the search path: one row
// per column and most common value. It touches only the system catalogs,
// whatever the size of the tables. Arrays are cast through text so that
// anyarray columns can be unnested whatever their element type.
const statsQuery = `
SELECT s.schemaname::text, s.tablename::text, s.attname::text, s.null_frac::float8, s.n_distinct::float8,
       h.b[1], h.b[cardinality(h.b)], m.v, m.f::float8
FROM pg_catalog.pg_stats s
CROSS JOIN LATERAL (SELECT s.histogram_bounds::text::text[] AS b) h
LEFT JOIN LATERAL unnest(s.most_common_vals::text::text[], s.most_common_freqs) WITH ORDINALITY AS m(v, f, ord) ON true
WHERE s.schemaname = ANY (current_schemas(false))
ORDER BY s.schemaname = current_schema() DESC, 1, 2, 3, m.ord`

func postgres(ctx context.Context, in Input, p *catalog.Profile) error {
	p.Method = "pg_stats"
	qctx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	res, err := in.Source.Query(qctx, statsQuery, 1_000_000)
	if err != nil {
		return fmt.Errorf("read pg_stats: %w", err)
	}
	type key struct{ table, column string }
	type stat struct {
		nullFrac, nDistinct float64
		lo, hi              string
		mcv                 []catalog.ValueShare
	}
	stats := map[key]*stat{}
	// A table name found in several schemas of the search path: the first
	// schema read (the current one) wins.
	schemaOf := map[string]string{}
	for _, r := range res.Rows {
		schema, table := text(r[0]), text(r[1])
		if first, ok := schemaOf[table]; ok && first != schema {
			continue
		}
		schemaOf[table] = schema
		k := key{table, text(r[2])}
		st, ok := stats[k]
		if !ok {
			st = &stat{nullFrac: number(r[3]), nDistinct: number(r[4]), lo: text(r[5]), hi: text(r[6])}
			stats[k] = st
		}
		if r[7] != nil {
			st.mcv = append(st.mcv, catalog.ValueShare{Value: text(r[7]), Share: number(r[8])})
		}
	}
	sampled := 0
	for _, t := range in.Tables {
		tp := newTable(in, t)
		analysed := false
		for i := range tp.Columns {
			c := &tp.Columns[i]
			st, ok := stats[key{t.Name, c.Name}]
			if !ok {
				continue
			}
			analysed = true
			c.NullShare = st.nullFrac
			switch {
			case st.nDistinct > 0:
				c.Distinct = int64(st.nDistinct)
			case st.nDistinct < 0 && t.RowEstimate > 0:
				c.Distinct = int64(-st.nDistinct*float64(t.RowEstimate) + 0.5)
			}
			if IsNumber(c.Type) || IsDate(c.Type) {
				vals := []string{st.lo, st.hi}
				for _, m := range st.mcv {
					vals = append(vals, m.Value)
				}
				widen(c, vals...)
			}
			if IsCategorical(*c) {
				c.Top = sortTop(st.mcv)
			}
		}
		if !analysed && len(t.Columns) > 0 {
			if err := sample(ctx, in, t, &tp); err != nil {
				return err
			}
			sampled++
		}
		p.Tables = append(p.Tables, tp)
	}
	if sampled > 0 {
		p.Method = fmt.Sprintf("pg_stats; %d table(s) without statistics sampled (first %d rows)", sampled, SampleRows)
	}
	return nil
}
