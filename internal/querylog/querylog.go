// Package querylog writes the query log (SPEC §9): one record per tool
// call and per query of execute_multi_query, stored in the catalog store
// ([catalog.QueryLog]) so that every replica's calls land in one place.
//
// Writing stays off the request path: [Writer.Add] appends to a buffer
// under a mutex and returns; a background goroutine writes the buffer to
// the store in batches every [Options.FlushEvery] (or sooner when a batch
// fills). When the store cannot be reached the batch is appended to a
// spool file in the data directory (JSON lines, synced to disk) and
// written to the store once it answers again, spool first, so records keep
// their order. Records carry ids chosen here and stores skip ids they
// hold, so a batch written twice (a commit whose answer was lost, a spool
// replayed after a crash) is stored once.
//
// A record counts as acknowledged once Add has returned. [Writer.Close]
// (on shutdown) writes every buffered record to the store or, when it is
// down, to the spool, and the next start replays the spool: a restart
// loses nothing. A process killed outright (SIGKILL, power loss) loses at
// most the records of its last FlushEvery.
//
// Each process spools to a file of its own, locked while the process
// runs; at start and after each successful write a writer replays the
// spool files no live process holds, so replicas sharing a data directory
// do not collide and a crashed process's spool is picked up by the next.
//
// The writer also prunes records older than [Options.Retention], hourly.
package querylog

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// Options configure a Writer.
type Options struct {
	// SpoolDir holds the spool files; required.
	SpoolDir string
	// FlushEvery is how often buffered records are written; 1s when 0.
	FlushEvery time.Duration
	// BatchSize is the most records written in one statement batch; a full
	// buffer is written without waiting for FlushEvery. 500 when 0.
	BatchSize int
	// MaxBuffered bounds the records held in memory when neither the store
	// nor the spool takes them; beyond it records are dropped (and
	// counted). 100,000 when 0.
	MaxBuffered int
	// Retention is how long records are kept; 0 keeps them forever.
	Retention time.Duration
	// WriteTimeout bounds one write to the store; 5s when 0.
	WriteTimeout time.Duration
	Logger       *slog.Logger
}

// Writer buffers query log records and writes them to the store.
type Writer struct {
	store catalog.QueryLog
	opts  Options
	log   *slog.Logger

	mu       sync.Mutex
	buf      []catalog.QueryRecord
	inflight bool // a flush holds records taken from buf
	closed   bool
	flushed  chan struct{} // closed and replaced after every flush

	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool

	// pending counts records not yet in the store: buffered, being
	// written or spooled.
	pending atomic.Int64
	dropped atomic.Int64
	stored  atomic.Int64

	spool    *spoolFile // this process's spool; nil until needed
	down     bool       // the last write to the store failed
	lastPrun time.Time
}

// New returns a writer to store. Call Start to run it and Close to flush
// it.
func New(store catalog.QueryLog, opts Options) *Writer {
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = time.Second
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.MaxBuffered <= 0 {
		opts.MaxBuffered = 100_000
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Writer{store: store, opts: opts, log: log.With("component", "querylog"),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), flushed: make(chan struct{})}
}

