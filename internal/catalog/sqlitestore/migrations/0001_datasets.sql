-- The first schema. Written with IF NOT EXISTS so that catalogs created
-- before versioned migrations existed are adopted as they are.
CREATE TABLE IF NOT EXISTS datasets (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	driver      TEXT NOT NULL,
	dsn         TEXT NOT NULL,
	settings    TEXT NOT NULL DEFAULT '{}',
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', '0');
CREATE TRIGGER IF NOT EXISTS datasets_ins AFTER INSERT ON datasets BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
CREATE TRIGGER IF NOT EXISTS datasets_upd AFTER UPDATE ON datasets BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
CREATE TRIGGER IF NOT EXISTS datasets_del AFTER DELETE ON datasets BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
