// Package source defines how mcp-analytics reaches a dataset's database.
// Two implementations exist: source/postgres (pgx and pgxpool, for PostgreSQL
// and anything that speaks its protocol) and source/duckdb (embedded DuckDB).
// Both open their databases read-only and cap rows while scanning, so a
// result is never buffered beyond its cap.
package source

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// Source runs read-only SQL against one dataset.
type Source interface {
	// Query runs sql and returns at most maxRows rows; when the database
	// has more, the table is marked Truncated. Callers push LIMIT maxRows+1
	// into the SQL so the database stops early as well.
	Query(ctx context.Context, sql string, maxRows int) (*result.Table, error)
	// Tables describes the tables and views the dataset exposes.
	Tables(ctx context.Context) ([]Table, error)
	// Close releases the connections once in-flight queries are done.
	Close()
}

// DefaultMaxResultBytes is how many bytes of row data one query may read
// unless configured otherwise: sixteen times the 256 KB an answer may have
// (cells are cut to 200 characters when rendered), so that neither one
// giant value nor many large rows are held whole in memory.
const DefaultMaxResultBytes = 4 << 20

// TooLarge returns the note of a result whose reading stopped because its
// rows took more than limit bytes: one row of rowBytes (when known, > 0)
// or, after shown rows, all of them together.
func TooLarge(rowBytes, limit, shown int) string {
	if rowBytes > 0 {
		return fmt.Sprintf("Row %d is %s, more than the %s a query may read (limits.max_result_bytes); it was not read and the query was stopped. Select less of it, e.g. left(column, 200) or length(column).",
			shown+1, Bytes(rowBytes), Bytes(limit))
	}
	return fmt.Sprintf("Reading stopped after %d rows: the rows took more than the %s a query may read (limits.max_result_bytes). Select fewer or shorter columns.",
		shown, Bytes(limit))
}

// Bytes writes a byte count as "4 MB", "512 KB" or "100 bytes".
func Bytes(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(math.Round(float64(n)/(1<<20)*10)/10, 'f', -1, 64) + " MB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + " KB"
	}
	return strconv.Itoa(n) + " bytes"
}

// Table describes one table or view.
type Table struct {
	Name        string
	Columns     []Column
	RowEstimate int64 // from the database's statistics; -1 when unknown
}

// Column describes one column of a table.
type Column struct {
	Name     string
	Type     string
	Nullable bool
}

// QueryError is an error the caller can fix: the database rejected the SQL
// (unknown table, type mismatch, division by zero...). Its text is safe to
// show to a client: it never holds connection details.
type QueryError struct {
	Message  string
	Detail   string
	Hint     string
	Position int // 1-based character position in the SQL that ran, 0 when unknown
	// Code is the SQLSTATE the database reported ("" when it has none),
	// for the query log; it is not part of the message.
	Code string
	// Kind is set for the errors a caller can explain better than the
	// database, which PostgreSQL and DuckDB word differently:
	// UndefinedColumn and UndefinedTable. "" for any other error.
	Kind string
	// Name is the unknown column or table of an UndefinedColumn or
	// UndefinedTable error, as the database reports it.
	Name string
	// Qualifier is the table or alias an unknown column was written with
	// ("u" for u.gendr), "" when it had none.
	Qualifier string
}

// Kinds of [QueryError].
const (
	// UndefinedColumn: the SQL names a column no table in its FROM has
	// (PostgreSQL 42703; DuckDB's Binder Error "Referenced column ... not
	// found", "Table ... does not have a column named ...", and the
	// "Alias with name ... exists" that an unknown GROUP BY name gives once
	// the SELECT list carries explicit aliases).
	UndefinedColumn = "undefined_column"
	// UndefinedTable: the SQL reads a relation the database does not have
	// (PostgreSQL 42P01 "relation ... does not exist"; DuckDB's Catalog
	// Error "Table with name ... does not exist").
	UndefinedTable = "undefined_table"
)

func (e *QueryError) Error() string {
	s := e.Message
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Hint != "" {
		s += ". Hint: " + e.Hint
	}
	return s
}

// UnavailableError reports that the dataset's database cannot be reached.
// Err holds the cause for the logs; Error() is safe to show to a client.
type UnavailableError struct {
	Err error
}

func (e *UnavailableError) Error() string {
	return "the dataset's database cannot be reached right now; try again shortly"
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// TimeoutError reports that a query ran longer than its timeout.
type TimeoutError struct {
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the query ran longer than the %s timeout and was cancelled; narrow it (filters, fewer groups) or aggregate", e.Timeout)
}

// BusyError reports that every connection to the dataset's database stayed
// in use for longer than the source waits for one.
type BusyError struct {
	Conns int
	Wait  time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("all %d connections to the dataset's database stayed busy for %s; try again shortly, or send fewer queries at once", e.Conns, e.Wait)
}
