package weighting

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/source"
	pg "github.com/pganalyze/pg_query_go/v6"
)

// Roles are a dataset's survey roles.
type Roles struct {
	WeightColumn  string            // e.g. "weight"; "" means the dataset has no weight: nothing is weighted
	WeightsTable  string            // the user-level table that holds WeightColumn, e.g. "users"
	RespondentKey string            // e.g. "user_id"
	NCCSColumn    string            // e.g. "nccs"; "" means no merging
	NCCSMap       map[string]string // raw label -> merged label; nil means DefaultNCCSMap()
	WeightScale   float64           // e.g. 1000 when weights are in thousands; 0 or 1 means none
	MinBase       int               // unweighted base below which a group is "low base"; 0 means 30
}

// DefaultMinBase is the unweighted base below which a group is flagged as low base
// when [Roles.MinBase] is zero.
const DefaultMinBase = 30

// DefaultNCCSMap returns the reporting rule of the original system: A1 and A become
// A, B stays B, and C, D and E become C/D/E.
func DefaultNCCSMap() map[string]string {
	return map[string]string{"A1": "A", "A": "A", "B": "B", "C": "C/D/E", "D": "C/D/E", "E": "C/D/E"}
}

// Schema lists, per table name (lower case, unqualified), its column names (lower case).
// The rewrite uses it to resolve unqualified columns and to know which tables are
// user level (hold the weight) and which are event level (hold the respondent key only).
type Schema map[string][]string

// Options configure one [Rewrite].
type Options struct {
	Roles      Roles
	Schema     Schema
	Aggregated bool // the caller's classification (sqlguard.Classify); raw queries are never weighted, only NCCS-merged
	Weights    bool // apply_weights parameter
	MergeNCCS  bool // merge_nccs parameter
	// Panel, when set, holds the design's constants over the whole weights
	// table, which the rewrite then writes as literals instead of sub-queries
	// that scan the weights table inside every query. Nil keeps the
	// sub-queries, so the rewrite stays correct on its own.
	Panel *Panel
	// NumericRounding casts the weighted argument of a two-argument round()
	// or trunc() to numeric, for PostgreSQL, which has no
	// round(double precision, int). DuckDB needs no cast.
	NumericRounding bool
	// Totals adds Total rows to a grouped weighted answer (see addTotals):
	// the same figures over everyone the WHERE keeps, marked is_total.
	Totals bool
	// CompareBy names the output column whose groups are compared (the
	// column variable of a crosstab); the Total rolls it up. "" means the
	// first grouping column.
	CompareBy string
	// CountPanelists asks for the number of panelists behind each row of an
	// aggregated answer (see [Result.Added] Cell), for disclosure control.
	CountPanelists bool
	// NameColumns gives every unnamed select-list entry the name PostgreSQL
	// would give it (count, sum, extract, ?column?…), for engines that name
	// columns otherwise (DuckDB: count_star(), CAST(age AS INTEGER)). Weighted
	// queries are named whatever this says.
	NameColumns bool
	// StandardErrors adds the standard errors of weighted counts, shares
	// and reach (se_weighted_count, se_weighted_pct, se_weighted_reach,
	// se_reach_pct), as R's svytotal and svymean give them. Off, answers
	// carry the margins of error only, and the SQL is shorter; the
	// standard errors of weighted means are always added.
	StandardErrors bool
}

// Panel holds the constants of the survey design that do not depend on a
// query: the panelists of the whole weights table with a positive weight.
// A caller computes them once per dataset version with [PanelSQL] (one scan)
// and passes them in [Options.Panel]; they must describe the data the query
// will read, or standard errors and reach percentages will be off by the
// difference.
type Panel struct {
	N     int64   // panelists with a positive weight: the sample size of the design
	SumW  float64 // Σw over them, before weight_scale
	SumW2 float64 // Σw² over them, before weight_scale
}

// PanelSQL returns the query that computes a [Panel] for roles, in SQL that
// PostgreSQL and DuckDB both run: one row of three columns, N, SumW and
// SumW2. It returns "" when roles name no weight column, weights table or
// respondent key (nothing is weighted, so no constant is needed).
func PanelSQL(roles Roles) string {
	w, table, key := strings.ToLower(roles.WeightColumn), strings.ToLower(roles.WeightsTable), strings.ToLower(roles.RespondentKey)
	if w == "" || table == "" || key == "" {
		return ""
	}
	wd := fmt.Sprintf("CAST(%s AS DOUBLE PRECISION)", source.QuoteIdent(w))
	return fmt.Sprintf("SELECT COUNT(%s) AS n, SUM(%s) AS sum_w, SUM(%s * %s) AS sum_w2 FROM %s WHERE %s > 0",
		source.QuoteIdent(key), wd, wd, wd, source.QuoteIdent(table), source.QuoteIdent(w))
}

