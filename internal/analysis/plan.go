package analysis

import (
	"container/list"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

// PlanCached returns the plan a call of req runs on the dataset of h: from
// the cache when the same text and options were planned before for this
// version of the dataset, or filled in from the template of its shape (see
// shape.go) when texts differing only in literals were, or else from
// [Plan]. It does no I/O.
func (s *Service) PlanCached(h *dataset.Handle, req Request) (QueryPlan, error) {
	k := planKey{dataset: h.Dataset.ID, version: h.Dataset.UpdatedAt, query: req.Query, stdErrors: req.StandardErrors,
		totals: req.Totals, compareBy: req.CompareBy,
		weights: req.ApplyWeights, mergeNCCS: req.MergeNCCS, maxRows: req.MaxRows}
	if h.Panel != nil {
		k.panel = *h.Panel // new constants (after a profile run) give new plans
	}
	if p, ok := s.plans.get(k); ok {
		s.stats.planHits.Add(1)
		return p, nil
	}
	s.stats.planMisses.Add(1)
	sh, shaped := shapeOf(req.Query)
	sk := k
	sk.query = sh.key
	if shaped && sqlguard.CheckText(req.Query, h.Limits.MaxQueryBytes) == nil {
		if e, ok := s.shapes.get(sk); ok && e.template != nil {
			s.templateFills.Add(1)
			return e.template.fill(req.Query, sh), nil
		}
	}
	p, err := Plan(h, req)
	if err != nil {
		return p, err
	}
	if p.OneLevel != "" {
		s.log.Info("event query weighted in one level, without the per-panelist reduction", "dataset", h.Dataset.ID, "why", p.OneLevel)
	}
	s.plans.put(k, p)
	if shaped {
		s.learnShape(h, req, p, sk, sh)
	}
	return p, nil
}

// shapeEntry is what is known of a query shape: seen once, templatable
// (template set) or not (failed).
type shapeEntry struct {
	template *template
	failed   bool
}

// learnShape records that req, planned as p, has shape sh. The second
// time a shape is seen its template is made, by planning two probes, so a
// one-off question costs one plan and a repeated kind of question three,
// once.
func (s *Service) learnShape(h *dataset.Handle, req Request, p QueryPlan, sk planKey, sh shape) {
	e, seen := s.shapes.get(sk)
	if !seen {
		s.shapes.put(sk, shapeEntry{})
		return
	}
	if e.template != nil || e.failed {
		return
	}
	e = shapeEntry{failed: true}
	var probes [2]QueryPlan
	texts := [2]string{sh.withSentinels(req.Query, 0), sh.withSentinels(req.Query, 1)}
	ok := true
	for i, text := range texts {
		probe := req
		probe.Query = text
		var err error
		if probes[i], err = Plan(h, probe); err != nil {
			ok = false
			break
		}
	}
	if ok {
		if t, made := makeTemplate(probes[0], sh); made && t.verify(sh, req.Query, p, texts[1], probes[1]) {
			e = shapeEntry{template: t}
		}
	}
	s.shapes.put(sk, e)
}

// QueryPlan is what will run for one request.
type QueryPlan struct {
	SQL        string
	Cap        int
	Aggregated bool
	Weighting  result.Weighting
	// MinBase is the unweighted base below which a group is low base.
	MinBase int
	// Added names the columns the rewrite added by role, Groups the answer's
	// grouping columns: what the notes read rows by.
	Added  weighting.Added
	Groups []string
	// OneLevel says why an event query kept the slower one-level rewrite.
	OneLevel string
	// MinCell is the dataset's minimum cell size: rows behind fewer
	// panelists are suppressed (0: off).
	MinCell int
	// Compare is what compare_by asked to test; NDesign the design's
	// sample size the tests' variances use.
	Compare *weighting.Compare
	NDesign int64
	// Lineage is what the text says each result column is (a count, a
	// mean of amount), for the answer's number formats (display.go).
	Lineage sqlguard.Lineage
}

// Plan guards, classifies, weights and caps req's SQL for the dataset of h.
// It does no I/O.
func Plan(h *dataset.Handle, req Request) (QueryPlan, error) {
	relations := make(map[string]bool, len(h.Tables))
	columns := make(map[string]map[string]bool, len(h.Tables))
	schema := make(weighting.Schema, len(h.Tables))
	for _, t := range h.Tables {
		name := strings.ToLower(t.Name)
		relations[name] = true
		cols := make([]string, len(t.Columns))
		set := make(map[string]bool, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = strings.ToLower(c.Name)
			set[cols[i]] = true
		}
		schema[name], columns[name] = cols, set
	}
	if req.CompareBy != "" {
		if req.Alpha != 0 && !(req.Alpha > 0 && req.Alpha < 1) {
			return QueryPlan{}, &InputError{Message: fmt.Sprintf("alpha must be between 0 and 1, such as 0.05 (not %v)", req.Alpha)}
		}
		if c := req.Correction; c != "" && c != "none" && c != "bonferroni" {
			return QueryPlan{}, &InputError{Message: fmt.Sprintf("correction must be none or bonferroni, not %q", c)}
		}
	}
	keys := h.Roles.Keys()
	q, err := sqlguard.Check(req.Query, sqlguard.Options{
		Dialect:        dialect(h.Dataset.Driver),
		MaxBytes:       h.Limits.MaxQueryBytes,
		Relations:      relations,
		Columns:        columns,
		RespondentKeys: keys,
	})
	if err != nil {
		return QueryPlan{}, err
	}
	// A GROUP BY on the respondent key, or on any column unique in its table
	// (order_id), returns one row per panelist or event: raw rows.
	p := QueryPlan{Aggregated: sqlguard.Classify(q.Tree, append(keys, uniqueColumns(h.Profile)...)) == sqlguard.Aggregated, Lineage: sqlguard.TraceTree(q.Tree)}
	p.Cap = h.Limits.RawRows
	if p.Aggregated {
		p.Cap = h.Limits.AggregatedRows
	}
	if req.MaxRows > 0 && req.MaxRows < p.Cap {
		p.Cap = req.MaxRows
	}

	roles := h.Roles.Roles
	p.MinBase = roles.MinBase
	if p.MinBase <= 0 {
		p.MinBase = weighting.DefaultMinBase
	}
	p.Weighting = result.Weighting{WeightScale: roles.WeightScale}
	if roles.WeightColumn != "" {
		p.Weighting.WeightColumn = roles.WeightsTable + "." + roles.WeightColumn
	}
	// Rewrite runs for every query: besides weights and NCCS merging it
	// resolves GROUP BY names that the analyst meant as output aliases, and
	// with both options off it copies nothing.
	w, err := weighting.Rewrite(q.Tree, weighting.Options{
		Roles: roles, Schema: schema, Aggregated: p.Aggregated,
		Weights: req.ApplyWeights, MergeNCCS: req.MergeNCCS,
		CountPanelists:  p.Aggregated && h.Limits.MinCell > 0,
		NumericRounding: h.Dataset.Driver == catalog.DriverPostgres,
		NameColumns:     h.Dataset.Driver == catalog.DriverDuckDB,
		StandardErrors:  req.StandardErrors,
		Totals:          req.Totals,
		CompareBy:       strings.ToLower(req.CompareBy),
		// The design's constants, computed once per dataset version by the
		// registry, become literals instead of whole-table sub-queries.
		Panel: h.Panel,
	})
	if err != nil {
		return QueryPlan{}, fmt.Errorf("weighting: %w", err)
	}
	p.Weighting.Applied = w.Applied
	p.Weighting.NCCSMerged = w.NCCSMerged
	p.Weighting.AddedColumns = w.AddedColumns
	p.Weighting.Notes = w.Notes
	for _, t := range w.Legend {
		p.Weighting.Legend = append(p.Weighting.Legend, result.Term{Column: t.Column, Meaning: t.Meaning})
	}
	p.Added, p.Groups, p.OneLevel = w.Added, w.Groups, w.OneLevel
	p.MinCell = h.Limits.MinCell
	if w.CompareProblem != "" && !(req.CompareByIfGrouped && w.CompareNotGrouped) {
		return QueryPlan{}, &InputError{Message: w.CompareProblem}
	}
	if p.Compare = w.Compare; p.Compare != nil {
		if h.Panel == nil {
			return QueryPlan{}, &InputError{Message: "compare_by needs the dataset's design constants, which could not be read; try again in a moment"}
		}
		p.NDesign = h.Panel.N
	}
	if w.Uncounted && p.Cap > h.Limits.RawRows {
		// Disclosure control cannot see how many panelists are behind
		// these rows: they leave as raw rows do.
		p.Cap = h.Limits.RawRows
		p.Weighting.Notes = append(p.Weighting.Notes, fmt.Sprintf("The panelists behind each row cannot be counted (the query's top level reads no table with %s), so the answer is capped at %d rows like raw data; aggregate a table with %s at the top level to get every group.", orKey(h.Roles.RespondentKey), h.Limits.RawRows, orKey(h.Roles.RespondentKey)))
	}
	// Why weights were not applied is worth saying for an aggregated query
	// only: raw rows are never weighted, and saying so on every raw query is
	// noise.
	if p.Aggregated && w.Why != weighting.RawRows && !(w.Why == weighting.Off && roles.WeightColumn == "") {
		p.Weighting.ReasonIfNot = w.Reason
	}
	p.SQL, err = sqlguard.Deparse(w.Tree, p.Cap+1)
	if err != nil {
		return QueryPlan{}, fmt.Errorf("deparse: %w", err)
	}
	return p, nil
}

// uniqueColumns lists the columns the profile shows to be (nearly) unique in
// their table: about as many distinct values as rows. DuckDB's distinct counts
// are approximate, hence "nearly"; a table of fewer than 100 rows is left out
// (any column of a tiny table looks unique).
func uniqueColumns(p *catalog.Profile) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, t := range p.Tables {
		if t.RowEstimate < 100 {
			continue
		}
		for _, c := range t.Columns {
			if c.Distinct >= 0 && float64(c.Distinct) >= 0.95*float64(t.RowEstimate) {
				out = append(out, strings.ToLower(c.Name))
			}
		}
	}
	return out
}

