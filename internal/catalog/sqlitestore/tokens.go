package sqlitestore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// AddToken stores t (without its ID, creation and revocation times) and
// returns it as stored.
func (s *Store) AddToken(ctx context.Context, t catalog.Token) (catalog.Token, error) {
	if err := catalog.ValidateToken(t); err != nil {
		return t, err
	}
	datasets, scopes := catalog.EncodeTokenGrant(t)
	now := time.Now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO tokens (name, hash, datasets, scopes, created_at) VALUES (?, ?, ?, ?, ?)`,
		t.Name, t.Hash, datasets, scopes, now.Format(time.RFC3339Nano))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed: tokens.name") {
			return t, fmt.Errorf("an active token named %q %w", t.Name, catalog.ErrExists)
		}
		return t, fmt.Errorf("add token: %w", err)
	}
	if t.ID, err = res.LastInsertId(); err != nil {
		return t, fmt.Errorf("add token: %w", err)
	}
	t.CreatedAt, t.RevokedAt = now, time.Time{}
	if len(t.Scopes) == 0 {
		t.Scopes = []string{catalog.ScopeMCP}
	}
	if !t.AllDatasets && t.Datasets == nil {
		t.Datasets = []int64{}
	}
	return t, nil
}

// Tokens returns every token, active and revoked, by id.
func (s *Store) Tokens(ctx context.Context) ([]catalog.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, hash, datasets, scopes, created_at, COALESCE(revoked_at, '') FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []catalog.Token
	for rows.Next() {
		var t catalog.Token
		var datasets, scopes, created, revoked string
		if err := rows.Scan(&t.ID, &t.Name, &t.Hash, &datasets, &scopes, &created, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		if err := catalog.DecodeTokenGrant(&t, datasets, scopes); err != nil {
			return nil, err
		}
		t.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		if revoked != "" {
			t.RevokedAt, _ = time.Parse(time.RFC3339Nano, revoked)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes the active token with the given id. Revoking is
// final; the record stays for the audit trail.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.revoke(ctx, `id = ?`, id, fmt.Sprintf("token %d", id))
}

// RevokeTokenByName revokes the active token named name.
func (s *Store) RevokeTokenByName(ctx context.Context, name string) error {
	return s.revoke(ctx, `name = ?`, name, fmt.Sprintf("token %q", name))
}

func (s *Store) revoke(ctx context.Context, where string, arg any, what string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND `+where,
		time.Now().UTC().Format(time.RFC3339Nano), arg)
	if err != nil {
		return fmt.Errorf("revoke %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke %s: %w", what, catalog.ErrTokenNotFound)
	}
	return nil
}

// ImportTokens stores tokens kept elsewhere, keeping their times; those
// whose hash is stored already, or whose name an active token holds, are
// skipped.
func (s *Store) ImportTokens(ctx context.Context, tokens []catalog.Token) (int, error) {
	n := 0
	for _, t := range tokens {
		if err := catalog.ValidateToken(t); err != nil {
			return n, err
		}
		datasets, scopes := catalog.EncodeTokenGrant(t)
		var revoked any
		if !t.RevokedAt.IsZero() {
			revoked = t.RevokedAt.UTC().Format(time.RFC3339Nano)
		}
		res, err := s.db.ExecContext(ctx, `INSERT INTO tokens (name, hash, datasets, scopes, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, t.Name, t.Hash, datasets, scopes, t.CreatedAt.UTC().Format(time.RFC3339Nano), revoked)
		if err != nil {
			return n, fmt.Errorf("import token %q: %w", t.Name, err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, nil
}

// ErrTokenNotFound is catalog.ErrTokenNotFound, kept for callers of the
// SQLite store.
var ErrTokenNotFound = catalog.ErrTokenNotFound
