-- The query log (catalog.QueryLog): one row per tool call and per query of
-- an execute_multi_query call, written by every replica. No trigger bumps
-- the catalog version. at_us is the call's start in microseconds since
-- 1970 (UTC): mcpa.query_log_view shows it as a timestamp.
CREATE TABLE mcpa.query_log (
	seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id              text NOT NULL UNIQUE,
	kind            text NOT NULL,
	call_id         text NOT NULL DEFAULT '',
	position        int NOT NULL DEFAULT 0,
	label           text NOT NULL DEFAULT '',
	at_us           bigint NOT NULL,
	duration_ms     double precision NOT NULL,
	duration_bucket int NOT NULL,
	wait_ms         double precision NOT NULL DEFAULT 0,
	tool            text NOT NULL,
	dataset_id      bigint NOT NULL DEFAULT 0,
	dataset         text NOT NULL DEFAULT '',
	query_sent      text NOT NULL DEFAULT '',
	query_run       text NOT NULL DEFAULT '',
	options         text NOT NULL DEFAULT '{}',
	weighted        boolean NOT NULL DEFAULT false,
	rows_returned   bigint NOT NULL DEFAULT 0,
	truncated       boolean NOT NULL DEFAULT false,
	bytes           bigint NOT NULL DEFAULT 0,
	cached          boolean NOT NULL DEFAULT false,
	outcome         text NOT NULL,
	message         text NOT NULL DEFAULT '',
	sqlstate        text NOT NULL DEFAULT '',
	guard_rule      text NOT NULL DEFAULT '',
	client_name     text NOT NULL DEFAULT '',
	client_version  text NOT NULL DEFAULT '',
	session_id      text NOT NULL DEFAULT '',
	principal       text NOT NULL DEFAULT '',
	instance        text NOT NULL DEFAULT ''
);
CREATE INDEX query_log_at ON mcpa.query_log (at_us);
CREATE INDEX query_log_dataset_at ON mcpa.query_log (dataset_id, at_us);
CREATE INDEX query_log_call ON mcpa.query_log (call_id) WHERE call_id <> '';
CREATE VIEW mcpa.query_log_view AS
	SELECT to_timestamp(at_us / 1e6) AS at, * FROM mcpa.query_log;
