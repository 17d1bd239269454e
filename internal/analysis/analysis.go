// Package analysis is the use case behind every tool: it takes a request,
// applies the dataset's limits, guards the SQL (sqlguard), weights it
// (weighting), runs it (source, through the executor's server-wide bound)
// and returns result values for the render and mcpserver packages.
//
// A query's text is parsed once; the parse tree is classified (raw or
// aggregated), rewritten and given its row cap (LIMIT cap+1) before it is
// deparsed and sent, so the database stops early and the scanner never
// buffers more than the cap.
package analysis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/executor"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

// Service answers the tools' requests.
type Service struct {
	reg        *dataset.Registry
	exec       *executor.Executor
	maxQueries int
	plans      *planCache[QueryPlan]
	shapes     *planCache[shapeEntry]
	// templateFills counts plans filled in from a shape's template.
	templateFills atomic.Int64
	results       *resultCache // nil: no result cache (the default)
	stats         stats
	log           *slog.Logger
}

// New returns a service over the registry's datasets. maxQueries bounds
// execute_multi_query (SPEC §3: 30).
func New(reg *dataset.Registry, exec *executor.Executor, maxQueries int, log *slog.Logger, opts ...Option) *Service {
	s := &Service{reg: reg, exec: exec, maxQueries: maxQueries, plans: newPlanCache[QueryPlan](1024), shapes: newPlanCache[shapeEntry](1024), log: log.With("component", "analysis")}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Request is one query of a call.
type Request struct {
	DatasetID    int64
	Query        string
	Label        string
	ApplyWeights bool
	MergeNCCS    bool
	ShowSQL      bool
	// StandardErrors adds the standard errors of weighted counts, shares
	// and reach (those of means are always there).
	StandardErrors bool
	// Totals adds Total rows to a grouped weighted answer (the tools'
	// default), marked in the is_total column and placed after the groups.
	Totals bool
	// CompareBy names the grouping column whose groups are compared; the
	// Total rolls it up. Alpha is the tests' level (0: 0.05), Correction
	// "none" (or "") or "bonferroni". With CompareByIfGrouped (a call-wide
	// compare_by of execute_multi_query) a query that does not group by the
	// column is simply not compared.
	CompareBy          string
	CompareByIfGrouped bool
	Alpha              float64
	Correction         string
	// MaxRows lowers the row cap for this request (0: the dataset's limits).
	MaxRows int
}

// InputError is a request the caller must correct before anything runs.
type InputError struct{ Message string }

func (e *InputError) Error() string { return e.Message }

// Query runs one query (query_dataset).
func (s *Service) Query(ctx context.Context, req Request) result.Result {
	var r result.Result
	q := s.stats.enqueue(1)
	s.exec.Run(ctx, 1, func(ctx context.Context, _ int, waited time.Duration) {
		q.start()
		defer q.done()
		r = s.run(ctx, req)
		r.QueueMS = ms(waited)
	})
	return r
}

// Multi runs up to maxQueries queries concurrently (execute_multi_query).
// Results are in request order; one failure does not affect the others.
func (s *Service) Multi(ctx context.Context, reqs []Request) (result.Multi, error) {
	if err := s.validate(reqs); err != nil {
		return result.Multi{}, err
	}
	start := time.Now()
	m := result.Multi{Results: make([]result.Result, len(reqs)), Total: len(reqs), Parallel: len(reqs) > 1}
	if len(reqs) > s.exec.PerClientLimit() {
		s.pipelined(ctx, reqs, m.Results)
	} else {
		q := s.stats.enqueue(len(reqs))
		s.exec.Run(ctx, len(reqs), func(ctx context.Context, i int, waited time.Duration) {
			q.start()
			defer q.done()
			m.Results[i] = s.run(ctx, reqs[i])
			m.Results[i].QueueMS = ms(waited)
		})
	}
	for i := range m.Results {
		if m.Results[i].Label == "" {
			m.Results[i].Label = fmt.Sprintf("Query %d", i+1)
		}
		if m.Results[i].OK {
			m.Succeeded++
		} else {
			m.Failed++
		}
	}
	m.TotalMS = ms(time.Since(start))
	return m, nil
}

// validate applies the seed's validation rules, naming the offending entry.
func (s *Service) validate(reqs []Request) error {
	if len(reqs) == 0 {
		return &InputError{Message: "At least 1 query required"}
	}
	if len(reqs) > s.maxQueries {
		return &InputError{Message: fmt.Sprintf("Maximum %d queries allowed per request (got %d); split them into several calls", s.maxQueries, len(reqs))}
	}
	var bad []string
	for i, r := range reqs {
		if r.DatasetID == 0 || strings.TrimSpace(r.Query) == "" {
			name := fmt.Sprintf("entry %d", i+1)
			if r.Label != "" {
				name += fmt.Sprintf(" (%q)", clipLabel(r.Label))
			}
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		return &InputError{Message: "Each query must have 'dataset_id' and 'query' fields: missing in " + strings.Join(bad, ", ")}
	}
	return nil
}

// clipLabel shortens a label quoted in a message: labels are the caller's
// free text, and thirty long ones must not make a long message.
func clipLabel(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// run executes one request end to end. It never panics on user input and
// always returns a result: failures are carried in it.
func (s *Service) run(ctx context.Context, req Request) (r result.Result) {
	start := time.Now()
	r = result.Result{Label: req.Label, DatasetID: req.DatasetID, Query: req.Query, Columns: []result.Column{}, Rows: [][]any{}}
	defer func() {
		if p := recover(); p != nil {
			ref := s.internal(ctx, fmt.Errorf("panic: %v", p), req)
			r.OK, r.Error = false, "internal error (ref "+ref+"); the query was not run"
			r.Trace.Outcome = catalog.OutcomeInternal
		}
		r.TimeMS = ms(time.Since(start))
	}()
	h, plan := s.start(ctx, req, &r)
	if h == nil {
		return r
	}
	defer h.Release()

	var key resultKey
	if s.results != nil {
		key = resultKey{dataset: h.Dataset.ID, version: h.Dataset.UpdatedAt, sql: plan.SQL, cap: plan.Cap}
		t, age, ok := s.results.get(key)
		s.stats.resultLookup(ok)
		if ok {
			r.Cached, r.CacheAgeS = true, age.Seconds()
			r.Notes = append(r.Notes, fmt.Sprintf("Cached answer from %s ago (result cache on, kept for %s).", age.Round(time.Second), s.results.ttl))
			s.finish(ctx, h, &r, req, plan, t, nil)
			return r
		}
	}
	qctx, cancel := context.WithTimeout(ctx, h.Limits.QueryTimeout)
	defer cancel()
	t, err := h.Source.Query(qctx, plan.SQL, plan.Cap)
	if err == nil && s.results != nil {
		s.results.put(key, t)
	}
	s.finish(ctx, h, &r, req, plan, t, err)
	return r
}

// finish puts a query's answer (or its error) into r, with the columns
// described for the answer's number formats (display.go) and unknown
// names explained (suggest.go).
func (s *Service) finish(ctx context.Context, h *dataset.Handle, r *result.Result, req Request, plan QueryPlan, t *result.Table, err error) {
	if err != nil {
		s.fail(ctx, r, err, req)
		if msg, ok := explain(h, plan, err); ok {
			r.Error = msg
		}
		return
	}
	r.OK = true
	r.Trace.Outcome = catalog.OutcomeOK
	if t.Cut != "" {
		r.Notes = append(r.Notes, t.Cut)
	}
	if plan.Aggregated {
		r.GroupColumns = plan.Groups
	}
	if plan.Added.Total != "" {
		totalsLast(t, plan.Added.Total)
	}
	if plan.Compare != nil {
		if err := compare(t, r, plan, req); err != nil {
			r.OK, r.Error = false, s.message(ctx, err, req)
			return
		}
	}
	suppress(t, r, plan)
	if plan.Added.ZeroWeight != "" {
		zeroWeightNote(t, r, plan.Added.ZeroWeight)
	}
	if plan.Added.LowBase != "" {
		lowBaseNote(t, r, plan)
	}
	r.SetTable(t)
	display(h, plan, r)
}

// start opens req's dataset and plans req. On failure r carries the error
// and the handle is nil; otherwise the caller releases the handle.
func (s *Service) start(ctx context.Context, req Request, r *result.Result) (*dataset.Handle, QueryPlan) {
	*r = result.Result{Label: req.Label, DatasetID: req.DatasetID, Query: req.Query, Columns: []result.Column{}, Rows: [][]any{}}
	if ctx.Err() != nil {
		s.fail(ctx, r, ctx.Err(), req)
		return nil, QueryPlan{}
	}
	h, err := s.reg.Open(ctx, req.DatasetID)
	if err != nil {
		s.fail(ctx, r, err, req)
		return nil, QueryPlan{}
	}
	r.Dataset = h.Dataset.Name
	plan, err := s.PlanCached(h, req)
	if err != nil {
		h.Release()
		s.fail(ctx, r, err, req)
		return nil, QueryPlan{}
	}
	r.Trace.SQL = plan.SQL
	r.Aggregated = plan.Aggregated
	r.RowLimit = plan.Cap
	r.Weighting = plan.Weighting
	if req.ShowSQL {
		r.SQL = plan.SQL
	}
	return h, plan
}

// batchSource is a source that can send several queries in one round trip
// (source/postgres pipelines them on one connection).
type batchSource interface {
	QueryBatch(ctx context.Context, sqls []string, maxRows []int) ([]*result.Table, []error)
}

// pipelined runs a call with more queries than its client may run at once
// (the executor's per-client allowance, half of SPEC §3's 10 by default). Run one by one, they would need several waves of round trips; here
// each dataset's queries are dealt over at most that many connections and
// each connection's share is pipelined (source/postgres QueryBatch), so
// the whole call costs about one round trip plus the database's time. Each
// share counts as one running job, so the server-wide bound on queries
// running at once in the database still holds. Datasets whose source
// cannot pipeline are run query by query. A pipelined query's time is that
// of its share.
func (s *Service) pipelined(ctx context.Context, reqs []Request, out []result.Result) {
	type item struct {
		i    int
		h    *dataset.Handle
		plan QueryPlan
	}
	var single []int
	byDataset := map[int64][]item{}
	var datasets []int64
	starts := make([]time.Time, len(reqs))
	for i, req := range reqs {
		starts[i] = time.Now()
		h, plan := s.start(ctx, req, &out[i])
		if h == nil {
			out[i].TimeMS = ms(time.Since(starts[i]))
			continue
		}
		if _, ok := h.Source.(batchSource); !ok {
			h.Release()
			single = append(single, i)
			continue
		}
		if _, seen := byDataset[req.DatasetID]; !seen {
			datasets = append(datasets, req.DatasetID)
		}
		byDataset[req.DatasetID] = append(byDataset[req.DatasetID], item{i: i, h: h, plan: plan})
	}
	var shares [][]item
	for _, id := range datasets {
		items := byDataset[id]
		k := min(len(items), s.exec.PerClientLimit(), max(items[0].h.Limits.PoolMaxConns, 1))
		first := len(shares)
		for range k {
			shares = append(shares, nil)
		}
		for j, it := range items {
			shares[first+j%k] = append(shares[first+j%k], it)
		}
	}
	q := s.stats.enqueue(len(shares) + len(single))
	s.exec.Run(ctx, len(shares)+len(single), func(ctx context.Context, j int, waited time.Duration) {
		q.start()
		defer q.done()
		if j >= len(shares) {
			i := single[j-len(shares)]
			out[i] = s.run(ctx, reqs[i])
			out[i].QueueMS = ms(waited)
			return
		}
		share := shares[j]
		defer func() {
			for _, it := range share {
				out[it.i].QueueMS = ms(waited)
			}
			if p := recover(); p != nil {
				ref := s.internal(ctx, fmt.Errorf("panic: %v", p), reqs[share[0].i])
				for _, it := range share {
					out[it.i].OK, out[it.i].Error = false, "internal error (ref "+ref+"); the query was not run"
					out[it.i].Trace.Outcome = catalog.OutcomeInternal
				}
			}
			for _, it := range share {
				it.h.Release()
				out[it.i].TimeMS = ms(time.Since(starts[it.i]))
			}
		}()
		if ctx.Err() != nil {
			for _, it := range share {
				s.fail(ctx, &out[it.i], ctx.Err(), reqs[it.i])
			}
			return
		}
		sqls := make([]string, len(share))
		caps := make([]int, len(share))
		for n, it := range share {
			sqls[n], caps[n] = it.plan.SQL, it.plan.Cap
		}
		// The database runs a share's queries one after the other: each
		// keeps its own statement_timeout there; the wait here allows for
		// all of them.
		qctx, cancel := context.WithTimeout(ctx, time.Duration(len(share))*share[0].h.Limits.QueryTimeout)
		defer cancel()
		tables, errs := share[0].h.Source.(batchSource).QueryBatch(qctx, sqls, caps)
		for n, it := range share {
			s.finish(ctx, it.h, &out[it.i], reqs[it.i], it.plan, tables[n], errs[n])
		}
	})
}

// lowBaseNote names the groups flagged low base, whole ("Other × Netflix
// (n = 26)"), so the model cannot miss them when it quotes the figures.
func lowBaseNote(t *result.Table, r *result.Result, plan QueryPlan) {
	col := func(name string) int {
		return slices.IndexFunc(t.Columns, func(c result.Column) bool { return c.Name == name })
	}
	flag, n := col(plan.Added.LowBase), col(plan.Added.Base)
	if flag < 0 {
		return
	}
	var groupCols []int
	for _, g := range plan.Groups {
		if i := col(g); i >= 0 {
			groupCols = append(groupCols, i)
		}
	}
	var groups []string
	for _, row := range t.Rows {
		if low, _ := row[flag].(bool); !low {
			continue
		}
		label := "all"
		if len(groupCols) > 0 {
			parts := make([]string, len(groupCols))
			for i, c := range groupCols {
				parts[i] = fmt.Sprint(row[c])
				if row[c] == nil {
					parts[i] = "NULL"
				}
			}
			label = strings.Join(parts, " × ")
		}
		if n >= 0 {
			label += fmt.Sprintf(" (n = %v)", row[n])
		}
		groups = append(groups, label)
	}
	if len(groups) == 0 {
		return
	}
	more := ""
	if len(groups) > 8 {
		more = fmt.Sprintf(" and %d more", len(groups)-8)
		groups = groups[:8]
	}
	r.Notes = append(r.Notes, fmt.Sprintf("⚠ Low base (unweighted n below %d), read with caution: %s%s.", plan.MinBase, strings.Join(groups, ", "), more))
}

// zeroWeightNote turns the column counting panelists whose weight is NULL or
// zero (left out of the weighted figures) into a note: the column is dropped
// when it is zero everywhere (the usual case), with its legend entry, and
// otherwise the note says how many panelists were left out.
func zeroWeightNote(t *result.Table, r *result.Result, name string) {
	col := slices.IndexFunc(t.Columns, func(c result.Column) bool { return c.Name == name })
	if col < 0 {
		return
	}
	var most int64
	for _, row := range t.Rows {
		if n, ok := row[col].(int64); ok && n > most {
			most = n
		}
	}
	if most > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("Up to %d panelists per row have a NULL or zero weight and are left out of the weighted figures (column %s).", most, name))
		return
	}
	t.Columns = slices.Delete(t.Columns, col, col+1)
	for i, row := range t.Rows {
		t.Rows[i] = slices.Delete(row, col, col+1)
	}
	r.Weighting.AddedColumns = slices.DeleteFunc(slices.Clone(r.Weighting.AddedColumns), func(c string) bool { return c == name })
	r.Weighting.Legend = slices.DeleteFunc(slices.Clone(r.Weighting.Legend), func(t result.Term) bool { return t.Column == name })
}

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
	keys := []string{"user_id", "respondent_id", "panelist_id"}
	if h.Roles.RespondentKey != "" {
		keys = []string{h.Roles.RespondentKey}
	}
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

	roles := weightingRoles(h.Roles)
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

func weightingRoles(r dataset.Roles) weighting.Roles {
	out := weighting.Roles{
		WeightColumn:  r.WeightColumn,
		WeightsTable:  r.WeightsTable,
		RespondentKey: r.RespondentKey,
		NCCSColumn:    r.NCCSColumn,
		NCCSMap:       r.NCCSMap,
		WeightScale:   r.WeightScale,
		MinBase:       r.MinBase,
	}
	if out.NCCSMap == nil && r.NCCSPreset == "12-grade" {
		out.NCCSMap = weighting.TwelveGradeNCCSMap()
	}
	return out
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

// message turns an error into words for the caller. Errors the caller can
// fix are passed on; anything else is logged with a reference id and
// answered as an internal error, never with a Go error string or a DSN.
func (s *Service) message(ctx context.Context, err error, req Request) string {
	var (
		guardErr   *sqlguard.Error
		queryErr   *source.QueryError
		timeoutErr *source.TimeoutError
		busyErr    *source.BusyError
		unavailErr *source.UnavailableError
		nf         *dataset.NotFoundError
		inputErr   *InputError
	)
	switch {
	case errors.As(err, &guardErr):
		return guardErr.Error()
	case errors.As(err, &queryErr):
		return queryErr.Error()
	case errors.As(err, &timeoutErr):
		return timeoutErr.Error()
	case errors.As(err, &busyErr):
		return busyErr.Error()
	case errors.As(err, &nf):
		return nf.Error()
	case errors.As(err, &inputErr):
		return inputErr.Error()
	case errors.As(err, &unavailErr):
		s.log.WarnContext(ctx, "dataset unavailable", "dataset", req.DatasetID, "err", unavailErr.Err)
		return fmt.Sprintf("dataset %d is unavailable: %s", req.DatasetID, unavailErr.Error())
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return cancelled(ctx)
	}
	return "internal error (ref " + s.internal(ctx, err, req) + "); the operators can find it in the server log"
}

func (s *Service) internal(ctx context.Context, err error, req Request) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	ref := hex.EncodeToString(b[:])
	s.log.ErrorContext(ctx, "internal error", "ref", ref, "dataset", req.DatasetID, "err", err)
	return ref
}

func cancelled(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the call ran out of time before this query finished"
	}
	return "the call was cancelled before this query finished"
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d.Microseconds())/10) / 100
}
