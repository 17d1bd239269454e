package analysis

import (
	"container/list"
	"sync"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

// planKey identifies a plan: the same text, options and dataset version
// always give the same plan, so assistants repeating a question (or a
// dashboard polling) skip parsing, guarding, rewriting and deparsing.
type planKey struct {
	dataset   int64
	version   time.Time // the dataset's UpdatedAt: a changed dataset gets new plans
	query     string
	weights   bool
	mergeNCCS bool
	maxRows   int
	stdErrors bool
	totals    bool
	compareBy string
	panel     weighting.Panel // the design's constants written into the plan
}

// planCache is a bounded LRU of successful plans (V = QueryPlan) or of
// query shapes (V = shapeEntry, keyed by the shape's text). Plans hold
// only strings and small values, so a thousand of them cost a few
// megabytes at most.
type planCache[V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; values are *planEntry[V]
	index map[planKey]*list.Element
}

type planEntry[V any] struct {
	key  planKey
	plan V
}

func newPlanCache[V any](max int) *planCache[V] {
	return &planCache[V]{max: max, order: list.New(), index: make(map[planKey]*list.Element)}
}

func (c *planCache[V]) get(k planKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*planEntry[V]).plan, true
}

func (c *planCache[V]) put(k planKey, p V) {
	if len(k.query) > 16<<10 { // long one-off texts are not worth keeping
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[k]; ok {
		el.Value.(*planEntry[V]).plan = p
		c.order.MoveToFront(el)
		return
	}
	c.index[k] = c.order.PushFront(&planEntry[V]{key: k, plan: p})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.index, last.Value.(*planEntry[V]).key)
	}
}
