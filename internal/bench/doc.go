// Package bench measures mcp-analytics against raw pgx and against
// sequential tool calls, in one run, and reports ratios (SPEC §10, issue 6).
//
// [Run] generates a deterministic panel into PostgreSQL (users with a
// projection weight, and an event table), starts the real server
// in-process — catalog, registry, analysis service, MCP tools, Streamable
// HTTP — and drives it with the MCP Go SDK's client over a loopback TCP
// socket, exactly as an assistant would. Beside it sit raw pgx pools with
// the same settings (read-only runtime parameters, one-round-trip exec
// mode, pool size), which are the baseline.
//
// A [Proxy] between the server and PostgreSQL adds a configurable round
// trip, so a local database behaves like a warehouse tens of
// milliseconds away: there round trips, not CPU, decide the time.
//
// Each part is a file: rewrite.go, overhead.go, multi.go, throughput.go,
// load.go, fairshare.go, against.go, importing.go, soak.go and weighted.go;
// bench.go holds the configuration and [Run], harness.go the server, the
// sessions and the drivers they share, panel.go the panel generator and
// report.go the report.
//
// Timing assertions do not belong in unit tests; [Report.Goals] states
// whether a run met the targets and the command prints it.
package bench
