package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// AddToken stores t and returns it as stored.
func (s *Store) AddToken(ctx context.Context, t catalog.Token) (catalog.Token, error) {
	if err := catalog.ValidateToken(t); err != nil {
		return t, err
	}
	datasets, scopes := catalog.EncodeTokenGrant(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := s.pool.QueryRow(ctx, `INSERT INTO mcpa.tokens (name, hash, datasets, scopes, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		t.Name, t.Hash, datasets, scopes, now).Scan(&t.ID)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "tokens_active_name" {
			return t, fmt.Errorf("an active token named %q %w", t.Name, catalog.ErrExists)
		}
		return t, fmt.Errorf("add token: %w", redact(err))
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
	rows, err := s.pool.Query(ctx, `SELECT id, name, hash, datasets, scopes, created_at, revoked_at FROM mcpa.tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", redact(err))
	}
	var out []catalog.Token
	var t catalog.Token
	var datasets, scopes string
	var revoked *time.Time
	_, err = pgx.ForEachRow(rows, []any{&t.ID, &t.Name, &t.Hash, &datasets, &scopes, &t.CreatedAt, &revoked}, func() error {
		tk := t
		if err := catalog.DecodeTokenGrant(&tk, datasets, scopes); err != nil {
			return err
		}
		tk.CreatedAt = tk.CreatedAt.UTC()
		if revoked != nil {
			tk.RevokedAt = revoked.UTC()
		}
		out = append(out, tk)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", redact(err))
	}
	return out, nil
}

// RevokeToken revokes the active token with the given id.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.revoke(ctx, `id = $1`, id, fmt.Sprintf("token %d", id))
}

// RevokeTokenByName revokes the active token named name.
func (s *Store) RevokeTokenByName(ctx context.Context, name string) error {
	return s.revoke(ctx, `name = $1`, name, fmt.Sprintf("token %q", name))
}

func (s *Store) revoke(ctx context.Context, where string, arg any, what string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE mcpa.tokens SET revoked_at = clock_timestamp() WHERE revoked_at IS NULL AND `+where, arg)
	if err != nil {
		return fmt.Errorf("revoke %s: %w", what, redact(err))
	}
	if tag.RowsAffected() == 0 {
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
		var revoked *time.Time
		if !t.RevokedAt.IsZero() {
			revoked = &t.RevokedAt
		}
		tag, err := s.pool.Exec(ctx, `INSERT INTO mcpa.tokens (name, hash, datasets, scopes, created_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, t.Name, t.Hash, datasets, scopes, t.CreatedAt, revoked)
		if err != nil {
			return n, fmt.Errorf("import token %q: %w", t.Name, redact(err))
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}
