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
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
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

// Option configures a Registry.
type Option func(*Registry)

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
