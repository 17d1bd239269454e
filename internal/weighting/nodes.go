package weighting

import (
	"strconv"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// frameDefaults is PostgreSQL's FRAMEOPTION_DEFAULTS, the frame of a plain OVER ().
const frameDefaults = 1058

func str(s string) *pg.Node { return pg.MakeStrNode(s) }

func colRef(fields ...string) *pg.Node {
	nodes := make([]*pg.Node, len(fields))
	for i, f := range fields {
		nodes[i] = str(f)
	}
	return pg.MakeColumnRefNode(nodes, -1)
}

func funcCall(name string, args ...*pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_FuncCall{FuncCall: &pg.FuncCall{
		Funcname:   []*pg.Node{str(name)},
		Args:       args,
		Funcformat: pg.CoercionForm_COERCE_EXPLICIT_CALL,
		Location:   -1,
	}}}
}

// windowed wraps an aggregate call into OVER (PARTITION BY partition).
func windowed(call *pg.Node, partition ...*pg.Node) *pg.Node {
	call.GetFuncCall().Over = &pg.WindowDef{PartitionClause: partition, FrameOptions: frameDefaults, Location: -1}
	return call
}

func binOp(op string, l, r *pg.Node) *pg.Node {
	return pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{str(op)}, l, r, -1)
}

func intConst(i int64) *pg.Node { return pg.MakeAConstIntNode(i, -1) }

func floatConst(f float64) *pg.Node {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Val: &pg.A_Const_Fval{Fval: &pg.Float{Fval: s}}, Location: -1}}}
}

func strConst(s string) *pg.Node { return pg.MakeAConstStrNode(s, -1) }

func nullConst() *pg.Node {
	return &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Isnull: true, Location: -1}}}
}

func castDouble(x *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{
		Arg:      x,
		TypeName: &pg.TypeName{Names: []*pg.Node{str("pg_catalog"), str("float8")}, Typemod: -1, Location: -1},
		Location: -1,
	}}}
}

func castBigint(x *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{
		Arg:      x,
		TypeName: &pg.TypeName{Names: []*pg.Node{str("pg_catalog"), str("int8")}, Typemod: -1, Location: -1},
		Location: -1,
	}}}
}

func coalesce(args ...*pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_CoalesceExpr{CoalesceExpr: &pg.CoalesceExpr{Args: args, Location: -1}}}
}

func castNumeric(x *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{
		Arg:      x,
		TypeName: &pg.TypeName{Names: []*pg.Node{str("pg_catalog"), str("numeric")}, Typemod: -1, Location: -1},
		Location: -1,
	}}}
}

// caseWhen builds CASE WHEN cond THEN then ELSE def END; def may be nil.
func caseWhen(cond, then, def *pg.Node) *pg.Node {
	c := pg.MakeCaseExprNode(nil, []*pg.Node{pg.MakeCaseWhenNode(cond, then, -1)}, -1)
	c.GetCaseExpr().Defresult = def
	return c
}

func notNull(x *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_NullTest{NullTest: &pg.NullTest{Arg: x, Nulltesttype: pg.NullTestType_IS_NOT_NULL, Location: -1}}}
}

func and(args ...*pg.Node) *pg.Node {
	if len(args) == 1 {
		return args[0]
	}
	return pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, args, -1)
}

func scalarSubquery(sel *pg.SelectStmt) *pg.Node {
	return &pg.Node{Node: &pg.Node_SubLink{SubLink: &pg.SubLink{
		SubLinkType: pg.SubLinkType_EXPR_SUBLINK,
		Subselect:   &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}},
		Location:    -1,
	}}}
}

func resTarget(name string, val *pg.Node) *pg.Node {
	return pg.MakeResTargetNodeWithNameAndVal(name, val, -1)
}

func rangeVar(table, alias string) *pg.Node {
	rv := pg.MakeSimpleRangeVar(table, -1)
	if alias != "" && alias != table {
		rv.Alias = &pg.Alias{Aliasname: alias}
	}
	return &pg.Node{Node: &pg.Node_RangeVar{RangeVar: rv}}
}

func clone(n *pg.Node) *pg.Node {
	if n == nil {
		return nil
	}
	return proto.Clone(n).(*pg.Node)
}

// fields returns the lower-cased names of a column reference; star is "*".
func fields(cr *pg.ColumnRef) []string {
	out := make([]string, 0, len(cr.Fields))
	for _, f := range cr.Fields {
		switch {
		case f.GetString_() != nil:
			out = append(out, strings.ToLower(f.GetString_().Sval))
		case f.GetAStar() != nil:
			out = append(out, "*")
		default:
			out = append(out, "?")
		}
	}
	return out
}

// funcName returns the lower-cased last name of a function call.
func funcName(fc *pg.FuncCall) string {
	if len(fc.Funcname) == 0 {
		return ""
	}
	return strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval())
}

