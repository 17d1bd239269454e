// Package sqlitestore keeps the catalog in an embedded SQLite file (pure Go,
// no cgo). Several processes may share the file: the server and CLI
// commands such as "datasets add". Every change bumps a version counter so
// that a running server notices it by polling Version.
//
// The schema is built by versioned migrations embedded in the binary
// (migrations/*.sql), applied at Open inside one IMMEDIATE transaction, so
// two processes opening a new file at once apply each migration once.
// Connection strings are sealed with a [secret.Box]; rows written in the
// clear by older versions are sealed when the store is opened.
package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/migrate"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a catalog in one SQLite file.
type Store struct {
	db  *sql.DB
	box *secret.Box
}

var _ catalog.Store = (*Store)(nil)

// Option configures Open.
type Option func(*Store)

// WithBox seals connection strings with box. Without it, Open uses the key
// of MCPA_SECRET_KEY or of the key file next to the catalog file.
func WithBox(box *secret.Box) Option { return func(s *Store) { s.box = box } }

// Open opens (creating when missing) the catalog at path and brings its
// schema up to date.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	s := &Store{}
	for _, o := range opts {
		o(s)
	}
	if s.box == nil {
		box, err := secret.Load(os.Environ(), filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		s.box = box
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	s.db = db
	if err := s.migrateRetrying(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate catalog %s: %w", path, err)
	}
	return s, nil
}

// migrateRetrying is migrate, tried again while SQLite reports the file
// busy. busy_timeout covers the IMMEDIATE transaction, but a process that
// opens a new file while another switches it to WAL gets SQLITE_BUSY at
// once, without the busy handler (seen with four processes opening one
// new file together, about once in twenty runs).
func (s *Store) migrateRetrying(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := s.migrate(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a locked file.
const sqliteBusy = 5

// migrate applies the embedded migrations not yet applied, then seals
// connection strings stored in the clear, in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	list, err := migrate.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	// _txlock=immediate: the transaction takes the write lock at BEGIN, so
	// a second process waits (busy_timeout) and then finds the work done.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	for _, m := range list {
		if m.Version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	if err := s.sealPlaintext(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// sealPlaintext seals connection strings written in the clear.
func (s *Store) sealPlaintext(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, dsn FROM datasets WHERE dsn NOT LIKE 'sealed:%'`)
	if err != nil {
		return fmt.Errorf("find plaintext connection strings: %w", err)
	}
	plain := map[int64]string{}
	for rows.Next() {
		var id int64
		var dsn string
		if err := rows.Scan(&id, &dsn); err != nil {
			rows.Close()
			return fmt.Errorf("find plaintext connection strings: %w", err)
		}
		plain[id] = dsn
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find plaintext connection strings: %w", err)
	}
	for id, dsn := range plain {
		sealed, err := s.box.Seal(dsn)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE datasets SET dsn = ? WHERE id = ?`, sealed, id); err != nil {
			return fmt.Errorf("seal connection string of dataset %d: %w", id, err)
		}
	}
	return nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Version changes whenever a dataset, profile or description is added,
// changed or removed, by this process or another.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'version'`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read catalog version: %w", err)
	}
	return v, nil
}

// Meta returns a stored flag or setting ("" when unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read catalog meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a flag or setting.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
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
	now := time.Now().UTC()
	var id any // NULL: the next id
	if d.ID != 0 {
		id = d.ID
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO datasets (id, name, description, driver, dsn, settings, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, d.Name, d.Description, d.Driver, sealed, string(settings), now.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	if err != nil {
		return d, conflict(d, err)
	}
	d.ID, err = res.LastInsertId()
	if err != nil {
		return d, fmt.Errorf("add dataset: %w", err)
	}
	d.CreatedAt, d.UpdatedAt = now, now
	return d, nil
}

// conflict turns a unique-constraint failure into words.
func conflict(d catalog.Dataset, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed: datasets.name"):
		return fmt.Errorf("a dataset named %q %w", d.Name, catalog.ErrExists)
	case strings.Contains(msg, "UNIQUE constraint failed: datasets.id"):
		return fmt.Errorf("a dataset with id %d %w", d.ID, catalog.ErrExists)
	}
	return fmt.Errorf("store dataset %q: %w", d.Name, err)
}

// Update replaces a dataset's fields (all but its id and creation time).
func (s *Store) Update(ctx context.Context, d catalog.Dataset) error {
	settings, sealed, err := catalog.Encode(d, s.box.Seal)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE datasets SET name = ?, description = ?, driver = ?, dsn = ?, settings = ?, updated_at = ? WHERE id = ?`,
		d.Name, d.Description, d.Driver, sealed, string(settings), time.Now().UTC().Format(time.RFC3339Nano), d.ID)
	if err != nil {
		return conflict(d, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update dataset %d: %w", d.ID, catalog.ErrNotFound)
	}
	return nil
}

// Remove deletes a dataset with its profile and descriptions.
func (s *Store) Remove(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM datasets WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("remove dataset %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("remove dataset %d: %w", id, catalog.ErrNotFound)
	}
	return nil
}

// Get returns one dataset.
func (s *Store) Get(ctx context.Context, id int64) (catalog.Dataset, error) {
	rows, err := s.query(ctx, `WHERE id = ?`, id)
	if err != nil {
		return catalog.Dataset{}, err
	}
	if len(rows) == 0 {
		return catalog.Dataset{}, fmt.Errorf("dataset %d: %w", id, catalog.ErrNotFound)
	}
	return rows[0], nil
}

// List returns every dataset, by id.
func (s *Store) List(ctx context.Context) ([]catalog.Dataset, error) {
	return s.query(ctx, `ORDER BY id`)
}

func (s *Store) query(ctx context.Context, tail string, args ...any) ([]catalog.Dataset, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, description, driver, dsn, settings, created_at, updated_at FROM datasets `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	defer rows.Close()
	var out []catalog.Dataset
	for rows.Next() {
		var d catalog.Dataset
		var settings, created, updated string
		if err := rows.Scan(&d.ID, &d.Name, &d.Description, &d.Driver, &d.DSN, &settings, &created, &updated); err != nil {
			return nil, fmt.Errorf("list datasets: %w", err)
		}
		if err := catalog.Decode(&d, settings, s.box.Open); err != nil {
			return nil, err
		}
		d.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		d.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
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
	res, err := s.db.ExecContext(ctx, `INSERT INTO profiles (dataset_id, profile, profiled_at)
		SELECT id, ?, ? FROM datasets WHERE id = ?
		ON CONFLICT (dataset_id) DO UPDATE SET profile = excluded.profile, profiled_at = excluded.profiled_at`,
		string(data), p.ProfiledAt.UTC().Format(time.RFC3339Nano), p.DatasetID)
	if err != nil {
		return fmt.Errorf("save profile of dataset %d: %w", p.DatasetID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("save profile of dataset %d: %w", p.DatasetID, catalog.ErrNotFound)
	}
	return nil
}

// Profile returns a dataset's stored profile.
func (s *Store) Profile(ctx context.Context, datasetID int64) (catalog.Profile, error) {
	var data string
	err := s.db.QueryRowContext(ctx, `SELECT profile FROM profiles WHERE dataset_id = ?`, datasetID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store descriptions: %w", err)
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM datasets WHERE id = ?`, datasetID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("descriptions of dataset %d: %w", datasetID, catalog.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("store descriptions: %w", err)
	}
	if err := setDescriptions(ctx, tx, datasetID, ds); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store descriptions: %w", err)
	}
	return nil
}

func setDescriptions(ctx context.Context, tx *sql.Tx, datasetID int64, ds []catalog.Description) error {
	var err error
	for _, d := range ds {
		if d.Description == "" && d.Unit == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM descriptions WHERE dataset_id = ? AND table_name = ? AND column_name = ?`, datasetID, d.Table, d.Column)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO descriptions (dataset_id, table_name, column_name, description, unit) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (dataset_id, table_name, column_name) DO UPDATE SET description = excluded.description, unit = excluded.unit
				WHERE description <> excluded.description OR unit <> excluded.unit`, datasetID, d.Table, d.Column, d.Description, d.Unit)
		}
		if err != nil {
			return fmt.Errorf("store description of %s.%s: %w", d.Table, d.Column, err)
		}
	}
	return nil
}

// SaveImport stores an imported dataset, its codebook and descriptions in
// one transaction.
func (s *Store) SaveImport(ctx context.Context, d catalog.Dataset, cb catalog.Codebook, ds []catalog.Description) (catalog.Dataset, error) {
	settings, sealed, err := catalog.Encode(d, s.box.Seal)
	if err != nil {
		return d, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return d, fmt.Errorf("store import: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	if d.ID == 0 {
		res, err := tx.ExecContext(ctx, `INSERT INTO datasets (name, description, driver, dsn, settings, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, d.Name, d.Description, d.Driver, sealed, string(settings), now.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
		if err != nil {
			return d, conflict(d, err)
		}
		if d.ID, err = res.LastInsertId(); err != nil {
			return d, fmt.Errorf("add dataset: %w", err)
		}
		d.CreatedAt = now
	} else {
		res, err := tx.ExecContext(ctx, `UPDATE datasets SET name = ?, description = ?, driver = ?, dsn = ?, settings = ?, updated_at = ? WHERE id = ?`,
			d.Name, d.Description, d.Driver, sealed, string(settings), now.Format(time.RFC3339Nano), d.ID)
		if err != nil {
			return d, conflict(d, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return d, fmt.Errorf("update dataset %d: %w", d.ID, catalog.ErrNotFound)
		}
	}
	d.UpdatedAt = now
	cb.DatasetID = d.ID
	data, err := json.Marshal(cb)
	if err != nil {
		return d, fmt.Errorf("encode codebook: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO codebooks (dataset_id, codebook, imported_at) VALUES (?, ?, ?)
		ON CONFLICT (dataset_id) DO UPDATE SET codebook = excluded.codebook, imported_at = excluded.imported_at`,
		d.ID, string(data), cb.ImportedAt.UTC().Format(time.RFC3339Nano)); err != nil {
		return d, fmt.Errorf("store codebook of dataset %d: %w", d.ID, err)
	}
	if err := setDescriptions(ctx, tx, d.ID, ds); err != nil {
		return d, err
	}
	if err := tx.Commit(); err != nil {
		return d, fmt.Errorf("store import: %w", err)
	}
	return d, nil
}

// Codebook returns a dataset's codebook.
func (s *Store) Codebook(ctx context.Context, datasetID int64) (catalog.Codebook, error) {
	var data string
	err := s.db.QueryRowContext(ctx, `SELECT codebook FROM codebooks WHERE dataset_id = ?`, datasetID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.Codebook{}, fmt.Errorf("codebook of dataset %d: %w", datasetID, catalog.ErrNotFound)
	}
	if err != nil {
		return catalog.Codebook{}, fmt.Errorf("read codebook of dataset %d: %w", datasetID, err)
	}
	return catalog.DecodeCodebook(datasetID, data)
}

// Descriptions returns a dataset's descriptions by table and column.
func (s *Store) Descriptions(ctx context.Context, datasetID int64) ([]catalog.Description, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT table_name, column_name, description, unit FROM descriptions
		WHERE dataset_id = ? ORDER BY table_name, column_name`, datasetID)
	if err != nil {
		return nil, fmt.Errorf("read descriptions of dataset %d: %w", datasetID, err)
	}
	defer rows.Close()
	var out []catalog.Description
	for rows.Next() {
		var d catalog.Description
		if err := rows.Scan(&d.Table, &d.Column, &d.Description, &d.Unit); err != nil {
			return nil, fmt.Errorf("read descriptions of dataset %d: %w", datasetID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
