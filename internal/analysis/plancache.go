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
	panel     weighting.Panel // the design's constants written into the plan
}

// planCache is a bounded LRU of successful plans. Plans hold only strings
// and small values, so a thousand of them cost a few megabytes at most.
type planCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; values are *planEntry
	index map[planKey]*list.Element
}

type planEntry struct {
	key  planKey
	plan QueryPlan
}

func newPlanCache(max int) *planCache {
	return &planCache{max: max, order: list.New(), index: make(map[planKey]*list.Element)}
}

func (c *planCache) get(k planKey) (QueryPlan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[k]
	if !ok {
		return QueryPlan{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*planEntry).plan, true
}

func (c *planCache) put(k planKey, p QueryPlan) {
	if len(k.query) > 16<<10 { // long one-off texts are not worth keeping
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[k]; ok {
		el.Value.(*planEntry).plan = p
		c.order.MoveToFront(el)
		return
	}
	c.index[k] = c.order.PushFront(&planEntry{key: k, plan: p})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.index, last.Value.(*planEntry).key)
	}
}
