-- The codebooks of imported survey files (labels, user-missing codes,
-- measurement levels): one JSON document per dataset, replaced with the
-- dataset on every import, gone with it.
CREATE TABLE mcpa.codebooks (
	dataset_id  bigint PRIMARY KEY REFERENCES mcpa.datasets (id) ON DELETE CASCADE,
	codebook    text NOT NULL,
	imported_at timestamptz NOT NULL
);
CREATE TRIGGER codebooks_changed AFTER INSERT OR UPDATE OR DELETE ON mcpa.codebooks
	FOR EACH STATEMENT EXECUTE FUNCTION mcpa.bump_version();