// NewID returns a fresh record id: 32 hex digits.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Add buffers records for writing. It never blocks on I/O. Records
// without an ID get one.
func (w *Writer) Add(records ...catalog.QueryRecord) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.log.Error("query log record after close; dropped", "records", len(records))
		w.dropped.Add(int64(len(records)))
		return
	}
	n := len(records)
	if room := w.opts.MaxBuffered - len(w.buf); n > room {
		w.dropped.Add(int64(n - max(room, 0)))
		n = max(room, 0)
	}
	for _, r := range records[:n] {
		if r.ID == "" {
			r.ID = NewID()
		}
		w.buf = append(w.buf, r)
	}
	full := len(w.buf) >= w.opts.BatchSize
	w.mu.Unlock()
	w.pending.Add(int64(n))
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Pending returns the number of records not yet in the store (buffered
// or spooled).
func (w *Writer) Pending() int64 { return w.pending.Load() }

// Dropped returns the number of records lost because neither the store,
// the spool nor the buffer could take them.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Stored returns the number of records this writer has written to the
// store (including replayed spools).
func (w *Writer) Stored() int64 { return w.stored.Load() }

// Start replays leftover spool files and runs the writer until Close.
func (w *Writer) Start(ctx context.Context) {
	if !w.started.CompareAndSwap(false, true) {
		return
	}
	if err := os.MkdirAll(w.opts.SpoolDir, 0o700); err != nil {
		w.log.Error("create the query log spool directory", "dir", w.opts.SpoolDir, "err", err)
	}
	go w.run(context.WithoutCancel(ctx))
}

func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	w.replaySpools(ctx)
	w.prune(ctx)
	t := time.NewTicker(w.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.flush(ctx, true)
			return
		case <-t.C:
		case <-w.wake:
		}
		w.flush(ctx, false)
		if time.Since(w.lastPrun) > time.Hour {
			w.prune(ctx)
		}
	}
}

// Flush writes what is buffered now and waits until it is in the store or
// the spool (for tests and the log command's --follow of a local server).
func (w *Writer) Flush(ctx context.Context) error {
	if !w.started.Load() {
		w.flush(ctx, true)
		return nil
	}
	for {
		w.mu.Lock()
		ch := w.flushed
		idle := len(w.buf) == 0 && !w.inflight
		w.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-w.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close writes every buffered record to the store, or to the spool when
// the store cannot be reached within ctx, and stops the writer.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	if !w.started.Load() {
		// Never started: write synchronously.
		w.flush(ctx, true)
	} else {
		close(w.stop)
		select {
		case <-w.done:
		case <-ctx.Done():
			return fmt.Errorf("flush the query log: %w", ctx.Err())
		}
	}
	if w.spool != nil {
		w.spool.close()
	}
	if n := w.pending.Load(); n > 0 {
		w.log.Warn("query log records left in the spool; they are written at the next start", "records", n, "dir", w.opts.SpoolDir)
	}
	return nil
}

// flush writes the buffer: to the store when it answers (after the spool,
// so records stay in order), else to this process's spool. final makes
// it write everything, in as many batches as needed.
func (w *Writer) flush(ctx context.Context, final bool) {
	defer func() {
		w.mu.Lock()
		w.inflight = false
		close(w.flushed)
		w.flushed = make(chan struct{})
		w.mu.Unlock()
	}()
	for {
		w.mu.Lock()
		batch := w.buf
		if len(batch) > 0 {
			w.buf = make([]catalog.QueryRecord, 0, min(len(batch), w.opts.BatchSize))
		}
		w.inflight = len(batch) > 0
		w.mu.Unlock()
		if len(batch) == 0 {
			if w.spool != nil && w.spool.count > 0 {
				w.replayOwn(ctx)
			}
			return
		}
		if w.spool != nil && w.spool.count > 0 {
			// Still spooling: try the store with the spool first.
			w.replayOwn(ctx)
		}
		if w.spool == nil || w.spool.count == 0 {
			if err := w.write(ctx, batch); err == nil {
				if !final {
					return
				}
				continue
			} else {
				w.wentDown(err)
			}
		}
		if err := w.toSpool(batch); err != nil {
			w.log.Error("query log: the store and the spool both failed; records kept in memory", "err", err, "records", len(batch))
			w.mu.Lock()
			w.buf = append(batch, w.buf...)
			w.mu.Unlock()
			return
		}
		if !final {
			return
		}
	}
}

// write appends records to the store in batches of BatchSize.
func (w *Writer) write(ctx context.Context, records []catalog.QueryRecord) error {
	for len(records) > 0 {
		n := min(len(records), w.opts.BatchSize)
		wctx, cancel := context.WithTimeout(ctx, w.opts.WriteTimeout)
		err := w.store.AppendQueryLog(wctx, records[:n])
		cancel()
		if err != nil {
			return err
		}
		w.pending.Add(-int64(n))
		w.stored.Add(int64(n))
		records = records[n:]
	}
	if w.down {
		w.down = false
		w.log.Info("query log store reachable again")
	}
	return nil
}

