package dataset

// A dataset opened for one call (Handle) and what the registry keeps per
// dataset to open it fast (entry): the source, tables, roles, dates and
// panel constants, loaded once per version of the dataset.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

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
			i, source.QuoteIdent(col), source.QuoteIdent(col), source.QuoteIdent(table)))
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

func (e *entry) retire() {
	e.mu.Lock()
	e.retired = true
	closeNow := e.refs == 0 && e.src != nil
	e.mu.Unlock()
	if closeNow {
		e.src.Close()
	}
}
