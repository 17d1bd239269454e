package sqlguard

import (
	"fmt"
	"sort"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// inspector walks every message of a parse tree generically (through
// protoreflect, so no node kind can be missed) and stops at the first
// violation.
type inspector struct {
	text string
	opts Options
	err  *Error

	// starTargets are the t.* and * column references that stand alone in a
	// SELECT list, the only place a whole-row reference is allowed.
	starTargets map[*pg_query.ColumnRef]bool
	// fieldAccess are single-name references used as (u).col, which read a column.
	fieldAccess map[*pg_query.ColumnRef]bool
	// level is the query level being walked: the FROM items of each SELECT,
	// with the output column names known for each.
	level *level
	// bareRefs are single-name column references with their query level,
	// checked once the whole tree has been seen.
	bareRefs []bareRef
}

// A level is one SELECT's FROM clause: its items by name (table, alias or CTE
// name), each with its known column names (nil: unknown).
type level struct {
	parent *level
	items  map[string]map[string]bool
}

type bareRef struct {
	ref   *pg_query.ColumnRef
	level *level
}

// scope is the set of CTE names visible at a point of the tree, with their
// output columns.
type scope struct {
	names  map[string]bool
	cols   map[string]map[string]bool
	parent *scope
}

func (s *scope) has(name string) bool {
	for ; s != nil; s = s.parent {
		if s.names[name] {
			return true
		}
	}
	return false
}

// columns returns the output columns of the visible CTE name.
func (s *scope) columns(name string) map[string]bool {
	for ; s != nil; s = s.parent {
		if s.names[name] {
			return s.cols[name]
		}
	}
	return nil
}

func inspect(text string, tree *pg_query.ParseResult, opts Options) *Error {
	in := &inspector{
		text:        text,
		opts:        opts,
		starTargets: map[*pg_query.ColumnRef]bool{},
		fieldAccess: map[*pg_query.ColumnRef]bool{},
	}
	in.walk(tree.ProtoReflect(), nil)
	if in.err != nil {
		return in.err
	}
	for _, br := range in.bareRefs {
		if in.fieldAccess[br.ref] {
			continue
		}
		name := strings.ToLower(br.ref.Fields[0].GetString_().GetSval())
		if br.level.wholeRow(name) {
			return in.wholeRow(name, br.ref.Location)
		}
	}
	return nil
}

// wholeRow reports whether a bare name at this level reads a whole row. As
// PostgreSQL resolves it: a column of any FROM item at this level or an outer
// one wins; only when there is none does the name stand for the row of the
// FROM item so named. An item whose columns are unknown cannot be said to
// have the column, so its name is taken as a row: refusing is the safe side.
func (l *level) wholeRow(name string) bool {
	for x := l; x != nil; x = x.parent {
		for _, cols := range x.items {
			if cols[name] {
				return false
			}
		}
	}
	for x := l; x != nil; x = x.parent {
		if _, ok := x.items[name]; ok {
			return true
		}
	}
	return false
}

// walk visits m and everything below it, with ctes the CTE names in scope.
func (in *inspector) walk(m protoreflect.Message, ctes *scope) {
	if in.err != nil || !m.IsValid() {
		return
	}
	if sel, ok := m.Interface().(*pg_query.SelectStmt); ok {
		saved := in.level
		in.level = &level{parent: saved, items: map[string]map[string]bool{}}
		defer func() { in.level = saved }()
		if sel.WithClause != nil {
			in.walkWith(sel, ctes)
			return
		}
	}
	in.visit(m, ctes)
	if in.err != nil {
		return
	}
	in.walkChildren(m, ctes, "")
}

// walkChildren walks every set message field of m except the one named skip.
func (in *inspector) walkChildren(m protoreflect.Message, ctes *scope, skip protoreflect.Name) {
	eachChild(m, func(fd protoreflect.FieldDescriptor, child protoreflect.Message) bool {
		if fd.Name() != skip {
			in.walk(child, ctes)
		}
		return in.err == nil
	})
}

// eachChild calls fn for every message directly below m, in the order the
// fields are declared, until fn returns false. protoreflect's Range order is
// unspecified and changes between builds; the guard must report the same
// violation, at the same position, every time.
func eachChild(m protoreflect.Message, fn func(protoreflect.FieldDescriptor, protoreflect.Message) bool) bool {
	desc := m.Descriptor()
	if oneofs := desc.Oneofs(); oneofs.Len() == 1 && oneofs.Get(0).Name() == "node" {
		// A Node wraps exactly one of ~270 node kinds.
		if fd := m.WhichOneof(oneofs.Get(0)); fd != nil {
			return fn(fd, m.Get(fd).Message())
		}
		return true
	}
	fields := desc.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Message() == nil || fd.IsMap() || !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		if fd.IsList() {
			list := v.List()
			for j := 0; j < list.Len(); j++ {
				if !fn(fd, list.Get(j).Message()) {
					return false
				}
			}
		} else if !fn(fd, v.Message()) {
			return false
		}
	}
	return true
}

