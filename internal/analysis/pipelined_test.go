package analysis_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcp-analytics/mcp-analytics/internal/analysis"
	"github.com/mcp-analytics/mcp-analytics/internal/apptest"
)

// TestService_MultiPipelined sends more queries than may run at once (30
// over two datasets, one failing in the database): on PostgreSQL they are
// pipelined per dataset, on DuckDB run one by one, and either way every
// result is in request order and is what query_dataset answers alone.
func TestService_MultiPipelined(t *testing.T) {
	f := apptest.New(t, apptest.Options{Postgres: true})
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			var reqs []analysis.Request
			for i := 0; len(reqs) < 30; i++ {
				q := seedQueries[i%len(seedQueries)]
				id := e.sample
				if q.dataset == 2 {
					id = e.streaming
				}
				req := analysis.Request{DatasetID: id, Query: q.sql, Label: fmt.Sprintf("%d %s", len(reqs), q.label), ApplyWeights: true, MergeNCCS: true}
				if len(reqs) == 7 {
					req.Query, req.Label = "SELECT CAST(MIN(gender) AS INTEGER) FROM users", "7 fails in the database"
				}
				reqs = append(reqs, req)
			}
			m, err := f.Service.Multi(ctx, reqs)
			if err != nil {
				t.Fatal(err)
			}
			if m.Succeeded != 29 || m.Failed != 1 {
				t.Errorf("succeeded %d, failed %d; want 29 and 1", m.Succeeded, m.Failed)
			}
			for i, req := range reqs {
				got := m.Results[i]
				want := f.Service.Query(ctx, req)
				if got.Label != req.Label || got.OK != want.OK || got.Error != want.Error {
					t.Errorf("result %d: label %q ok %v error %q; want %q, %v, %q", i, got.Label, got.OK, got.Error, req.Label, want.OK, want.Error)
					continue
				}
				if diff := cmp.Diff(want.Columns, got.Columns); diff != "" {
					t.Errorf("result %d (%s) columns (-alone +in the call):\n%s", i, req.Label, diff)
				}
				if req.Query != "SELECT * FROM users LIMIT 5" && req.Query != "SELECT * FROM orders LIMIT 5" {
					// Sums of floats may differ in the last digits between runs,
					// and groups come in any order without ORDER BY (the engines
					// aggregate in parallel).
					byFirst := cmpopts.SortSlices(func(a, b []any) bool { return fmt.Sprint(a[0]) < fmt.Sprint(b[0]) })
					if diff := cmp.Diff(want.Rows, got.Rows, cmpopts.EquateApprox(1e-12, 0), byFirst); diff != "" {
						t.Errorf("result %d (%s) rows (-alone +in the call):\n%s", i, req.Label, diff)
					}
				}
			}
		})
	}
}
