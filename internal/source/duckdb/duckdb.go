// Package duckdb is the [source.Source] for embedded DuckDB databases: the
// zero-setup default and the way to serve a Parquet or CSV export without a
// database server.
//
// Databases are opened read-only with external access disabled (no file,
// HTTP or replacement scans outside the database), extension autoload and
// autoinstall off, and the configuration locked, so even SQL that slipped
// past the guard could neither write nor read outside the dataset.
// DuckDB has no statement_timeout: queries are interrupted through their
// context, which the caller bounds with the dataset's query timeout.
package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

var _ source.Source = (*Source)(nil)

// Options configure a DuckDB source.
type Options struct {
	MaxConns     int
	QueryTimeout time.Duration
}

// Source is a read-only DuckDB database.
type Source struct {
	db           *sql.DB
	queryTimeout time.Duration
}

// lockdown is the configuration every database is opened with.
var lockdown = []string{
	"access_mode=read_only",
	"enable_external_access=false",
	"autoinstall_known_extensions=false",
	"autoload_known_extensions=false",
	"lock_configuration=true",
}

// Open opens the DuckDB file at path read-only and locked down.
func Open(ctx context.Context, path string, opts Options) (*Source, error) {
	if path == "" || strings.ContainsAny(path, "?") {
		return nil, errors.New("duckdb: the connection string must be the path of a database file")
	}
	dsn := path + "?" + strings.Join(lockdown, "&")
	connector, err := duckdbdrv.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	if opts.MaxConns > 0 {
		db.SetMaxOpenConns(opts.MaxConns)
		db.SetMaxIdleConns(opts.MaxConns)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	return &Source{db: db, queryTimeout: opts.QueryTimeout}, nil
}

// DSN returns the path part of a "duckdb://" or plain connection string.
func DSN(conn string) string {
	if u, err := url.Parse(conn); err == nil && u.Scheme == "duckdb" {
		return u.Host + u.Path
	}
	return conn
}

// Close implements [source.Source].
func (s *Source) Close() { s.db.Close() }

// Query implements [source.Source].
func (s *Source) Query(ctx context.Context, query string, maxRows int) (*result.Table, error) {
	if s.queryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.queryTimeout)
		defer cancel()
	}
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	t := &result.Table{Columns: make([]result.Column, len(cts))}
	for i, ct := range cts {
		t.Columns[i] = result.Column{Name: ct.Name(), Type: strings.ToLower(ct.DatabaseTypeName())}
	}
	dest := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	for rows.Next() {
		if len(t.Rows) >= maxRows {
			t.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, s.classify(ctx, err)
		}
		row := make([]any, len(dest))
		for i, v := range dest {
			row[i] = normalize(v, t.Columns[i].Type)
		}
		t.Rows = append(t.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, s.classify(ctx, err)
	}
	return t, nil
}

// Tables implements [source.Source].
func (s *Source) Tables(ctx context.Context) ([]source.Table, error) {
	const q = `
SELECT c.table_name, c.column_name, lower(c.data_type), c.is_nullable = 'YES',
       coalesce(t.estimated_size, -1)
FROM information_schema.columns c
LEFT JOIN duckdb_tables() t ON t.schema_name = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = 'main'
ORDER BY c.table_name, c.ordinal_position`
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	defer rows.Close()
	var tables []source.Table
	for rows.Next() {
		var name, col, typ string
		var nullable bool
		var estimate int64
		if err := rows.Scan(&name, &col, &typ, &nullable, &estimate); err != nil {
			return nil, s.classify(ctx, err)
		}
		if len(tables) == 0 || tables[len(tables)-1].Name != name {
			tables = append(tables, source.Table{Name: name, RowEstimate: estimate})
		}
		t := &tables[len(tables)-1]
		t.Columns = append(t.Columns, source.Column{Name: col, Type: typ, Nullable: nullable})
	}
	if err := rows.Err(); err != nil {
		return nil, s.classify(ctx, err)
	}
	return tables, nil
}

func normalize(v any, typ string) any {
	switch x := v.(type) {
	case duckdbdrv.Decimal:
		return x.Float64()
	case duckdbdrv.UUID:
		return x.String()
	case duckdbdrv.Interval:
		return fmt.Sprintf("%d mons %d days %s", x.Months, x.Days, time.Duration(x.Micros)*time.Microsecond)
	case *big.Int:
		return source.Normalize(x, typ)
	}
	return source.Normalize(v, typ)
}

func (s *Source) classify(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &source.TimeoutError{Timeout: s.queryTimeout}
		}
		return ctxErr
	}
	var de *duckdbdrv.Error
	if errors.As(err, &de) {
		// DuckDB quotes the SQL it ran ("LINE 1: SELECT ... LIMIT 6" with a
		// caret): that is the rewritten SQL, not what the caller sent, so
		// only the message itself is passed on.
		msg := de.Msg
		if i := strings.Index(msg, "\nLINE "); i >= 0 {
			msg = msg[:i]
		}
		return &source.QueryError{Message: strings.TrimSpace(msg)}
	}
	return fmt.Errorf("duckdb query: %w", err)
}