// walkWith walks a SELECT that has a WITH clause with CTE names scoped as
// PostgreSQL and DuckDB resolve them: a CTE sees the CTEs before it (all of
// them when RECURSIVE), and the body sees all of them. A name outside its
// scope is an ordinary relation, which for DuckDB may be a file.
func (in *inspector) walkWith(sel *pg_query.SelectStmt, ctes *scope) {
	in.visit(sel.ProtoReflect(), ctes)
	if in.err != nil {
		return
	}
	w := sel.WithClause
	all := &scope{names: map[string]bool{}, cols: map[string]map[string]bool{}, parent: ctes}
	for _, n := range w.Ctes {
		if cte := n.GetCommonTableExpr(); cte != nil {
			all.names[strings.ToLower(cte.Ctename)] = true
			all.cols[strings.ToLower(cte.Ctename)] = cteColumns(cte)
		}
	}
	seen := &scope{names: map[string]bool{}, cols: all.cols, parent: ctes}
	for _, n := range w.Ctes {
		cte := n.GetCommonTableExpr()
		if cte == nil {
			in.walk(n.ProtoReflect(), seen)
			continue
		}
		name := strings.ToLower(cte.Ctename)
		visible := seen
		if w.Recursive {
			visible = all
		}
		in.walk(n.ProtoReflect(), visible)
		if in.err != nil {
			return
		}
		seen.names[name] = true
	}
	in.walkChildren(sel.ProtoReflect(), all, "with_clause")
}

