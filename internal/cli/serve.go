package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/admin"
	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/metrics"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("serve", env)
	var common commonFlags
	common.register(fs)
	var cat catalogFlags
	cat.register(fs)
	listen := fs.String("listen", "", "HTTP listen address (default 127.0.0.1:8000)")
	stdio := fs.Bool("stdio", false, "serve MCP over stdin/stdout instead of HTTP (for Claude Desktop / Claude Code)")
	stateless := fs.Bool("stateless", false, "serve Streamable HTTP without sessions (for several replicas behind a load balancer)")
	noDemo := fs.Bool("no-demo", false, "do not generate the demo datasets on first start")
	var authCfg auth.Config
	authFlags := registerAuthFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Message: "unexpected argument " + fs.Arg(0), Hint: "serve takes only flags"}
	}
	cfg, err := common.load(env)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *stateless {
		cfg.Stateless = true
	}
	if *noDemo {
		cfg.Demo = false
	}
	// The YAML file and MCPA_AUTH_* are in cfg.Auth already; the flags
	// override both.
	authCfg = cfg.Auth
	authFlags.apply(fs, &authCfg)
	if err := auth.Validate(authCfg); err != nil {
		return &UsageError{Message: err.Error(), Hint: "see SECURITY.md for the auth settings"}
	}
	// Logs go to stderr: in stdio mode stdout carries the protocol.
	log := newLogger(cfg, env.Stderr)
	a, err := openApp(ctx, cfg, log, env.Stderr, cat.resolve(env.Environ))
	if err != nil {
		return err
	}
	defer a.Close()
	go a.reg.Watch(ctx, cfg.CatalogPoll)

	srv := mcpserver.New(a.svc, mcpserver.Options{Version: version(), Render: a.renderOptions(), Logger: log})
	qlog := querylog.New(a.store, querylog.Options{SpoolDir: filepath.Join(cfg.DataDir, "querylog-spool"), Retention: cfg.QueryLog.Retention, Logger: log})
	qlog.Start(ctx)
	// The query log is flushed last, after the HTTP server has drained,
	// and before the catalog closes (a.Close is deferred above).
	defer func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := qlog.Close(fctx); err != nil {
			log.Error("flush the query log", "err", err)
		}
	}()
	mx := metrics.New(version())
	mx.WatchService(a.svc)
	mx.WatchPools(a.reg)
	mx.WatchQueryLog(qlog)
	recOpts := mcpserver.RecordOptions{QueryLog: qlog, Metrics: mx, Instance: instanceName(), Logger: log,
		Principal: func(req mcp.Request) string {
			g, _ := auth.GrantFromRequest(req)
			return g.Principal
		}}
	if *stdio {
		// stdio is the local user's own process: no token, every dataset.
		recOpts.Transport = "pipe"
		srv.AddReceivingMiddleware(mcpserver.NewRecorder(recOpts).Middleware)
		banner(env.Stderr, a, "stdio", "none (stdio: the local user)")
		// A bad line gets a JSON-RPC error and the server reads on; the
		// end of stdin ends the session and the process, cleanly.
		err := srv.Run(ctx, &server.StdioTransport{In: env.Stdin, Out: env.Stdout, Logger: log})
		if err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("serve stdio: %w", err)
		}
		return nil
	}
	authn, err := auth.New(ctx, authCfg, a.store, log)
	if err != nil {
		return err
	}
	authMode := describeAuth(ctx, authn)
	if !listenLoopback(cfg.Listen) && !authn.Required(ctx) {
		if !authCfg.AllowUnauthenticated {
			return &UsageError{
				Message: fmt.Sprintf("refusing to serve %s without auth: anyone who can reach it could query every dataset", cfg.Listen),
				Hint:    "create a token (mcp-analytics tokens create --name NAME --datasets 1,2), configure OAuth (MCPA_AUTH_ISSUER, see SECURITY.md), listen on 127.0.0.1, or pass --allow-unauthenticated",
			}
		}
		authMode = "NONE on a non-loopback address (--allow-unauthenticated): anyone who can reach it can query every dataset"
		log.Warn("serving without auth on a non-loopback address", "listen", cfg.Listen)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	var extra []server.Listener
	if cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (metrics_listen): %w", cfg.MetricsListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", mx.Handler())
		extra = append(extra, server.Listener{Listener: mln, Handler: mux})
	}
	console, err := admin.New(ctx, admin.Options{Store: a.store, Registry: a.reg, Service: a.svc, MCP: srv, QueryLog: qlog,
		Auth: authn, Loopback: listenLoopback(cfg.Listen), Limits: cfg.Limits, Instance: recOpts.Instance, Logger: log})
	if err != nil {
		ln.Close()
		return err
	}
	endpoint := "http://" + displayAddr(ln.Addr().String()) + "/mcp"
	banner(env.Stderr, a, endpoint, authMode)
	adminAccess := "sign in with a token that has the admin scope"
	if !authn.Required(ctx) {
		adminAccess = "OPEN on loopback: no tokens, no OAuth"
		if !listenLoopback(cfg.Listen) {
			adminAccess = "closed until a token with the admin scope exists"
		}
	}
	fmt.Fprintf(env.Stderr, "  admin:        http://%s/admin/ (%s)\n", displayAddr(ln.Addr().String()), adminAccess)
	if len(extra) > 0 {
		fmt.Fprintf(env.Stderr, "  metrics:      http://%s/metrics (no auth: keep this address private)\n", displayAddr(extra[0].Listener.Addr().String()))
	}
	drain := server.NewDrain()
	h := server.Handler(srv, server.Options{
		Stateless:      cfg.Stateless,
		Auth:           authn,
		AllowedOrigins: authCfg.AllowedOrigins,
		Ready: func(ctx context.Context) error {
			_, err := a.store.Version(ctx)
			return err
		},
		Drain:   drain,
		Metrics: mx.Handler(),
		Admin:   console.Handler(),
		Logger:  log,
	})
	// Last, so outermost: calls refused by the middleware Handler installs
	// are recorded too. The drain's count wraps the recorder (the first
	// middleware given is the outermost), so a call counts until its
	// record is in the query log.
	recOpts.Transport = "tcp"
	srv.AddReceivingMiddleware(drain.Middleware, mcpserver.NewRecorder(recOpts).Middleware)
	return server.Serve(ctx, ln, h, server.ServeOptions{Drain: drain, Grace: cfg.ShutdownGrace, Extra: extra, Logger: log})
}

