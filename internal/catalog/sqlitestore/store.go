// Package sqlitestore keeps the catalog in an embedded SQLite file (pure Go,
// no cgo). Several processes may share the file: the server and CLI
// commands such as "datasets add". Every change bumps a version counter so
// that a running server notices it by polling Version.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// Store is a catalog in one SQLite file.
type Store struct {
	db *sql.DB
}

const schema = `
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
`

// Open opens (creating when missing) the catalog at path.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate catalog %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Version changes whenever a dataset is added, changed or removed, by this
// process or another.
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
	if err := d.Validate(); err != nil {
		return d, err
	}
	settings, err := json.Marshal(d.Settings)
	if err != nil {
		return d, fmt.Errorf("encode settings: %w", err)
	}
	now := time.Now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO datasets (name, description, driver, dsn, settings, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, d.Name, d.Description, d.Driver, d.DSN, string(settings), now.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return d, fmt.Errorf("a dataset named %q already exists", d.Name)
		}
		return d, fmt.Errorf("add dataset: %w", err)
	}
	d.ID, err = res.LastInsertId()
	if err != nil {
		return d, fmt.Errorf("add dataset: %w", err)
	}
	d.CreatedAt, d.UpdatedAt = now, now
	return d, nil
}

// Update replaces a dataset's fields (all but its id and creation time).
func (s *Store) Update(ctx context.Context, d catalog.Dataset) error {
	if err := d.Validate(); err != nil {
		return err
	}
	settings, err := json.Marshal(d.Settings)
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE datasets SET name = ?, description = ?, driver = ?, dsn = ?, settings = ?, updated_at = ? WHERE id = ?`,
		d.Name, d.Description, d.Driver, d.DSN, string(settings), time.Now().UTC().Format(time.RFC3339Nano), d.ID)
	if err != nil {
		return fmt.Errorf("update dataset %d: %w", d.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update dataset %d: %w", d.ID, catalog.ErrNotFound)
	}
	return nil
}

// Remove deletes a dataset.
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
		if err := json.Unmarshal([]byte(settings), &d.Settings); err != nil {
			return nil, fmt.Errorf("dataset %d: decode settings: %w", d.ID, err)
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
