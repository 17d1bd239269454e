package provision

import (
	"strings"
	"testing"
	"time"
)

// TestParseFile_Replicas reads a dataset's read replicas from YAML, with a
// password from the environment, and refuses a bad fallback.
func TestParseFile_Replicas(t *testing.T) {
	f, err := ParseFile([]byte(`
datasets:
  - name: Panel
    driver: postgres
    dsn: postgres://reader:${PW}@primary/panel
    replicas:
      - postgres://reader:${PW}@replica1/panel
      - postgres://reader:${PW}@replica2/panel
    replica_fallback: none
    max_replica_lag: 30s
`), []string{"PW=s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	rp := f.Datasets[0].dataset().Settings.Replicas
	if len(rp.DSNs) != 2 || rp.DSNs[1] != "postgres://reader:s3cret@replica2/panel" || rp.Fallback != "none" || rp.MaxLag != 30*time.Second {
		t.Errorf("replicas = %+v", rp)
	}
	_, err = ParseFile([]byte("datasets:\n  - {name: P, driver: postgres, dsn: 'postgres://p/x', replicas: ['postgres://r/x'], replica_fallback: sometimes}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "replica fallback") {
		t.Errorf("a bad fallback: %v", err)
	}
}