// Result describes a rewrite.
type Result struct {
	Tree       *pg.ParseResult // the rewritten tree; the input is never mutated (Tree is the input itself when nothing changed)
	Applied    bool            // weights applied
	Why        Why             // when not applied: which kind of reason
	Reason     string          // when not applied: why, in plain words
	NCCSMerged bool
	Notes      []string // exact words for the analyst
	// AddedColumns names the columns the rewrite added, in order; Added
	// names the ones the caller reads by role (they get a suffix, n_2, when
	// the analyst's query already has a column of that name).
	AddedColumns []string
	Added        Added
	// Groups are the output names of the answer's grouping columns, in
	// order: the labels of a group in a note ("Other × Netflix").
	Groups []string
	// Legend explains, in plain words, the added columns that need it (n,
	// n_eff, margins of error, low_base…), by their actual names.
	Legend []Term
	// OneLevel says why an event query could not be reduced per panelist
	// first and kept the slower one-level rewrite ("" when it was, or when
	// no event table was read).
	OneLevel string
	// Compare is what compare_by asks to test and where the answer holds
	// the figures the tests need; CompareProblem says why it cannot be
	// tested (an unknown column, a shape without a test). Nil and "" without
	// a compare_by.
	Compare        *Compare
	CompareProblem string
	// CompareNotGrouped: the problem is only that the query does not group
	// by the compare_by column.
	CompareNotGrouped bool
	// Uncounted reports, with [Options.CountPanelists], an aggregated query
	// whose panelists per row cannot be counted (its top level reads no
	// relation with the respondent key).
	Uncounted bool
}

// Added names the columns a weighted answer carries by role; "" when absent.
type Added struct {
	Base          string // unweighted panelists in the group (n)
	EffectiveBase string // Kish effective base (n_eff)
	LowBase       string // true when the base is below the dataset's minimum (low_base)
	ZeroWeight    string // panelists left out for a NULL or zero weight (n_zero_weight)
	// Cell counts the distinct panelists behind each row (the base when
	// weighted, else a hidden mcpa_cell column the caller drops); set with
	// [Options.CountPanelists].
	Cell string
	// Total marks the Total rows (is_total), with [Options.Totals].
	Total string
}

// Term is one entry of a [Result.Legend].
type Term struct {
	Column  string
	Meaning string
}

// Why classifies the reason a query was not weighted.
type Why int

const (
	NotWeighted  Why = iota // weights were applied (or nothing to say)
	Off                     // apply_weights is false
	NoDesign                // the dataset has no weight, weights table or respondent key
	RawRows                 // a raw (non-aggregated) query: never weighted
	HandWeighted            // the query uses the weight column itself
	Unsafe                  // a shape that cannot be weighted safely
)

