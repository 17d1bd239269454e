// Package server composes the HTTP surface: the MCP endpoint (Streamable
// HTTP) at /mcp, the admin console at /admin, /healthz, /readyz, /metrics
// and, in OAuth mode, the protected resource metadata. Every /mcp request passes, in order:
//
//  1. the Origin check: a browser request from another origin is refused
//     (403) unless the origin is allow-listed, which also answers its CORS
//     preflight; then [http.CrossOriginProtection] (Sec-Fetch-Site);
//  2. auth ([auth.Authenticator.Middleware]): 401 without a valid token
//     once tokens exist or OAuth is configured;
//  3. the go-sdk's handler: its DNS-rebinding defence (a loopback listener
//     refuses a non-loopback Host), the request body cap (413) and the
//     protocol checks.
//
// Inside the MCP server, [auth.ScopeMiddleware] narrows each call to its
// token's datasets. Tool arguments are checked by package mcpserver itself
// (duplicate keys, the input schemas), on every transport alike: this
// package keeps to HTTP.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// Options configure the HTTP server.
type Options struct {
	Stateless bool
	// MaxBodyBytes caps a request body; 0 means 4 MiB (30 queries of 100 KB
	// fit).
	MaxBodyBytes int64
	// Auth checks bearer tokens; nil serves without auth.
	Auth *auth.Authenticator
	// AllowedOrigins are browser origins (scheme://host[:port]) that may
	// call /mcp cross-origin.
	AllowedOrigins []string
	// Ready reports whether the server can serve queries (for /readyz):
	// the catalog answers. Its error is logged, not shown.
	Ready func(ctx context.Context) error
	// Drain tells when the server is shutting down: /readyz answers 503 and
	// /mcp refuses new requests; nil never drains.
	Drain *Drain
	// Metrics serves /metrics; nil serves no metrics. With Auth, it needs
	// a token with the metrics scope.
	Metrics http.Handler
	// Admin serves the admin console at /admin (it does its own sign-in,
	// CSRF and security headers); nil serves none.
	Admin  http.Handler
	Logger *slog.Logger
}

// Handler returns the HTTP handler serving srv. It installs
// [auth.ScopeMiddleware] on srv, so srv must not be served any other way
// with different expectations.
func Handler(srv *mcp.Server, opts Options) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxBody := opts.MaxBodyBytes
	if maxBody == 0 {
		maxBody = 4 << 20
	}
	calls := newRequestContexts()
	srv.AddReceivingMiddleware(auth.ScopeMiddleware, calls.middleware)
	var h http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		Stateless:                    opts.Stateless,
		MaxRequestBodyBytes:          maxBody,
		SessionTimeout:               30 * time.Minute,
		Logger:                       log,
		PropagateRequestCancellation: true,
	})
	h = calls.wrap(limitBody(maxBody, h))
	if opts.Auth != nil {
		h = opts.Auth.Middleware(h)
	}
	cop := http.NewCrossOriginProtection()
	allowed := make(map[string]bool)
	for _, o := range opts.AllowedOrigins {
		if norm, err := auth.ParseOrigin(o); err == nil {
			allowed[norm] = true
			_ = cop.AddTrustedOrigin(norm)
		}
	}
	h = checkOrigin(allowed, cop.Handler(h), log)
	if opts.Drain != nil {
		h = opts.Drain.wrap(h)
	}

	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	if opts.Metrics != nil {
		m := opts.Metrics
		if opts.Auth != nil {
			m = opts.Auth.RequireScope(catalog.ScopeMetrics, m)
		}
		mux.Handle("GET /metrics", m)
	}
	if opts.Auth != nil && opts.Auth.Metadata() != nil {
		meta := opts.Auth.MetadataHandler()
		mux.Handle(auth.MetadataPath, meta)
		mux.Handle(auth.MetadataPath+"/", meta)
	}
	if opts.Admin != nil {
		mux.Handle("/admin", opts.Admin)
		mux.Handle("/admin/", opts.Admin)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		notReady := func(reason string) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + reason + "\n"))
		}
		if opts.Drain != nil && opts.Drain.Draining() {
			notReady("draining: the server is shutting down")
			return
		}
		if opts.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := opts.Ready(ctx); err != nil {
				// The cause (which may name hosts) goes to the log only:
				// this endpoint is public.
				log.WarnContext(ctx, "not ready", "err", err)
				notReady("the catalog store cannot be reached")
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

// checkOrigin refuses browser requests from other origins (the MCP spec's
// DNS-rebinding and cross-site defence): a request with an Origin header
// must come from the server's own origin or an allowed one. Allowed origins
// get CORS headers, and their preflight requests are answered here, before
// auth, as browsers send them without credentials.
func checkOrigin(allowed map[string]bool, next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		if allowed[strings.ToLower(origin)] {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		log.InfoContext(r.Context(), "refused origin", "origin", origin, "host", r.Host, "remote", r.RemoteAddr)
		http.Error(w, "Forbidden: origin "+origin+" is not allowed (configure allowed_origins for browser clients)", http.StatusForbidden)
	})
}

