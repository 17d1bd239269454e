// Package postgres is the [source.Source] for PostgreSQL and anything that
// speaks its protocol (Citus, managed PostgreSQL, warehouses with a
// PostgreSQL endpoint), built on pgxpool.
//
// Every session is read-only and time-limited by connection runtime
// parameters (default_transaction_read_only, statement_timeout,
// idle_in_transaction_session_timeout), so a query costs one round trip: no
// per-query BEGIN or SET. Queries use pgx's QueryExecModeExec: the extended
// protocol with an unnamed statement, sent as Parse/Bind/Execute in one
// round trip, never prepared twice and never through the simple protocol
// (which would run ;-joined statements). When a caller's context ends,
// PostgreSQL is sent a cancel request so the query stops on the server too.
//
// Round trips decide the time against a remote database, so none is spent
// that a query does not need. pgxpool pings a connection that sat idle for
// more than a second before handing it out — one extra round trip on
// nearly every call of an assistant that asks a question every few
// seconds. Here a connection is pinged only after [PingAfterIdle]; one that
// turns out to be dead is detected by the query itself, which is then run
// once more on a fresh connection: safe, because every session is
// read-only. The pool opens MinConns connections concurrently in the
// background as soon as it is created, so the first queries find them
// ready.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // session time zones (TimeZone) on hosts without a zoneinfo database

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

var _ source.Source = (*Source)(nil)

// PingAfterIdle is how long a pooled connection may sit idle before it is
// checked with a ping (one round trip) before use. Shorter idles skip the
// ping; a connection lost meanwhile costs a retry instead (see
// [Source.Query]). Longer idles keep it, because a connection dropped
// silently by a firewall can hang a query rather than fail it.
const PingAfterIdle = time.Minute

// Options configure a pool.
type Options struct {
	MinConns       int
	MaxConns       int
	IdleTimeout    time.Duration
	ConnectTimeout time.Duration
	QueryTimeout   time.Duration
	// AcquireTimeout bounds the wait for a free connection; 0 means 10 s
	// (or the query timeout when that is shorter).
	AcquireTimeout time.Duration
	// MaxResultBytes bounds the row data one query reads (see
	// [Source.Query]); 0 means [source.DefaultMaxResultBytes], a negative
	// value no bound.
	MaxResultBytes int
	// WorkMem and MaxParallelWorkersPerGather, when set, are sent as
	// runtime parameters when each connection starts (no round trip):
	// the memory a sort or hash may use before spilling to disk, and the
	// workers one Gather may start. "" and nil keep the database's own.
	WorkMem                     string
	MaxParallelWorkersPerGather *int
	Logger                      *slog.Logger
}

// Source is a pool of read-only connections to one PostgreSQL database.
type Source struct {
	pool           *pgxpool.Pool
	queryTimeout   time.Duration
	acquireTimeout time.Duration
	maxResultBytes int // 0: no bound
	log            *slog.Logger
	// zones caches the locations of the sessions' TimeZone settings.
	zones sync.Map // string → *time.Location (nil when unknown)
}

// Open creates the pool. It does not wait for a connection: the first ones
// are opened in the background (MinConns) and on first use.
func Open(ctx context.Context, dsn string, opts Options) (*Source, error) {
	cfg, err := Config(dsn, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", redact(err))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait := opts.AcquireTimeout
	if wait <= 0 {
		wait = 10 * time.Second
		if opts.QueryTimeout > 0 && opts.QueryTimeout < wait {
			wait = opts.QueryTimeout
		}
	}
	return &Source{pool: pool, queryTimeout: opts.QueryTimeout, acquireTimeout: wait, maxResultBytes: resultBytes(opts), log: log}, nil
}

// Config builds the pool configuration Open uses: read-only sessions with
// the timeouts as runtime parameters, the one-round-trip exec mode, cancel
// requests on context end.
func Config(dsn string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors quote the connection string: never pass them on.
		return nil, errors.New("the connection string is not a valid PostgreSQL URL or key=value string")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	if opts.MinConns >= 0 && int32(opts.MinConns) <= cfg.MaxConns {
		cfg.MinConns = int32(opts.MinConns)
	}
	if opts.IdleTimeout > 0 {
		cfg.MaxConnIdleTime = opts.IdleTimeout
	}
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool {
		return p.IdleDuration > PingAfterIdle
	}
	cc := cfg.ConnConfig
	if opts.ConnectTimeout > 0 {
		cc.ConnectTimeout = opts.ConnectTimeout
	}
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["default_transaction_read_only"] = "on"
	// Strings are read as the SQL guard's parser reads them (a backslash is
	// an ordinary character), whatever the database's or role's default:
	// with this off, 'a\' would end a string one quote later on the server
	// than in the guard.
	cc.RuntimeParams["standard_conforming_strings"] = "on"
	if opts.QueryTimeout > 0 {
		cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.QueryTimeout.Milliseconds(), 10)
		cc.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(opts.QueryTimeout.Milliseconds(), 10)
	}
	if opts.WorkMem != "" {
		cc.RuntimeParams["work_mem"] = opts.WorkMem
	}
	if opts.MaxParallelWorkersPerGather != nil {
		cc.RuntimeParams["max_parallel_workers_per_gather"] = strconv.Itoa(*opts.MaxParallelWorkersPerGather)
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "mcp-analytics"
	}
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	// A protocol message longer than a query may read (a row holding a
	// 200 MB value) fails as soon as its length is read, before its body
	// is: pgx would otherwise buffer it whole. The connection is then
	// closed, which stops the query on the server too.
	if limit := resultBytes(opts); limit > 0 {
		cc.MaxProtocolMessageBodyLen = limit
	}
	// A session whose read-only default or string syntax was switched off
	// (by SQL that got past the guard) is never reused: PostgreSQL reports
	// these settings' changes to the client (the read-only default since
	// 14), so the check costs no round trip.
	cfg.AfterRelease = func(c *pgx.Conn) bool {
		ro := c.PgConn().ParameterStatus("default_transaction_read_only")
		scs := c.PgConn().ParameterStatus("standard_conforming_strings")
		return (ro == "" || ro == "on") && (scs == "" || scs == "on")
	}
	cc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, CancelRequestDelay: 0, DeadlineDelay: 2 * time.Second}
	}
	return cfg, nil
}

