package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// AppendQueryLog stores records in one transaction; records whose ID is
// already stored are skipped.
func (s *Store) AppendQueryLog(ctx context.Context, records []catalog.QueryRecord) error {
	if len(records) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append to the query log: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO query_log (`+catalog.LogColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("append to the query log: %w", err)
	}
	defer stmt.Close()
	for _, r := range records {
		opts, err := json.Marshal(r.Options)
		if err != nil {
			return fmt.Errorf("encode query options: %w", err)
		}
		if _, err := stmt.ExecContext(ctx, r.ID, r.Kind, r.CallID, r.Position, r.Label, r.Time.UnixMicro(), r.DurationMS,
			catalog.DurationBucket(r.DurationMS), r.WaitMS, r.Tool, r.DatasetID, r.DatasetName, r.QuerySent, r.QueryRun, string(opts),
			r.Weighted, r.Rows, r.Truncated, r.Bytes, r.Cached, r.Outcome, r.Message, r.SQLState, r.GuardRule,
			r.ClientName, r.ClientVersion, r.SessionID, r.Principal, r.Instance); err != nil {
			return fmt.Errorf("append to the query log: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append to the query log: %w", err)
	}
	return nil
}

func placeholder(n int) string { return "?" + strconv.Itoa(n) }

// QueryLogRecords returns the records matching f.
func (s *Store) QueryLogRecords(ctx context.Context, f catalog.LogFilter) ([]catalog.QueryRecord, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	b := catalog.NewLogSQL(placeholder, "LIKE") // SQLite's LIKE ignores ASCII case
	q := `SELECT seq, ` + catalog.LogColumns + ` FROM query_log` + b.Where(f) + b.OrderLimit(f)
	rows, err := s.db.QueryContext(ctx, q, b.Args()...)
	if err != nil {
		return nil, fmt.Errorf("read the query log: %w", err)
	}
	defer rows.Close()
	var out []catalog.QueryRecord
	for rows.Next() {
		var r catalog.QueryRecord
		var atUS int64
		var bucket int
		var opts string
		if err := rows.Scan(&r.Seq, &r.ID, &r.Kind, &r.CallID, &r.Position, &r.Label, &atUS, &r.DurationMS, &bucket, &r.WaitMS,
			&r.Tool, &r.DatasetID, &r.DatasetName, &r.QuerySent, &r.QueryRun, &opts, &r.Weighted, &r.Rows, &r.Truncated,
			&r.Bytes, &r.Cached, &r.Outcome, &r.Message, &r.SQLState, &r.GuardRule, &r.ClientName, &r.ClientVersion,
			&r.SessionID, &r.Principal, &r.Instance); err != nil {
			return nil, fmt.Errorf("read the query log: %w", err)
		}
		r.Time = time.UnixMicro(atUS).UTC()
		if err := json.Unmarshal([]byte(opts), &r.Options); err != nil {
			return nil, fmt.Errorf("query log record %s: decode options: %w", r.ID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the query log: %w", err)
	}
	return out, nil
}

// AggregateQueryLog counts the records of a.Filter per time bucket and
// dimension.
func (s *Store) AggregateQueryLog(ctx context.Context, a catalog.Aggregate) ([]catalog.AggregateRow, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	b := catalog.NewLogSQL(placeholder, "LIKE")
	bucket := "0"
	if a.Bucket > 0 {
		bucket = "at_us / " + b.Arg(a.Bucket.Microseconds())
	}
	f := a.Filter
	f.AfterSeq, f.BeforeSeq = 0, 0
	q := `SELECT ` + bucket + `, ` + a.Group() + `, duration_bucket, COUNT(*), SUM(CASE WHEN outcome <> 'ok' THEN 1 ELSE 0 END),
		SUM(duration_ms), MAX(duration_ms), SUM(rows_returned), SUM(bytes) FROM query_log` + b.Where(f) + ` GROUP BY 1, 2, 3`
	rows, err := s.db.QueryContext(ctx, q, b.Args()...)
	if err != nil {
		return nil, fmt.Errorf("aggregate the query log: %w", err)
	}
	defer rows.Close()
	var fold catalog.FoldAggregate
	for rows.Next() {
		var (
			bk, count, errs, nrows, nbytes int64
			key                            string
			durBucket                      int
			total, most                    float64
		)
		if err := rows.Scan(&bk, &key, &durBucket, &count, &errs, &total, &most, &nrows, &nbytes); err != nil {
			return nil, fmt.Errorf("aggregate the query log: %w", err)
		}
		fold.Add(bk, a.Bucket, key, durBucket, count, errs, total, most, nrows, nbytes)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("aggregate the query log: %w", err)
	}
	return fold.Rows(), nil
}

// PruneQueryLog deletes the records that started before before.
func (s *Store) PruneQueryLog(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM query_log WHERE at_us < ?`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("prune the query log: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
