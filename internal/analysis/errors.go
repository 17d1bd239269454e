package analysis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/source"
	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
)

// InputError is a request the caller must correct before anything runs.
type InputError struct{ Message string }

// message turns an error into words for the caller. Errors the caller can
// fix are passed on; anything else is logged with a reference id and
// answered as an internal error, never with a Go error string or a DSN.
func (s *Service) message(ctx context.Context, err error, req Request) string {
	var (
		guardErr   *sqlguard.Error
		queryErr   *source.QueryError
		timeoutErr *source.TimeoutError
		busyErr    *source.BusyError
		unavailErr *source.UnavailableError
		nf         *dataset.NotFoundError
		inputErr   *InputError
	)
	switch {
	case errors.As(err, &guardErr):
		return guardErr.Error()
	case errors.As(err, &queryErr):
		return queryErr.Error()
	case errors.As(err, &timeoutErr):
		return timeoutErr.Error()
	case errors.As(err, &busyErr):
		return busyErr.Error()
	case errors.As(err, &nf):
		return nf.Error()
	case errors.As(err, &inputErr):
		return inputErr.Error()
	case errors.As(err, &unavailErr):
		s.log.WarnContext(ctx, "dataset unavailable", "dataset", req.DatasetID, "err", unavailErr.Err)
		return fmt.Sprintf("dataset %d is unavailable: %s", req.DatasetID, unavailErr.Error())
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return cancelled(ctx)
	}
	return "internal error (ref " + s.internal(ctx, err, req) + "); the operators can find it in the server log"
}

func (s *Service) internal(ctx context.Context, err error, req Request) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	ref := hex.EncodeToString(b[:])
	s.log.ErrorContext(ctx, "internal error", "ref", ref, "dataset", req.DatasetID, "err", err)
	return ref
}

func cancelled(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the call ran out of time before this query finished"
	}
	return "the call was cancelled before this query finished"
}

func (e *InputError) Error() string { return e.Message }
