package analysis

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/profile"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// Context gathers the progressive context of SPEC §6 for get_context:
// level N holds levels 0..N. render.Context writes its Markdown, each level
// cut to its token budget.
func (s *Service) Context(ctx context.Context, level int, datasetID int64, table string) (result.Context, error) {
	if level < 0 || level > 3 {
		return result.Context{}, &InputError{Message: fmt.Sprintf("level must be 0, 1, 2 or 3, not %d", level)}
	}
	if table != "" && datasetID != 0 {
		if err := s.checkTable(ctx, datasetID, table); err != nil {
			return result.Context{}, err
		}
	}
	l := s.reg.DefaultLimits()
	doc := result.Context{Level: level, Rules: result.ContextRules{RawRows: l.RawRows, AggregatedRows: l.AggregatedRows, MaxQueries: l.MaxQueries}}
	if level >= 1 {
		list := s.Datasets(ctx)
		doc.Datasets = &list
	}
	if level >= 2 {
		if datasetID == 0 {
			doc.NeedsDataset = true
			return doc, nil
		}
		sc, err := s.Schema(ctx, datasetID)
		if err != nil {
			return result.Context{}, err
		}
		doc.Schema = &sc
		if level >= 3 {
			d, examples := s.detail(ctx, datasetID, table)
			doc.Detail, doc.Examples = &d, examples
		}
	}
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

// detail gathers level 3: per table (or for one), the stored profile, a
// few sample rows, and example queries that were run and checked to be
// weighted. A dataset never profiled is profiled now (and the profile
// stored for the next call).
func (s *Service) detail(ctx context.Context, id int64, table string) (result.ContextDetail, []result.ContextExample) {
	d := result.ContextDetail{DatasetID: id} // table, if given, was checked by Context
	h, err := s.reg.Open(ctx, id)
	if err != nil {
		d.Unavailable = s.message(ctx, err, Request{DatasetID: id})
		return d, nil
	}
	tables, roles, prof, rawRows, version := h.Tables, h.Roles, h.Profile, h.Limits.RawRows, h.Dataset.UpdatedAt
	h.Release()
	if prof == nil {
		p, err := s.reg.Reprofile(ctx, id)
		if err != nil {
			s.log.Warn("profile for get_context", "dataset", id, "err", err)
		} else {
			prof = &p
		}
	}
	key := exampleKey{dataset: id, version: version, table: strings.ToLower(table)}
	if prof != nil {
		key.profiled = prof.ProfiledAt
	}
	examples, ok := s.examples.get(key)
	if !ok {
		examples = s.checkedExamples(ctx, id, tables, roles, prof, table)
		if ctx.Err() == nil {
			s.examples.put(key, examples)
		}
	}
	if prof != nil {
		d.Profiled, d.Method = prof.ProfiledAt, prof.Method
	}
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
		ct := result.ContextTable{Name: t.Name, Grain: roles.Grain(t), Rows: rows}
		for _, c := range tp.Columns {
			cp := result.ColumnProfile{Name: c.Name, Type: c.Type, NullShare: c.NullShare, Distinct: c.Distinct, Min: c.Min, Max: c.Max}
			for _, v := range c.Top {
				cp.Top = append(cp.Top, result.ValueShare{Value: v.Value, Share: v.Share})
			}
			ct.Columns = append(ct.Columns, cp)
		}
		sample := s.Sample(ctx, id, t.Name, min(3, rawRows))
		ct.Sample = &sample
		d.Tables = append(d.Tables, ct)
	}
	return d, examples
}

