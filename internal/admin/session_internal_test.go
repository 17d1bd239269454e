package admin

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
)

// TestKeyRing_Replicas checks that replicas sharing a catalog store accept
// each other's session cookies, also when two replicas created the key at
// the same moment and the store kept the other's.
func TestKeyRing_Replicas(t *testing.T) {
	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a, err := newKeyRing(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newKeyRing(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := session{Nonce: "n1", Principal: "token:boss", TokenID: 7, Expires: now.Add(time.Hour).Truncate(time.Second)}
	got, ok := b.decode(ctx, a.encode(s), now)
	if !ok || got.Nonce != s.Nonce || got.Principal != s.Principal || got.TokenID != s.TokenID || !got.Expires.Equal(s.Expires) || got.Open {
		t.Fatalf("replica b decodes a's cookie as %+v, %v", got, ok)
	}
	if !b.checkCSRF("n1", a.csrf("n1")) || b.checkCSRF("n2", a.csrf("n1")) {
		t.Error("CSRF tokens are not shared across replicas, or not bound to the nonce")
	}
	if _, ok := b.decode(ctx, a.encode(session{Nonce: "n", Principal: "p", Expires: now.Add(-time.Second)}), now); ok {
		t.Error("an expired session decodes")
	}

	// A replica that lost the race holds a key the store no longer has: it
	// re-reads the key when a cookie does not verify.
	if err := store.SetMeta(ctx, keyMeta, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"); err != nil {
		t.Fatal(err)
	}
	winner, err := newKeyRing(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	a.read = time.Time{} // as if the last read was long ago
	if _, ok := a.decode(ctx, winner.encode(s), now); !ok {
		t.Error("a replica with a stale key does not pick up the stored one")
	}
	// A tampered cookie never decodes.
	v := winner.encode(s)
	if _, ok := winner.decode(ctx, "x"+v, now); ok {
		t.Error("a tampered cookie decodes")
	}
}