func (w *Writer) wentDown(err error) {
	if !w.down {
		w.log.Warn("query log store unreachable; spooling records to disk until it is back", "err", err, "dir", w.opts.SpoolDir)
	}
	w.down = true
}

// toSpool appends records to this process's spool file.
func (w *Writer) toSpool(records []catalog.QueryRecord) error {
	if w.spool == nil {
		s, err := createSpool(w.opts.SpoolDir)
		if err != nil {
			return err
		}
		w.spool = s
	}
	return w.spool.append(records)
}

// replayOwn writes this process's spool to the store and empties it.
func (w *Writer) replayOwn(ctx context.Context) {
	records, err := readSpool(w.spool.path)
	if err != nil {
		w.log.Error("read the query log spool", "file", w.spool.path, "err", err)
		return
	}
	if err := w.write(ctx, records); err != nil {
		w.wentDown(err)
		return
	}
	if err := w.spool.truncate(); err != nil {
		w.log.Error("empty the query log spool", "file", w.spool.path, "err", err)
	}
}

// replaySpools writes the spool files of processes that are gone (their
// files are not locked) to the store and removes them.
func (w *Writer) replaySpools(ctx context.Context) {
	entries, err := os.ReadDir(w.opts.SpoolDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), spoolSuffix) {
			continue
		}
		path := filepath.Join(w.opts.SpoolDir, e.Name())
		if w.spool != nil && path == w.spool.path {
			continue
		}
		f, ok, err := lockExisting(path)
		if err != nil || !ok {
			continue // a live process holds it
		}
		records, err := readSpool(path)
		if err != nil {
			w.log.Error("read a query log spool", "file", path, "err", err)
			f.Close()
			continue
		}
		w.pending.Add(int64(len(records)))
		if err := w.write(ctx, records); err != nil {
			w.pending.Add(-int64(len(records)))
			w.wentDown(err)
			f.Close()
			return
		}
		os.Remove(path)
		f.Close()
		w.log.Info("replayed a query log spool", "file", path, "records", len(records))
	}
}

func (w *Writer) prune(ctx context.Context) {
	w.lastPrun = time.Now()
	if w.opts.Retention <= 0 {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := w.store.PruneQueryLog(pctx, time.Now().Add(-w.opts.Retention))
	if err != nil {
		w.log.Warn("prune the query log", "err", err)
		return
	}
	if n > 0 {
		w.log.Info("pruned the query log", "records", n, "older_than", w.opts.Retention)
	}
}

const spoolSuffix = ".spool.jsonl"

// spoolFile is this process's spool: JSON lines, locked while open.
type spoolFile struct {
	path  string
	f     *os.File
	count int
}

func createSpool(dir string) (*spoolFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool directory: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%d-%d%s", time.Now().UnixNano(), os.Getpid(), spoolSuffix))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock spool file: %w", err)
	}
	return &spoolFile{path: path, f: f}, nil
}

func (s *spoolFile) append(records []catalog.QueryRecord) error {
	var b strings.Builder
	for _, r := range records {
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode a query log record: %w", err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if _, err := s.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("write spool file: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync spool file: %w", err)
	}
	s.count += len(records)
	return nil
}

func (s *spoolFile) truncate() error {
	s.count = 0
	if err := s.f.Truncate(0); err != nil {
		return err
	}
	return s.f.Sync()
}

func (s *spoolFile) close() {
	empty := s.count == 0
	s.f.Close()
	if empty {
		os.Remove(s.path)
	}
}

// readSpool reads a spool file. A last line cut short by a crash is
// skipped.
func readSpool(path string) ([]catalog.QueryRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []catalog.QueryRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var r catalog.QueryRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return out, err
	}
	return out, nil
}
