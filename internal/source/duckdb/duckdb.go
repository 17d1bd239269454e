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
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"regexp"
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
	// MaxResultBytes bounds the row data one query reads into Go (see
	// [Source.Query]); 0 means [source.DefaultMaxResultBytes], a negative
	// value no bound.
	MaxResultBytes int
}

// Source is a read-only DuckDB database.
type Source struct {
	db             *sql.DB
	queryTimeout   time.Duration
	maxResultBytes int // 0: no bound
}

// MaxTextChars is how many characters of a text value a query reads: an
// answer shows 200 of them, so a longer value is read as its first
// MaxTextChars and still shows as cut. DuckDB computes the whole value
// (it is embedded: that memory is the server's), but Go never copies more
// than this of it.
const MaxTextChars = 8192

// MaxListItems is how many items of a list value a query reads, for the
// same reason.
const MaxListItems = 1000

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
	limit := opts.MaxResultBytes
	switch {
	case limit < 0:
		limit = 0
	case limit == 0:
		limit = source.DefaultMaxResultBytes
	}
	return &Source{db: db, queryTimeout: opts.QueryTimeout, maxResultBytes: limit}, nil
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

// Query implements [source.Source]. The statement is prepared first, so
// its result columns are known before it runs: when some are text or
// lists, the statement that runs wraps it and reads each such value as at
// most its first MaxTextChars characters (MaxListItems items). Rows are
// then read up to maxRows and up to the source's byte bound; past it,
// reading stops and the table says why (Table.Cut).
func (s *Source) Query(ctx context.Context, query string, maxRows int) (*result.Table, error) {
	if s.queryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.queryTimeout)
		defer cancel()
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	defer conn.Close()
	var t *result.Table
	err = conn.Raw(func(dc any) error {
		var err error
		t, err = s.run(ctx, dc, query, maxRows)
		return err
	})
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	return t, nil
}

// run prepares and runs query on the driver connection dc.
func (s *Source) run(ctx context.Context, dc any, query string, maxRows int) (*result.Table, error) {
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, errors.New("duckdb: the driver connection cannot prepare statements")
	}
	st, err := prep.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer func() { st.Close() }()
	ds, ok := st.(*duckdbdrv.Stmt)
	if !ok {
		return nil, errors.New("duckdb: unexpected statement type")
	}
	n, err := ds.ColumnCount()
	if err != nil {
		return nil, err
	}
	names := make([]string, n)
	kinds := make([]duckdbdrv.Type, n)
	wrap := false
	for i := range n {
		if names[i], err = ds.ColumnName(i); err != nil {
			return nil, err
		}
		if kinds[i], err = ds.ColumnType(i); err != nil {
			return nil, err
		}
		wrap = wrap || kinds[i] == duckdbdrv.TYPE_VARCHAR || kinds[i] == duckdbdrv.TYPE_LIST
	}
	if wrap {
		st.Close()
		if st, err = prep.PrepareContext(ctx, bounded(query, kinds)); err != nil {
			return nil, err
		}
	}
	sq, ok := st.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("duckdb: the statement cannot be queried")
	}
	rows, err := sq.QueryContext(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := &result.Table{Columns: make([]result.Column, n)}
	typed, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
	for i := range n {
		typ := ""
		if typed != nil {
			typ = strings.ToLower(typed.ColumnTypeDatabaseTypeName(i))
		}
		t.Columns[i] = result.Column{Name: names[i], Type: typ}
	}
	dest := make([]driver.Value, n)
	read := 0
	for {
		err := rows.Next(dest)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(t.Rows) >= maxRows {
			t.Truncated = true
			break
		}
		row := make([]any, n)
		size := 0
		for i, v := range dest {
			row[i] = normalize(v, t.Columns[i].Type)
			size += valueBytes(row[i])
		}
		if s.maxResultBytes > 0 {
			if read += size; read > s.maxResultBytes {
				t.Truncated, t.Cut = true, source.TooLarge(0, s.maxResultBytes, len(t.Rows))
				break
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// bounded wraps query so that its text columns are read as at most
// MaxTextChars characters and its list columns as at most MaxListItems
// items. The columns are renamed positionally (c1, c2...) so that any
// names, duplicates included, can be referred to; the table keeps the
// original names.
func bounded(query string, kinds []duckdbdrv.Type) string {
	cols := make([]string, len(kinds))
	exprs := make([]string, len(kinds))
	for i, k := range kinds {
		c := fmt.Sprintf("c%d", i+1)
		cols[i] = c
		switch k {
		case duckdbdrv.TYPE_VARCHAR:
			exprs[i] = fmt.Sprintf("left(%s, %d) AS %s", c, MaxTextChars, c)
		case duckdbdrv.TYPE_LIST:
			exprs[i] = fmt.Sprintf("%s[1:%d] AS %s", c, MaxListItems, c)
		default:
			exprs[i] = c
		}
	}
	// The line breaks keep a trailing comment of query from swallowing the
	// closing parenthesis.
	return "SELECT " + strings.Join(exprs, ", ") + " FROM (\n" + query + "\n) AS mcpa_bounded(" + strings.Join(cols, ", ") + ")"
}

// valueBytes approximates the memory a normalised value holds.
func valueBytes(v any) int {
	if s, ok := v.(string); ok {
		return len(s) + 16
	}
	return 16
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
		qe := &source.QueryError{Message: strings.TrimSpace(msg)}
		classifyMessage(qe)
		return qe
	}
	return fmt.Errorf("duckdb query: %w", err)
}

// DuckDB's wording of unknown columns and tables (its errors carry no
// SQLSTATE), with the name and qualifier as submatches.
var (
	unknownColumnREs = []*regexp.Regexp{
		regexp.MustCompile(`^Binder Error: Referenced column "((?:[^"]|"")+)" not found`),
		regexp.MustCompile(`^Binder Error: Table "((?:[^"]|"")+)" does not have a column named "((?:[^"]|"")+)"`),
		regexp.MustCompile(`^Binder Error: Alias with name "((?:[^"]|"")+)" exists, but aliases cannot be used as part of an expression in the GROUP BY`),
	}
	unknownTableRE = regexp.MustCompile(`^Catalog Error: Table with name (\S+) does not exist`)
)

// classifyMessage sets the Kind, Name and Qualifier of an unknown column or
// table, so that callers explain it the same way on both engines.
func classifyMessage(qe *source.QueryError) {
	unquote := func(s string) string { return strings.ReplaceAll(s, `""`, `"`) }
	for i, re := range unknownColumnREs {
		m := re.FindStringSubmatch(qe.Message)
		if m == nil {
			continue
		}
		qe.Kind, qe.Name = source.UndefinedColumn, unquote(m[1])
		if i == 1 {
			qe.Qualifier, qe.Name = unquote(m[1]), unquote(m[2])
		}
		return
	}
	if m := unknownTableRE.FindStringSubmatch(qe.Message); m != nil {
		qe.Kind, qe.Name = source.UndefinedTable, strings.TrimSuffix(m[1], "!")
	}
}
