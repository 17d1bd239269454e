package analysis

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/profile"
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
	// Examples are level 3's example queries.
	Examples []ContextExample `json:"examples,omitempty" jsonschema:"level 3: example queries, each run and checked to be weighted"`
}

// Context builds the progressive context of SPEC §6: level N holds levels
// 0..N, each cut to its token budget with a note on how to ask for less.
func (s *Service) Context(ctx context.Context, level int, datasetID int64, table string) (ContextDoc, error) {
	if level < 0 || level > 3 {
		return ContextDoc{}, &InputError{Message: fmt.Sprintf("level must be 0, 1, 2 or 3, not %d", level)}
	}
	if table != "" && datasetID != 0 {
		if err := s.checkTable(ctx, datasetID, table); err != nil {
			return ContextDoc{}, err
		}
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
				text, examples := s.detailContext(ctx, datasetID, table)
				add(3, text, "pass table_name to see one table")
				doc.Examples = examples
			}
		}
	}
	doc.Markdown = b.String()
	doc.Tokens = (len(doc.Markdown) + charsPerToken - 1) / charsPerToken
	return doc, nil
}

// checkTable reports a table_name the dataset does not have as an error
// the caller can fix, naming the tables it does have.
func (s *Service) checkTable(ctx context.Context, id int64, table string) error {
	sc, err := s.Schema(ctx, id)
	if err != nil {
		return err
	}
	names := make([]string, len(sc.Tables))
	for i, t := range sc.Tables {
		if strings.EqualFold(t.Name, table) {
			return nil
		}
		names[i] = t.Name
	}
	return &InputError{Message: fmt.Sprintf("table %q not found in dataset %d; its tables are: %s", table, id, strings.Join(names, ", "))}
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
		dates := ""
		if t.DateFrom != "" {
			dates = ", " + t.DateFrom + " to " + t.DateTo
		}
		fmt.Fprintf(&b, "## %s (%s, ~%s rows%s)\n\n", t.Name, t.Grain, render.Number(t.RowEstimate), dates)
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
	return b.String(), nil
}

// ContextExample is an example query of level 3: it was run before being
// shown, and aggregated examples were checked to be weighted.
type ContextExample struct {
	Question string `json:"question" jsonschema:"what the query answers"`
	SQL      string `json:"sql" jsonschema:"the query, to pass to query_dataset or execute_multi_query as written"`
}

