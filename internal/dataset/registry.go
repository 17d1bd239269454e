// Package dataset keeps the live set of datasets a server serves: their
// catalog entries, their open sources (created on first use), their schemas
// and survey roles (read once, kept in memory). It follows the catalog: a
// dataset added, changed or removed by another process is picked up by
// Refresh, and a changed or removed dataset's source is closed once the
// queries using it have finished.
package dataset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/profile"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

// Store is the part of a catalog store the registry uses.
type Store interface {
	List(ctx context.Context) ([]catalog.Dataset, error)
	Version(ctx context.Context) (int64, error)
	Profile(ctx context.Context, datasetID int64) (catalog.Profile, error)
	SaveProfile(ctx context.Context, p catalog.Profile) error
	Descriptions(ctx context.Context, datasetID int64) ([]catalog.Description, error)
	Codebook(ctx context.Context, datasetID int64) (catalog.Codebook, error)
}

// listener is a store that pushes change notifications (catalog/pgstore's
// LISTEN/NOTIFY). Polling Version stays on as the fallback.
type listener interface {
	Listen(ctx context.Context, changed func()) error
}

// DefaultProfileEvery is how old a stored profile may grow before Watch
// profiles the dataset again.
const DefaultProfileEvery = 24 * time.Hour

// Option configures a Registry.
type Option func(*Registry)

// WithProfileEvery sets how often Watch refreshes datasets' profiles
// (DefaultProfileEvery; 0 turns scheduled profiling off).
func WithProfileEvery(d time.Duration) Option { return func(r *Registry) { r.profileEvery = d } }

// Opener opens a dataset's source.
type Opener func(ctx context.Context, d catalog.Dataset, limits config.Limits) (source.Source, error)

// NotFoundError reports an unknown dataset id.
type NotFoundError struct{ ID int64 }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("dataset %d not found; call list_available_datasets to see the dataset ids you can use", e.ID)
}

// Registry is the live set of datasets.
type Registry struct {
	store    Store
	open     Opener
	defaults config.Limits
	log      *slog.Logger

	profileEvery time.Duration
	profiling    sync.Mutex // one profile run at a time per process

	mu      sync.Mutex
	version int64
	loaded  bool
	entries map[int64]*entry
	order   []int64
}

// New returns a registry over store. Call Refresh (or Watch) to load it.
func New(store Store, open Opener, defaults config.Limits, log *slog.Logger, opts ...Option) *Registry {
	r := &Registry{store: store, open: open, defaults: defaults, log: log.With("component", "dataset"),
		entries: map[int64]*entry{}, profileEvery: DefaultProfileEvery}
	for _, o := range opts {
		o(r)
	}
	return r
}

type entry struct {
	ds     catalog.Dataset
	limits config.Limits

	mu     sync.Mutex // guards everything below
	src    source.Source
	tables []source.Table
	roles  Roles
	dates  [2]string
	ranges []DateRange
	ready  bool
	// panel holds the design's constants, computed once per dataset
	// version (and again after each profile run); nil when the dataset
	// has no weights or the last attempt, at panelAt, failed.
	panel   *weighting.Panel
	panelAt time.Time
	refs    int
	retired bool
	warmed  bool // Warm has opened it, or tried to

	// info is the stored profile and descriptions; reloaded on the next
	// Open after any catalog change.
	info      info
	infoStale bool
}

type info struct {
	profile      *catalog.Profile
	descriptions map[string]string
	codebook     *catalog.Codebook
	units        map[string]string
}

// Handle is a dataset ready to be queried. Release it when done so a
// changed or removed dataset's connections can be closed.
type Handle struct {
	Dataset catalog.Dataset
	Limits  config.Limits
	Source  source.Source
	Tables  []source.Table
	Roles   Roles
	// DateRange is the earliest and latest date in the dataset's date
	// columns ("" when it has none or they could not be read).
	DateRange [2]string
	// DateRanges are the earliest and latest date of each date column, in
	// the order of Roles.DateColumns: event tables often cover different
	// periods (a year of orders, three months of app usage).
	DateRanges []DateRange
	// Panel holds the design's constants of the weights table, computed
	// once per dataset version (see weighting.Options.Panel); nil when
	// unknown, and the rewrite then computes them in each query.
	Panel *weighting.Panel
	// Profile is the stored profile, nil when the dataset was never
	// profiled.
	Profile *catalog.Profile
	// Descriptions come from the data dictionary: "table" describes a
	// table, "table.column" a column.
	Descriptions map[string]string
	// Codebook is what the imported survey files said about their
	// variables (labels, user-missing codes, measurement levels); nil for
	// a dataset that was not imported.
	Codebook *catalog.Codebook
	// Units come from the data dictionary too: "table.column" → the unit
	// of the column's values (₹, INR, min).
	Units map[string]string
	e     *entry
	once  sync.Once
}

