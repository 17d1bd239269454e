-- Profiles (one JSON document per dataset) and the data dictionary. Both
-- go with their dataset, and every change bumps the catalog version so
-- other processes reload them.
CREATE TABLE profiles (
	dataset_id  INTEGER PRIMARY KEY REFERENCES datasets (id) ON DELETE CASCADE,
	profile     TEXT NOT NULL,
	profiled_at TEXT NOT NULL
);
CREATE TABLE descriptions (
	dataset_id  INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
	table_name  TEXT NOT NULL,
	column_name TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL,
	PRIMARY KEY (dataset_id, table_name, column_name)
);
CREATE TRIGGER profiles_ins AFTER INSERT ON profiles BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
CREATE TRIGGER profiles_upd AFTER UPDATE ON profiles BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
CREATE TRIGGER descriptions_ins AFTER INSERT ON descriptions BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
CREATE TRIGGER descriptions_upd AFTER UPDATE ON descriptions BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
CREATE TRIGGER descriptions_del AFTER DELETE ON descriptions BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