// detailContext shows, per table (or for one), the stored profile, a few
// sample rows, and example queries that were run and checked to be
// weighted. A dataset never profiled is profiled now (and the profile
// stored for the next call).
func (s *Service) detailContext(ctx context.Context, id int64, table string) (string, []ContextExample) {
	h, err := s.reg.Open(ctx, id)
	if err != nil {
		return "_Details unavailable: " + s.message(ctx, err, Request{DatasetID: id}) + "_\n", nil
	}
	tables, roles, prof, rawRows := h.Tables, h.Roles, h.Profile, h.Limits.RawRows
	h.Release()
	if prof == nil {
		p, err := s.reg.Reprofile(ctx, id)
		if err != nil {
			s.log.Warn("profile for get_context", "dataset", id, "err", err)
		} else {
			prof = &p
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Details of dataset %d\n\n", id) // table, if given, was checked by Context
	examples := s.checkedExamples(ctx, id, tables, roles, prof, table)
	if len(examples) > 0 {
		b.WriteString("## Example queries (each was run and checked to be weighted)\n\n")
		for _, e := range examples {
			fmt.Fprintf(&b, "- %s\n```sql\n%s\n```\n", e.Question, e.SQL)
		}
		b.WriteString("\n")
	}
	if prof != nil {
		fmt.Fprintf(&b, "Profile: %s, %s.\n\n", prof.ProfiledAt.UTC().Format("2006-01-02 15:04 UTC"), prof.Method)
	} else {
		b.WriteString("_No profile could be taken; column statistics are missing._\n\n")
	}
	opts := render.Options{MaxCell: 40}
	for _, t := range tables {
		if table != "" && !strings.EqualFold(t.Name, table) {
			continue
		}
		var tp catalog.TableProfile
		if prof != nil {
			tp, _ = prof.Table(t.Name)
		}
		rows := t.RowEstimate
		if rows < 0 {
			rows = tp.RowEstimate
		}
		fmt.Fprintf(&b, "## %s (%s, ~%s rows)\n\n", t.Name, roles.Grain(t), render.Number(rows))
		if len(tp.Columns) > 0 {
			b.WriteString(profileTable(tp))
		}
		sample := s.Sample(ctx, id, t.Name, min(3, rawRows))
		if sample.OK && len(sample.Rows) > 0 {
			b.WriteString("Sample rows:\n\n")
			b.WriteString(render.Table(sample.Columns, sample.Rows, opts))
			b.WriteString("\n")
		}
	}
	return b.String(), examples
}

// profileTable renders a table's column profiles.
func profileTable(tp catalog.TableProfile) string {
	var b strings.Builder
	// Taken from the database's statistics (pg_stats histogram bounds,
	// DuckDB's approximate distinct counts): estimates, and labelled so.
	b.WriteString("_From the database's statistics: distinct counts, min and max are estimates; query them for exact figures._\n\n")
	b.WriteString("| column | type | nulls | distinct (est.) | min (≈) | max (≈) | top values (share of rows) |\n|---|---|---|---|---|---|---|\n")
	for _, c := range tp.Columns {
		distinct := "?"
		if c.Distinct >= 0 {
			distinct = render.Number(c.Distinct)
		}
		var top []string
		for i, v := range c.Top {
			if i == 8 {
				top = append(top, "…")
				break
			}
			top = append(top, fmt.Sprintf("%s %.0f%%", render.Cell(v.Value, 20), 100*v.Share))
		}
		fmt.Fprintf(&b, "| %s | %s | %.1f%% | %s | %s | %s | %s |\n", c.Name, c.Type, 100*c.NullShare, distinct,
			render.Cell(c.Min, 25), render.Cell(c.Max, 25), strings.Join(top, ", "))
	}
	b.WriteString("\n")
	return b.String()
}

// checkedExamples runs the candidate examples and keeps those that
// succeed and, being aggregates over panelists, were weighted, and whose
// groups are all large enough to be shown (an example mostly blanked by
// disclosure control teaches nothing).
func (s *Service) checkedExamples(ctx context.Context, id int64, tables []source.Table, roles dataset.Roles, prof *catalog.Profile, table string) []ContextExample {
	var out []ContextExample
	for _, e := range exampleQueries(tables, roles, prof) {
		if table != "" && !strings.Contains(e.SQL, " "+ident(table)) {
			continue
		}
		r := s.Query(ctx, Request{DatasetID: id, Query: e.SQL, ApplyWeights: true, MergeNCCS: true})
		if !r.OK || !r.Weighting.Applied || len(r.Suppressed) > 0 {
			s.log.Debug("example query dropped", "dataset", id, "sql", e.SQL, "error", r.Error, "weighted", r.Weighting.Applied, "suppressed_rows", len(r.Suppressed))
			continue
		}
		out = append(out, e)
	}
	return out
}

// exampleQueries proposes queries from the roles and the profile: splits of
// panelists by a categorical column and by NCCS, a per-panelist average,
// reach on event tables (overall, recent, and by a panelist attribute).
func exampleQueries(tables []source.Table, roles dataset.Roles, prof *catalog.Profile) []ContextExample {
	key := roles.RespondentKey
	var out []ContextExample
	var users *source.Table
	for i, t := range tables {
		if roles.Grain(t) == "user level" {
			users = &tables[i]
		}
	}
	categorical := func(t source.Table, skip ...string) string {
		if prof == nil {
			return ""
		}
		tp, _ := prof.Table(t.Name)
		for _, c := range tp.Columns {
			if profile.IsCategorical(c) && c.Name != key && c.Name != roles.NCCSColumn && !slices.Contains(skip, c.Name) && len(c.Top) > 1 {
				return c.Name
			}
		}
		return ""
	}
	var userCat string
	if users != nil {
		ut := ident(users.Name)
		if userCat = categorical(*users); userCat != "" {
			c := ident(userCat)
			out = append(out, ContextExample{"How many people are in each " + userCat + " group (weighted count and share)?",
				fmt.Sprintf("SELECT %s, COUNT(*) AS panelists FROM %s GROUP BY %s ORDER BY panelists DESC", c, ut, c)})
		}
		if n := roles.NCCSColumn; n != "" && tableHasColumn(*users, n) {
			out = append(out, ContextExample{"Population by NCCS class (A1 merged into A, C/D/E together)",
				fmt.Sprintf("SELECT %s, COUNT(*) AS panelists FROM %s GROUP BY %s ORDER BY %s", ident(n), ut, ident(n), ident(n))})
		}
		for _, c := range users.Columns {
			if isNumeric(c.Type) && c.Name != key && c.Name != roles.WeightColumn {
				out = append(out, ContextExample{"Average " + c.Name + " per panelist (weighted)",
					fmt.Sprintf("SELECT AVG(%s) AS avg_%s FROM %s", ident(c.Name), c.Name, ut)})
				break
			}
		}
	}
	for _, t := range tables {
		if roles.Grain(t) != "event level" || key == "" {
			continue
		}
		tn, k := ident(t.Name), ident(key)
		if c := categorical(t); c != "" {
			out = append(out, ContextExample{"Reach (people, not events) by " + c + " in " + t.Name,
				fmt.Sprintf("SELECT %s, COUNT(DISTINCT %s) AS reach FROM %s GROUP BY %s ORDER BY reach DESC", ident(c), k, tn, ident(c))})
			if users != nil && userCat != "" && !tableHasColumn(t, userCat) {
				out = append(out, ContextExample{"Reach of " + t.Name + " by the panelists' " + userCat,
					fmt.Sprintf("SELECT u.%s, COUNT(DISTINCT e.%s) AS reach FROM %s AS e JOIN %s AS u ON u.%s = e.%s GROUP BY u.%s ORDER BY reach DESC",
						ident(userCat), k, tn, ident(users.Name), k, k, ident(userCat))})
			}
		}
		if prof != nil && prof.DateTo != "" {
			for _, c := range t.Columns {
				if c.Type != "date" {
					continue
				}
				if to, err := time.Parse("2006-01-02", prof.DateTo); err == nil {
					from := to.AddDate(0, 0, -29).Format("2006-01-02")
					out = append(out, ContextExample{"People active in " + t.Name + " over the last 30 days of data",
						fmt.Sprintf("SELECT COUNT(DISTINCT %s) AS reach FROM %s WHERE %s >= DATE '%s'", k, tn, ident(c.Name), from)})
				}
				break
			}
		}
	}
	return out
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// ident writes a table or column name, quoted only when it must be.
func ident(name string) string {
	if plainIdent.MatchString(name) {
		return name
	}
	return source.QuoteIdent(name)
}

func tableHasColumn(t source.Table, name string) bool {
	for _, c := range t.Columns {
		if c.Name == name {
			return true
		}
	}
	return false
}

func isNumeric(typ string) bool { return profile.IsNumber(typ) }

func isText(typ string) bool {
	return typ == "text" || typ == "varchar" || strings.HasPrefix(typ, "character") || strings.HasPrefix(typ, "varchar")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