// Release returns the handle.
func (h *Handle) Release() {
	h.once.Do(func() {
		h.e.mu.Lock()
		h.e.refs--
		closeNow := h.e.retired && h.e.refs == 0 && h.e.src != nil
		h.e.mu.Unlock()
		if closeNow {
			h.e.src.Close()
		}
	})
}

// Refresh reloads the catalog when it changed since the last load.
func (r *Registry) Refresh(ctx context.Context) error {
	v, err := r.store.Version(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	unchanged := r.loaded && v == r.version
	r.mu.Unlock()
	if unchanged {
		return nil
	}
	list, err := r.store.List(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := make(map[int64]*entry, len(list))
	order := make([]int64, 0, len(list))
	for _, d := range list {
		order = append(order, d.ID)
		if old, ok := r.entries[d.ID]; ok && old.ds.UpdatedAt.Equal(d.UpdatedAt) {
			// Its profile or descriptions may have changed.
			old.mu.Lock()
			old.infoStale = true
			old.mu.Unlock()
			next[d.ID] = old
			continue
		}
		next[d.ID] = &entry{ds: d, limits: effectiveLimits(r.defaults, d.Settings.Limits)}
		if r.loaded {
			r.log.Info("dataset loaded", "dataset", d.ID, "name", d.Name, "driver", d.Driver)
		}
	}
	for id, old := range r.entries {
		if cur, ok := next[id]; !ok || cur != old {
			r.log.Info("dataset retired", "dataset", id, "name", old.ds.Name)
			old.retire()
		}
	}
	r.entries, r.order, r.version, r.loaded = next, order, v, true
	return nil
}

// Watch follows the catalog until ctx ends: it calls Refresh every
// interval and, when the store pushes notifications, as soon as one
// arrives; it also keeps profiles fresh (see WithProfileEvery).
func (r *Registry) Watch(ctx context.Context, every time.Duration) {
	poke := make(chan struct{}, 1)
	if l, ok := r.store.(listener); ok {
		go l.Listen(ctx, func() {
			select {
			case poke <- struct{}{}:
			default:
			}
		})
	}
	if r.profileEvery > 0 {
		go r.profileLoop(ctx, every)
	}
	go r.Warm(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-poke:
		}
		before := r.loadedVersion()
		if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("catalog refresh", "err", err)
			continue
		}
		if r.loadedVersion() != before {
			go r.Warm(ctx) // datasets added or changed
		}
	}
}

// loadedVersion is the catalog version the registry last loaded.
func (r *Registry) loadedVersion() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version
}

// warmConcurrency is how many datasets Warm opens at once.
const warmConcurrency = 4

// Warm opens every dataset that has not been opened or warmed yet, a few
// at once: its pool connects and its schema, date range and panel
// constants are read, so that the first question after a start (or after
// the dataset is added or changed) does not wait for them — against a
// warehouse tens of milliseconds away, connecting alone is several round
// trips. A dataset that cannot be opened is logged and left to its first
// call, which tries again; Warm does not retry it.
func (r *Registry) Warm(ctx context.Context) {
	r.mu.Lock()
	var todo []*entry
	for _, id := range r.order {
		e := r.entries[id]
		e.mu.Lock()
		if !e.ready && !e.warmed && !e.retired {
			e.warmed = true
			todo = append(todo, e)
		}
		e.mu.Unlock()
	}
	r.mu.Unlock()
	slots := make(chan struct{}, warmConcurrency)
	var wg sync.WaitGroup
	for _, e := range todo {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			h, err := r.Open(ctx, e.ds.ID)
			if err != nil {
				if ctx.Err() == nil && !IsNotFound(err) {
					r.log.Warn("warm dataset: its first call will try again", "dataset", e.ds.ID, "err", err)
				}
				return
			}
			h.Release()
		})
	}
	wg.Wait()
}

// profileLoop profiles, one at a time, the datasets whose stored profile is
// missing or older than profileEvery. It first waits one poll interval so
// that a starting server answers before it profiles.
func (r *Registry) profileLoop(ctx context.Context, first time.Duration) {
	wait := first
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(r.profileEvery, 10*time.Minute)
		for _, d := range r.List(context.WithoutCancel(ctx)) {
			if ctx.Err() != nil {
				return
			}
			p, err := r.store.Profile(ctx, d.ID)
			if err == nil && time.Since(p.ProfiledAt) < r.profileEvery {
				continue
			}
			if _, err := r.Reprofile(ctx, d.ID); err != nil && ctx.Err() == nil {
				r.log.Warn("scheduled profile", "dataset", d.ID, "err", err)
			}
		}
	}
}

