package dataset

// Keeping the set current: catalog changes made by other processes
// (Refresh, Watch), warming at start and scheduled profiling.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/profile"
)

// DefaultProfileEvery is how old a stored profile may grow before Watch
// profiles the dataset again.
const DefaultProfileEvery = 24 * time.Hour

// WithProfileEvery sets how often Watch refreshes datasets' profiles
// (DefaultProfileEvery; 0 turns scheduled profiling off).
func WithProfileEvery(d time.Duration) Option { return func(r *Registry) { r.profileEvery = d } }

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
