-- The codebooks of imported survey files (labels, user-missing codes,
-- measurement levels): one JSON document per dataset, replaced with the
-- dataset on every import, gone with it.
CREATE TABLE codebooks (
	dataset_id  INTEGER PRIMARY KEY REFERENCES datasets (id) ON DELETE CASCADE,
	codebook    TEXT NOT NULL,
	imported_at TEXT NOT NULL
);
CREATE TRIGGER codebooks_ins AFTER INSERT ON codebooks BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
CREATE TRIGGER codebooks_upd AFTER UPDATE ON codebooks BEGIN
	UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'; END;
