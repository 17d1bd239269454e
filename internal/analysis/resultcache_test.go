package analysis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

func TestService_ResultCache(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true, Service: []analysis.Option{analysis.WithResultCache(time.Minute)}})
	ctx := context.Background()
	q := analysis.Request{DatasetID: apptest.PostgresSample, Query: "SELECT gender, COUNT(*) FROM users GROUP BY gender", ApplyWeights: true, MergeNCCS: true, Totals: true}
	first := f.Service.Query(ctx, q)
	second := f.Service.Query(ctx, q)
	if !first.OK || first.Cached || !second.OK || !second.Cached {
		t.Fatalf("first cached=%v, second cached=%v (%s %s)", first.Cached, second.Cached, first.Error, second.Error)
	}
	if !strings.Contains(strings.Join(second.Notes, " "), "Cached answer from") {
		t.Errorf("notes = %q", second.Notes)
	}
	// The same rows in the same order (the Total row last, every figure
	// equal), the same columns and notes but for the cache's own (first): the
	// cached table is not altered again by the steps that follow a query.
	if d := cmp.Diff(first.Rows, second.Rows); d != "" {
		t.Errorf("cached rows differ (-first +second):\n%s", d)
	}
	if d := cmp.Diff(first.Columns, second.Columns); d != "" {
		t.Errorf("cached columns differ (-first +second):\n%s", d)
	}
	if d := cmp.Diff(first.Notes, second.Notes[1:], cmpopts.EquateEmpty()); d != "" {
		t.Errorf("cached notes differ (-first +second):\n%s", d)
	}
	if len(first.Rows) < 3 {
		t.Errorf("want the groups and a Total row, got %v", first.Rows)
	}
	// A change to the dataset invalidates its answers.
	f.UpdateDataset(t, apptest.PostgresSample, func(d *catalog.Dataset) { d.Description = "wave 2" })
	if third := f.Service.Query(ctx, q); !third.OK || third.Cached {
		t.Errorf("after the dataset changed: cached=%v error=%s", third.Cached, third.Error)
	}
	// Off by default.
	plain := apptest.New(t, apptest.Options{})
	q.DatasetID = apptest.DuckSample
	plain.Service.Query(ctx, q)
	if r := plain.Service.Query(ctx, q); r.Cached {
		t.Error("the result cache answered although it is off by default")
	}
}
