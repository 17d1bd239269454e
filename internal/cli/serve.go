package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/mcpserver"
	"github.com/mcp-analytics/mcp-analytics/internal/server"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("serve", env)
	var common commonFlags
	common.register(fs)
	listen := fs.String("listen", "", "HTTP listen address (default 127.0.0.1:8000)")
	stdio := fs.Bool("stdio", false, "serve MCP over stdin/stdout instead of HTTP (for Claude Desktop / Claude Code)")
	stateless := fs.Bool("stateless", false, "serve Streamable HTTP without sessions (for several replicas behind a load balancer)")
	noDemo := fs.Bool("no-demo", false, "do not generate the demo datasets on first start")
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
	// Logs go to stderr: in stdio mode stdout carries the protocol.
	log := newLogger(cfg, env.Stderr)
	a, err := openApp(ctx, cfg, log, env.Stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	go a.reg.Watch(ctx, cfg.CatalogPoll)

	srv := mcpserver.New(a.svc, mcpserver.Options{Version: version(), Render: a.renderOptions(), Logger: log})
	if *stdio {
		banner(env.Stderr, a, "stdio")
		if err := srv.Run(ctx, &mcp.StdioTransport{}); err != nil && ctx.Err() == nil {
			return fmt.Errorf("serve stdio: %w", err)
		}
		return nil
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	endpoint := "http://" + displayAddr(ln.Addr().String()) + "/mcp"
	banner(env.Stderr, a, endpoint)
	h := server.Handler(srv, server.Options{
		Stateless: cfg.Stateless,
		Ready:     func(ctx context.Context) error { return a.reg.Refresh(ctx) },
		Logger:    log,
	})
	return server.Serve(ctx, ln, h, log)
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

// banner prints what the server serves: version, endpoint, datasets, tools.
func banner(w io.Writer, a *app, endpoint string) {
	fmt.Fprintf(w, "mcp-analytics %s\n", version())
	fmt.Fprintf(w, "  MCP endpoint: %s\n", endpoint)
	fmt.Fprintf(w, "  data dir:     %s\n", a.cfg.DataDir)
	list := a.reg.List(context.Background())
	fmt.Fprintf(w, "  datasets:     %d\n", len(list))
	for _, d := range list {
		fmt.Fprintf(w, "    %d. %s (%s)\n", d.ID, d.Name, d.Driver)
	}
	fmt.Fprintf(w, "  tools:        %s\n", strings.Join(mcpserver.ToolNames, ", "))
	fmt.Fprintln(w, "  tip: put several questions into one execute_multi_query call = one approval.")
}
