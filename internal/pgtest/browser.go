package pgtest

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium finds the browser the browser tests drive ($MCPA_CHROMIUM, else
// Debian's chromium or another Chrome on PATH). Without one the test skips
// loudly, or fails under MCPA_REQUIRE_BROWSER=1 (CI installs chromium).
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("MCPA_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (apt-get install -y chromium, or set MCPA_CHROMIUM)"
	if os.Getenv("MCPA_REQUIRE_BROWSER") == "1" {
		tb.Fatal(msg + "; MCPA_REQUIRE_BROWSER=1 requires it")
	}
	Skip(tb, "Chromium", msg)
	return ""
}