// visit checks one message; its children are walked by the caller.
func (in *inspector) visit(m protoreflect.Message, ctes *scope) {
	switch n := m.Interface().(type) {
	case *pg_query.SelectStmt:
		in.visitSelect(n)
	case *pg_query.FuncCall:
		in.visitFunc(n)
	case *pg_query.RangeFunction:
		in.visitRangeFunction(n)
	case *pg_query.RangeVar:
		in.visitRangeVar(n, ctes)
	case *pg_query.ColumnRef:
		in.visitColumnRef(n)
	case *pg_query.SubLink:
		if sel := n.Subselect.GetSelectStmt(); n.SubLinkType == pg_query.SubLinkType_ARRAY_SUBLINK && sel != nil && in.mentionsKey(sel.TargetList) {
			in.fail(&Error{
				Code:    CodeKeyList,
				Message: "ARRAY(SELECT …) of a respondent key is not allowed: a list of panelist ids is respondent-level data",
				Pos:     in.pos(n.Location),
				Hint:    keyListHint,
			})
		}
	case *pg_query.A_Indirection:
		if ref := n.Arg.GetColumnRef(); ref != nil && len(n.Indirection) > 0 && n.Indirection[0].GetString_() != nil {
			in.fieldAccess[ref] = true
		}
	case *pg_query.RangeSubselect:
		if n.Alias != nil {
			in.addFromName(n.Alias.Aliasname, aliasColumns(n.Alias, n.Subquery.GetSelectStmt()))
		}
	case *pg_query.JoinExpr:
		if n.Alias != nil {
			in.addFromName(n.Alias.Aliasname, nil)
		}
	case *pg_query.InsertStmt, *pg_query.UpdateStmt, *pg_query.DeleteStmt, *pg_query.MergeStmt:
		kind := strings.ToUpper(strings.TrimSuffix(string(m.Descriptor().Name()), "Stmt"))
		in.fail(&Error{
			Code:    CodeDataModifying,
			Message: fmt.Sprintf("a data-modifying %s inside the query is not allowed: only reading is", kind),
			Pos:     in.pos(firstLocation(m)),
			Hint:    selectOnlyHint,
		})
	default:
		// Any other statement nested in a query (none exists in today's
		// grammar) is refused rather than trusted.
		if name := string(m.Descriptor().Name()); strings.HasSuffix(name, "Stmt") && name != "RawStmt" {
			in.fail(&Error{
				Code:    CodeNotSelect,
				Message: fmt.Sprintf("a nested %s statement is not allowed: only a single read-only SELECT is accepted", camelToWords(strings.TrimSuffix(name, "Stmt"))),
				Pos:     in.pos(firstLocation(m)),
				Hint:    selectOnlyHint,
			})
		}
	}
}

func (in *inspector) visitSelect(sel *pg_query.SelectStmt) {
	if sel.IntoClause != nil {
		in.fail(&Error{
			Code:    CodeSelectInto,
			Message: "SELECT INTO creates a table and is not allowed: queries may only read",
			Pos:     in.pos(firstLocation(sel.IntoClause.ProtoReflect())),
			Hint:    "remove the INTO clause to get the rows back as the answer",
		})
		return
	}
	if len(sel.LockingClause) > 0 {
		in.fail(&Error{
			Code:    CodeLocking,
			Message: "FOR UPDATE / FOR SHARE locks rows and is not allowed: queries may only read",
			Pos:     in.lockingPos(sel.LockingClause[0]),
			Hint:    "remove the FOR UPDATE / FOR SHARE clause",
		})
		return
	}
	for _, t := range sel.TargetList {
		if ref := t.GetResTarget().GetVal().GetColumnRef(); ref != nil && isStar(ref) {
			in.starTargets[ref] = true
		}
	}
}

func (in *inspector) visitFunc(f *pg_query.FuncCall) {
	name := funcName(f)
	if g, ok := match(functionGroups, name, in.opts.Dialect); ok {
		in.fail(&Error{
			Code:    CodeDeniedFunction,
			Message: fmt.Sprintf("function %s is not allowed: %s", name, g.why),
			Pos:     in.pos(f.Location),
			Hint:    analyticsOnlyHint,
		})
		return
	}
	if listAggregates[name] && in.mentionsKey(f.Args) {
		in.fail(&Error{
			Code:    CodeKeyList,
			Message: fmt.Sprintf("%s of a respondent key is not allowed: a list of panelist ids is respondent-level data", name),
			Pos:     in.pos(f.Location),
			Hint:    keyListHint,
		})
		return
	}
	if f.AggStar && name != "count" {
		in.fail(&Error{
			Code:    CodeRowPacking,
			Message: fmt.Sprintf("%s(*) is not allowed: packing whole rows into one value would bypass the row caps", name),
			Pos:     in.pos(f.Location),
			Hint:    wholeRowPackingHint,
		})
	}
}

