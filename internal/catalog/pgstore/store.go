// Package pgstore keeps the catalog in PostgreSQL, for several replicas
// that must share one catalog (mcp-analytics serve --store postgres://...).
// Its tables live in the schema mcpa of the database the URL names.
//
// Migrations (migrations/*.sql, embedded) are applied at Open in one
// transaction holding an advisory lock, so replicas starting together
// apply each migration once. Every change bumps a version counter and
// sends NOTIFY mcpa_catalog; [Store.Listen] delivers those notifications,
// and Version is the polling fallback. Connection strings are sealed with
// a [secret.Box], which all replicas must share (MCPA_SECRET_KEY).
package pgstore

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/migrate"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Channel is the NOTIFY channel of catalog changes.
const Channel = "mcpa_catalog"

// migrationLock is the advisory lock key held while migrating
// (an arbitrary constant: "mcpa" in ASCII).
const migrationLock = 0x6d637061

// Store is a catalog in a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	box  *secret.Box
}

var _ catalog.Store = (*Store)(nil)

// Open connects to the catalog database at url and brings its schema up to
// date. Errors never show the URL's password.
func Open(ctx context.Context, url string, box *secret.Box) (*Store, error) {
	if box == nil {
		return nil, errors.New("pgstore: a secret box is required to seal connection strings")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("catalog store %s: invalid connection string", catalog.RedactDSN(url))
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open catalog store %s: %w", catalog.RedactDSN(url), redact(err))
	}
	s := &Store{pool: pool, box: box}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate catalog store %s: %w", catalog.RedactDSN(url), redact(err))
	}
	return s, nil
}

// redact drops the connection details pgconn puts in connect errors
// (host, user), keeping the cause.
func redact(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.Unwrap(ce)
	}
	return err
}

func (s *Store) migrate(ctx context.Context) error {
	list, err := migrate.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS mcpa;
			CREATE TABLE IF NOT EXISTS mcpa.schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM mcpa.schema_migrations`).Scan(&current); err != nil {
			return err
		}
		for _, m := range list {
			if m.Version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO mcpa.schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		return s.sealPlaintext(ctx, tx)
	})
}

// sealPlaintext seals connection strings written in the clear (by hand or
// by an import).
func (s *Store) sealPlaintext(ctx context.Context, tx pgx.Tx) error {
	rows, _ := tx.Query(ctx, `SELECT id, dsn FROM mcpa.datasets WHERE dsn NOT LIKE 'sealed:%'`)
	plain, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		ID  int64
		DSN string
	}])
	if err != nil {
		return fmt.Errorf("find plaintext connection strings: %w", err)
	}
	for _, p := range plain {
		sealed, err := s.box.Seal(p.DSN)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE mcpa.datasets SET dsn = $1 WHERE id = $2`, sealed, p.ID); err != nil {
			return fmt.Errorf("seal connection string of dataset %d: %w", p.ID, err)
		}
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Version changes whenever anything in the catalog changes.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT value::bigint FROM mcpa.meta WHERE key = 'version'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read catalog version: %w", redact(err))
	}
	return v, nil
}

// Listen calls changed after every catalog change notified by any
// process, until ctx ends. It holds one connection of its own and
// reconnects (with a pause) when that connection is lost; changes made
// while it was down are found by polling Version.
func (s *Store) Listen(ctx context.Context, changed func()) error {
	for {
		err := s.listenOnce(ctx, changed)
		if ctx.Err() != nil {
			return nil
		}
		_ = err // the caller's polling covers the gap
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		changed() // catch up on what happened while disconnected
	}
}

func (s *Store) listenOnce(ctx context.Context, changed func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool for good: it stays subscribed.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	for {
		if _, err := pc.WaitForNotification(ctx); err != nil {
			return err
		}
		changed()
	}
}

// Meta returns a stored flag or setting ("" when unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM mcpa.meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read catalog meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a flag or setting.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO mcpa.meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write catalog meta %s: %w", key, err)
	}
	return nil
}

// Add stores a new dataset and returns it with its id.
func (s *Store) Add(ctx context.Context, d catalog.Dataset) (catalog.Dataset, error) {
	settings, sealed, err := catalog.Encode(d, s.box.Seal)
	if err != nil {
		return d, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if d.ID == 0 {
			return tx.QueryRow(ctx, `INSERT INTO mcpa.datasets (name, description, driver, dsn, settings, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, d.Name, d.Description, d.Driver, sealed, string(settings), now).Scan(&d.ID)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mcpa.datasets (id, name, description, driver, dsn, settings, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, d.ID, d.Name, d.Description, d.Driver, sealed, string(settings), now); err != nil {
			return err
		}
		// Keep automatic ids above pinned ones, without ever going back.
		_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('mcpa.datasets', 'id'),
			GREATEST($1, (SELECT last_value FROM mcpa.datasets_id_seq)))`, d.ID)
		return err
	})
	if err != nil {
		return d, conflict(d, err)
	}
	d.CreatedAt, d.UpdatedAt = now, now
	return d, nil
}

