package catalog_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
)

// TestEncode_Replicas checks that replicas' connection strings are sealed
// at rest like the dataset's own, come back in the clear, and are
// validated.
func TestEncode_Replicas(t *testing.T) {
	box, err := secret.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	d := catalog.Dataset{ID: 3, Name: "Panel", Driver: catalog.DriverPostgres, DSN: "postgres://reader:pw0@primary/panel",
		Settings: catalog.Settings{Replicas: catalog.Replicas{
			DSNs:     []string{"postgres://reader:pw1@replica1/panel", "host=replica2 user=reader password=pw2 dbname=panel"},
			Fallback: catalog.FallbackNone, MaxLag: 30 * time.Second,
		}}}
	settings, sealed, err := catalog.Encode(d, box.Seal)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"pw1", "pw2", "replica1", "replica2"} {
		if strings.Contains(string(settings), pw) {
			t.Errorf("settings hold %q in the clear: %s", pw, settings)
		}
	}
	got := catalog.Dataset{ID: 3, DSN: sealed}
	if err := catalog.Decode(&got, string(settings), box.Open); err != nil {
		t.Fatal(err)
	}
	if got.DSN != d.DSN || strings.Join(got.Settings.Replicas.DSNs, "|") != strings.Join(d.Settings.Replicas.DSNs, "|") ||
		got.Settings.Replicas.Fallback != catalog.FallbackNone || got.Settings.Replicas.MaxLag != 30*time.Second {
		t.Errorf("decoded %+v, want %+v", got.Settings.Replicas, d.Settings.Replicas)
	}

	bad := []struct {
		name string
		d    catalog.Dataset
		want string
	}{
		{"duckdb", catalog.Dataset{Name: "D", Driver: catalog.DriverDuckDB, DSN: "/x.duckdb",
			Settings: catalog.Settings{Replicas: catalog.Replicas{DSNs: []string{"postgres://r/x"}}}}, "postgres datasets only"},
		{"not a dsn", catalog.Dataset{Name: "P", Driver: catalog.DriverPostgres, DSN: "postgres://p/x",
			Settings: catalog.Settings{Replicas: catalog.Replicas{DSNs: []string{"replica1"}}}}, "replica 1 needs a postgres:// URL"},
		{"fallback", catalog.Dataset{Name: "P", Driver: catalog.DriverPostgres, DSN: "postgres://p/x",
			Settings: catalog.Settings{Replicas: catalog.Replicas{DSNs: []string{"postgres://r/x"}, Fallback: "replica"}}}, `must be "primary" or "none"`},
	}
	for _, tt := range bad {
		if err := tt.d.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