// Rewrite rewrites a guarded single-SELECT parse tree so that an aggregated query over
// the survey panel carries weighted figures beside the ones it asked for, and so that
// NCCS classes are merged. See the package documentation for the rules.
//
// Whatever the options, a bare GROUP BY name that the select list gives to another
// expression than the input column of that name is pointed at the select-list entry
// (the analyst's meaning; see [Result.Notes]). With Weights and MergeNCCS both false
// that is all Rewrite does, and it copies nothing when there is nothing to fix.
//
// Rewrite returns an error only for a tree it cannot have been given by the guard
// (no statement, several statements, not a SELECT). Shapes that cannot be weighted
// safely are not errors: the tree comes back unweighted with Applied false and a Reason.
func Rewrite(tree *pg.ParseResult, opts Options) (*Result, error) {
	if tree == nil || len(tree.Stmts) != 1 || tree.Stmts[0].Stmt == nil {
		return nil, errors.New("rewrite: want exactly one statement")
	}
	if tree.Stmts[0].Stmt.GetSelectStmt() == nil {
		return nil, errors.New("rewrite: statement is not a SELECT")
	}
	r := newRewriter(opts)
	in := tree.Stmts[0].Stmt
	why, reason := r.unweightedReason(in)
	merge := opts.MergeNCCS && r.nccs != "" && in.GetSelectStmt().Op == pg.SetOperation_SETOP_NONE
	if reason != "" && !merge {
		res := r.fixGroupsOnly(tree, reason)
		res.Why = why
		r.countPanelists(res, tree)
		if r.opts.CompareBy != "" {
			res.CompareProblem = fmt.Sprintf("compare_by needs weighted figures, and weights were not applied: %s", reason)
		}
		return res, nil
	}
	out, merged := r.prepare(tree, merge)
	res := &Result{Reason: reason, Why: why}
	if reason == "" {
		if p, unsafe := r.weightSelect(out.Stmts[0].Stmt); unsafe != "" {
			// The attempt may have changed the copy: start again from the input.
			res.Why, res.Reason = Unsafe, unsafe
			r.twoStage = false
			r.extra, r.legend = nil, nil
			out, merged = r.prepare(tree, merge)
		} else {
			res.Applied = true
			res.AddedColumns = r.added
			res.Added = p.addedRoles
			res.Groups = p.groups
			res.Legend = r.legend
			res.Compare = p.compare
			if r.oneLevel {
				res.OneLevel = "its aggregates do not split per panelist (COUNT(DISTINCT) of a non-key column, STDDEV, string_agg… or a constant group)"
			}
		}
	}
	res.Tree = out
	res.NCCSMerged = merged
	res.Notes = r.notes(res)
	r.countPanelists(res, tree)
	switch {
	case r.opts.CompareBy == "":
	case r.compareProblem != "":
		res.CompareProblem, res.CompareNotGrouped = r.compareProblem, r.compareNotGrouped
	case !res.Applied:
		res.CompareProblem = fmt.Sprintf("compare_by needs weighted figures, and weights were not applied: %s", res.Reason)
	}
	return res, nil
}

// countPanelists makes sure an aggregated answer says how many panelists are
// behind each of its rows, for disclosure control ([Options.CountPanelists]):
// a weighted answer has its base (n); an unweighted one gets a hidden column,
// COUNT(DISTINCT <respondent key>) AS mcpa_cell, named in Added.Cell. When the
// query's top level reads no relation with the key (a set operation, a CTE of
// aggregates), Uncounted is set: the caller cannot check it.
func (r *rewriter) countPanelists(res *Result, input *pg.ParseResult) {
	if !r.opts.CountPanelists || !r.opts.Aggregated || r.key == "" {
		return
	}
	if res.Applied {
		res.Added.Cell = res.Added.Base
		return
	}
	sel := res.Tree.Stmts[0].Stmt.GetSelectStmt()
	if sel.Op != pg.SetOperation_SETOP_NONE {
		res.Uncounted = true
		return
	}
	res.Groups = groupNames(sel)
	sc := r.scope(sel)
	var key *pg.Node
	for _, it := range sc.items {
		if (it.kind == weightsItem || it.kind == keyItem) && it.alias != "" {
			key = colRef(it.alias, r.key)
			break
		}
	}
	if key == nil {
		res.Uncounted = true
		return
	}
	if res.Tree == input {
		res.Tree = &pg.ParseResult{Version: input.Version, Stmts: []*pg.RawStmt{{
			Stmt:         clone(input.Stmts[0].Stmt),
			StmtLocation: input.Stmts[0].StmtLocation,
			StmtLen:      input.Stmts[0].StmtLen,
		}}}
		sel = res.Tree.Stmts[0].Stmt.GetSelectStmt()
	}
	count := funcCall("count", key)
	// Over the weights table alone each row is one panelist: a plain count
	// is the distinct count, without the sort or hash DISTINCT needs.
	if !(len(sc.items) == 1 && sc.items[0].kind == weightsItem && sc.items[0].table != "") {
		count.GetFuncCall().AggDistinct = true
	}
	sel.TargetList = append(sel.TargetList, resTarget(cellCol, count))
	res.Added.Cell = cellCol
}

// cellCol is the hidden column counting an unweighted answer's panelists.
const cellCol = "mcpa_cell"

// groupNames are the output names of sel's entries without aggregates or
// windows: the grouping columns of an aggregated query.
func groupNames(sel *pg.SelectStmt) []string {
	var out []string
	for _, t := range sel.TargetList {
		if rt := t.GetResTarget(); rt != nil && rt.Val != nil && !isStar(rt.Val) && !hasAggregateOrWindow(rt.Val) {
			out = append(out, targetName(rt))
		}
	}
	return out
}