// visitRangeFunction applies DuckDB's allow-list of FROM-clause functions.
func (in *inspector) visitRangeFunction(rf *pg_query.RangeFunction) {
	if in.opts.Dialect != DuckDB {
		return
	}
	for _, item := range rf.Functions {
		items := item.GetList().GetItems()
		if len(items) == 0 {
			continue
		}
		f := items[0].GetFuncCall()
		if f == nil {
			continue
		}
		if name := funcName(f); !duckDBTableFunctions[name] {
			in.fail(&Error{
				Code:    CodeDeniedFunction,
				Message: fmt.Sprintf("table function %s is not allowed in FROM for DuckDB datasets: DuckDB table functions read files, catalogs and settings", name),
				Pos:     in.pos(f.Location),
				Hint:    "read the dataset's tables; in FROM only " + strings.Join(sortedKeys(duckDBTableFunctions), ", ") + " are allowed",
			})
			return
		}
	}
}

func (in *inspector) visitRangeVar(rv *pg_query.RangeVar, ctes *scope) {
	name := strings.ToLower(rv.Relname)
	cols := in.opts.Columns[name]
	if rv.Schemaname == "" && rv.Catalogname == "" && ctes.has(name) {
		cols = ctes.columns(name)
	}
	in.addFromName(name, cols)
	if rv.Alias != nil {
		if len(rv.Alias.Colnames) > 0 {
			cols = stringSet(rv.Alias.Colnames)
		}
		in.addFromName(rv.Alias.Aliasname, cols)
	}
	if g, ok := match(relationGroups, name, in.opts.Dialect); ok {
		in.fail(&Error{
			Code:    CodeDeniedRelation,
			Message: fmt.Sprintf("relation %s is not allowed: %s", name, g.why),
			Pos:     in.pos(rv.Location),
			Hint:    "query the dataset's own tables",
		})
		return
	}
	if in.opts.Dialect == DuckDB && !in.duckDBRelationOK(rv, name) {
		return
	}
	if rv.Schemaname == "" && rv.Catalogname == "" && ctes.has(name) {
		return
	}
	if in.opts.Relations == nil {
		return
	}
	// A dataset is its own tables, by their unqualified names: a schema or
	// database qualifier could reach another dataset that shares the
	// database (or the server's catalogs), so it is refused on both engines.
	ownSchema := in.opts.Dialect == DuckDB && rv.Catalogname == "" && strings.EqualFold(rv.Schemaname, "main")
	if (rv.Schemaname != "" || rv.Catalogname != "") && !ownSchema {
		in.fail(&Error{
			Code:    CodeDeniedRelation,
			Message: fmt.Sprintf("relation %s is outside this dataset: only the dataset's own tables can be queried, by their unqualified names", qualifiedName(rv)),
			Pos:     in.pos(rv.Location),
			Hint:    in.tablesHint(),
		})
		return
	}
	if !in.opts.Relations[name] {
		in.fail(&Error{
			Code:    CodeDeniedRelation,
			Message: fmt.Sprintf("relation %q does not exist in this dataset%s", rv.Relname, DidYouMean(rv.Relname, sortedKeys(in.opts.Relations))),
			Pos:     in.pos(rv.Location),
			Hint:    in.tablesHint(),
		})
	}
}