// Pool exposes the underlying pool (for benchmarks and tests).
func (s *Source) Pool() *pgxpool.Pool { return s.pool }

// Close waits for in-flight queries to return their connections, then
// closes the pool.
func (s *Source) Close() { s.pool.Close() }

// Query implements [source.Source]. A query that fails because its
// connection was lost (the server restarted, an idle connection was cut)
// is run again on another connection: sessions are read-only, so running
// it again changes nothing. A dead connection fails at once and is dropped
// by the pool, so after a restart, when every idle connection is dead, at
// most one attempt per pooled connection is spent before a fresh one.
func (s *Source) Query(ctx context.Context, sql string, maxRows int) (*result.Table, error) {
	t, err := s.query(ctx, sql, maxRows)
	for retries := int(s.pool.Config().MaxConns); err != nil && retries > 0 && ctx.Err() == nil && connectionLost(err); retries-- {
		s.log.DebugContext(ctx, "connection lost; running the query again", "err", err)
		t, err = s.query(ctx, sql, maxRows)
	}
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	return t, nil
}

// query runs sql once. Rows are read up to maxRows and, in bytes, up to
// the source's MaxResultBytes, counted on the raw values before they are
// decoded: past it, PostgreSQL is told to stop (a cancel request) and the
// table says why it was cut (Table.Cut). A single row longer than the
// bound is refused by the protocol reader before it is buffered (see
// Config), and ends the same way.
func (s *Source) query(ctx context.Context, sql string, maxRows int) (*result.Table, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	qctx, stop := context.WithCancel(ctx)
	defer stop()
	rows, err := conn.Query(qctx, sql)
	if err != nil {
		if t, ok := s.tooLarge(err, &result.Table{}); ok {
			abandon(conn)
			return t, nil
		}
		return nil, err
	}
	defer rows.Close()

	fds := rows.FieldDescriptions()
	tm := rows.Conn().TypeMap()
	loc := s.zone(conn.Conn().PgConn())
	t := &result.Table{Columns: make([]result.Column, len(fds))}
	for i, fd := range fds {
		t.Columns[i] = result.Column{Name: fd.Name, Type: typeName(tm, fd.DataTypeOID)}
	}
	read := 0
	for rows.Next() {
		if len(t.Rows) >= maxRows {
			t.Truncated = true
			break
		}
		if s.maxResultBytes > 0 {
			read += rowBytes(rows.RawValues())
			if read > s.maxResultBytes {
				t.Truncated, t.Cut = true, source.TooLarge(0, s.maxResultBytes, len(t.Rows))
				stop() // a cancel request: the rest is not sent, nor read
				break
			}
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		// Values allocates a fresh slice per row: normalise in place.
		for i, v := range vals {
			vals[i] = normalize(v, t.Columns[i].Type, loc)
		}
		t.Rows = append(t.Rows, vals)
	}
	rows.Close()
	if t.Cut != "" {
		return t, nil // the error is the cancellation asked for above
	}
	if err := rows.Err(); err != nil {
		if t, ok := s.tooLarge(err, t); ok {
			abandon(conn)
			return t, nil
		}
		return nil, err
	}
	return t, nil
}

// abandon drops a connection that pgx has closed after a message too long
// to read. pgx would drain the rest of that message (hundreds of MB) before
// the connection is gone; closing the socket stops the server at once.
func abandon(conn *pgxpool.Conn) {
	c := conn.Hijack()
	_ = c.PgConn().Conn().Close()
}

// tooLarge reports whether err is a message longer than the source may
// read, and if so returns t (the rows read before it) with the note.
func (s *Source) tooLarge(err error, t *result.Table) (*result.Table, bool) {
	var big *pgproto3.ExceededMaxBodyLenErr
	if !errors.As(err, &big) {
		return nil, false
	}
	s.log.Info("a result row was larger than a query may read; the query was stopped", "bytes", big.ActualBodyLen, "limit", s.maxResultBytes)
	t.Truncated, t.Cut = true, source.TooLarge(big.ActualBodyLen, s.maxResultBytes, len(t.Rows))
	return t, true
}

// rowBytes is the size of a row's raw values.
func rowBytes(raw [][]byte) int {
	n := 0
	for _, v := range raw {
		n += len(v)
	}
	return n
}

// resultBytes is the byte bound of opts (0: none).
func resultBytes(opts Options) int {
	switch {
	case opts.MaxResultBytes < 0:
		return 0
	case opts.MaxResultBytes == 0:
		return source.DefaultMaxResultBytes
	}
	return opts.MaxResultBytes
}

// connectionLost reports whether err means the connection died under the
// query: a network error, or the server ending the session (admin
// shutdown, crash recovery, a connection failure class error).
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" || strings.HasPrefix(pgErr.Code, "08")
	}
	var netErr net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) || pgconn.SafeToRetry(err)
}

