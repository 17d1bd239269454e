package sqlguard

import (
	"errors"
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Deparse returns the SQL of tree with the row cap applied to the top-level
// statement, so the database stops after limit rows:
//   - no LIMIT, LIMIT ALL, LIMIT NULL or a non-constant LIMIT becomes LIMIT limit;
//   - a constant LIMIT larger than limit becomes limit, a smaller one stays;
//   - FETCH FIRST n ROWS WITH TIES, which may return more than n rows, is
//     wrapped as SELECT * FROM (...) LIMIT limit.
//
// limit <= 0 leaves LIMIT alone. The tree passed in is not modified. Callers
// pass cap+1 so they can tell "more than cap rows" from "exactly cap rows".
func Deparse(tree *pg_query.ParseResult, limit int) (string, error) {
	if tree == nil || len(tree.Stmts) != 1 {
		return "", errors.New("deparse: want a tree with exactly one statement")
	}
	raw := tree.Stmts[0]
	sel := raw.GetStmt().GetSelectStmt()
	if sel == nil {
		return "", errors.New("deparse: the statement is not a SELECT")
	}
	if limit > 0 {
		if capped := capLimit(sel, int32(min(limit, 1<<31-1))); capped != sel {
			tree = &pg_query.ParseResult{
				Version: tree.Version,
				Stmts: []*pg_query.RawStmt{{
					Stmt:         &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: capped}},
					StmtLocation: raw.StmtLocation,
					StmtLen:      raw.StmtLen,
				}},
			}
		}
	}
	sql, err := pg_query.Deparse(tree)
	if err != nil {
		return "", fmt.Errorf("deparse: %w", err)
	}
	return sql, nil
}

// capLimit returns sel when its LIMIT is already at most limit, else a new
// statement that shares sel's parts but has LIMIT limit.
func capLimit(sel *pg_query.SelectStmt, limit int32) *pg_query.SelectStmt {
	if sel.LimitOption == pg_query.LimitOption_LIMIT_OPTION_WITH_TIES {
		return &pg_query.SelectStmt{
			TargetList: []*pg_query.Node{pg_query.MakeResTargetNodeWithVal(
				pg_query.MakeColumnRefNode([]*pg_query.Node{pg_query.MakeAStarNode()}, -1), -1)},
			FromClause: []*pg_query.Node{{Node: &pg_query.Node_RangeSubselect{RangeSubselect: &pg_query.RangeSubselect{
				Subquery: &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: sel}},
				Alias:    &pg_query.Alias{Aliasname: "capped"},
			}}}},
			LimitCount:  pg_query.MakeAConstIntNode(int64(limit), -1),
			LimitOption: pg_query.LimitOption_LIMIT_OPTION_COUNT,
			Op:          pg_query.SetOperation_SETOP_NONE,
		}
	}
	if c := sel.LimitCount.GetAConst(); c != nil && !c.Isnull {
		if iv, ok := c.Val.(*pg_query.A_Const_Ival); ok && iv.Ival.GetIval() <= limit {
			return sel
		}
	}
	capped := shallowCopy(sel)
	capped.LimitCount = pg_query.MakeAConstIntNode(int64(limit), -1)
	capped.LimitOption = pg_query.LimitOption_LIMIT_OPTION_COUNT
	return capped
}

// shallowCopy returns a new SelectStmt whose fields point at sel's children.
// It goes through protoreflect so fields added by a newer pg_query are kept.
func shallowCopy(sel *pg_query.SelectStmt) *pg_query.SelectStmt {
	c := &pg_query.SelectStmt{}
	cm := c.ProtoReflect()
	sel.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		cm.Set(fd, v)
		return true
	})
	return c
}
