-- API tokens move into the versioned schema (they were created on first
-- use before) and gain scopes: space-separated, "mcp" for tokens made
-- before scopes existed. A name is unique among active tokens only.
CREATE TABLE IF NOT EXISTS tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	datasets   TEXT NOT NULL,
	created_at TEXT NOT NULL,
	revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'mcp';
