package dataset

import (
	"context"
	"fmt"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/source/duckdb"
	"github.com/mcp-analytics/mcp-analytics/internal/source/postgres"
	"log/slog"
)

// SourceOpener returns the Opener for the drivers the catalog knows.
func SourceOpener(log *slog.Logger) Opener {
	return func(ctx context.Context, d catalog.Dataset, l config.Limits) (source.Source, error) {
		switch d.Driver {
		case catalog.DriverPostgres:
			opts := postgres.Options{
				MinConns: l.PoolMinConns, MaxConns: l.PoolMaxConns, IdleTimeout: l.PoolIdle,
				ConnectTimeout: l.ConnectTimeout, QueryTimeout: l.QueryTimeout, MaxResultBytes: l.MaxResultBytes,
				WorkMem: l.WorkMem, MaxParallelWorkersPerGather: l.MaxParallelWorkersPerGather,
				Logger: log.With("dataset", d.ID),
			}
			if rp := d.Settings.Replicas; len(rp.DSNs) > 0 {
				return postgres.OpenReplicated(ctx, d.DSN, rp.DSNs, opts, postgres.ReplicaOptions{
					NoPrimaryFallback: rp.Fallback == catalog.FallbackNone, MaxLag: rp.MaxLag,
				})
			}
			return postgres.Open(ctx, d.DSN, opts)
		case catalog.DriverDuckDB:
			return duckdb.Open(ctx, duckdb.DSN(d.DSN), duckdb.Options{MaxConns: l.PoolMaxConns, QueryTimeout: l.QueryTimeout, MaxResultBytes: l.MaxResultBytes})
		}
		return nil, fmt.Errorf("unknown driver %q", d.Driver)
	}
}
