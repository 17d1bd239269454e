package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/demo"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/provision"
)

// TestRun_Datasets walks the datasets subcommands on a PostgreSQL dataset
// whose connection string has a password, which must never be printed.
func TestRun_Datasets(t *testing.T) {
	dataURL := pgtest.NewDatabase(t)
	ctx := context.Background()
	pgtest.Connect(ctx, t, dataURL)
	if _, err := provision.DemoPostgres(ctx, nil, dataURL, demo.Options{Users: 300, Anchor: time.Now()}, io.Discard); err != nil {
		t.Fatal(err)
	}
	dsn := provision.WithSearchPath(strings.Replace(dataURL, "postgres@", "postgres:Pa55wordX@", 1), "demo_sample_dataset")
	dir := t.TempDir()
	dict := filepath.Join(dir, "dict.csv")
	os.WriteFile(dict, []byte("table,column,description\nusers,nccs,Imported class description\n"), 0o600)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"add", []string{"datasets", "add", "--name", "Panel", "--dsn", dsn}, 0, "1\n", "postgres:***@"},
		{"test reports tables, roles and a role that can write", []string{"datasets", "test", "1"}, 0, "roles: weight users.weight, respondent key user_id, NCCS nccs", ""},
		{"test warns about writing", []string{"datasets", "test", "1"}, 0, "warning: this role can write", ""},
		{"list before profiling", []string{"datasets", "list"}, 0, "never", ""},
		{"profile", []string{"datasets", "profile", "1"}, 0, "users: user level, ~300 rows; categorical: gender", ""},
		{"list after profiling", []string{"datasets", "list"}, 0, time.Now().UTC().Format("2006-01-02"), ""},
		{"update needs a change", []string{"datasets", "update", "1"}, 2, "", "nothing to change"},
		{"update with flags after the id", []string{"datasets", "update", "1", "--description", "Renamed panel"}, 0, "", "updated dataset 1"},
		{"list shows the update", []string{"datasets", "list"}, 0, "Renamed panel", ""},
		{"add a read replica", []string{"datasets", "update", "1", "--replica", dsn, "--max-replica-lag", "30s"}, 0, "", "updated dataset 1"},
		{"list shows the replica", []string{"datasets", "list"}, 0, "(+1 read replicas)", ""},
		{"test through the replica", []string{"datasets", "test", "1"}, 0, "roles: weight users.weight", ""},
		{"a bad replica fallback", []string{"datasets", "update", "1", "--replica-fallback", "sometimes"}, 1, "", `replica fallback must be "primary" or "none"`},
		{"remove the replicas", []string{"datasets", "update", "1", "--replica", ""}, 0, "", "updated dataset 1"},
		{"list without replicas", []string{"datasets", "list"}, 0, "Renamed panel", ""},
		{"describe from a file", []string{"datasets", "describe", "1", "--file", dict}, 0, "", ""},
		{"describe one column", []string{"datasets", "describe", "1", "--table", "users", "--column", "age", "--text", "Age in years"}, 0, "", "described users.age"},
		{"describe a unit keeps the description", []string{"datasets", "describe", "1", "--table", "users", "--column", "age", "--unit", "years"}, 0, "", "described users.age (unit years)"},
		{"describe a unit needs a column", []string{"datasets", "describe", "1", "--table", "users", "--unit", "₹"}, 2, "", "give --column"},
		{"describe needs a text or a unit", []string{"datasets", "describe", "1", "--table", "users", "--column", "age"}, 2, "", "give --text, --unit or both"},
		{"describe needs a source", []string{"datasets", "describe", "1"}, 2, "", "either --file or --table"},
		{"test unknown", []string{"datasets", "test", "9"}, 1, "", "not found"},
		{"unknown subcommand", []string{"datasets", "frob"}, 2, "", "unknown subcommand"},
		{"remove", []string{"datasets", "remove", "1"}, 0, "", "removed dataset 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append(tt.args, "--data-dir", dir)...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "Pa55wordX") {
				t.Errorf("the password leaked:\n%s%s", stdout, stderr)
			}
		})
	}
	raw, err := os.ReadFile(filepath.Join(dir, "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Pa55wordX")) {
		t.Error("the password is in the catalog file in the clear")
	}
}

// TestOpenApp_Provision applies a provisioning file at start, twice, as two
// restarts would: the same datasets with the same ids, the dictionary
// imported, the secret taken from the environment.
func TestOpenApp_Provision(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	yaml := filepath.Join(dir, "datasets.yaml")
	os.WriteFile(yaml, []byte(`datasets:
  - id: 7
    name: Warehouse
    driver: postgres
    dsn: postgres://reader:${WAREHOUSE_PW}@db.invalid/panel
    dictionary:
      - {table: users, column: nccs, description: Class.}
`), 0o600)
	cfg := config.Default()
	cfg.DataDir, cfg.Demo = dir, false
	flags := catalogFlags{provision: yaml, environ: []string{"WAREHOUSE_PW=pw"}}
	for range 2 {
		a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard, flags)
		if err != nil {
			t.Fatal(err)
		}
		list := a.reg.List(ctx)
		if len(list) != 1 || list[0].ID != 7 || list[0].Name != "Warehouse" || list[0].DSN != "postgres://reader:pw@db.invalid/panel" {
			t.Errorf("provisioned datasets = %+v", list)
		}
		ds, err := a.store.Descriptions(ctx, 7)
		if err != nil || len(ds) != 1 {
			t.Errorf("descriptions = %v, %v", ds, err)
		}
		a.Close()
	}
	if _, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard, catalogFlags{provision: yaml}); err == nil || !strings.Contains(err.Error(), "WAREHOUSE_PW") {
		t.Errorf("provisioning without the variable: err = %v", err)
	}
}

// TestRun_DescribeUnits sets units with describe and imports dictionaries
// with and without units: a flag not given keeps what is stored, and a
// dictionary that gives no units keeps the stored ones.
func TestRun_DescribeUnits(t *testing.T) {
	dir := t.TempDir()
	withUnits := filepath.Join(dir, "units.csv")
	os.WriteFile(withUnits, []byte("table,column,description,unit\norders,amount,Order value,₹\nusers,total_spend,Spend,₹\n"), 0o600)
	without := filepath.Join(dir, "plain.yaml")
	os.WriteFile(without, []byte("- {table: orders, column: amount, description: Order value in rupees}\n"), 0o600)
	steps := [][]string{
		{"datasets", "add", "--name", "Files", "--driver", "duckdb", "--dsn", filepath.Join(dir, "none.duckdb")},
		{"datasets", "describe", "1", "--file", withUnits},
		{"datasets", "describe", "1", "--file", without},
		{"datasets", "describe", "1", "--table", "users", "--column", "total_spend", "--text", "Total spend"},
		{"datasets", "describe", "1", "--table", "orders", "--column", "amount", "--unit", "INR"},
		{"datasets", "describe", "1", "--table", "users", "--column", "age", "--unit", "years"},
		{"datasets", "describe", "1", "--table", "users", "--column", "age", "--unit", ""},
	}
	for _, args := range steps {
		if code, stdout, stderr := run(t, append(args, "--data-dir", dir)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
	cfg := config.Default()
	cfg.DataDir, cfg.Demo = dir, false
	a, err := openApp(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard, catalogFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got, err := a.store.Descriptions(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.Description{
		{Table: "orders", Column: "amount", Description: "Order value in rupees", Unit: "INR"},
		{Table: "users", Column: "total_spend", Description: "Total spend", Unit: "₹"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dictionary (-want +got):\n%s", diff)
	}
}