func conflict(d catalog.Dataset, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		if pgErr.ConstraintName == "datasets_pkey" {
			return fmt.Errorf("a dataset with id %d %w", d.ID, catalog.ErrExists)
		}
		return fmt.Errorf("a dataset named %q %w", d.Name, catalog.ErrExists)
	}
	return fmt.Errorf("store dataset %q: %w", d.Name, err)
}

// Update replaces a dataset's fields (all but its id and creation time).
func (s *Store) Update(ctx context.Context, d catalog.Dataset) error {
	settings, sealed, err := catalog.Encode(d, s.box.Seal)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE mcpa.datasets SET name = $1, description = $2, driver = $3, dsn = $4, settings = $5,
		updated_at = GREATEST(clock_timestamp(), updated_at + interval '1 microsecond') WHERE id = $6`,
		d.Name, d.Description, d.Driver, sealed, string(settings), d.ID)
	if err != nil {
		return conflict(d, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update dataset %d: %w", d.ID, catalog.ErrNotFound)
	}
	return nil
}

// Remove deletes a dataset with its profile and descriptions.
func (s *Store) Remove(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM mcpa.datasets WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("remove dataset %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("remove dataset %d: %w", id, catalog.ErrNotFound)
	}
	return nil
}

// Get returns one dataset.
func (s *Store) Get(ctx context.Context, id int64) (catalog.Dataset, error) {
	list, err := s.query(ctx, `WHERE id = $1`, id)
	if err != nil {
		return catalog.Dataset{}, err
	}
	if len(list) == 0 {
		return catalog.Dataset{}, fmt.Errorf("dataset %d: %w", id, catalog.ErrNotFound)
	}
	return list[0], nil
}

// List returns every dataset, by id.
func (s *Store) List(ctx context.Context) ([]catalog.Dataset, error) {
	return s.query(ctx, `ORDER BY id`)
}

func (s *Store) query(ctx context.Context, tail string, args ...any) ([]catalog.Dataset, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, description, driver, dsn, settings, created_at, updated_at FROM mcpa.datasets `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", redact(err))
	}
	var out []catalog.Dataset
	var d catalog.Dataset
	var settings string
	_, err = pgx.ForEachRow(rows, []any{&d.ID, &d.Name, &d.Description, &d.Driver, &d.DSN, &settings, &d.CreatedAt, &d.UpdatedAt}, func() error {
		if err := catalog.Decode(&d, settings, s.box.Open); err != nil {
			return err
		}
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	return out, nil
}

// SaveProfile stores a dataset's profile, replacing the previous one.
func (s *Store) SaveProfile(ctx context.Context, p catalog.Profile) error {
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO mcpa.profiles (dataset_id, profile, profiled_at) VALUES ($1, $2, $3)
		ON CONFLICT (dataset_id) DO UPDATE SET profile = excluded.profile, profiled_at = excluded.profiled_at`,
		p.DatasetID, string(data), p.ProfiledAt)
	if isForeignKey(err) {
		return fmt.Errorf("save profile of dataset %d: %w", p.DatasetID, catalog.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("save profile of dataset %d: %w", p.DatasetID, err)
	}
	return nil
}

func isForeignKey(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// Profile returns a dataset's stored profile.
func (s *Store) Profile(ctx context.Context, datasetID int64) (catalog.Profile, error) {
	var data string
	err := s.pool.QueryRow(ctx, `SELECT profile FROM mcpa.profiles WHERE dataset_id = $1`, datasetID).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return catalog.Profile{}, fmt.Errorf("profile of dataset %d: %w", datasetID, catalog.ErrNotFound)
	}
	if err != nil {
		return catalog.Profile{}, fmt.Errorf("read profile of dataset %d: %w", datasetID, err)
	}
	return catalog.DecodeProfile(datasetID, data)
}

// SetDescriptions stores descriptions, replacing those of the same table
// and column; an empty description deletes one.
func (s *Store) SetDescriptions(ctx context.Context, datasetID int64, ds []catalog.Description) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mcpa.datasets WHERE id = $1 FOR KEY SHARE)`, datasetID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return catalog.ErrNotFound
		}
		return setDescriptions(ctx, tx, datasetID, ds)
	})
	if errors.Is(err, catalog.ErrNotFound) || isForeignKey(err) {
		return fmt.Errorf("descriptions of dataset %d: %w", datasetID, catalog.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store descriptions of dataset %d: %w", datasetID, err)
	}
	return nil
}