// unweightedReason says why stmt is not to be weighted, "" when it is.
func (r *rewriter) unweightedReason(stmt *pg.Node) (Why, string) {
	switch {
	case !r.opts.Weights:
		return Off, "apply_weights is false"
	case r.weight == "":
		return NoDesign, "the dataset has no weight column"
	case r.weightsTable == "" || r.key == "":
		return NoDesign, "the dataset has no weights table or respondent key configured"
	case !r.opts.Aggregated:
		return RawRows, "raw (non-aggregated) rows are never weighted"
	case stmt.GetSelectStmt().Op != pg.SetOperation_SETOP_NONE:
		return Unsafe, "set operations (UNION, INTERSECT, EXCEPT) are not weighted"
	case usesColumn(stmt, r.weight):
		return HandWeighted, fmt.Sprintf("the query already uses the weight column %s, so it was left as written", r.weight)
	}
	return NotWeighted, ""
}

// prepare copies tree, points shadowed GROUP BY names at their output columns and,
// when merge is set, merges NCCS classes. It reports whether NCCS was merged.
func (r *rewriter) prepare(tree *pg.ParseResult, merge bool) (*pg.ParseResult, bool) {
	out := &pg.ParseResult{Version: tree.Version, Stmts: []*pg.RawStmt{{
		Stmt:         clone(tree.Stmts[0].Stmt),
		StmtLocation: tree.Stmts[0].StmtLocation,
		StmtLen:      tree.Stmts[0].StmtLen,
	}}}
	sel := out.Stmts[0].Stmt.GetSelectStmt()
	if r.opts.NameColumns {
		nameTargets(leftmost(sel))
	}
	if sel.Op != pg.SetOperation_SETOP_NONE {
		return out, false
	}
	sc := r.scope(sel)
	r.groupByOutputs(sel, r.shadowedGroups(sel, sc))
	r.fixNested(out.Stmts[0].Stmt)
	if !merge {
		r.rawNCCSNote(sel, sc)
		return out, false
	}
	if starCovers(sel, sc, r.nccs) && !expandStars(sel, sc) {
		r.note("NCCS labels under SELECT * are not merged: the star covers a JOIN with USING or a relation whose columns are unknown; list the columns to merge them")
	}
	merged := r.mergeNCCS(sel, sc)
	r.mergeFilters(out.Stmts[0].Stmt)
	return out, merged
}

// fixGroupsOnly is Rewrite when there is nothing to weight or merge: it only points
// shadowed GROUP BY names at their output columns, and copies the tree only then.
func (r *rewriter) fixGroupsOnly(tree *pg.ParseResult, reason string) *Result {
	res := &Result{Tree: tree, Reason: reason}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	var fixes []shadowedGroup
	if sel.Op == pg.SetOperation_SETOP_NONE && hasBareGroupName(sel) {
		fixes = r.shadowedGroups(sel, r.scope(sel))
	}
	name := r.opts.NameColumns && unnamed(leftmost(sel))
	nested := r.nestedShadowed(tree.Stmts[0].Stmt)
	if len(fixes) > 0 || name || nested {
		stmt := clone(tree.Stmts[0].Stmt)
		r.groupByOutputs(stmt.GetSelectStmt(), fixes)
		if nested {
			r.fixNested(stmt)
		}
		if name {
			nameTargets(leftmost(stmt.GetSelectStmt()))
		}
		res.Tree = &pg.ParseResult{Version: tree.Version, Stmts: []*pg.RawStmt{{
			Stmt:         stmt,
			StmtLocation: tree.Stmts[0].StmtLocation,
			StmtLen:      tree.Stmts[0].StmtLen,
		}}}
	}
	if sel.Op == pg.SetOperation_SETOP_NONE && !r.opts.MergeNCCS {
		r.rawNCCSNote(sel, r.scope(sel))
	}
	res.Notes = r.notes(res)
	return res
}

// leftmost is the SELECT of a set operation whose select list names the
// columns (the first arm); sel itself otherwise.
func leftmost(sel *pg.SelectStmt) *pg.SelectStmt {
	for sel.Op != pg.SetOperation_SETOP_NONE && sel.Larg != nil {
		sel = sel.Larg
	}
	return sel
}

// unnamed reports whether sel has a select-list entry that an engine other
// than PostgreSQL may name differently: an unnamed expression that is not a
// plain column.
func unnamed(sel *pg.SelectStmt) bool {
	for _, t := range sel.TargetList {
		if rt := t.GetResTarget(); rt != nil && rt.Name == "" && rt.Val != nil && rt.Val.GetColumnRef() == nil {
			return true
		}
	}
	return false
}

