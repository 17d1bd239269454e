package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// requestHeader carries, from the HTTP layer to the MCP layer, the id under
// which a POST's context is registered. Whatever a client sends in it is
// replaced.
const requestHeader = "X-Mcpa-Request"

// requestContexts ties tool calls to the HTTP request that carries them.
// The SDK runs a call with its session's context, so when a client drops
// its connection mid-call the query would go on until its timeout; with
// this, the call's context ends with the HTTP request's, and the database
// is told to stop (source/postgres sends a cancel request).
type requestContexts struct {
	mu   sync.Mutex
	ctxs map[string]context.Context
}

func newRequestContexts() *requestContexts {
	return &requestContexts{ctxs: map[string]context.Context{}}
}

// wrap registers each POST's context for as long as the POST is served.
func (rc *requestContexts) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(requestHeader)
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		rc.mu.Lock()
		rc.ctxs[id] = r.Context()
		rc.mu.Unlock()
		defer func() {
			rc.mu.Lock()
			delete(rc.ctxs, id)
			rc.mu.Unlock()
		}()
		r.Header.Set(requestHeader, id)
		next.ServeHTTP(w, r)
	})
}

// middleware ends a tool call's context when its HTTP request ends.
func (rc *requestContexts) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" || req.GetExtra() == nil || req.GetExtra().Header == nil {
			return next(ctx, method, req)
		}
		rc.mu.Lock()
		httpCtx, ok := rc.ctxs[req.GetExtra().Header.Get(requestHeader)]
		rc.mu.Unlock()
		if !ok {
			return next(ctx, method, req)
		}
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(httpCtx, func() { cancel(context.Cause(httpCtx)) })
		defer stop()
		return next(ctx, method, req)
	}
}