func setDescriptions(ctx context.Context, tx pgx.Tx, datasetID int64, ds []catalog.Description) error {
	b := &pgx.Batch{}
	for _, d := range ds {
		if d.Description == "" && d.Unit == "" {
			b.Queue(`DELETE FROM mcpa.descriptions WHERE dataset_id = $1 AND table_name = $2 AND column_name = $3`, datasetID, d.Table, d.Column)
			continue
		}
		b.Queue(`INSERT INTO mcpa.descriptions (dataset_id, table_name, column_name, description, unit) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (dataset_id, table_name, column_name) DO UPDATE SET description = excluded.description, unit = excluded.unit
			WHERE mcpa.descriptions.description <> excluded.description OR mcpa.descriptions.unit <> excluded.unit`,
			datasetID, d.Table, d.Column, d.Description, d.Unit)
	}
	return tx.SendBatch(ctx, b).Close()
}

// SaveImport stores an imported dataset, its codebook and descriptions in
// one transaction.
func (s *Store) SaveImport(ctx context.Context, d catalog.Dataset, cb catalog.Codebook, ds []catalog.Description) (catalog.Dataset, error) {
	settings, sealed, err := catalog.Encode(d, s.box.Seal)
	if err != nil {
		return d, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if d.ID == 0 {
			if err := tx.QueryRow(ctx, `INSERT INTO mcpa.datasets (name, description, driver, dsn, settings, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id, updated_at`, d.Name, d.Description, d.Driver, sealed, string(settings), now).Scan(&d.ID, &d.UpdatedAt); err != nil {
				return err
			}
			d.CreatedAt = now
		} else {
			err := tx.QueryRow(ctx, `UPDATE mcpa.datasets SET name = $1, description = $2, driver = $3, dsn = $4, settings = $5,
				updated_at = GREATEST(clock_timestamp(), updated_at + interval '1 microsecond') WHERE id = $6 RETURNING updated_at`,
				d.Name, d.Description, d.Driver, sealed, string(settings), d.ID).Scan(&d.UpdatedAt)
			if errors.Is(err, pgx.ErrNoRows) {
				return catalog.ErrNotFound
			}
			if err != nil {
				return err
			}
		}
		cb.DatasetID = d.ID
		data, err := json.Marshal(cb)
		if err != nil {
			return fmt.Errorf("encode codebook: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mcpa.codebooks (dataset_id, codebook, imported_at) VALUES ($1, $2, $3)
			ON CONFLICT (dataset_id) DO UPDATE SET codebook = excluded.codebook, imported_at = excluded.imported_at`,
			d.ID, string(data), cb.ImportedAt); err != nil {
			return err
		}
		return setDescriptions(ctx, tx, d.ID, ds)
	})
	if errors.Is(err, catalog.ErrNotFound) {
		return d, fmt.Errorf("update dataset %d: %w", d.ID, catalog.ErrNotFound)
	}
	if err != nil {
		return d, conflict(d, err)
	}
	d.UpdatedAt = d.UpdatedAt.UTC()
	return d, nil
}

// Codebook returns a dataset's codebook.
func (s *Store) Codebook(ctx context.Context, datasetID int64) (catalog.Codebook, error) {
	var data string
	err := s.pool.QueryRow(ctx, `SELECT codebook FROM mcpa.codebooks WHERE dataset_id = $1`, datasetID).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return catalog.Codebook{}, fmt.Errorf("codebook of dataset %d: %w", datasetID, catalog.ErrNotFound)
	}
	if err != nil {
		return catalog.Codebook{}, fmt.Errorf("read codebook of dataset %d: %w", datasetID, err)
	}
	return catalog.DecodeCodebook(datasetID, data)
}

// Descriptions returns a dataset's descriptions by table and column.
func (s *Store) Descriptions(ctx context.Context, datasetID int64) ([]catalog.Description, error) {
	rows, _ := s.pool.Query(ctx, `SELECT table_name, column_name, description, unit FROM mcpa.descriptions
		WHERE dataset_id = $1 ORDER BY table_name, column_name`, datasetID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[catalog.Description])
	if err != nil {
		return nil, fmt.Errorf("read descriptions of dataset %d: %w", datasetID, err)
	}
	return out, nil
}