func qualifiedName(rv *pg_query.RangeVar) string {
	parts := []string{}
	for _, p := range []string{rv.Catalogname, rv.Schemaname, rv.Relname} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// duckDBRelationOK refuses relation names DuckDB would read as files or
// URLs (replacement scans); it reports whether the relation passed.
func (in *inspector) duckDBRelationOK(rv *pg_query.RangeVar, name string) bool {
	for _, part := range []string{rv.Catalogname, rv.Schemaname, rv.Relname} {
		if part != "" && !isPlainIdentifier(part) {
			in.fail(&Error{
				Code:    CodeDeniedRelation,
				Message: fmt.Sprintf("relation %q is not allowed: it looks like a file or URL, which DuckDB would read", part),
				Pos:     in.pos(rv.Location),
				Hint:    in.tablesHint(),
			})
			return false
		}
	}
	if rv.Schemaname != "" && fileExtensions[name] {
		in.fail(&Error{
			Code:    CodeDeniedRelation,
			Message: fmt.Sprintf("relation %s.%s is not allowed: it looks like a file name, which DuckDB would read", rv.Schemaname, rv.Relname),
			Pos:     in.pos(rv.Location),
			Hint:    in.tablesHint(),
		})
		return false
	}
	return true
}

func (in *inspector) visitColumnRef(ref *pg_query.ColumnRef) {
	if isStar(ref) {
		if !in.starTargets[ref] {
			in.fail(&Error{
				Code:    CodeRowPacking,
				Message: "a whole-row reference (*) is only allowed on its own in a SELECT list: packing whole rows into one value would bypass the row caps",
				Pos:     in.pos(ref.Location),
				Hint:    wholeRowPackingHint,
			})
		}
		return
	}
	if len(ref.Fields) == 1 && ref.Fields[0].GetString_() != nil {
		in.bareRefs = append(in.bareRefs, bareRef{ref: ref, level: in.level})
	}
}

// listAggregates are the aggregates that return many input values in one:
// lists, strings, maps and JSON arrays, and DuckDB's histogram, top-k and
// bitstring aggregates, which hold the values themselves.
var listAggregates = map[string]bool{
	"array_agg": true, "list": true, "string_agg": true, "listagg": true, "group_concat": true,
	"json_agg": true, "jsonb_agg": true, "json_object_agg": true, "jsonb_object_agg": true,
	"json_group_array": true, "json_group_object": true, "xmlagg": true,
	"histogram": true, "approx_top_k": true, "bitstring_agg": true, "array_agg_distinct": true,
}

const keyListHint = "count panelists with COUNT(DISTINCT user_id), or aggregate by a panelist attribute"

// mentionsKey reports whether any of the nodes refers to a respondent key
// column (by its last name, qualified or not).
func (in *inspector) mentionsKey(nodes []*pg_query.Node) bool {
	if len(in.opts.RespondentKeys) == 0 {
		return false
	}
	found := false
	for _, n := range nodes {
		walkRefs(n.ProtoReflect(), func(ref *pg_query.ColumnRef) {
			if name := lastField(ref); name != "" {
				for _, k := range in.opts.RespondentKeys {
					if strings.EqualFold(name, k) {
						found = true
					}
				}
			}
		})
	}
	return found
}

// walkRefs calls fn for every column reference under m.
func walkRefs(m protoreflect.Message, fn func(*pg_query.ColumnRef)) {
	if ref, ok := m.Interface().(*pg_query.ColumnRef); ok {
		fn(ref)
		return
	}
	eachChild(m, func(_ protoreflect.FieldDescriptor, child protoreflect.Message) bool {
		walkRefs(child, fn)
		return true
	})
}

func (in *inspector) wholeRow(name string, loc int32) *Error {
	return &Error{
		Code:    CodeRowPacking,
		Message: fmt.Sprintf("%s is a whole row, not a column: packing whole rows into one value would bypass the row caps", name),
		Pos:     in.pos(loc),
		Hint:    wholeRowPackingHint,
	}
}

// addFromName records a FROM item name and the output columns known for it.
// Function aliases are not recorded: "FROM generate_series(1, 3) g" names
// both the item and its column g.
func (in *inspector) addFromName(name string, cols map[string]bool) {
	if in.level == nil {
		return
	}
	name = strings.ToLower(name)
	known := in.level.items[name]
	if known == nil {
		known = map[string]bool{}
		in.level.items[name] = known
	}
	for c := range cols {
		known[c] = true
	}
}

// cteColumns returns the output column names of a CTE.
func cteColumns(cte *pg_query.CommonTableExpr) map[string]bool {
	if len(cte.Aliascolnames) > 0 {
		return stringSet(cte.Aliascolnames)
	}
	return selectColumns(cte.Ctequery.GetSelectStmt())
}

// aliasColumns returns the column names an alias gives, else those of sel.
func aliasColumns(a *pg_query.Alias, sel *pg_query.SelectStmt) map[string]bool {
	if len(a.Colnames) > 0 {
		return stringSet(a.Colnames)
	}
	return selectColumns(sel)
}

// selectColumns returns the output column names of a SELECT that are
// visible in its text: aliases and the last part of plain column references.
func selectColumns(sel *pg_query.SelectStmt) map[string]bool {
	for sel != nil && sel.Larg != nil {
		sel = sel.Larg
	}
	if sel == nil {
		return nil
	}
	cols := map[string]bool{}
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			continue
		}
		if rt.Name != "" {
			cols[strings.ToLower(rt.Name)] = true
			continue
		}
		if ref := rt.Val.GetColumnRef(); ref != nil && len(ref.Fields) > 0 {
			if s := ref.Fields[len(ref.Fields)-1].GetString_(); s != nil {
				cols[strings.ToLower(s.Sval)] = true
			}
		}
	}
	return cols
}

