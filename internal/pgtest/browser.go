package pgtest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
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

// Console collects a Chromium tab's console errors and exceptions and its
// log's errors (where Content-Security-Policy violations are reported), so
// a browser test can fail on any of them.
type Console struct {
	mu  sync.Mutex
	bad []string
}

// WatchConsole starts collecting the messages of the tab of ctx (a
// chromedp context).
func WatchConsole(tb testing.TB, ctx context.Context) *Console {
	tb.Helper()
	c := &Console{}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				c.mu.Lock()
				c.bad = append(c.bad, m.String())
				c.mu.Unlock()
			}
		}
	}()
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		tb.Fatal(err)
	}
	return c
}

// Errors returns the messages collected so far.
func (c *Console) Errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.bad)
}
