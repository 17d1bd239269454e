-- Profiles (one JSON document per dataset) and the data dictionary.
CREATE TABLE mcpa.profiles (
	dataset_id  bigint PRIMARY KEY REFERENCES mcpa.datasets (id) ON DELETE CASCADE,
	profile     text NOT NULL,
	profiled_at timestamptz NOT NULL
);
CREATE TABLE mcpa.descriptions (
	dataset_id  bigint NOT NULL REFERENCES mcpa.datasets (id) ON DELETE CASCADE,
	table_name  text NOT NULL,
	column_name text NOT NULL DEFAULT '',
	description text NOT NULL,
	PRIMARY KEY (dataset_id, table_name, column_name)
);
CREATE TRIGGER profiles_changed AFTER INSERT OR UPDATE OR DELETE ON mcpa.profiles
	FOR EACH STATEMENT EXECUTE FUNCTION mcpa.bump_version();
CREATE TRIGGER descriptions_changed AFTER INSERT OR UPDATE OR DELETE ON mcpa.descriptions
	FOR EACH STATEMENT EXECUTE FUNCTION mcpa.bump_version();
