package analysis

import (
	"container/list"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// Option configures a Service.
type Option func(*Service)

// WithResultCache keeps answers for ttl: the same dataset version, SQL as
// run and row cap return the stored table, marked as cached with its age.
// Off (ttl 0) by default: panels are usually static between waves, but an
// operator must choose to serve answers that may be up to ttl old.
func WithResultCache(ttl time.Duration) Option {
	return func(s *Service) {
		if ttl > 0 {
			s.results = newResultCache(ttl, 256, 200_000)
		}
	}
}

// resultKey identifies an answer: a changed dataset (UpdatedAt) never
// matches an old one, so changes invalidate the cache.
type resultKey struct {
	dataset int64
	version time.Time
	sql     string
	cap     int
}

type resultEntry struct {
	key    resultKey
	table  *result.Table
	stored time.Time
	rows   int
}

// resultCache is an LRU bounded by entries and by rows held in total, so
// its memory stays bounded whatever the answers' sizes (rows are capped
// before they are cached, at most 1,000 each).
type resultCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	maxEnt  int
	maxRows int
	rows    int
	order   *list.List
	index   map[resultKey]*list.Element
	now     func() time.Time
}

func newResultCache(ttl time.Duration, maxEntries, maxRows int) *resultCache {
	return &resultCache{ttl: ttl, maxEnt: maxEntries, maxRows: maxRows, order: list.New(), index: map[resultKey]*list.Element{}, now: time.Now}
}

// get returns a copy of a fresh answer and its age.
func (c *resultCache) get(k resultKey) (*result.Table, time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[k]
	if !ok {
		return nil, 0, false
	}
	e := el.Value.(*resultEntry)
	age := c.now().Sub(e.stored)
	if age > c.ttl {
		c.remove(el)
		return nil, 0, false
	}
	c.order.MoveToFront(el)
	return copyTable(e.table), age, true
}

// put stores a copy of t.
func (c *resultCache) put(k resultKey, t *result.Table) {
	if len(t.Rows) > c.maxRows {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[k]; ok {
		c.remove(el)
	}
	e := &resultEntry{key: k, table: copyTable(t), stored: c.now(), rows: len(t.Rows)}
	c.index[k] = c.order.PushFront(e)
	c.rows += e.rows
	for c.order.Len() > c.maxEnt || c.rows > c.maxRows {
		c.remove(c.order.Back())
	}
}

func (c *resultCache) remove(el *list.Element) {
	e := el.Value.(*resultEntry)
	c.order.Remove(el)
	delete(c.index, e.key)
	c.rows -= e.rows
}

// copyTable copies the slices of t; values are immutable scalars. Callers
// edit tables in place (dropping an all-zero column), so the cache never
// hands out its own.
func copyTable(t *result.Table) *result.Table {
	out := &result.Table{Columns: append([]result.Column(nil), t.Columns...), Truncated: t.Truncated, Rows: make([][]any, len(t.Rows))}
	for i, row := range t.Rows {
		out.Rows[i] = append([]any(nil), row...)
	}
	return out
}
