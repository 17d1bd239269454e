// Package pgtest gives each test a fresh PostgreSQL database of its own.
//
// Tests find the server through MCPA_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When it cannot
// be reached they skip with a loud message, except when MCPA_REQUIRE_POSTGRES=1
// (set by .ci/run), where they fail: CI never skips the database tests silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is used when MCPA_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the URL of the administrative database the tests connect
// to in order to create their own databases.
func ServerURL() string {
	if u := os.Getenv("MCPA_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Required reports whether a missing PostgreSQL must fail the tests.
func Required() bool { return os.Getenv("MCPA_REQUIRE_POSTGRES") == "1" }

// NewDatabase creates a database named mcpa_test_<random> and returns a URL
// that connects to it. The database is dropped (forcibly, so open
// connections do not keep it alive) when the test ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := Connect(ctx, tb, ServerURL())

	name := "mcpa_test_" + randomSuffix()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	admin.Close(ctx)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return DatabaseURL(tb, name)
}

// DatabaseURL returns the server URL with its database replaced by name.
func DatabaseURL(tb testing.TB, name string) string {
	tb.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("pgtest: parse MCPA_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Connect opens a single connection to dsn, skipping or failing the test as
// described in the package documentation when the server is unreachable. The
// connection is closed when the test ends.
func Connect(ctx context.Context, tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		msg := fmt.Sprintf("pgtest: PostgreSQL is not reachable (%v); set MCPA_TEST_DATABASE_URL or start it with "+
			"'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'", err)
		if Required() {
			tb.Fatal(msg + " [MCPA_REQUIRE_POSTGRES=1: failing instead of skipping]")
		}
		Skip(tb, "PostgreSQL", msg)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