// ServeOptions configure [Serve].
type ServeOptions struct {
	// Drain is the handler's drain (see [Options.Drain]); nil shuts down
	// without draining.
	Drain *Drain
	// Grace is how long in-flight requests may run once ctx ends before
	// they are cancelled (and with them their queries, in the database);
	// 25s when 0.
	Grace time.Duration
	// Extra are further listeners served with their handlers (the
	// separate metrics address), shut down with the main one.
	Extra  []Listener
	Logger *slog.Logger
}

// Listener is a listener and the handler serving it.
type Listener struct {
	Listener net.Listener
	Handler  http.Handler
}

// Serve serves h on ln until ctx ends, then shuts down gracefully: the
// drain starts (/readyz answers 503, /mcp refuses new requests with 503),
// in-flight requests get Grace to finish, then their contexts are
// cancelled, which cancels their queries in the database; the listeners
// close once the last request has answered.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, opts ServeOptions) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	grace := opts.Grace
	if grace <= 0 {
		grace = 25 * time.Second
	}
	// Requests run under base, not ctx: they must outlive the signal by
	// up to the grace period, and end when base is cancelled after it.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	newServer := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			BaseContext:       func(net.Listener) context.Context { return base },
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			// No WriteTimeout: a multi-query call may legitimately stream for
			// as long as its queries' timeouts allow.
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
	}
	servers := []*http.Server{newServer(h)}
	listeners := []net.Listener{ln}
	for _, x := range opts.Extra {
		servers = append(servers, newServer(x.Handler))
		listeners = append(listeners, x.Listener)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	select {
	case err := <-errc:
		for _, srv := range servers {
			srv.Close()
		}
		return err
	case <-ctx.Done():
	}

	start := time.Now()
	inFlight := 0
	if opts.Drain != nil {
		inFlight = opts.Drain.begin()
	}
	log.Info("shutting down: draining", "in_flight", inFlight, "grace", grace)
	if opts.Drain != nil {
		select {
		case <-opts.Drain.idle():
		case <-time.After(grace):
			log.Warn("grace period over: cancelling the requests still running", "in_flight", opts.Drain.InFlight())
			cancelBase()
			// Cancelled calls answer (and log) quickly: the database is
			// told to stop their queries.
			select {
			case <-opts.Drain.idle():
			case <-time.After(10 * time.Second):
				log.Error("calls still running 10 s after they were cancelled", "in_flight", opts.Drain.InFlight())
			}
		}
	}
	// Shutdown closes the listeners and idle connections and waits for
	// active requests; after the grace period they have been cancelled and
	// end quickly. Long-lived streams (a session's GET) end with base.
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	cancelStreams := time.AfterFunc(time.Second, cancelBase)
	defer cancelStreams.Stop()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(shutCtx); err != nil {
			srv.Close()
			errs = append(errs, err)
		}
	}
	for range servers {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	log.Info("HTTP server stopped", "took", time.Since(start).Round(time.Millisecond))
	return errors.Join(errs...)
}