// Reprofile profiles dataset id now and stores the profile.
func (r *Registry) Reprofile(ctx context.Context, id int64) (catalog.Profile, error) {
	r.profiling.Lock()
	defer r.profiling.Unlock()
	h, err := r.Open(ctx, id)
	if err != nil {
		return catalog.Profile{}, err
	}
	defer h.Release()
	start := time.Now()
	p, err := profile.Run(ctx, profile.Input{DatasetID: id, Driver: h.Dataset.Driver, Source: h.Source, Tables: h.Tables,
		Grain: h.Roles.Grain, Timeout: h.Limits.QueryTimeout})
	if err != nil {
		return p, fmt.Errorf("profile dataset %d: %w", id, err)
	}
	if err := r.store.SaveProfile(ctx, p); err != nil {
		return p, err
	}
	// The data may have changed since the panel constants were computed.
	panel, panelErr := loadPanel(ctx, h.Source, h.Roles, h.Limits.QueryTimeout)
	h.e.mu.Lock()
	h.e.infoStale = true
	if panelErr == nil {
		h.e.panel, h.e.panelAt = panel, time.Now()
	}
	h.e.mu.Unlock()
	r.log.Info("dataset profiled", "dataset", id, "method", p.Method, "took", time.Since(start).Round(time.Millisecond))
	return p, nil
}

// List returns the datasets ctx may see, in id order.
func (r *Registry) List(ctx context.Context) []catalog.Dataset {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]catalog.Dataset, 0, len(r.order))
	for _, id := range r.order {
		if allowed(ctx, id) {
			out = append(out, r.entries[id].ds)
		}
	}
	return out
}

// DefaultLimits returns the server-wide limits.
func (r *Registry) DefaultLimits() config.Limits { return r.defaults }

// Limits returns a dataset's effective limits without opening it.
func (r *Registry) Limits(id int64) (config.Limits, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[id]
	if !ok {
		return r.defaults, false
	}
	return e.limits, true
}

// Open returns a handle on dataset id (if ctx's scope allows it), opening its source and reading its
// schema on first use. A failure to reach the database is not remembered:
// the next call tries again, so the server recovers by itself when the
// database returns.
func (r *Registry) Open(ctx context.Context, id int64) (*Handle, error) {
	for {
		r.mu.Lock()
		e, ok := r.entries[id]
		r.mu.Unlock()
		// A dataset outside the caller's scope is "not found": its existence
		// is not revealed.
		if !ok || !allowed(ctx, id) {
			return nil, &NotFoundError{ID: id}
		}
		e.mu.Lock()
		if e.retired {
			// Replaced (or removed) between the lookup and now: its source
			// may be closed already, so look the dataset up again.
			e.mu.Unlock()
			continue
		}
		return r.openEntry(ctx, id, e)
	}
}

// openEntry is Open on a live entry; e.mu is held and released here.
func (r *Registry) openEntry(ctx context.Context, id int64, e *entry) (*Handle, error) {
	defer e.mu.Unlock()
	if !e.ready {
		if err := e.load(ctx, r.open); err != nil {
			return nil, err
		}
		e.infoStale = true
	}
	if e.panel == nil && time.Since(e.panelAt) > panelRetry {
		r.refreshPanel(ctx, e)
	}
	if e.infoStale {
		inf, err := r.loadInfo(ctx, id)
		if err != nil {
			r.log.Warn("read profile and descriptions", "dataset", id, "err", err)
		} else {
			e.info, e.infoStale = inf, false
		}
	}
	e.refs++
	dates := e.dates
	if p := e.info.profile; p != nil && p.DateFrom != "" {
		dates = [2]string{p.DateFrom, p.DateTo}
	}
	return &Handle{Dataset: e.ds, Limits: e.limits, Source: e.src, Tables: e.tables, Roles: e.roles, DateRange: dates, DateRanges: e.ranges, Panel: e.panel,
		Profile: e.info.profile, Descriptions: e.info.descriptions, Codebook: e.info.codebook, Units: e.info.units, e: e}, nil
}

// refreshPanel computes e's panel constants. e.mu is held.
func (r *Registry) refreshPanel(ctx context.Context, e *entry) {
	e.panelAt = time.Now()
	p, err := loadPanel(ctx, e.src, e.roles, e.limits.QueryTimeout)
	if err != nil {
		r.log.Warn("panel constants; weighted queries compute them instead", "dataset", e.ds.ID, "err", err)
		return
	}
	e.panel = p
}

