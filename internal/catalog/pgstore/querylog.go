package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// AppendQueryLog stores records in one round trip (COPY into a temporary
// table would be faster still, but batches are small and this keeps the
// idempotent insert simple); records whose ID is already stored are
// skipped.
func (s *Store) AppendQueryLog(ctx context.Context, records []catalog.QueryRecord) error {
	if len(records) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range records {
		opts, err := json.Marshal(r.Options)
		if err != nil {
			return fmt.Errorf("encode query options: %w", err)
		}
		b.Queue(`INSERT INTO mcpa.query_log (`+catalog.LogColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)
			ON CONFLICT (id) DO NOTHING`,
			r.ID, r.Kind, r.CallID, r.Position, r.Label, r.Time.UnixMicro(), r.DurationMS,
			catalog.DurationBucket(r.DurationMS), r.WaitMS, r.Tool, r.DatasetID, r.DatasetName, r.QuerySent, r.QueryRun, string(opts),
			r.Weighted, r.Rows, r.Truncated, r.Bytes, r.Cached, r.Outcome, r.Message, r.SQLState, r.GuardRule,
			r.ClientName, r.ClientVersion, r.SessionID, r.Principal, r.Instance)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("append to the query log: %w", redact(err))
	}
	return nil
}

func placeholder(n int) string { return "$" + strconv.Itoa(n) }

// QueryLogRecords returns the records matching f.
func (s *Store) QueryLogRecords(ctx context.Context, f catalog.LogFilter) ([]catalog.QueryRecord, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	b := catalog.NewLogSQL(placeholder, "ILIKE")
	rows, err := s.pool.Query(ctx, `SELECT seq, `+catalog.LogColumns+` FROM mcpa.query_log`+b.Where(f)+b.OrderLimit(f), b.Args()...)
	if err != nil {
		return nil, fmt.Errorf("read the query log: %w", redact(err))
	}
	var out []catalog.QueryRecord
	var r catalog.QueryRecord
	var atUS int64
	var bucket int
	var opts string
	_, err = pgx.ForEachRow(rows, []any{&r.Seq, &r.ID, &r.Kind, &r.CallID, &r.Position, &r.Label, &atUS, &r.DurationMS, &bucket, &r.WaitMS,
		&r.Tool, &r.DatasetID, &r.DatasetName, &r.QuerySent, &r.QueryRun, &opts, &r.Weighted, &r.Rows, &r.Truncated,
		&r.Bytes, &r.Cached, &r.Outcome, &r.Message, &r.SQLState, &r.GuardRule, &r.ClientName, &r.ClientVersion,
		&r.SessionID, &r.Principal, &r.Instance}, func() error {
		rec := r
		rec.Time = time.UnixMicro(atUS).UTC()
		rec.Options = catalog.QueryOptions{}
		if err := json.Unmarshal([]byte(opts), &rec.Options); err != nil {
			return fmt.Errorf("query log record %s: decode options: %w", rec.ID, err)
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the query log: %w", redact(err))
	}
	return out, nil
}

// AggregateQueryLog counts the records of a.Filter per time bucket and
// dimension.
func (s *Store) AggregateQueryLog(ctx context.Context, a catalog.Aggregate) ([]catalog.AggregateRow, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	b := catalog.NewLogSQL(placeholder, "ILIKE")
	bucket := "0::bigint"
	if a.Bucket > 0 {
		bucket = "div(at_us, " + b.Arg(a.Bucket.Microseconds()) + "::bigint)::bigint"
	}
	f := a.Filter
	f.AfterSeq, f.BeforeSeq = 0, 0
	q := `SELECT ` + bucket + `, ` + a.Group() + `, duration_bucket, COUNT(*), COUNT(*) FILTER (WHERE outcome <> 'ok'),
		SUM(duration_ms), MAX(duration_ms), SUM(rows_returned)::bigint, SUM(bytes)::bigint FROM mcpa.query_log` + b.Where(f) + ` GROUP BY 1, 2, 3`
	rows, err := s.pool.Query(ctx, q, b.Args()...)
	if err != nil {
		return nil, fmt.Errorf("aggregate the query log: %w", redact(err))
	}
	var fold catalog.FoldAggregate
	var (
		bk, count, errs, nrows, nbytes int64
		key                            string
		durBucket                      int
		total, most                    float64
	)
	_, err = pgx.ForEachRow(rows, []any{&bk, &key, &durBucket, &count, &errs, &total, &most, &nrows, &nbytes}, func() error {
		fold.Add(bk, a.Bucket, key, durBucket, count, errs, total, most, nrows, nbytes)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("aggregate the query log: %w", redact(err))
	}
	return fold.Rows(), nil
}

// PruneQueryLog deletes the records that started before before.
func (s *Store) PruneQueryLog(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM mcpa.query_log WHERE at_us < $1`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("prune the query log: %w", redact(err))
	}
	return tag.RowsAffected(), nil
}