func orKey(key string) string {
	if key == "" {
		return "the respondent key"
	}
	return key
}

func dialect(driver string) sqlguard.Dialect {
	if driver == catalog.DriverDuckDB {
		return sqlguard.DuckDB
	}
	return sqlguard.Postgres
}

// planKey identifies a plan: the same text, options and dataset version
// always give the same plan, so assistants repeating a question (or a
// dashboard polling) skip parsing, guarding, rewriting and deparsing.
type planKey struct {
	dataset   int64
	version   time.Time // the dataset's UpdatedAt: a changed dataset gets new plans
	query     string
	weights   bool
	mergeNCCS bool
	maxRows   int
	stdErrors bool
	totals    bool
	compareBy string
	panel     weighting.Panel // the design's constants written into the plan
}

// planCache is a bounded LRU of successful plans (V = QueryPlan) or of
// query shapes (V = shapeEntry, keyed by the shape's text). Plans hold
// only strings and small values, so a thousand of them cost a few
// megabytes at most.
type planCache[V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; values are *planEntry[V]
	index map[planKey]*list.Element
}

type planEntry[V any] struct {
	key  planKey
	plan V
}

func newPlanCache[V any](max int) *planCache[V] {
	return &planCache[V]{max: max, order: list.New(), index: make(map[planKey]*list.Element)}
}

func (c *planCache[V]) get(k planKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*planEntry[V]).plan, true
}

func (c *planCache[V]) put(k planKey, p V) {
	if len(k.query) > 16<<10 { // long one-off texts are not worth keeping
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[k]; ok {
		el.Value.(*planEntry[V]).plan = p
		c.order.MoveToFront(el)
		return
	}
	c.index[k] = c.order.PushFront(&planEntry[V]{key: k, plan: p})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.index, last.Value.(*planEntry[V]).key)
	}
}
