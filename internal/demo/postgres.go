package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// WritePostgres creates schema (if missing), replaces the tables of ds inside
// it and loads their rows with COPY, in one transaction: a failed load leaves
// the previous tables in place. Primary keys and an index on the user_id of
// event tables are built after the load, descriptions become COMMENTs, and
// the tables are analysed afterwards so pg_stats is populated.
func WritePostgres(ctx context.Context, conn *pgx.Conn, schema string, ds Dataset) (err error) {
	if schema == "" {
		return errors.New("demo: schema name is empty")
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("demo: begin load of %q: %w", ds.Name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(ctx)
		}
	}()

	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+source.QuoteIdent(schema)); err != nil {
		return fmt.Errorf("demo: create schema %s: %w", schema, err)
	}
	for _, t := range ds.Tables {
		if err := loadPostgresTable(ctx, tx, schema, t); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("demo: commit load of %q: %w", ds.Name, err)
	}

	for _, t := range ds.Tables {
		if _, err := conn.Exec(ctx, "ANALYZE "+qualified(schema, t.Name)); err != nil {
			return fmt.Errorf("demo: analyze %s.%s: %w", schema, t.Name, err)
		}
	}
	return nil
}

func loadPostgresTable(ctx context.Context, tx pgx.Tx, schema string, t Table) error {
	qname := qualified(schema, t.Name)
	for _, stmt := range createStatements(t, qname, false) {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("demo: create table %s.%s: %w", schema, t.Name, err)
		}
	}

	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{schema, t.Name}, names, pgx.CopyFromRows(t.Rows))
	if err != nil {
		return fmt.Errorf("demo: copy into %s.%s: %w", schema, t.Name, err)
	}
	if n != int64(len(t.Rows)) {
		return fmt.Errorf("demo: copy into %s.%s: wrote %d of %d rows", schema, t.Name, n, len(t.Rows))
	}

	var stmts []string
	if t.PrimaryKey != "" {
		stmts = append(stmts, "ALTER TABLE "+qname+" ADD PRIMARY KEY ("+source.QuoteIdent(t.PrimaryKey)+")")
	}
	if isEventTable(t) {
		stmts = append(stmts, "CREATE INDEX "+source.QuoteIdent(t.Name+"_user_id_idx")+" ON "+qname+" (user_id)")
	}
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("demo: index %s.%s: %w", schema, t.Name, err)
		}
	}
	return nil
}

// isEventTable reports whether t holds many rows per panelist: it has a
// user_id column that is not its primary key.
func isEventTable(t Table) bool {
	if t.PrimaryKey == "user_id" {
		return false
	}
	for _, c := range t.Columns {
		if c.Name == "user_id" {
			return true
		}
	}
	return false
}

func qualified(schema, table string) string {
	return source.QuoteIdent(schema) + "." + source.QuoteIdent(table)
}
