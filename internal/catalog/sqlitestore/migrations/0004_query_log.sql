-- The query log (catalog.QueryLog): one row per tool call and per query of
-- an execute_multi_query call. No trigger bumps the catalog version: log
-- writes must not make servers reload their datasets. at_us is the call's
-- start in microseconds since 1970 (UTC); duration_bucket is
-- catalog.DurationBucket(duration_ms), so percentiles are computed by
-- counting.
CREATE TABLE query_log (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	id              TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL,
	call_id         TEXT NOT NULL DEFAULT '',
	position        INTEGER NOT NULL DEFAULT 0,
	label           TEXT NOT NULL DEFAULT '',
	at_us           INTEGER NOT NULL,
	duration_ms     REAL NOT NULL,
	duration_bucket INTEGER NOT NULL,
	wait_ms         REAL NOT NULL DEFAULT 0,
	tool            TEXT NOT NULL,
	dataset_id      INTEGER NOT NULL DEFAULT 0,
	dataset         TEXT NOT NULL DEFAULT '',
	query_sent      TEXT NOT NULL DEFAULT '',
	query_run       TEXT NOT NULL DEFAULT '',
	options         TEXT NOT NULL DEFAULT '{}',
	weighted        INTEGER NOT NULL DEFAULT 0,
	rows_returned   INTEGER NOT NULL DEFAULT 0,
	truncated       INTEGER NOT NULL DEFAULT 0,
	bytes           INTEGER NOT NULL DEFAULT 0,
	cached          INTEGER NOT NULL DEFAULT 0,
	outcome         TEXT NOT NULL,
	message         TEXT NOT NULL DEFAULT '',
	sqlstate        TEXT NOT NULL DEFAULT '',
	guard_rule      TEXT NOT NULL DEFAULT '',
	client_name     TEXT NOT NULL DEFAULT '',
	client_version  TEXT NOT NULL DEFAULT '',
	session_id      TEXT NOT NULL DEFAULT '',
	principal       TEXT NOT NULL DEFAULT '',
	instance        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX query_log_at ON query_log (at_us);
CREATE INDEX query_log_dataset_at ON query_log (dataset_id, at_us);
CREATE INDEX query_log_call ON query_log (call_id) WHERE call_id <> '';