func hasBareGroupName(sel *pg.SelectStmt) bool {
	for _, g := range sel.GroupClause {
		if cr := g.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
			return true
		}
	}
	return false
}

// rewriter holds the normalised options of one Rewrite call.
type rewriter struct {
	opts Options
	// groupUniverse is set when reach % divides by each group's own panelists.
	groupUniverse bool
	weight        string
	weightsTable  string
	key           string
	nccs          string
	nccsMap       map[string]string
	scale         float64
	minBase       int

	added    []string
	extra    []string // notes gathered while rewriting
	legend   []Term
	reach    bool
	events   bool
	twoStage bool
	// compareProblem says, in words, why a compare_by cannot be tested;
	// compareNotGrouped, that the query does not group by the column.
	compareProblem    string
	compareNotGrouped bool
	// oneLevel: an event query whose aggregates do not split per panelist
	// (twolevel.go), rewritten with a window that marks each panelist's first row.
	oneLevel bool
}

func newRewriter(opts Options) *rewriter {
	r := &rewriter{
		opts:         opts,
		weight:       strings.ToLower(opts.Roles.WeightColumn),
		weightsTable: strings.ToLower(opts.Roles.WeightsTable),
		key:          strings.ToLower(opts.Roles.RespondentKey),
		nccs:         strings.ToLower(opts.Roles.NCCSColumn),
		nccsMap:      opts.Roles.NCCSMap,
		scale:        opts.Roles.WeightScale,
		minBase:      opts.Roles.MinBase,
	}
	if r.nccsMap == nil {
		r.nccsMap = DefaultNCCSMap()
	}
	if r.scale <= 0 {
		r.scale = 1
	}
	if r.minBase <= 0 {
		r.minBase = DefaultMinBase
	}
	return r
}

// usesColumn reports whether any column reference anywhere in n ends in name.
func usesColumn(n *pg.Node, name string) bool {
	found := false
	walk(n, func(x *pg.Node) bool {
		if cr := x.GetColumnRef(); cr != nil {
			f := fields(cr)
			if len(f) > 0 && f[len(f)-1] == name {
				found = true
			}
		}
		return !found
	})
	return found
}

func (r *rewriter) notes(res *Result) []string {
	var notes []string
	if res.Applied {
		var b strings.Builder
		fmt.Fprintf(&b, "Weighted by %s.%s", r.weightsTable, r.weight)
		if r.scale != 1 {
			fmt.Fprintf(&b, " ×%s", strconv.FormatFloat(r.scale, 'f', -1, 64))
		}
		if r.reach {
			b.WriteString("; reach counts each panelist once")
		}
		if res.NCCSMerged {
			b.WriteString("; NCCS merged " + r.mergeSummary())
		}
		notes = append(notes, b.String())
	} else {
		if res.NCCSMerged {
			notes = append(notes, "NCCS merged "+r.mergeSummary())
		}
	}
	return append(notes, r.extra...)
}

// mergeSummary describes the merge map: "A1→A, C/D/E".
func (r *rewriter) mergeSummary() string {
	groups := r.mergeGroups()
	parts := make([]string, 0, len(groups))
	for _, g := range groups {
		var others []string
		for _, raw := range g.raw {
			if raw != g.label {
				others = append(others, raw)
			}
		}
		if strings.Join(g.raw, "/") == g.label || strings.Join(others, "/") == g.label {
			parts = append(parts, g.label)
			continue
		}
		parts = append(parts, strings.Join(others, "+")+"→"+g.label)
	}
	return strings.Join(parts, ", ")
}

type mergeGroup struct {
	label string
	raw   []string // sorted raw labels mapped to label, identity included
}

// mergeGroups returns the merged labels that gather at least one other label, in
// label order.
func (r *rewriter) mergeGroups() []mergeGroup {
	byLabel := map[string][]string{}
	changes := map[string]bool{}
	for raw, label := range r.nccsMap {
		byLabel[label] = append(byLabel[label], raw)
		if raw != label {
			changes[label] = true
		}
	}
	var groups []mergeGroup
	for label, raws := range byLabel {
		if !changes[label] {
			continue
		}
		sort.Strings(raws)
		groups = append(groups, mergeGroup{label: label, raw: raws})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].label < groups[j].label })
	return groups
}
