package render

import (
	"fmt"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// EventPeriods words the periods of a dataset's event tables for a listing,
// "app_usage 2026-04-01 to 2026-06-30; orders 2025-07-01 to 2026-06-30" (a
// table with several date columns by the earliest and latest of them), or,
// when no event table has dates, the dataset's whole range.
func EventPeriods(ranges []result.DateRangeInfo, from, to string) string {
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

// Datasets is the Markdown of list_available_datasets.
func Datasets(list result.DatasetList, opts Options) string {
	if len(list.Datasets) == 0 {
		return "No datasets are available. An operator can add one with `mcp-analytics datasets add`."
	}
	cols := []result.Column{{Name: "id"}, {Name: "name"}, {Name: "description"}, {Name: "tables"}, {Name: "rows"},
		{Name: "date range"}, {Name: "weight column"}, {Name: "status"}}
	rows := make([][]any, len(list.Datasets))
	for i, d := range list.Datasets {
		dates := EventPeriods(d.DateRanges, d.DateFrom, d.DateTo)
		var nrows any = d.Rows
		if d.Rows < 0 {
			nrows = nil
		}
		rows[i] = []any{d.ID, d.Name, d.Description, strings.Join(d.Tables, ", "), nrows, dates, d.WeightColumn, d.Status}
	}
	return fmt.Sprintf("# Available Datasets\n\n**Total**: %d\n\n%s\n_Next: get_dataset_schema(dataset_id) for tables and columns; put several questions into one execute_multi_query call._\n",
		len(list.Datasets), Table(cols, rows, opts))
}

// Schema is the Markdown of get_dataset_schema.
func Schema(sc result.Schema, opts Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Schema: %s (dataset %d)\n\n", sc.Dataset, sc.DatasetID)
	if sc.Description != "" {
		b.WriteString(sc.Description + "\n\n")
	}
	if sc.WeightColumn != "" {
		fmt.Fprintf(&b, "**Weight**: `%s`", sc.WeightColumn)
		if sc.WeightScale > 1 {
			fmt.Fprintf(&b, " (×%s = people)", Number(sc.WeightScale))
		}
		fmt.Fprintf(&b, " | **Respondent key**: `%s`", sc.RespondentKey)
		if sc.NCCSColumn != "" {
			fmt.Fprintf(&b, " | **NCCS**: `%s` (merged A1+A → A, C/D/E in results)", sc.NCCSColumn)
		}
		b.WriteString("\n\n")
	}
	if sc.DateFrom != "" {
		fmt.Fprintf(&b, "**Dates**: %s to %s (each table's period is under it)\n\n", sc.DateFrom, sc.DateTo)
	}
	cols := []result.Column{{Name: "column"}, {Name: "type"}, {Name: "nullable"}, {Name: "role"}, {Name: "description"}}
	for _, t := range sc.Tables {
		var est any = t.RowEstimate
		if t.RowEstimate < 0 {
			est = "unknown"
		}
		fmt.Fprintf(&b, "## %s\n\n**Grain**: %s | **Rows** (estimate): %s", t.Name, t.Grain, Number(est))
		if t.Source != "" {
			fmt.Fprintf(&b, " | **Imported from**: %s", t.Source)
		}
		if t.DateFrom != "" {
			fmt.Fprintf(&b, " | **Dates**: %s to %s", t.DateFrom, t.DateTo)
		}
		b.WriteString("\n\n")
		if t.Source != "" {
			b.WriteString("_Columns with value labels hold the labels (write `WHERE gender = 'Female'`, not the code); user-missing codes are NULL._\n\n")
		}
		tcols := cols
		if t.Source != "" {
			tcols = append(append([]result.Column(nil), cols[:4]...), result.Column{Name: "measure"}, cols[4])
		}
		rows := make([][]any, len(t.Columns))
		for i, c := range t.Columns {
			desc := c.Description
			if c.Unit != "" {
				desc = strings.TrimSpace(desc + " Unit: " + c.Unit + ".")
			}
			if c.DateFrom != "" {
				desc = strings.TrimSpace(desc + " From " + c.DateFrom + " to " + c.DateTo + ".")
			}
			if t.Source != "" {
				rows[i] = []any{c.Name, c.Type, c.Nullable, c.Role, c.Measure, desc}
				continue
			}
			rows[i] = []any{c.Name, c.Type, c.Nullable, c.Role, desc}
		}
		b.WriteString(Table(tcols, rows, opts))
		b.WriteString("\n")
	}
	return b.String()
}