// Tables implements [source.Source]: the tables, views and materialized
// views visible on the connection's search_path, with pg_class's row
// estimates.
func (s *Source) Tables(ctx context.Context) ([]source.Table, error) {
	const q = `
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       CASE WHEN c.reltuples < 0 THEN -1 ELSE c.reltuples::bigint END
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY c.relname, a.attnum`
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	var tables []source.Table
	var name, col, typ string
	var nullable bool
	var estimate int64
	_, err = pgx.ForEachRow(rows, []any{&name, &col, &typ, &nullable, &estimate}, func() error {
		if len(tables) == 0 || tables[len(tables)-1].Name != name {
			tables = append(tables, source.Table{Name: name, RowEstimate: estimate})
		}
		t := &tables[len(tables)-1]
		t.Columns = append(t.Columns, source.Column{Name: col, Type: typ, Nullable: nullable})
		return nil
	})
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	return tables, nil
}

// CanWrite reports whether the dataset's role could write if a session were
// not read-only: it owns or may modify some visible table, or may create in
// the current schema. Used to warn operators to use a read-only role.
func (s *Source) CanWrite(ctx context.Context) (bool, error) {
	const q = `
SELECT EXISTS (
  SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema')
    AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
         OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE')))
  OR has_schema_privilege(current_schema(), 'CREATE')`
	var can bool
	if err := s.pool.QueryRow(ctx, q).Scan(&can); err != nil {
		return false, s.classify(ctx, err)
	}
	return can, nil
}

// acquire takes a connection from the pool, waiting at most the source's
// acquire timeout: an exhausted pool is a clear, bounded error, not a query
// that seems to hang until its own timeout.
func (s *Source) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, s.acquireTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(actx)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		return nil, &source.BusyError{Conns: int(s.pool.Config().MaxConns), Wait: s.acquireTimeout}
	}
	return conn, err
}

func typeName(tm *pgtype.Map, oid uint32) string {
	if t, ok := tm.TypeForOID(oid); ok {
		switch t.Name {
		case "int2":
			return "smallint"
		case "int4":
			return "integer"
		case "int8":
			return "bigint"
		case "float4":
			return "real"
		case "float8":
			return "double precision"
		case "bool":
			return "boolean"
		case "timestamptz":
			return "timestamp with time zone"
		case "timestamp":
			return "timestamp without time zone"
		case "bpchar":
			return "character"
		}
		return t.Name
	}
	return "oid " + strconv.FormatUint(uint64(oid), 10)
}

// zone returns the location of the session's TimeZone setting, in which
// PostgreSQL itself shows a timestamp with time zone; nil when it is not
// known. pgx scans such a value into the Go process's local zone, so
// without this date_trunc('month', d), midnight of the first in the
// session's zone, would read as 18:30 the day before under a UTC process
// and an Asia/Kolkata database.
func (s *Source) zone(pc *pgconn.PgConn) *time.Location {
	name := pc.ParameterStatus("TimeZone")
	if name == "" {
		return nil
	}
	if loc, ok := s.zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	s.zones.Store(name, loc)
	return loc
}