// checkedExamples runs the candidate examples and keeps those that
// succeed and, being aggregates over panelists, were weighted, and whose
// groups are all large enough to be shown (an example mostly blanked by
// disclosure control teaches nothing).
func (s *Service) checkedExamples(ctx context.Context, id int64, tables []source.Table, roles dataset.Roles, prof *catalog.Profile, table string) []result.ContextExample {
	var candidates []result.ContextExample
	var reqs []Request
	for _, e := range exampleQueries(tables, roles, prof) {
		if table != "" && !strings.Contains(e.SQL, " "+ident(table)) {
			continue
		}
		candidates = append(candidates, e)
		reqs = append(reqs, Request{DatasetID: id, Query: e.SQL, ApplyWeights: true, MergeNCCS: true})
	}
	if len(reqs) == 0 {
		return nil
	}
	// Run together, as one execute_multi_query: they share the caller's
	// slots and run concurrently.
	m, err := s.Multi(ctx, reqs)
	if err != nil {
		s.log.Warn("example queries", "dataset", id, "err", err)
		return nil
	}
	var out []result.ContextExample
	for i, r := range m.Results {
		if !r.OK || !r.Weighting.Applied || len(r.Suppressed) > 0 {
			s.log.Debug("example query dropped", "dataset", id, "sql", candidates[i].SQL, "error", r.Error, "weighted", r.Weighting.Applied, "suppressed_rows", len(r.Suppressed))
			continue
		}
		out = append(out, candidates[i])
	}
	return out
}

// exampleKey identifies a dataset's checked examples: the same version of
// the dataset and of its profile proposes and passes the same ones, so
// get_context level 3 (and the console's dataset page) runs them once per
// version instead of on every call.
type exampleKey struct {
	dataset  int64
	version  time.Time
	profiled time.Time
	table    string
}

// exampleCache holds checked examples by exampleKey; a small map, as there
// are a few keys per dataset, cleared when it grows past maxEntries.
type exampleCache struct {
	mu         sync.Mutex
	entries    map[exampleKey][]result.ContextExample
	maxEntries int
}

func (c *exampleCache) get(k exampleKey) ([]result.ContextExample, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return e, ok
}

func (c *exampleCache) put(k exampleKey, e []result.ContextExample) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= c.maxEntries {
		c.entries = map[exampleKey][]result.ContextExample{}
	}
	c.entries[k] = e
}

// exampleQueries proposes queries from the roles and the profile: splits of
// panelists by a categorical column and by NCCS, a per-panelist average,
// reach on event tables (overall, recent, and by a panelist attribute).
func exampleQueries(tables []source.Table, roles dataset.Roles, prof *catalog.Profile) []result.ContextExample {
	key := roles.RespondentKey
	var out []result.ContextExample
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
			out = append(out, result.ContextExample{Question: "How many people are in each " + userCat + " group (weighted count and share)?", SQL: fmt.Sprintf("SELECT %s, COUNT(*) AS panelists FROM %s GROUP BY %s ORDER BY panelists DESC", c, ut, c)})
		}
		if n := roles.NCCSColumn; n != "" && tableHasColumn(*users, n) {
			out = append(out, result.ContextExample{Question: "Population by NCCS class (A1 merged into A, C/D/E together)", SQL: fmt.Sprintf("SELECT %s, COUNT(*) AS panelists FROM %s GROUP BY %s ORDER BY %s", ident(n), ut, ident(n), ident(n))})
		}
		for _, c := range users.Columns {
			if isNumeric(c.Type) && c.Name != key && c.Name != roles.WeightColumn {
				out = append(out, result.ContextExample{Question: "Average " + c.Name + " per panelist (weighted)", SQL: fmt.Sprintf("SELECT AVG(%s) AS avg_%s FROM %s", ident(c.Name), c.Name, ut)})
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
			out = append(out, result.ContextExample{Question: "Reach (people, not events) by " + c + " in " + t.Name, SQL: fmt.Sprintf("SELECT %s, COUNT(DISTINCT %s) AS reach FROM %s GROUP BY %s ORDER BY reach DESC", ident(c), k, tn, ident(c))})
			if users != nil && userCat != "" && !tableHasColumn(t, userCat) {
				out = append(out, result.ContextExample{Question: "Reach of " + t.Name + " by the panelists' " + userCat, SQL: fmt.Sprintf("SELECT u.%s, COUNT(DISTINCT e.%s) AS reach FROM %s AS e JOIN %s AS u ON u.%s = e.%s GROUP BY u.%s ORDER BY reach DESC",
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
					out = append(out, result.ContextExample{Question: "People active in " + t.Name + " over the last 30 days of data", SQL: fmt.Sprintf("SELECT COUNT(DISTINCT %s) AS reach FROM %s WHERE %s >= DATE '%s'", k, tn, ident(c.Name), from)})
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