func stringSet(nodes []*pg_query.Node) map[string]bool {
	set := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if s := n.GetString_(); s != nil {
			set[strings.ToLower(s.Sval)] = true
		}
	}
	return set
}

func (in *inspector) tablesHint() string {
	if len(in.opts.Relations) == 0 {
		return "query the dataset's own tables by name"
	}
	return "query the dataset's own tables: " + strings.Join(sortedKeys(in.opts.Relations), ", ")
}

// lockingPos finds where a locking clause starts. The parse tree records no
// location for it unless it names tables, so the text is scanned for the
// first FOR followed by UPDATE, SHARE, NO or KEY.
func (in *inspector) lockingPos(lc *pg_query.Node) int {
	if loc := firstLocation(lc.ProtoReflect()); loc >= 0 {
		return in.pos(loc)
	}
	scan, err := pg_query.Scan(in.text)
	if err != nil {
		return 0
	}
	toks := scan.Tokens
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].Token != pg_query.Token_FOR {
			continue
		}
		switch toks[i+1].Token {
		case pg_query.Token_UPDATE, pg_query.Token_SHARE, pg_query.Token_NO, pg_query.Token_KEY:
			return in.pos(toks[i].Start)
		}
	}
	return 0
}

func (in *inspector) fail(e *Error) {
	if in.err == nil {
		in.err = e
	}
}

func (in *inspector) pos(loc int32) int { return charPos(in.text, loc) }

// funcName is the lower-case last part of a function's possibly qualified name.
func funcName(f *pg_query.FuncCall) string {
	if len(f.Funcname) == 0 {
		return ""
	}
	return strings.ToLower(f.Funcname[len(f.Funcname)-1].GetString_().GetSval())
}

// isStar reports whether ref is * or t.*.
func isStar(ref *pg_query.ColumnRef) bool {
	return len(ref.Fields) > 0 && ref.Fields[len(ref.Fields)-1].GetAStar() != nil
}

// isPlainIdentifier reports whether s could be written unquoted: letters,
// digits, _ and $. File names and URLs always hold a dot, slash or colon.
func isPlainIdentifier(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80:
		case i > 0 && (r >= '0' && r <= '9' || r == '$'):
		default:
			return false
		}
	}
	return s != ""
}

// firstLocation returns the smallest location found in m or below it (where
// the node's text starts), -1 if none.
func firstLocation(m protoreflect.Message) int32 {
	loc := int32(-1)
	if fd := m.Descriptor().Fields().ByName("location"); fd != nil && fd.Kind() == protoreflect.Int32Kind {
		loc = int32(m.Get(fd).Int())
	}
	eachChild(m, func(_ protoreflect.FieldDescriptor, child protoreflect.Message) bool {
		if l := firstLocation(child); l >= 0 && (loc < 0 || l < loc) {
			loc = l
		}
		return true
	})
	return loc
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