// loadInfo reads a dataset's stored profile and descriptions.
func (r *Registry) loadInfo(ctx context.Context, id int64) (info, error) {
	var inf info
	p, err := r.store.Profile(ctx, id)
	switch {
	case err == nil:
		inf.profile = &p
	case !errors.Is(err, catalog.ErrNotFound):
		return inf, err
	}
	ds, err := r.store.Descriptions(ctx, id)
	if err != nil {
		return inf, err
	}
	cb, err := r.store.Codebook(ctx, id)
	switch {
	case err == nil:
		inf.codebook = &cb
	case !errors.Is(err, catalog.ErrNotFound):
		return inf, err
	}
	inf.descriptions = make(map[string]string, len(ds))
	inf.units = map[string]string{}
	for _, d := range ds {
		key := d.Table
		if d.Column != "" {
			key += "." + d.Column
		}
		if d.Description != "" {
			inf.descriptions[key] = d.Description
		}
		if d.Unit != "" && d.Column != "" {
			inf.units[key] = d.Unit
		}
	}
	return inf, nil
}

// load opens the source and reads the schema. e.mu is held.
func (e *entry) load(ctx context.Context, open Opener) error {
	if e.src == nil {
		src, err := open(ctx, e.ds, e.limits)
		if err != nil {
			return fmt.Errorf("open dataset %d: %w", e.ds.ID, err)
		}
		e.src = src
	}
	tables, err := e.src.Tables(ctx)
	if err != nil {
		return fmt.Errorf("read schema of dataset %d: %w", e.ds.ID, err)
	}
	e.tables = tables
	e.roles = DetectRoles(tables, e.ds.Settings.Roles)
	e.ranges = dateRanges(ctx, e.src, e.roles.DateColumns)
	e.dates = [2]string{}
	for _, r := range e.ranges {
		if r.From != "" && (e.dates[0] == "" || r.From < e.dates[0]) {
			e.dates[0] = r.From
		}
		if r.To > e.dates[1] {
			e.dates[1] = r.To
		}
	}
	e.ready = true
	return nil
}

// DateRange is the earliest and latest date (2006-01-02) of one date or
// timestamp column; both are "" when the column is empty.
type DateRange struct {
	Table, Column string
	From, To      string
}

// dateRanges reads the earliest and latest date of every date column in
// one query, best effort and bounded in time: a dataset whose dates
// cannot be read still serves (without ranges).
func dateRanges(ctx context.Context, src source.Source, columns []string) []DateRange {
	if len(columns) == 0 {
		return nil
	}
	parts := make([]string, 0, len(columns))
	for i, tc := range columns {
		table, col, _ := strings.Cut(tc, ".")
		parts = append(parts, fmt.Sprintf("SELECT %d AS i, CAST(MIN(%s) AS DATE) AS lo, CAST(MAX(%s) AS DATE) AS hi FROM %s",
			i, QuoteIdent(col), QuoteIdent(col), QuoteIdent(table)))
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	t, err := src.Query(ctx, strings.Join(parts, " UNION ALL "), len(columns))
	if err != nil {
		return nil
	}
	out := make([]DateRange, len(columns))
	for i, tc := range columns {
		out[i].Table, out[i].Column, _ = strings.Cut(tc, ".")
	}
	for _, row := range t.Rows {
		i, ok := row[0].(int64)
		if !ok || i < 0 || int(i) >= len(out) {
			continue
		}
		out[i].From, _ = row[1].(string)
		out[i].To, _ = row[2].(string)
	}
	return out
}

// TableDates returns the earliest and latest date of a table's date
// columns, and whether it has any with dates.
func (h *Handle) TableDates(table string) (from, to string, ok bool) {
	for _, r := range h.DateRanges {
		if r.Table != table || r.From == "" {
			continue
		}
		if from == "" || r.From < from {
			from = r.From
		}
		if r.To > to {
			to = r.To
		}
		ok = true
	}
	return from, to, ok
}

// QuoteIdent quotes a table or column name for SQL.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func (e *entry) retire() {
	e.mu.Lock()
	e.retired = true
	closeNow := e.refs == 0 && e.src != nil
	e.mu.Unlock()
	if closeNow {
		e.src.Close()
	}
}

// Close closes every open source.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries {
		e.retire()
	}
	r.entries = map[int64]*entry{}
	r.order = nil
}

func effectiveLimits(l config.Limits, o catalog.Limits) config.Limits {
	if o.RawRows > 0 {
		l.RawRows = o.RawRows
	}
	if o.AggregatedRows > 0 {
		l.AggregatedRows = o.AggregatedRows
	}
	if o.QueryTimeout > 0 {
		l.QueryTimeout = o.QueryTimeout
	}
	if o.PoolMaxConns > 0 {
		l.PoolMaxConns = o.PoolMaxConns
		l.PoolMinConns = min(l.PoolMinConns, o.PoolMaxConns)
	}
	if o.MinCell != nil {
		l.MinCell = *o.MinCell
	}
	if o.WorkMem != "" {
		l.WorkMem = o.WorkMem
	}
	if o.MaxParallelWorkersPerGather != nil {
		l.MaxParallelWorkersPerGather = o.MaxParallelWorkersPerGather
	}
	return l
}

// IsNotFound reports whether err is an unknown dataset.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}