// isAggregate reports whether fc is a plain (not windowed) aggregate call.
// The names are sqlguard's (the one list); an unknown function is scalar,
// and the guard's classification decides whether the query is aggregated.
func isAggregate(fc *pg.FuncCall) bool {
	return fc.Over == nil && (sqlguard.IsAggregate(funcName(fc)) || fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggWithinGroup)
}

// walk calls visit for n and, while visit returns true, for every node below it.
// It reaches nodes inside any message (window definitions, type names, ...): the
// expression nodes the rewrite meets most are walked by a type switch, and every
// other message by protobuf reflection, so no node type is forgotten.
func walk(n *pg.Node, visit func(*pg.Node) bool) {
	if n == nil || n.Node == nil {
		return
	}
	if !visit(n) {
		return
	}
	if !walkChildren(n, visit) {
		walkMessage(n.ProtoReflect(), visit)
	}
}

// walkChildren walks the children of the common expression nodes and reports
// whether it knew n's type. Each case lists every Node-bearing field of its type.
func walkChildren(n *pg.Node, visit func(*pg.Node) bool) bool {
	all := func(ns []*pg.Node) {
		for _, c := range ns {
			walk(c, visit)
		}
	}
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		all(x.ColumnRef.Fields)
	case *pg.Node_String_, *pg.Node_AConst, *pg.Node_AStar, *pg.Node_ParamRef:
	case *pg.Node_AExpr:
		all(x.AExpr.Name)
		walk(x.AExpr.Lexpr, visit)
		walk(x.AExpr.Rexpr, visit)
	case *pg.Node_BoolExpr:
		walk(x.BoolExpr.Xpr, visit)
		all(x.BoolExpr.Args)
	case *pg.Node_FuncCall:
		fc := x.FuncCall
		all(fc.Funcname)
		all(fc.Args)
		all(fc.AggOrder)
		walk(fc.AggFilter, visit)
		if w := fc.Over; w != nil {
			all(w.PartitionClause)
			all(w.OrderClause)
			walk(w.StartOffset, visit)
			walk(w.EndOffset, visit)
		}
	case *pg.Node_TypeCast:
		walk(x.TypeCast.Arg, visit)
		if tn := x.TypeCast.TypeName; tn != nil {
			all(tn.Names)
			all(tn.Typmods)
			all(tn.ArrayBounds)
		}
	case *pg.Node_CaseExpr:
		walk(x.CaseExpr.Xpr, visit)
		walk(x.CaseExpr.Arg, visit)
		all(x.CaseExpr.Args)
		walk(x.CaseExpr.Defresult, visit)
	case *pg.Node_CaseWhen:
		walk(x.CaseWhen.Xpr, visit)
		walk(x.CaseWhen.Expr, visit)
		walk(x.CaseWhen.Result, visit)
	case *pg.Node_NullTest:
		walk(x.NullTest.Xpr, visit)
		walk(x.NullTest.Arg, visit)
	case *pg.Node_BooleanTest:
		walk(x.BooleanTest.Xpr, visit)
		walk(x.BooleanTest.Arg, visit)
	case *pg.Node_ResTarget:
		all(x.ResTarget.Indirection)
		walk(x.ResTarget.Val, visit)
	case *pg.Node_SortBy:
		walk(x.SortBy.Node, visit)
		all(x.SortBy.UseOp)
	case *pg.Node_List:
		all(x.List.Items)
	case *pg.Node_MinMaxExpr:
		walk(x.MinMaxExpr.Xpr, visit)
		all(x.MinMaxExpr.Args)
	case *pg.Node_CoalesceExpr:
		walk(x.CoalesceExpr.Xpr, visit)
		all(x.CoalesceExpr.Args)
	default:
		return false
	}
	return true
}

func walkMessage(m protoreflect.Message, visit func(*pg.Node) bool) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkValue(l.Get(i).Message(), visit)
			}
			return true
		}
		if fd.IsMap() {
			return true
		}
		walkValue(v.Message(), visit)
		return true
	})
}

func walkValue(m protoreflect.Message, visit func(*pg.Node) bool) {
	if n, ok := m.Interface().(*pg.Node); ok {
		walk(n, visit)
		return
	}
	walkMessage(m, visit)
}

// walkExpr walks an expression of one query level: it does not enter subqueries.
func walkExpr(n *pg.Node, visit func(*pg.Node) bool) {
	walk(n, func(x *pg.Node) bool {
		if x.GetSelectStmt() != nil {
			return false
		}
		return visit(x)
	})
}

// walkExprOutsideAggregates walks an expression but not the arguments of aggregates.
func walkExprOutsideAggregates(n *pg.Node, visit func(*pg.Node) bool) {
	walkExpr(n, func(x *pg.Node) bool {
		if fc := x.GetFuncCall(); fc != nil && isAggregate(fc) {
			return false
		}
		return visit(x)
	})
}
