package analysis

import (
	"testing"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

func TestResultCache_Bounds(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newResultCache(time.Minute, 3, 10)
	c.now = func() time.Time { return now }
	table := func(rows int) *result.Table {
		t := &result.Table{Columns: []result.Column{{Name: "x"}}}
		for i := range rows {
			t.Rows = append(t.Rows, []any{int64(i)})
		}
		return t
	}
	key := func(s string) resultKey { return resultKey{dataset: 1, sql: s, cap: 5} }
	c.put(key("a"), table(4))
	c.put(key("b"), table(4))
	c.put(key("c"), table(4)) // 12 rows > 10: "a" goes
	if _, _, ok := c.get(key("a")); ok {
		t.Error("the row bound did not evict the oldest answer")
	}
	got, _, ok := c.get(key("b"))
	if !ok {
		t.Fatal("b missing")
	}
	got.Rows[0][0] = "edited by a caller"
	again, _, _ := c.get(key("b"))
	if again.Rows[0][0] != int64(0) {
		t.Error("a caller's edit reached the cached table")
	}
	c.put(key("big"), table(11)) // larger than the whole cache: not kept
	if _, _, ok := c.get(key("big")); ok {
		t.Error("an answer larger than the cache was kept")
	}
	now = now.Add(2 * time.Minute)
	if _, _, ok := c.get(key("b")); ok {
		t.Error("an answer older than the TTL was served")
	}
	if c.rows < 0 || c.order.Len() != len(c.index) {
		t.Errorf("bookkeeping: rows %d, list %d, index %d", c.rows, c.order.Len(), len(c.index))
	}
}
