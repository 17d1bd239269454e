package render

import (
	"fmt"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// Token budgets of the context levels (SPEC §6), at about 4 characters a
// token.
var levelBudget = [4]int{500, 2000, 5000, 10000}

const charsPerToken = 4

// Context writes the Markdown of get_context from the parts the analysis
// service put in doc: level N holds levels 0..N, each cut to its token
// budget with a note on how to ask for less. It sets doc.Markdown,
// doc.Tokens and doc.Truncated.
func Context(doc *result.Context) {
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
	add(0, contextRules(doc.Rules), "ask for level 0 alone")
	if doc.Datasets != nil {
		add(1, contextDatasets(*doc.Datasets), "call list_available_datasets, or get_context with a dataset_id at level 2")
	}
	if doc.NeedsDataset {
		b.WriteString("_Levels 2 and 3 describe one dataset: call get_context again with dataset_id._\n")
	}
	if doc.Schema != nil {
		add(2, contextSchema(*doc.Schema), "call get_dataset_schema for the full list")
	}
	if doc.Detail != nil {
		add(3, contextDetail(*doc.Detail, doc.Examples), "pass table_name to see one table")
	}
	doc.Markdown = b.String()
	doc.Tokens = (len(doc.Markdown) + charsPerToken - 1) / charsPerToken
}

func contextRules(l result.ContextRules) string {
	return fmt.Sprintf(`# Rules for analysing these datasets

The datasets are **weighted consumer panels**: every panelist (one row of the user-level table, usually `+"`users`"+`) carries a projection **weight**; event tables (app usage, orders, viewing) have many rows per panelist and no weight of their own.

- **Report weighted figures.** Write plain SQL (`+"`COUNT(*)`, `SUM(x)`, `AVG(x)`, `COUNT(DISTINCT user_id)`"+`); the server rewrites aggregated queries to add weighted columns (weighted_count, weighted %%, effective base, margin of error, low-base flags). Quote the weighted columns, not the raw counts; mention low bases.
- **Weigh people, not events.** Reach is `+"`COUNT(DISTINCT user_id)`"+` over an event table: each panelist counts once. `+"`COUNT(*)`"+` over events is event volume.
- **Do not weight by hand** unless you mean to: a query that uses the weight column is left as written.
- **NCCS** (socio-economic class) is reported merged: A1 and A → A; C, D, E → C/D/E. A filter on a merged label matches its class (`+"`WHERE nccs = 'C/D/E'`"+` is C, D or E); a raw label (`+"`'A1'`"+`) matches itself.
- **Output limits:** raw (non-aggregated) queries return at most %d rows; aggregate with GROUP BY to see whole populations (up to %d rows).
- Only a single read-only SELECT per query.

**Tools:** list_available_datasets → get_dataset_schema(dataset_id) → query_dataset(dataset_id, query) or, for **several questions, one execute_multi_query call** (up to %d queries, run in parallel, one approval). get_dataset_sample shows a few rows; get_context(level 1-3, dataset_id) gives more detail.
`, l.RawRows, l.AggregatedRows, l.MaxQueries)
}

func contextDatasets(list result.DatasetList) string {
	var b strings.Builder
	b.WriteString("# Datasets\n\n")
	b.WriteString("Grouped weighted answers end with a Total row (is_total). When the user asks which differences between groups are real, pass compare_by (a grouping column): a letter on a figure names each group it is significantly higher than.\n\n")
	for _, d := range list.Datasets {
		fmt.Fprintf(&b, "- **%d. %s** — %s\n", d.ID, d.Name, d.Description)
		fmt.Fprintf(&b, "  tables: %s; panelists: %s; weight: %s; respondent key: %s; NCCS: %s",
			strings.Join(d.Tables, ", "), Number(d.Rows), orNone(d.WeightColumn), orNone(d.RespondentKey), orNone(d.NCCSColumn))
		if dates := EventPeriods(d.DateRanges, d.DateFrom, d.DateTo); dates != "" {
			fmt.Fprintf(&b, "; dates %s", dates)
		}
		if d.Status != "ready" {
			fmt.Fprintf(&b, "; status: %s", d.Status)
		} else {
			fmt.Fprintf(&b, "; %s", d.Profile)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func contextSchema(sc result.Schema) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Schema of dataset %d: %s\n\n", sc.DatasetID, sc.Dataset)
	if sc.WeightColumn != "" {
		fmt.Fprintf(&b, "Weight: `%s`", sc.WeightColumn)
		if sc.WeightScale > 1 {
			fmt.Fprintf(&b, " (×%s: weighted counts × %s = people)", Number(sc.WeightScale), Number(sc.WeightScale))
		}
		fmt.Fprintf(&b, "; respondent key: `%s`; NCCS: `%s`.\n\n", sc.RespondentKey, orNone(sc.NCCSColumn))
	}
	for _, t := range sc.Tables {
		dates := ""
		if t.DateFrom != "" {
			dates = ", " + t.DateFrom + " to " + t.DateTo
		}
		fmt.Fprintf(&b, "## %s (%s, ~%s rows%s)\n\n", t.Name, t.Grain, Number(t.RowEstimate), dates)
		if t.Description != "" {
			b.WriteString(t.Description + "\n\n")
		}
		if t.Source != "" {
			fmt.Fprintf(&b, "Imported from %s: text columns with value labels hold the labels (filter on them), user-missing codes are NULL.\n\n", t.Source)
		}
		for _, c := range t.Columns {
			fmt.Fprintf(&b, "- `%s` %s", c.Name, c.Type)
			if c.Measure != "" {
				fmt.Fprintf(&b, " (%s)", c.Measure)
			}
			if c.Role != "" {
				fmt.Fprintf(&b, " — **%s**", c.Role)
			}
			if c.Description != "" {
				fmt.Fprintf(&b, " — %s", c.Description)
			}
			if c.Unit != "" {
				fmt.Fprintf(&b, " (unit %s)", c.Unit)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// contextDetail shows the checked example queries, then per table the
// stored profile and a few sample rows.
func contextDetail(d result.ContextDetail, examples []result.ContextExample) string {
	if d.Unavailable != "" {
		return "_Details unavailable: " + d.Unavailable + "_\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Details of dataset %d\n\n", d.DatasetID)
	if len(examples) > 0 {
		b.WriteString("## Example queries (each was run and checked to be weighted)\n\n")
		for _, e := range examples {
			fmt.Fprintf(&b, "- %s\n```sql\n%s\n```\n", e.Question, e.SQL)
		}
		b.WriteString("\n")
	}
	if !d.Profiled.IsZero() {
		fmt.Fprintf(&b, "Profile: %s, %s.\n\n", d.Profiled.UTC().Format("2006-01-02 15:04 UTC"), d.Method)
	} else {
		b.WriteString("_No profile could be taken; column statistics are missing._\n\n")
	}
	for _, t := range d.Tables {
		fmt.Fprintf(&b, "## %s (%s, ~%s rows)\n\n", t.Name, t.Grain, Number(t.Rows))
		if len(t.Columns) > 0 {
			b.WriteString(profileTable(t.Columns))
		}
		if t.Sample != nil && t.Sample.OK && len(t.Sample.Rows) > 0 {
			b.WriteString("Sample rows:\n\n")
			b.WriteString(Table(t.Sample.Columns, t.Sample.Rows, Options{MaxCell: 40}))
			b.WriteString("\n")
		}
	}
	return b.String()
}

// profileTable renders a table's column profiles.
func profileTable(cols []result.ColumnProfile) string {
	var b strings.Builder
	// Taken from the database's statistics (pg_stats histogram bounds,
	// DuckDB's approximate distinct counts): estimates, and labelled so.
	b.WriteString("_From the database's statistics: distinct counts, min and max are estimates; query them for exact figures._\n\n")
	b.WriteString("| column | type | nulls | distinct (est.) | min (≈) | max (≈) | top values (share of rows) |\n|---|---|---|---|---|---|---|\n")
	for _, c := range cols {
		distinct := "?"
		if c.Distinct >= 0 {
			distinct = Number(c.Distinct)
		}
		var top []string
		for i, v := range c.Top {
			if i == 8 {
				top = append(top, "…")
				break
			}
			top = append(top, fmt.Sprintf("%s %.0f%%", Cell(v.Value, 20), 100*v.Share))
		}
		fmt.Fprintf(&b, "| %s | %s | %.1f%% | %s | %s | %s | %s |\n", c.Name, c.Type, 100*c.NullShare, distinct,
			Cell(c.Min, 25), Cell(c.Max, 25), strings.Join(top, ", "))
	}
	b.WriteString("\n")
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
