package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStore_Tokens(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	if got, err := s.Tokens(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Tokens on a new catalog = %v, %v; want none", got, err)
	}
	a, err := s.AddToken(ctx, Token{Name: "analyst", Hash: "h1", Datasets: []int64{2, 1}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AddToken(ctx, Token{Name: "admin", Hash: "h2", AllDatasets: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.AddToken(ctx, Token{Name: "nothing", Hash: "h3"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddToken(ctx, Token{Name: "analyst", Hash: "h4"}); err == nil || err.Error() != `an active token named "analyst" already exists` {
		t.Errorf("duplicate active name: err = %v", err)
	}
	if _, err := s.AddToken(ctx, Token{Name: "other", Hash: "h1"}); err == nil {
		t.Error("duplicate hash accepted")
	}

	got, err := s.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID       int64
		Name     string
		All      bool
		Datasets []int64
		Active   bool
	}
	var rows []row
	for _, tk := range got {
		if tk.CreatedAt.IsZero() {
			t.Errorf("token %d: no created_at", tk.ID)
		}
		rows = append(rows, row{tk.ID, tk.Name, tk.AllDatasets, tk.Datasets, tk.Active()})
	}
	want := []row{
		{a.ID, "analyst", false, []int64{2, 1}, true},
		{b.ID, "admin", true, nil, true},
		{e.ID, "nothing", false, []int64{}, true},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("Tokens (-want +got):\n%s", d)
	}

	if err := s.RevokeTokenByName(ctx, "analyst"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeTokenByName(ctx, "analyst"); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("second revoke by name: err = %v, want ErrTokenNotFound", err)
	}
	if err := s.RevokeToken(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, 999); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("revoke unknown id: err = %v, want ErrTokenNotFound", err)
	}
	// A revoked name can be used again.
	if _, err := s.AddToken(ctx, Token{Name: "analyst", Hash: "h5", Datasets: []int64{1}}); err != nil {
		t.Errorf("reuse of a revoked name: %v", err)
	}
	got, _ = s.Tokens(ctx)
	var active []string
	for _, tk := range got {
		if tk.Active() {
			active = append(active, tk.Name)
		} else if tk.RevokedAt.Before(tk.CreatedAt) {
			t.Errorf("token %d revoked before it was created", tk.ID)
		}
	}
	if d := cmp.Diff([]string{"nothing", "analyst"}, active); d != "" {
		t.Errorf("active tokens (-want +got):\n%s", d)
	}
}

// TestStore_MigrateTokens checks the migration on a catalog file written
// before tokens existed, and that running it twice is harmless.
func TestStore_MigrateTokens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.sqlite")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(schema); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 2 {
		if err := s.MigrateTokens(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddToken(ctx, Token{Name: "x", Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	v, err := s.Version(ctx)
	if err != nil || v != 0 {
		t.Errorf("dataset version after token changes = %d, %v; want 0 (tokens do not touch datasets)", v, err)
	}
}
