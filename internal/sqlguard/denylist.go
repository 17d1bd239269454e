package sqlguard

import "strings"

// denyGroup is one threat and the functions or relations that carry it.
// Names are compared case-insensitively on the last part of a possibly
// schema-qualified name, so pg_catalog.pg_read_file and "PG_READ_FILE" are the
// same function as pg_read_file.
type denyGroup struct {
	// why finishes the sentence "function f is not allowed: ..." and names the threat.
	why string
	// names are exact, lower-case names.
	names []string
	// prefixes deny every name that starts with one of them.
	prefixes []string
	// duckDBOnly groups apply only to DuckDB datasets; the others apply to both.
	duckDBOnly bool
}

// functionGroups lists the functions no query may call, one group per threat.
// A function may appear in several groups; the first match names the threat.
var functionGroups = []denyGroup{
	{
		why: "it reads or writes server files or runs programs",
		names: []string{
			"pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_current_logfile",
			"pg_logdir_ls", "pg_hba_file_rules", "pg_ident_file_mappings",
			"pg_show_all_file_settings", "pg_config", "get_raw_page",
		},
		prefixes: []string{"pg_ls_", "pg_file_", "pg_read_", "pg_control_", "pg_get_wal_"},
	},
	{
		why: "it runs SQL text or reads a table named by a string, past this guard",
		names: []string{
			"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
			"cursor_to_xml", "cursor_to_xmlschema",
			"table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
			"schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
			"database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
			"ts_stat", "ts_rewrite", "crosstab", "crosstab2", "crosstab3", "crosstab4", "connectby",
		},
	},
	{
		why: "it opens network connections or reveals network addresses",
		names: []string{
			"inet_client_addr", "inet_client_port", "inet_server_addr", "inet_server_port",
		},
		prefixes: []string{"dblink", "postgres_fdw_"},
	},
	{
		why: "it reads or changes server settings, which can hold secrets",
		names: []string{
			"set_config", "current_setting", "pg_reload_conf", "pg_show_all_settings",
			"pg_settings_get_flags",
		},
	},
	{
		why:      "it takes locks or advances sequences, which changes state other sessions see",
		names:    []string{"nextval", "setval", "currval", "lastval"},
		prefixes: []string{"pg_advisory_", "pg_try_advisory_"},
	},
	{
		why: "it controls server processes, replication or maintenance, or sleeps",
		names: []string{
			"pg_terminate_backend", "pg_cancel_backend", "pg_rotate_logfile", "pg_promote",
			"pg_switch_wal", "pg_switch_xlog", "pg_create_restore_point", "pg_start_backup",
			"pg_stop_backup", "pg_export_snapshot", "pg_notify", "pg_log_standby_snapshot",
			"pg_log_backend_memory_contexts", "pg_sync_replication_slots",
			"txid_current", "pg_current_xact_id",
			"brin_summarize_new_values", "brin_summarize_range", "brin_desummarize_range",
			"gin_clean_pending_list", "pg_prewarm", "pg_stat_statements_reset",
		},
		prefixes: []string{
			"pg_sleep", "pg_create_", "pg_drop_", "pg_copy_", "pg_replication_",
			"pg_logical_", "pg_wal_replay_", "pg_backup_", "pg_buffercache_evict",
			// pg_stat_* functions reveal other sessions' query text or reset statistics.
			"pg_stat_",
		},
	},
	{
		why:      "it reads or writes large objects, which bypass table permissions",
		names:    []string{"loread", "lowrite"},
		prefixes: []string{"lo_"},
	},
	{
		why:        "it reads files, URLs or other databases from DuckDB",
		names:      []string{"glob", "sniff_csv", "csv_scan", "st_read", "st_read_meta", "arrow_scan", "delta_scan", "load_aws_credentials"},
		prefixes:   []string{"read_", "parquet_", "iceberg_", "sqlite_", "postgres_", "mysql_", "http_", "ducklake_"},
		duckDBOnly: true,
	},
	{
		why:        "it runs SQL text past this guard",
		names:      []string{"query", "query_table", "json_execute_serialized_sql"},
		duckDBOnly: true,
	},
	{
		why:        "it reveals DuckDB settings, secrets, files or the environment",
		names:      []string{"getenv", "which_secret", "checkpoint", "force_checkpoint"},
		prefixes:   []string{"duckdb_", "pragma_"},
		duckDBOnly: true,
	},
}

// duckDBTableFunctions is the allow-list of functions a DuckDB query may call
// in FROM. DuckDB's table functions are overwhelmingly file readers, catalog
// dumps and settings views, so FROM-clause functions are allowed by name
// rather than denied by name.
var duckDBTableFunctions = map[string]bool{
	"generate_series": true,
	"range":           true,
	"unnest":          true,
	"json_each":       true,
	"json_tree":       true,
}

// fileExtensions are the last parts of a qualified DuckDB name (data.csv)
// that make it look like a file: DuckDB's replacement scans read such names
// as files when no table matches.
var fileExtensions = map[string]bool{
	"csv": true, "tsv": true, "txt": true, "parquet": true, "json": true, "jsonl": true,
	"ndjson": true, "gz": true, "zst": true, "xlsx": true, "db": true, "duckdb": true,
	"sqlite": true, "arrow": true, "avro": true, "orc": true,
}

// relationGroups lists the relations (tables and views, in any schema) no
// query may read, one group per threat. Lower-case, unqualified names.
var relationGroups = []denyGroup{
	{
		why: "it holds password hashes or connection credentials",
		names: []string{
			"pg_authid", "pg_shadow", "pg_user_mapping", "pg_user_mappings",
			"user_mapping_options", "pg_subscription", "pg_db_role_setting",
		},
	},
	{
		why: "it exposes server files or settings",
		names: []string{
			"pg_hba_file_rules", "pg_ident_file_mappings", "pg_file_settings",
			"pg_settings", "pg_config",
		},
	},
	{
		why: "it shows other sessions' query text or client addresses",
		names: []string{
			"pg_stat_activity", "pg_stat_statements", "pg_stat_statements_info",
			"pg_stat_replication", "pg_stat_wal_receiver", "pg_stat_subscription",
			"pg_stat_ssl", "pg_stat_gssapi",
		},
	},
	{
		why: "it stores raw values outside the dataset's tables (large objects or planner statistics)",
		names: []string{
			"pg_largeobject", "pg_largeobject_metadata", "pg_statistic", "pg_stats",
			"pg_statistic_ext_data", "pg_stats_ext", "pg_stats_ext_exprs",
		},
	},
}

// match reports the group of name, if any, among groups that apply to dialect.
func match(groups []denyGroup, name string, dialect Dialect) (denyGroup, bool) {
	for _, g := range groups {
		if g.duckDBOnly && dialect != DuckDB {
			continue
		}
		for _, n := range g.names {
			if name == n {
				return g, true
			}
		}
		for _, p := range g.prefixes {
			if strings.HasPrefix(name, p) {
				return g, true
			}
		}
	}
	return denyGroup{}, false
}
