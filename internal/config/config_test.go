package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoad_Layers(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		environ []string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "defaults follow SPEC §3",
			check: func(t *testing.T, c Config) {
				l := c.Limits
				if l.RawRows != 5 || l.AggregatedRows != 1000 || l.MaxQueries != 30 || l.MaxConcurrent != 10 ||
					l.PoolMinConns != 2 || l.PoolMaxConns != 10 || l.PoolIdle != 300*time.Second ||
					l.QueryTimeout != 60*time.Second || l.ConnectTimeout != 30*time.Second || l.MaxQueryBytes != 102400 {
					t.Errorf("limits = %+v", l)
				}
				if c.Listen != "127.0.0.1:8000" {
					t.Errorf("listen = %q, want loopback", c.Listen)
				}
			},
		},
		{
			name:    "yaml over defaults, env over yaml, secrets expanded",
			yaml:    "listen: 127.0.0.1:9000\ndata_dir: ${DIR}/x\nlimits:\n  raw_rows: 7\n  query_timeout: 5s\n",
			environ: []string{"DIR=/srv", "MCPA_RAW_ROWS=9"},
			check: func(t *testing.T, c Config) {
				if c.Listen != "127.0.0.1:9000" || c.DataDir != "/srv/x" || c.Limits.RawRows != 9 || c.Limits.QueryTimeout != 5*time.Second {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "auth settings",
			yaml: "auth:\n  issuer: https://id.example.com\n  allowed_origins: [https://app.example.com]\n  token_refresh: 5s\n",
			check: func(t *testing.T, c Config) {
				if c.Auth.Issuer != "https://id.example.com" || len(c.Auth.AllowedOrigins) != 1 || c.Auth.TokenRefresh != 5*time.Second {
					t.Errorf("auth = %+v", c.Auth)
				}
			},
		},
		{
			name:    "auth variables over the file, lists split on commas and spaces",
			yaml:    "auth:\n  issuer: https://file.example.com\n  token_refresh: 9s\n",
			environ: []string{"HOME=/root", "MCPA_AUTH_ISSUER=https://idp", "MCPA_AUTH_ALLOWED_ORIGINS=https://a.example, https://b.example", "MCPA_AUTH_ALLOW_UNAUTHENTICATED=true", "MCPA_AUTH_TOKEN_REFRESH=5s"},
			check: func(t *testing.T, c Config) {
				want := Auth{Issuer: "https://idp", AllowedOrigins: []string{"https://a.example", "https://b.example"}, AllowUnauthenticated: true, TokenRefresh: 5 * time.Second}
				if !reflect.DeepEqual(c.Auth, want) {
					t.Errorf("auth = %+v, want %+v", c.Auth, want)
				}
			},
		},
		{name: "a misspelt auth variable is an error", environ: []string{"MCPA_AUTH_ISUER=x"}, wantErr: "unknown variable MCPA_AUTH_ISUER"},
		{name: "a bad auth duration is an error", environ: []string{"MCPA_AUTH_TOKEN_REFRESH=soon"}, wantErr: "MCPA_AUTH_TOKEN_REFRESH"},
		{name: "unknown keys are errors", yaml: "lisen: x\n", wantErr: "field lisen not found"},
		{name: "unset variables are errors", yaml: "data_dir: ${NOPE}\n", wantErr: "NOPE"},
		{name: "bad env values are errors", environ: []string{"MCPA_RAW_ROWS=five"}, wantErr: "MCPA_RAW_ROWS"},
		{name: "empty file is fine", yaml: "", check: func(t *testing.T, c Config) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if !strings.HasPrefix(tt.name, "defaults") && tt.environ == nil || tt.yaml != "" {
				path = t.TempDir() + "/c.yaml"
				if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(path, tt.environ)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestConfig_Validate(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	c.Limits.RawRows = 0
	c.Log.Format = "xml"
	c.Limits.PoolMinConns = 20
	err := c.Validate()
	for _, want := range []string{"limits.raw_rows", "log.format", "limits.pool_min_conns"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}
