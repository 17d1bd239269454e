package analysis

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/render"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// Token budgets of the context levels (SPEC §6), at about 4 characters a
// token.
var levelBudget = [4]int{500, 2000, 5000, 10000}

const charsPerToken = 4

// ContextDoc is the structured output of get_context.
type ContextDoc struct {
	Level     int    `json:"level" jsonschema:"the level returned (levels 0..level are included)"`
	Markdown  string `json:"markdown" jsonschema:"the context, in Markdown"`
	Tokens    int    `json:"approx_tokens" jsonschema:"approximate size in tokens (4 characters a token)"`
	Truncated bool   `json:"truncated" jsonschema:"true when a level was cut to its budget"`
}

// Context builds the progressive context of SPEC §6: level N holds levels
// 0..N, each cut to its token budget with a note on how to ask for less.
func (s *Service) Context(ctx context.Context, level int, datasetID int64, table string) (ContextDoc, error) {
	if level < 0 || level > 3 {
		return ContextDoc{}, &InputError{Message: fmt.Sprintf("level must be 0, 1, 2 or 3, not %d", level)}
	}
	doc := ContextDoc{Level: level}
	var b strings.Builder
	add := func(lvl int, text, narrow string) {
		budget := levelBudget[lvl] * charsPerToken
		if len(text) > budget {
			cut := strings.LastIndex(text[:budget], "\n")
			if cut < 0 {
				cut = budget
			}
			text = text[:cut] + fmt.Sprintf("\n\n_Level %d cut at about %d tokens: %s._\n", lvl, levelBudget[lvl], narrow)
			doc.Truncated = true
		}
		b.WriteString(text)
		b.WriteString("\n")
	}
	add(0, s.rules(), "ask for level 0 alone")
	if level >= 1 {
		add(1, s.datasetsContext(ctx), "call list_available_datasets, or get_context with a dataset_id at level 2")
	}
	if level >= 2 {
		if datasetID == 0 {
			b.WriteString("_Levels 2 and 3 describe one dataset: call get_context again with dataset_id._\n")
		} else {
			text, err := s.schemaContext(ctx, datasetID)
			if err != nil {
				return ContextDoc{}, err
			}
			add(2, text, "call get_dataset_schema for the full list")
			if level >= 3 {
				add(3, s.detailContext(ctx, datasetID, table), "pass table_name to see one table")
			}
		}
	}
	doc.Markdown = b.String()
	doc.Tokens = (len(doc.Markdown) + charsPerToken - 1) / charsPerToken
	return doc, nil
}

func (s *Service) rules() string {
	l := s.reg.DefaultLimits()
	return fmt.Sprintf(`# Rules for analysing these datasets

The datasets are **weighted consumer panels**: every panelist (one row of the user-level table, usually `+"`users`"+`) carries a projection **weight**; event tables (app usage, orders, viewing) have many rows per panelist and no weight of their own.

- **Report weighted figures.** Write plain SQL (`+"`COUNT(*)`, `SUM(x)`, `AVG(x)`, `COUNT(DISTINCT user_id)`"+`); the server rewrites aggregated queries to add weighted columns (weighted_count, weighted %%, effective base, margin of error, low-base flags). Quote the weighted columns, not the raw counts; mention low bases.
- **Weigh people, not events.** Reach is `+"`COUNT(DISTINCT user_id)`"+` over an event table: each panelist counts once. `+"`COUNT(*)`"+` over events is event volume.
- **Do not weight by hand** unless you mean to: a query that uses the weight column is left as written.
- **NCCS** (socio-economic class) is reported merged: A1 and A → A; C, D, E → C/D/E. Filters (`+"`WHERE nccs = 'A1'`"+`) still use the raw labels.
- **Output limits:** raw (non-aggregated) queries return at most %d rows; aggregate with GROUP BY to see whole populations (up to %d rows).
- Only a single read-only SELECT per query.

**Tools:** list_available_datasets → get_dataset_schema(dataset_id) → query_dataset(dataset_id, query) or, for **several questions, one execute_multi_query call** (up to %d queries, run in parallel, one approval). get_dataset_sample shows a few rows; get_context(level 1-3, dataset_id) gives more detail.
`, l.RawRows, l.AggregatedRows, l.MaxQueries)
}

