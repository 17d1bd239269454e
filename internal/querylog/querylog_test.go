package querylog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/pgstore"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
)

func records(prefix string, n int, at time.Time) []catalog.QueryRecord {
	out := make([]catalog.QueryRecord, n)
	for i := range out {
		out[i] = catalog.QueryRecord{ID: querylog.NewID(), Kind: catalog.KindCall, Time: at, DurationMS: 1, Tool: "query_dataset",
			Outcome: catalog.OutcomeOK, Label: fmt.Sprintf("%s-%d", prefix, i)}
	}
	return out
}

// stored returns how many records the store holds, and fails when one is
// stored twice.
func stored(t *testing.T, s catalog.QueryLog) int {
	t.Helper()
	all, err := s.QueryLogRecords(context.Background(), catalog.LogFilter{Limit: catalog.MaxLogLimit})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range all {
		if seen[r.Label] {
			t.Errorf("record %s stored twice", r.Label)
		}
		seen[r.Label] = true
	}
	return len(all)
}

func TestWriter_WritesInBatches(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlitestore.Open(ctx, filepath.Join(dir, "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := querylog.New(s, querylog.Options{SpoolDir: filepath.Join(dir, "spool"), FlushEvery: time.Hour, BatchSize: 50})
	w.Start(ctx)
	w.Add(records("a", 120, time.Now())...)
	// 120 > BatchSize wakes the writer without waiting an hour.
	deadline := time.Now().Add(10 * time.Second)
	for w.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := stored(t, s); n != 120 || w.Pending() != 0 {
		t.Errorf("after a full batch: %d stored, %d pending; want 120 and 0", n, w.Pending())
	}
	w.Add(records("b", 7, time.Now())...)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := stored(t, s); n != 127 {
		t.Errorf("after Close: %d stored, want 127", n)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "spool")); len(entries) != 0 {
		t.Errorf("the spool directory holds %d files with the store up", len(entries))
	}
}

func TestWriter_Prunes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlitestore.Open(ctx, filepath.Join(dir, "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.AppendQueryLog(ctx, append(records("old", 3, time.Now().Add(-100*24*time.Hour)), records("new", 2, time.Now().Add(-time.Hour))...)); err != nil {
		t.Fatal(err)
	}
	w := querylog.New(s, querylog.Options{SpoolDir: dir, Retention: 90 * 24 * time.Hour})
	w.Start(ctx)
	w.Add(records("now", 1, time.Now())...)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := stored(t, s); n != 3 {
		t.Errorf("%d records after pruning at 90 days, want 3", n)
	}
}

// TestWriter_SpoolsWhileTheStoreIsDown stops the catalog's PostgreSQL (a
// cluster of this test's own) while records keep coming, starts it again,
// and checks every record arrives exactly once: those of a writer still
// running, and those of a writer closed while the store was down, replayed
// by the next writer as after a restart.
func TestWriter_SpoolsWhileTheStoreIsDown(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.NewCluster(t)
	box, err := secret.Load(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := pgstore.Open(ctx, cluster.DSN(""), box)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	spool := t.TempDir()
	opts := querylog.Options{SpoolDir: spool, FlushEvery: 20 * time.Millisecond, WriteTimeout: 2 * time.Second}
	first := querylog.New(s, opts)
	first.Start(ctx)
	second := querylog.New(s, opts) // the one that will be "restarted"
	second.Start(ctx)

	first.Add(records("before", 50, time.Now())...)
	if err := first.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := stored(t, s); n != 50 {
		t.Fatalf("%d stored before the outage, want 50", n)
	}

	if err := cluster.Stop(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		first.Add(records(fmt.Sprintf("down%d", i), 20, time.Now())...)
		second.Add(records(fmt.Sprintf("restart%d", i), 10, time.Now())...)
		time.Sleep(30 * time.Millisecond)
	}
	if err := first.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if p := first.Pending(); p != 200 {
		t.Errorf("first writer: %d records pending while the store is down, want 200", p)
	}
	// The second writer shuts down while the store is away: its records
	// stay in its spool file.
	if err := second.Close(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(spool, "*.spool.jsonl"))
	if len(files) != 2 {
		t.Errorf("spool files while the store is down = %v, want one per writer", files)
	}

	if err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for first.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p := first.Pending(); p != 0 {
		t.Fatalf("first writer: %d records still pending 30 s after the store came back", p)
	}
	// The restarted process replays what the closed writer spooled.
	third := querylog.New(s, opts)
	third.Start(ctx)
	if err := third.Close(ctx); err != nil {
		t.Fatal(err)
	}
	first.Add(records("after", 5, time.Now())...)
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := stored(t, s); n != 50+200+100+5 {
		t.Errorf("%d records stored, want %d: every record exactly once", n, 50+200+100+5)
	}
	if files, _ := filepath.Glob(filepath.Join(spool, "*")); len(files) != 0 {
		t.Errorf("spool files left after everything was written: %v", files)
	}
	for _, w := range []*querylog.Writer{first, second, third} {
		if w.Dropped() != 0 {
			t.Errorf("a writer dropped %d records", w.Dropped())
		}
	}
}

// TestWriter_SkipsTornLine replays a spool whose last line a crash cut
// short: the whole lines are stored, the torn one skipped.
func TestWriter_SkipsTornLine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlitestore.Open(ctx, filepath.Join(dir, "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(spool, 0o700)
	line := `{"id":"%032x","kind":"call","time":"2026-03-01T09:00:00Z","duration_ms":1,"tool":"get_context","outcome":"ok","label":"l%d","options":{"apply_weights":false,"merge_nccs":false}}`
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, line+"\n", i+1, i)
	}
	b.WriteString(`{"id":"00000000000000000000000000000009","kind":"ca`)
	if err := os.WriteFile(filepath.Join(spool, "1-999999.spool.jsonl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	w := querylog.New(s, querylog.Options{SpoolDir: spool})
	w.Start(ctx)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := stored(t, s); n != 3 {
		t.Errorf("%d records replayed from the torn spool, want 3", n)
	}
}

// BenchmarkWriter_Add is the query log's cost on the request path.
func BenchmarkWriter_Add(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := sqlitestore.Open(ctx, filepath.Join(dir, "catalog.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w := querylog.New(s, querylog.Options{SpoolDir: dir})
	w.Start(ctx)
	defer w.Close(ctx)
	rec := records("bench", 1, time.Now())[0]
	rec.QuerySent = "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.Add(rec)
	}
}

// discard is a store that keeps nothing, so BenchmarkWriter_AddOnly
// measures the request path alone.
type discard struct{}

func (discard) AppendQueryLog(context.Context, []catalog.QueryRecord) error { return nil }
func (discard) QueryLogRecords(context.Context, catalog.LogFilter) ([]catalog.QueryRecord, error) {
	return nil, nil
}
func (discard) AggregateQueryLog(context.Context, catalog.Aggregate) ([]catalog.AggregateRow, error) {
	return nil, nil
}
func (discard) PruneQueryLog(context.Context, time.Time) (int64, error) { return 0, nil }

// BenchmarkWriter_AddOnly is Add alone: the writer hands batches to a
// store that keeps nothing.
func BenchmarkWriter_AddOnly(b *testing.B) {
	ctx := context.Background()
	w := querylog.New(discard{}, querylog.Options{SpoolDir: b.TempDir()})
	w.Start(ctx)
	defer w.Close(ctx)
	rec := records("bench", 1, time.Now())[0]
	rec.QuerySent = "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"
	b.ReportAllocs()
	for b.Loop() {
		w.Add(rec)
	}
}
