package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
)

// QueryBatch runs several queries on one connection in one round trip:
// they are sent together in pipeline mode, each followed by its own Sync,
// so each runs in its own implicit transaction and a failing query does not
// affect the others. The database runs them one after the other, as it
// would on one connection; what is saved is the round trip per query, which
// is most of the time against a database tens of milliseconds away.
//
// Results are in the order of sqls; maxRows[i] caps the rows kept of
// query i. errs[i] is nil when query i succeeded, and is classified as
// [Source.Query]'s errors are. When the connection is lost part way, the
// queries without an answer are run again one by one (sessions are
// read-only, so running them again changes nothing).
func (s *Source) QueryBatch(ctx context.Context, sqls []string, maxRows []int) ([]*result.Table, []error) {
	tables := make([]*result.Table, len(sqls))
	errs := make([]error, len(sqls))
	if len(sqls) == 0 {
		return tables, errs
	}
	if len(maxRows) != len(sqls) {
		for i := range errs {
			errs[i] = fmt.Errorf("postgres batch: %d queries but %d row caps", len(sqls), len(maxRows))
		}
		return tables, errs
	}
	answered := s.pipeline(ctx, sqls, maxRows, tables, errs)
	for i := range sqls {
		switch {
		case !answered[i]:
			tables[i], errs[i] = s.Query(ctx, sqls[i], maxRows[i])
		case errs[i] != nil:
			errs[i] = s.classify(ctx, errs[i])
		}
	}
	return tables, errs
}

// pipeline sends every query on one connection and reads the answers. It
// reports which queries got an answer (a table or an error of their own);
// the others are to be run again.
func (s *Source) pipeline(ctx context.Context, sqls []string, maxRows []int, tables []*result.Table, errs []error) []bool {
	answered := make([]bool, len(sqls))
	conn, err := s.acquire(ctx)
	if err != nil {
		for i := range errs {
			errs[i], answered[i] = err, true
		}
		return answered
	}
	defer conn.Release()
	tm := conn.Conn().TypeMap()
	loc := s.zone(conn.Conn().PgConn())
	p := conn.Conn().PgConn().StartPipeline(ctx)
	for i, q := range sqls {
		if i > 0 {
			// The queries are on the server before any answer is read, so
			// a query that switched the session's read-only default or
			// string syntax off (SQL that got past the guard) must not
			// affect the next one: both are set again, in their own
			// transaction, before each. It costs no round trip.
			p.SendQueryParams(resetSession, nil, nil, nil, nil)
			p.SendPipelineSync()
		}
		p.SendQueryParams(q, nil, nil, nil, nil)
		p.SendPipelineSync()
	}
	lost := p.Flush()
	for i := 0; i < len(sqls) && lost == nil; i++ {
		if i > 0 {
			lost = skipReset(p)
		}
		// Read up to and including query i's Sync.
		for lost == nil {
			res, err := p.GetResults()
			var pgErr *pgconn.PgError
			switch {
			case errors.As(err, &pgErr):
				errs[i], answered[i] = err, true
				continue
			case err != nil:
				lost = err
			case res == nil:
				lost = errors.New("postgres batch: pipeline ended early")
			}
			if lost != nil {
				break
			}
			if _, ok := res.(*pgconn.PipelineSync); ok {
				break
			}
			if rr, ok := res.(*pgconn.ResultReader); ok {
				tables[i], errs[i] = s.readResult(rr, tm, loc, maxRows[i])
				answered[i] = true
				if tables[i] != nil && tables[i].Cut != "" && conn.Conn().PgConn().IsClosed() {
					// A row longer than a query may read closed the
					// connection (see Config): the rest run again.
					lost = errRowTooLarge
				}
			}
		}
	}
	if err := p.Close(); err != nil && lost == nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			lost = err
		}
	}
	if lost != nil {
		// The connection is no longer usable: do not give it back.
		if errors.Is(lost, errRowTooLarge) {
			abandon(conn)
		} else {
			conn.Hijack().Close(context.WithoutCancel(ctx))
		}
		if ctx.Err() != nil || !connectionLost(lost) && !errors.Is(lost, errRowTooLarge) {
			for i := range answered {
				if !answered[i] {
					errs[i], answered[i] = lost, true
				}
			}
		}
	}
	return answered
}

// resetSession is sent between pipelined queries (see Config).
const resetSession = "SELECT set_config('default_transaction_read_only', 'on', false), set_config('standard_conforming_strings', 'on', false)"

// skipReset reads the answer to resetSession and its Sync. Any failure
// makes the rest of the pipeline untrustworthy.
func skipReset(p *pgconn.Pipeline) error {
	for {
		res, err := p.GetResults()
		switch {
		case err != nil:
			return fmt.Errorf("postgres batch: reset the session: %w", err)
		case res == nil:
			return errors.New("postgres batch: pipeline ended early")
		}
		switch r := res.(type) {
		case *pgconn.PipelineSync:
			return nil
		case *pgconn.ResultReader:
			if _, err := r.Close(); err != nil {
				return fmt.Errorf("postgres batch: reset the session: %w", err)
			}
		}
	}
}

// errRowTooLarge ends a pipeline whose connection a too long row closed.
var errRowTooLarge = errors.New("postgres batch: a row longer than a query may read closed the connection")

// readResult reads one query's rows, keeping at most maxRows and noting
// when there were more, decoded as the pool's Query decodes them. Rows
// past the source's byte bound are read but not kept (the SQL's LIMIT
// bounds how many), and a row longer than the bound ends the result as in
// [Source.query]. loc is the session's zone (see [Source.zone]).
func (s *Source) readResult(rr *pgconn.ResultReader, tm *pgtype.Map, loc *time.Location, maxRows int) (*result.Table, error) {
	fds := rr.FieldDescriptions()
	t := &result.Table{Columns: make([]result.Column, len(fds))}
	types := make([]*pgtype.Type, len(fds))
	for i, fd := range fds {
		t.Columns[i] = result.Column{Name: fd.Name, Type: typeName(tm, fd.DataTypeOID)}
		types[i], _ = tm.TypeForOID(fd.DataTypeOID)
	}
	var decodeErr error
	read := 0
	for rr.NextRow() {
		if len(t.Rows) >= maxRows || t.Cut != "" {
			t.Truncated = true
			continue // drain: the SQL's LIMIT cap+1 bounds it
		}
		raw := rr.Values()
		if s.maxResultBytes > 0 {
			read += rowBytes(raw)
			if read > s.maxResultBytes {
				t.Truncated, t.Cut = true, source.TooLarge(0, s.maxResultBytes, len(t.Rows))
				continue
			}
		}
		row := make([]any, len(raw))
		for i, buf := range raw {
			switch {
			case buf == nil:
			case types[i] == nil:
				row[i] = string(buf)
			default:
				v, err := types[i].Codec.DecodeValue(tm, fds[i].DataTypeOID, fds[i].Format, buf)
				if err != nil && decodeErr == nil {
					decodeErr = fmt.Errorf("decode column %s: %w", fds[i].Name, err)
				}
				row[i] = v
			}
			row[i] = normalize(row[i], t.Columns[i].Type, loc)
		}
		t.Rows = append(t.Rows, row)
	}
	if _, err := rr.Close(); err != nil {
		if t, ok := s.tooLarge(err, t); ok {
			return t, nil
		}
		return nil, err
	}
	if decodeErr != nil {
		return nil, decodeErr
	}
	return t, nil
}
