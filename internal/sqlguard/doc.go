// Package sqlguard decides whether SQL written by an AI assistant may run
// against a dataset, and prepares it to run under the row caps.
//
// The guard parses the text with PostgreSQL's own parser (pg_query_go) and
// works on the parse tree only, never on the text: a keyword in a comment or
// a string literal cannot fool it, and "SELECT 1; DROP TABLE x" is two
// statements, not one. [Check] accepts exactly one read-only query: a
// SELECT, VALUES, a set operation of those, or WITH whose every CTE and body
// is one of those. It refuses SELECT INTO, FOR UPDATE / FOR SHARE (row locks)
// anywhere, and INSERT / UPDATE / DELETE / MERGE inside a CTE. EXPLAIN, SHOW,
// SET, COPY, CALL, DO, LISTEN, transaction control and every other statement
// are refused with a message that only a single SELECT is accepted. Text that
// is not valid UTF-8, holds a NUL byte (the C parser would stop reading there
// and check less than the database would run) or is longer than
// Options.MaxBytes is refused before parsing.
//
// Every node of the tree is visited generically through protoreflect, so no
// node kind (target lists, FROM, functions in FROM, subqueries, CTEs,
// LATERAL, WHERE, HAVING, ORDER BY, window definitions, CASE, casts, FILTER,
// WITHIN GROUP, LIMIT expressions, ...) escapes the checks. Function and
// relation names are compared case-insensitively on the last part of their
// name, so pg_catalog.pg_read_file, "PG_READ_FILE" and
// U&"pg\005fread_file" are all pg_read_file. The deny-lists live in
// denylist.go as data, one group per threat:
//
//   - File and program access: pg_read_file, pg_read_binary_file,
//     pg_stat_file, pg_ls_* directory listings, adminpack's pg_file_*,
//     pg_current_logfile, pg_control_*, WAL readers, get_raw_page.
//   - SQL text run past the guard: query_to_xml and the other *_to_xml
//     functions (they also read tables named by a string), ts_stat,
//     ts_rewrite, crosstab, connectby.
//   - Network: dblink*, postgres_fdw_* and the inet_server_* /
//     inet_client_* address functions.
//   - Settings, which can hold secrets: set_config, current_setting,
//     pg_reload_conf, pg_show_all_settings.
//   - Locks and sequences, which change state other sessions see:
//     pg_advisory_*, pg_try_advisory_*, nextval, setval, currval, lastval.
//   - Backend control, replication, maintenance and sleeps:
//     pg_terminate_backend, pg_cancel_backend, pg_sleep*, pg_promote,
//     pg_switch_wal, replication slot and origin functions, pg_logical_*,
//     pg_notify, txid_current, pg_export_snapshot, BRIN/GIN maintenance and
//     every pg_stat_* function (other sessions' query text, statistics resets).
//   - Large objects, which bypass table permissions: lo_*, loread, lowrite.
//   - Catalog relations that expose credentials, server files, other
//     sessions or raw values outside the dataset's tables: pg_authid,
//     pg_shadow, pg_user_mapping(s), user_mapping_options, pg_subscription,
//     pg_db_role_setting, pg_hba_file_rules, pg_ident_file_mappings,
//     pg_file_settings, pg_settings, pg_config, pg_stat_activity,
//     pg_stat_statements, pg_stat_replication and friends, pg_largeobject,
//     pg_statistic and pg_stats (their most-common values and histograms are
//     raw respondent values).
//
// DuckDB datasets (Options.Dialect == DuckDB) add:
//
//   - File, URL and foreign-database readers: read_* (read_csv, read_parquet,
//     read_json, read_text, read_blob, ...), parquet_*, glob, sniff_csv,
//     iceberg_*, delta_scan, sqlite_*, postgres_*, mysql_*, http_*, st_read.
//   - SQL text run past the guard: query, query_table,
//     json_execute_serialized_sql.
//   - Settings, secrets and environment: getenv, duckdb_* (duckdb_settings,
//     duckdb_secrets, ...), pragma_*, which_secret, checkpoint.
//   - Functions in FROM are allowed by name, not denied by name: only
//     generate_series, range, unnest, json_each and json_tree, because
//     DuckDB's table functions are overwhelmingly file readers and catalog
//     dumps.
//   - Relations: a name that is not a plain identifier ("/etc/passwd.csv",
//     "https://host/x.parquet", "data.csv") or a qualified name ending in a
//     file extension (data.csv unquoted) is refused, since DuckDB's
//     replacement scans would read it as a file; and when Options.Relations
//     is set, any relation that is neither a dataset table nor a CTE in
//     scope is refused. CTE scope follows the engines' rules (a CTE sees only
//     earlier CTEs unless WITH RECURSIVE), so a CTE name cannot be borrowed
//     outside its scope to reach a file. DuckDB statements PostgreSQL does not
//     know (ATTACH, INSTALL, PRAGMA, DESCRIBE, SUMMARIZE, ...) fail to parse
//     and are reported as "only a single SELECT is accepted".
//
// Whole-row packing would smuggle raw records past the row caps (one
// aggregated row holding every respondent), so a whole-row reference is
// allowed only as "*" or "t.*" standing alone in a SELECT list: json_agg(u),
// row_to_json(u.*), to_jsonb(users), string_agg(u::text, ','), list(u),
// struct_pack(u.*) and f(*) for any f but count are refused, while
// json_agg(city), array_agg(city) and string_agg(city, ',') of a column stay
// allowed (their cells are capped like any other). A bare name is a whole
// row when it names a table, alias or CTE of the query and is not also one
// of that item's known output columns. Packing several named columns
// (json_build_object('a', a, 'b', b)) is not refused: the renderer's cell
// and byte caps bound it.
//
// What the guard does not do, by design: it does not know user-defined
// functions (the database's read-only session and role are the wall for
// those), does not bound CPU or memory (statement_timeout does), and does
// not verify column names or types (the database reports those).
//
// [Classify] decides raw versus aggregated on the tree (SPEC §3) and
// [Deparse] prints the tree back with LIMIT cap+1 pushed into the top-level
// statement. Errors are *[Error] with a stable Code, a one-sentence Message,
// the 1-based character position of the offending node and a Hint saying
// what is allowed instead. The package does no I/O and keeps no state.
package sqlguard