// instanceName names this process in the query log: host:pid.
func instanceName() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// listenLoopback reports whether addr (host:port) listens on loopback only.
// An empty host or a wildcard address listens everywhere.
func listenLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return auth.IsLoopbackHost(host)
}

// describeAuth says how callers authenticate, for the banner.
func describeAuth(ctx context.Context, a *auth.Authenticator) string {
	c := a.Config()
	switch {
	case c.OAuth():
		return "OAuth JWTs from " + c.Issuer + " (datasets from claim " + c.DatasetsClaim + ", console admins from claim " + c.AdminClaim + "; metadata at " + a.MetadataURL() + "), and API tokens"
	case a.Required(ctx):
		return "API tokens required (mcp-analytics tokens create / list)"
	}
	return "none (loopback only; 'mcp-analytics tokens create' makes tokens required)"
}

// authFlags are serve's auth flags; set ones override MCPA_AUTH_*.
type authFlags struct {
	allowUnauth                                          *bool
	origins, issuer, jwks, resource, audience, claimName *string
}

func registerAuthFlags(fs *flag.FlagSet) authFlags {
	return authFlags{
		allowUnauth: fs.Bool("allow-unauthenticated", false, "serve a non-loopback address without any auth (MCPA_AUTH_ALLOW_UNAUTHENTICATED)"),
		origins:     fs.String("allowed-origins", "", "browser origins allowed to call /mcp, comma-separated, e.g. https://app.example.com (MCPA_AUTH_ALLOWED_ORIGINS)"),
		issuer:      fs.String("auth-issuer", "", "OAuth issuer whose JWTs are accepted; enables resource-server mode (MCPA_AUTH_ISSUER)"),
		jwks:        fs.String("auth-jwks-url", "", "the issuer's JWKS URL (MCPA_AUTH_JWKS_URL)"),
		resource:    fs.String("auth-resource", "", "public URL of this MCP endpoint, e.g. https://analytics.example.com/mcp (MCPA_AUTH_RESOURCE)"),
		audience:    fs.String("auth-audience", "", "required JWT audience; default the resource URL (MCPA_AUTH_AUDIENCE)"),
		claimName:   fs.String("auth-datasets-claim", "", "JWT claim listing allowed dataset ids; default mcpa_datasets (MCPA_AUTH_DATASETS_CLAIM)"),
	}
}

// apply copies the flags that were set over c.
func (f authFlags) apply(fs *flag.FlagSet, c *auth.Config) {
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "allow-unauthenticated":
			c.AllowUnauthenticated = *f.allowUnauth
		case "allowed-origins":
			c.AllowedOrigins = config.SplitList(*f.origins)
		case "auth-issuer":
			c.Issuer = *f.issuer
		case "auth-jwks-url":
			c.JWKSURL = *f.jwks
		case "auth-resource":
			c.Resource = *f.resource
		case "auth-audience":
			c.Audience = *f.audience
		case "auth-datasets-claim":
			c.DatasetsClaim = *f.claimName
		}
	})
}

// banner prints what the server serves: version, endpoint, auth, datasets,
// tools.
func banner(w io.Writer, a *app, endpoint, authMode string) {
	fmt.Fprintf(w, "mcp-analytics %s\n", version())
	fmt.Fprintf(w, "  MCP endpoint: %s\n", endpoint)
	fmt.Fprintf(w, "  auth:         %s\n", authMode)
	fmt.Fprintf(w, "  data dir:     %s\n", a.cfg.DataDir)
	list := a.reg.List(context.Background())
	fmt.Fprintf(w, "  datasets:     %d\n", len(list))
	for _, d := range list {
		fmt.Fprintf(w, "    %d. %s (%s)\n", d.ID, d.Name, d.Driver)
	}
	fmt.Fprintf(w, "  tools:        %s\n", strings.Join(mcpserver.ToolNames, ", "))
	fmt.Fprintln(w, "  tip: put several questions into one execute_multi_query call = one approval.")
}