func (s *Service) datasetsContext(ctx context.Context) string {
	var b strings.Builder
	b.WriteString("# Datasets\n\n")
	for _, d := range s.Datasets(ctx).Datasets {
		fmt.Fprintf(&b, "- **%d. %s** — %s\n", d.ID, d.Name, d.Description)
		fmt.Fprintf(&b, "  tables: %s; panelists: %s; weight: %s; respondent key: %s; NCCS: %s",
			strings.Join(d.Tables, ", "), render.Number(d.Rows), orNone(d.WeightColumn), orNone(d.RespondentKey), orNone(d.NCCSColumn))
		if d.DateFrom != "" {
			fmt.Fprintf(&b, "; dates %s to %s", d.DateFrom, d.DateTo)
		}
		if d.Status != "ready" {
			fmt.Fprintf(&b, "; status: %s", d.Status)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (s *Service) schemaContext(ctx context.Context, id int64) (string, error) {
	sc, err := s.Schema(ctx, id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Schema of dataset %d: %s\n\n", sc.DatasetID, sc.Dataset)
	if sc.WeightColumn != "" {
		fmt.Fprintf(&b, "Weight: `%s`", sc.WeightColumn)
		if sc.WeightScale > 1 {
			fmt.Fprintf(&b, " (×%s: weighted counts × %s = people)", render.Number(sc.WeightScale), render.Number(sc.WeightScale))
		}
		fmt.Fprintf(&b, "; respondent key: `%s`; NCCS: `%s`.\n\n", sc.RespondentKey, orNone(sc.NCCSColumn))
	}
	for _, t := range sc.Tables {
		fmt.Fprintf(&b, "## %s (%s, ~%s rows)\n\n", t.Name, t.Grain, render.Number(t.RowEstimate))
		for _, c := range t.Columns {
			fmt.Fprintf(&b, "- `%s` %s", c.Name, c.Type)
			if c.Role != "" {
				fmt.Fprintf(&b, " — **%s**", c.Role)
			}
			if c.Description != "" {
				fmt.Fprintf(&b, " — %s", c.Description)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// detailContext profiles the columns of each table (or of one), shows a few
// sample rows and example queries that were run to check they work.
func (s *Service) detailContext(ctx context.Context, id int64, table string) string {
	h, err := s.reg.Open(ctx, id)
	if err != nil {
		return "_Details unavailable: " + s.message(ctx, err, Request{DatasetID: id}) + "_\n"
	}
	tables := h.Tables
	roles := h.Roles
	h.Release()
	var b strings.Builder
	fmt.Fprintf(&b, "# Details of dataset %d\n\n", id)
	opts := render.Options{MaxCell: 40}
	for _, t := range tables {
		if table != "" && !strings.EqualFold(t.Name, table) {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n", t.Name)
		if prof := s.profile(ctx, id, t.Name, t.Columns); prof != "" {
			b.WriteString(prof)
		}
		sample := s.Sample(ctx, id, t.Name, 3)
		if sample.OK {
			b.WriteString("Sample rows:\n\n")
			b.WriteString(render.Table(sample.Columns, sample.Rows, opts))
			b.WriteString("\n")
		}
	}
	examples := exampleQueries(tables, roles)
	if len(examples) > 0 {
		b.WriteString("## Example queries (checked to run)\n\n")
		for _, q := range examples {
			r := s.Query(ctx, Request{DatasetID: id, Query: q, ApplyWeights: true, MergeNCCS: true})
			if r.OK {
				fmt.Fprintf(&b, "```sql\n%s\n```\n", q)
			}
		}
	}
	return b.String()
}

// profile summarises each column with one aggregate query: null share,
// distinct count, min and max, and the top values of text columns with
// few distinct values.
func (s *Service) profile(ctx context.Context, id int64, table string, cols []source.Column) string {
	if len(cols) == 0 {
		return ""
	}
	var sel []string
	sel = append(sel, "COUNT(*)")
	for _, c := range cols {
		q := dataset.QuoteIdent(c.Name)
		sel = append(sel, "COUNT("+q+")", "COUNT(DISTINCT "+q+")", "CAST(MIN("+q+") AS VARCHAR)", "CAST(MAX("+q+") AS VARCHAR)")
	}
	sql := "SELECT " + strings.Join(sel, ", ") + " FROM " + dataset.QuoteIdent(table)
	r := s.Query(ctx, Request{DatasetID: id, Query: sql})
	if !r.OK || len(r.Rows) != 1 {
		return ""
	}
	row := r.Rows[0]
	total, _ := row[0].(int64)
	var b strings.Builder
	b.WriteString("| column | type | nulls | distinct | min | max | top values |\n|---|---|---|---|---|---|---|\n")
	for i, c := range cols {
		nonNull, _ := row[1+4*i].(int64)
		distinct, _ := row[2+4*i].(int64)
		nulls := "0%"
		if total > 0 {
			nulls = fmt.Sprintf("%.1f%%", 100*float64(total-nonNull)/float64(total))
		}
		top := ""
		if isText(c.Type) && distinct > 0 && distinct <= 50 {
			top = s.topValues(ctx, id, table, c.Name, total)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", c.Name, c.Type, nulls, render.Number(distinct),
			render.Cell(row[3+4*i], 30), render.Cell(row[4+4*i], 30), top)
	}
	b.WriteString("\n")
	return b.String()
}

func (s *Service) topValues(ctx context.Context, id int64, table, col string, total int64) string {
	q := dataset.QuoteIdent(col)
	sql := fmt.Sprintf("SELECT %s AS v, COUNT(*) AS n FROM %s GROUP BY %s ORDER BY n DESC LIMIT 6", q, dataset.QuoteIdent(table), q)
	r := s.Query(ctx, Request{DatasetID: id, Query: sql})
	if !r.OK || total == 0 {
		return ""
	}
	var parts []string
	for _, row := range r.Rows {
		n, _ := row[1].(int64)
		parts = append(parts, fmt.Sprintf("%s %.0f%%", render.Cell(row[0], 20), 100*float64(n)/float64(total)))
	}
	return strings.Join(parts, ", ")
}

func exampleQueries(tables []source.Table, roles dataset.Roles) []string {
	var out []string
	for _, t := range tables {
		switch roles.Grain(t) {
		case "user level":
			for _, c := range t.Columns {
				if isText(c.Type) && c.Name != roles.RespondentKey {
					out = append(out, fmt.Sprintf("SELECT %s, COUNT(*) FROM %s GROUP BY %s ORDER BY COUNT(*) DESC", c.Name, t.Name, c.Name))
					break
				}
			}
			if roles.NCCSColumn != "" {
				out = append(out, fmt.Sprintf("SELECT %s, COUNT(*) FROM %s GROUP BY %s", roles.NCCSColumn, t.Name, roles.NCCSColumn))
			}
		case "event level":
			for _, c := range t.Columns {
				if isText(c.Type) && c.Name != roles.RespondentKey {
					out = append(out, fmt.Sprintf("SELECT %s, COUNT(DISTINCT %s) AS reach FROM %s GROUP BY %s ORDER BY reach DESC",
						c.Name, roles.RespondentKey, t.Name, c.Name))
					break
				}
			}
		}
	}
	return out
}

func isText(typ string) bool {
	return typ == "text" || typ == "varchar" || strings.HasPrefix(typ, "character") || strings.HasPrefix(typ, "varchar")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
