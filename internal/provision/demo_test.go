package provision

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/demo"
)

// TestEnsureDemo_addsUnits upgrades a catalog whose demo datasets were
// registered before dictionaries had units: the money columns get ₹ once,
// and what an operator set meanwhile is kept.
func TestEnsureDemo_addsUnits(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlitestore.Open(ctx, filepath.Join(dir, "catalog.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	list, err := DemoDuckDB(ctx, store, filepath.Join(dir, "demo"), demo.Options{Users: 40, Anchor: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sample := list[0].ID
	// The catalog as an older version left it: no units, and an operator's
	// own unit on one column.
	old := []catalog.Description{
		{Table: "orders", Column: "amount", Description: "Order value in rupees."},
		{Table: "users", Column: "total_spend", Description: "Edited by the operator.", Unit: "INR"},
	}
	if err := store.SetDescriptions(ctx, sample, old); err != nil {
		t.Fatal(err)
	}
	if err := store.SetMeta(ctx, demoMetaKey, "2026-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second start changes nothing
		if err := EnsureDemo(ctx, store, dir, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Descriptions(ctx, sample)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]catalog.Description{}
	for _, d := range got {
		if d.Unit != "" {
			units[d.Table+"."+d.Column] = d
		}
	}
	want := map[string]catalog.Description{
		"orders.amount":     {Table: "orders", Column: "amount", Description: "Order value in rupees.", Unit: "₹"},
		"users.total_spend": {Table: "users", Column: "total_spend", Description: "Edited by the operator.", Unit: "INR"},
	}
	if diff := cmp.Diff(want, units); diff != "" {
		t.Errorf("units after the upgrade (-want +got):\n%s", diff)
	}
}
