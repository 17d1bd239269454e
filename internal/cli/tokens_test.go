package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// runTokensCmd runs "tokens ..." in-process (the subcommand is called
// directly so the test does not depend on its registration).
func runTokensCmd(t *testing.T, args ...string) (error, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := runTokens(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, args)
	return err, stdout.String(), stderr.String()
}

func TestRunTokens(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := openStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"one", "two"} {
		if _, err := store.Add(ctx, catalog.Dataset{Name: name, Driver: catalog.DriverDuckDB, DSN: filepath.Join(dir, name+".duckdb")}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	dd := "--data-dir=" + dir
	tokenRE := regexp.MustCompile(`^mcpa_[A-Za-z0-9_-]{43}\n$`)

	tests := []struct {
		name   string
		args   []string
		err    string // "" success
		stdout string // regexp
		stderr string
	}{
		{"create", []string{"create", dd, "--name", "analyst", "--datasets", "2"}, "", tokenRE.String(), `created token 1 "analyst" for datasets 2`},
		{"create all", []string{"create", dd, "--name", "admin", "--datasets", "all"}, "", tokenRE.String(), "for all datasets"},
		{"duplicate name", []string{"create", dd, "--name", "analyst", "--datasets", "1"}, `an active token named "analyst" already exists`, "^$", ""},
		{"unknown dataset", []string{"create", dd, "--name", "x", "--datasets", "1,7"}, "dataset 7 does not exist", "^$", ""},
		{"bad datasets", []string{"create", dd, "--name", "x", "--datasets", "one"}, "not a positive integer", "^$", ""},
		{"numeric name", []string{"create", dd, "--name", "42", "--datasets", "1"}, "names must not look like ids", "^$", ""},
		{"missing flags", []string{"create", dd, "--name", "x"}, "--name and --datasets are required", "^$", ""},
		{"metrics token", []string{"create", dd, "--name", "prometheus", "--scopes", "metrics"}, "", tokenRE.String(), `for no dataset (scopes: metrics)`},
		{"unknown scope", []string{"create", dd, "--name", "x", "--datasets", "1", "--scopes", "mcp,root"}, `unknown scope "root"`, "^$", ""},
		{"list", []string{"list", dd}, "", `(?s)ID +NAME +SCOPES +SEES.*1 +analyst +mcp +datasets 2 .* -\n2 +admin +mcp +all datasets.*\n3 +prometheus +metrics +no dataset`, ""},
		{"revoke by name", []string{"revoke", dd, "analyst"}, "", "^$", "revoked token analyst"},
		{"revoke again", []string{"revoke", dd, "analyst"}, "no active token", "^$", ""},
		{"revoke by id", []string{"revoke", dd, "2"}, "", "^$", "revoked token 2"},
		{"revoke unknown id", []string{"revoke", dd, "9"}, "no active token", "^$", ""},
		{"revoke the metrics token", []string{"revoke", dd, "prometheus"}, "", "^$", "revoked token prometheus"},
		{"unknown subcommand", []string{"rotate"}, `unknown subcommand "rotate"`, "^$", ""},
	}
	var secrets []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, stdout, stderr := runTokensCmd(t, tt.args...)
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if !regexp.MustCompile(tt.stdout).MatchString(stdout) {
				t.Errorf("stdout = %q, want /%s/", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want %q", stderr, tt.stderr)
			}
			if strings.HasPrefix(stdout, auth.TokenPrefix) {
				secrets = append(secrets, strings.TrimSpace(stdout))
			}
		})
	}
	_, list, _ := runTokensCmd(t, "list", dd)
	for _, s := range secrets {
		if strings.Contains(list, s) || strings.Contains(list, auth.HashToken(s)) {
			t.Errorf("tokens list shows a secret or its hash:\n%s", list)
		}
	}
	if strings.Count(list, "\n") != 4 || strings.Count(list, " - ") != 0 {
		t.Errorf("after revoking all three, list:\n%s", list)
	}
}

// TestRunServe_RefusesOpenNonLoopback checks that serve will not listen on
// every interface without auth unless told to.
func TestRunServe_RefusesOpenNonLoopback(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := run(t, "serve", "--data-dir", dir, "--no-demo", "--listen", "0.0.0.0:0")
	if code != 2 || !strings.Contains(stderr, "refusing to serve 0.0.0.0:0 without auth") || !strings.Contains(stderr, "--allow-unauthenticated") {
		t.Errorf("serve on 0.0.0.0 without auth: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "serve", "--data-dir", dir, "--no-demo", "--auth-issuer", "https://idp.example.com")
	if code != 2 || !strings.Contains(stderr, "JWKS URL is required") {
		t.Errorf("serve with an incomplete OAuth setup: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestListenLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8000": true, "localhost:8000": true, "[::1]:8000": true, "127.0.0.2:1": true,
		"0.0.0.0:8000": false, ":8000": false, "[::]:8000": false, "10.0.0.5:8000": false, "example.com:80": false,
	} {
		if got := listenLoopback(addr); got != want {
			t.Errorf("listenLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
