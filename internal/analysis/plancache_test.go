package analysis

import (
	"fmt"
	"testing"
)

func TestPlanCache_LRU(t *testing.T) {
	c := newPlanCache[QueryPlan](2)
	key := func(q string) planKey { return planKey{dataset: 1, query: q, weights: true} }
	c.put(key("a"), QueryPlan{SQL: "A"})
	c.put(key("b"), QueryPlan{SQL: "B"})
	if p, ok := c.get(key("a")); !ok || p.SQL != "A" {
		t.Fatalf("get a = %v, %v", p, ok)
	}
	c.put(key("c"), QueryPlan{SQL: "C"}) // evicts b, the least recently used
	if _, ok := c.get(key("b")); ok {
		t.Error("b survived eviction")
	}
	for _, q := range []string{"a", "c"} {
		if _, ok := c.get(key(q)); !ok {
			t.Errorf("%s was evicted", q)
		}
	}
	other := key("a")
	other.weights = false
	if _, ok := c.get(other); ok {
		t.Error("a plan was reused for other options")
	}
}

func BenchmarkPlanCache(b *testing.B) {
	c := newPlanCache[QueryPlan](1024)
	for i := range 1024 {
		c.put(planKey{query: fmt.Sprint(i)}, QueryPlan{})
	}
	k := planKey{query: "512"}
	for b.Loop() {
		c.get(k)
	}
}
