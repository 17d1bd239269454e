package dataset

import "github.com/mcp-analytics/mcp-analytics/internal/source"

// OpenSource is a dataset whose source is open.
type OpenSource struct {
	ID     int64
	Name   string
	Source source.Source
}

// OpenSources returns the datasets whose sources are open, by id, for the
// metrics (connection pool statistics). A dataset busy opening its source
// is left out rather than waited for.
func (r *Registry) OpenSources() []OpenSource {
	r.mu.Lock()
	entries := make([]*entry, 0, len(r.order))
	for _, id := range r.order {
		entries = append(entries, r.entries[id])
	}
	r.mu.Unlock()
	var out []OpenSource
	for _, e := range entries {
		if !e.mu.TryLock() {
			continue
		}
		if e.src != nil && !e.retired {
			out = append(out, OpenSource{ID: e.ds.ID, Name: e.ds.Name, Source: e.src})
		}
		e.mu.Unlock()
	}
	return out
}
