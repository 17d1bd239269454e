package dataset

import (
	"context"
	"fmt"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/weighting"
)

// panelTimeout bounds the one scan of the weights table that computes a
// dataset's panel constants; panelRetry is how long a failed attempt is
// remembered before an Open tries again.
const (
	panelTimeout = 30 * time.Second
	panelRetry   = time.Minute
)

// loadPanel computes the design's constants of a dataset (weighting.Panel:
// the panelists with a positive weight, Σw, Σw²) with one exact scan of its
// weights table, so that weighted queries carry them as literals instead of
// scanning the whole weights table inside every query. It returns nil, and
// the rewrite keeps its sub-queries, when the dataset has no weights or the
// scan fails.
func loadPanel(ctx context.Context, src source.Source, roles Roles, limit time.Duration) (*weighting.Panel, error) {
	q := weighting.PanelSQL(roles.Roles)
	if q == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, min(limit, panelTimeout))
	defer cancel()
	t, err := src.Query(ctx, q, 1)
	if err != nil {
		return nil, fmt.Errorf("compute panel constants: %w", err)
	}
	if len(t.Rows) != 1 || len(t.Rows[0]) != 3 {
		return nil, fmt.Errorf("compute panel constants: got %d rows", len(t.Rows))
	}
	row := t.Rows[0]
	n, ok1 := result.Float(row[0])
	sw, ok2 := result.Float(row[1])
	sw2, ok3 := result.Float(row[2])
	if !ok1 || !ok2 || !ok3 || n < 1 {
		// An empty weights table: no constant to give.
		return nil, nil
	}
	return &weighting.Panel{N: int64(n), SumW: sw, SumW2: sw2}, nil
}
