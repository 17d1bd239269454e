package demo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// WriteDuckDB creates the tables of ds in db (a read-write DuckDB
// connection), replacing tables of the same names, and loads the rows with
// DuckDB's appender, in one transaction: a failed or cancelled load leaves
// the previous tables in place. Descriptions become COMMENTs, so they show
// in duckdb_tables() and duckdb_columns().
func WriteDuckDB(ctx context.Context, db *sql.DB, ds Dataset) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("demo: connect to duckdb: %w", err)
	}
	defer conn.Close()

	// The appender writes through the driver connection, outside
	// database/sql's transaction bookkeeping, so the transaction is managed
	// by statements on the same connection.
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("demo: begin load of %q: %w", ds.Name, err)
	}
	defer func() {
		if err != nil {
			// A fresh context: the rollback must run even when ctx is done.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	for _, t := range ds.Tables {
		for _, stmt := range createStatements(t, source.QuoteIdent(t.Name), true) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("demo: create table %s: %w", t.Name, err)
			}
		}
		if err := appendRows(ctx, conn, t); err != nil {
			return fmt.Errorf("demo: load table %s: %w", t.Name, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("demo: commit load of %q: %w", ds.Name, err)
	}
	return nil
}

// createStatements returns the statements that replace table t, named
// qname (quoted) in the SQL, and attach its descriptions as COMMENTs. They
// are portable to PostgreSQL and DuckDB. The primary key is declared inline
// only when inlineKey is set; PostgreSQL adds it after the load instead.
func createStatements(t Table, qname string, inlineKey bool) []string {
	var cols []string
	for _, c := range t.Columns {
		def := source.QuoteIdent(c.Name) + " " + c.Type
		if !c.Nullable {
			def += " NOT NULL"
		}
		if inlineKey && c.Name == t.PrimaryKey {
			def += " PRIMARY KEY"
		}
		cols = append(cols, def)
	}
	out := []string{
		"DROP TABLE IF EXISTS " + qname,
		"CREATE TABLE " + qname + " (\n\t" + strings.Join(cols, ",\n\t") + "\n)",
		"COMMENT ON TABLE " + qname + " IS " + source.QuoteLiteral(t.Description),
	}
	for _, c := range t.Columns {
		out = append(out, "COMMENT ON COLUMN "+qname+"."+source.QuoteIdent(c.Name)+" IS "+source.QuoteLiteral(c.Description))
	}
	return out
}

func appendRows(ctx context.Context, conn *sql.Conn, t Table) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("connection is %T, not a duckdb driver connection", dc)
		}
		a, err := duckdb.NewAppenderFromConn(c, "", t.Name)
		if err != nil {
			return fmt.Errorf("open appender: %w", err)
		}
		row := make([]driver.Value, len(t.Columns))
		for n, r := range t.Rows {
			if n%10000 == 0 {
				if err := ctx.Err(); err != nil {
					return errors.Join(err, a.Close())
				}
			}
			for i, v := range r {
				row[i] = duckValue(t.Columns[i].Type, v)
			}
			if err := a.AppendRow(row...); err != nil {
				return errors.Join(fmt.Errorf("append row %d: %w", n+1, err), a.Close())
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("flush appender: %w", err)
		}
		return nil
	})
}

// duckValue converts a row value to what the appender expects. The appender
// stores a float64 into a DECIMAL column as its unscaled integer, so amounts
// (whole paise as float64) become duckdb.Decimal values.
func duckValue(typ string, v any) driver.Value {
	f, ok := v.(float64)
	if !ok {
		return v
	}
	switch typ {
	case TypeMoney:
		return duckdb.Decimal{Width: 12, Scale: 2, Value: big.NewInt(int64(math.Round(f * 100)))}
	case TypeAmount:
		return duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(int64(math.Round(f * 100)))}
	}
	return f
}
