-- A covering index for aggregates over a time range (the admin console's
-- dashboard, 'mcp-analytics log' summaries): without it a range such as
-- the last 30 days is read through query_log_at one table row at a time,
-- several times slower than reading the whole table. With every grouped
-- and summed column in the index, the range is read from the index alone.
CREATE INDEX query_log_at_covering ON query_log (at_us, kind, tool, client_name, outcome, guard_rule, dataset_id, dataset,
	duration_bucket, duration_ms, rows_returned, bytes);