// normalize converts a scanned value into a result value; loc is the
// session's zone (see zone), used for timestamps with time zone.
func normalize(v any, typ string, loc *time.Location) any {
	switch x := v.(type) {
	case time.Time:
		if loc != nil && typ == "timestamp with time zone" {
			return source.Normalize(x.In(loc), typ)
		}
	case pgtype.Numeric:
		if !x.Valid {
			return nil
		}
		if x.NaN {
			return "NaN"
		}
		f, err := x.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return f.Float64
	case pgtype.Interval:
		if !x.Valid {
			return nil
		}
		return intervalString(x)
	case pgtype.Time:
		if !x.Valid {
			return nil
		}
		d := time.Duration(x.Microseconds) * time.Microsecond
		return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	case net.IPNet:
		return x.String()
	}
	return source.Normalize(v, typ)
}

func intervalString(iv pgtype.Interval) string {
	s := ""
	if iv.Months != 0 {
		s += fmt.Sprintf("%d mons ", iv.Months)
	}
	if iv.Days != 0 {
		s += fmt.Sprintf("%d days ", iv.Days)
	}
	d := time.Duration(iv.Microseconds) * time.Microsecond
	return s + fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// classify turns a pgx error into one of source's error kinds.
func (s *Source) classify(ctx context.Context, err error) error {
	var busy *source.BusyError
	if errors.As(err, &busy) {
		return busy
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57014" && ctx.Err() == nil: // statement_timeout
			return &source.TimeoutError{Timeout: s.queryTimeout}
		case pgErr.Code == "57014" && errors.Is(ctx.Err(), context.DeadlineExceeded):
			return &source.TimeoutError{Timeout: s.queryTimeout}
		case pgErr.Code == "57014":
			return ctx.Err()
		case len(pgErr.Code) >= 2 && (pgErr.Code[:2] == "08" || pgErr.Code[:2] == "53" || pgErr.Code[:3] == "57P"):
			return &source.UnavailableError{Err: redact(err)}
		case pgErr.Code == "25006": // read_only_sql_transaction
			return &source.QueryError{Message: "the dataset is read-only: " + pgErr.Message, Hint: "only SELECT queries are allowed", Code: pgErr.Code}
		}
		qe := &source.QueryError{Message: pgErr.Message, Detail: pgErr.Detail, Hint: pgErr.Hint, Position: int(pgErr.Position), Code: pgErr.Code}
		switch pgErr.Code {
		case "42703": // undefined_column
			if m := undefinedColumnRE.FindStringSubmatch(pgErr.Message); m != nil {
				qe.Kind = source.UndefinedColumn
				qe.Qualifier, qe.Name = splitQualified(m[1])
			}
		case "42P01": // undefined_table
			if m := undefinedTableRE.FindStringSubmatch(pgErr.Message); m != nil {
				qe.Kind, qe.Name = source.UndefinedTable, strings.ReplaceAll(m[1], `""`, `"`)
			}
		}
		return qe
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &source.TimeoutError{Timeout: s.queryTimeout}
		}
		return ctxErr
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || connectionLost(err) {
		return &source.UnavailableError{Err: redact(err)}
	}
	return fmt.Errorf("postgres query: %w", redact(err))
}

// PostgreSQL's wording of 42703 and 42P01: `column "gendr" does not
// exist`, `column u.gendr does not exist`, `relation "userz" does not
// exist` ("missing FROM-clause entry for table" is 42P01 too, and is left
// as it is).
var (
	undefinedColumnRE = regexp.MustCompile(`^column (.+) does not exist$`)
	undefinedTableRE  = regexp.MustCompile(`^relation "((?:[^"]|"")+)" does not exist$`)
)

// splitQualified splits the column of a 42703 message, u.gendr or
// "Gendr" or u."Gendr", into its qualifier and name.
func splitQualified(s string) (qualifier, name string) {
	parts := []string{}
	for s != "" {
		var part string
		if strings.HasPrefix(s, `"`) {
			end := 1
			for end < len(s) {
				if s[end] == '"' {
					if end+1 < len(s) && s[end+1] == '"' {
						end += 2
						continue
					}
					break
				}
				end++
			}
			part = strings.ReplaceAll(s[1:min(end, len(s))], `""`, `"`)
			s = s[min(end+1, len(s)):]
		} else {
			i := strings.IndexByte(s, '.')
			if i < 0 {
				i = len(s)
			}
			part, s = s[:i], s[i:]
		}
		parts = append(parts, part)
		s = strings.TrimPrefix(s, ".")
	}
	if len(parts) == 0 {
		return "", ""
	}
	if len(parts) == 1 {
		return "", parts[0]
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

// redact keeps a connection error's cause but not the connection string:
// pgx's ConnectError prints the user, host and database, never the
// password, and the cause (dial error, authentication failure) is what an
// operator needs in the log.
func redact(err error) error {
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("connect: %w", connErr.Unwrap())
	}
	return err
}
