package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Skip skips a test that needs something this machine lacks, loudly: need
// names it in a word or two ("PostgreSQL", "Chromium", "ReadStat") and
// reason says what happened. Both go to stderr and, when MCPA_SKIP_LOG names
// a file (scripts/test sets it), need goes into that file, so that the run
// ends with one line summing up every skipped test. go test hides a passing
// package's output, so without the summary a skip would go unseen.
func Skip(tb testing.TB, need, reason string) {
	tb.Helper()
	fmt.Fprintln(os.Stderr, "!!!!!!!! SKIPPING "+tb.Name()+" (needs "+need+"): "+reason)
	if path := os.Getenv("MCPA_SKIP_LOG"); path != "" {
		line := need + "\t" + packageDir() + "\t" + tb.Name() + "\n"
		// One short write with O_APPEND: lines from test binaries running at
		// once do not interleave.
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			_, _ = f.WriteString(line)
			_ = f.Close()
		}
	}
	tb.Skip(reason)
}

// packageDir is the test's package directory relative to the module root
// (a test binary runs in its package's directory).
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, wd); err == nil {
				return rel
			}
			return wd
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
