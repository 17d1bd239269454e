package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Against is another MCP database server measured on the same panel, in
// the same run: its SQL tool is called with the questions as written
// (other servers do not weight) and compared with raw pgx running the same
// SQL. The server must reach the bench's PostgreSQL database with the
// panel's schema on its search path (for example with
// options=-csearch_path=mcpa_bench_100000 in its connection string).
type Against struct {
	// Name labels the server in the report.
	Name string
	// Endpoint is the server's Streamable HTTP URL. Command, used when
	// Endpoint is empty, is a command line started once per session as a
	// child process speaking MCP over stdio, as desktop assistants do.
	Endpoint string
	Command  []string
	// Tool is the tool that runs SQL, SQLArg the argument that takes the
	// SQL, and Args any further fixed arguments (a database name, say).
	Tool   string
	SQLArg string
	Args   map[string]any
}

func (a Against) validate() error {
	switch {
	case a.Endpoint == "" && len(a.Command) == 0:
		return errors.New("another server needs an endpoint URL or a command")
	case a.Tool == "" || a.SQLArg == "":
		return fmt.Errorf("%s: the tool and its SQL argument must be named", a.Name)
	}
	return nil
}

// AgainstReport is what one run measured of another server.
type AgainstReport struct {
	Name string `json:"name"`
	// PerCall compares a call of the other server's tool with raw pgx
	// running the SQL as written; Ours is our own ratio for the same case
	// (SQL as run, weighted), when the overhead part ran.
	PerCall    []AgainstRow  `json:"per_call"`
	Throughput ThroughputRow `json:"throughput"`
}

// AgainstRow is one per-call case against another server.
type AgainstRow struct {
	Case      string  `json:"case"`
	Samples   int     `json:"samples"`
	RawP50    float64 `json:"raw_p50_ms"`
	TheirP50  float64 `json:"their_p50_ms"`
	TheirP95  float64 `json:"their_p95_ms"`
	RatioP50  float64 `json:"ratio_p50"`
	OursRatio float64 `json:"ours_ratio_p50,omitempty"`
}

// connect opens a session with the other server.
func (a Against) connect(ctx context.Context, h *harness) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "mcp-analytics-bench", Version: "1"}, nil)
	var t mcp.Transport
	if a.Endpoint != "" {
		t = &mcp.StreamableClientTransport{Endpoint: a.Endpoint, HTTPClient: h.client, MaxRetries: -1}
	} else {
		t = &mcp.CommandTransport{Command: exec.Command(a.Command[0], a.Command[1:]...)}
	}
	cs, err := c.Connect(ctx, t, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", a.Name, err)
	}
	return cs, nil
}

// call runs sql through the other server's tool.
func (a Against) call(ctx context.Context, cs *mcp.ClientSession, sql string) error {
	args := maps.Clone(a.Args)
	if args == nil {
		args = map[string]any{}
	}
	args[a.SQLArg] = sql
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: a.Tool, Arguments: args})
	if err != nil {
		return err
	}
	if res.IsError {
		return &callError{text: firstText(res)}
	}
	return nil
}

// against measures every other server: per call (primary-key lookup and
// ~5 ms aggregate, as written) and throughput next to the database.
func (b *run) against(ctx context.Context, r *Report) error {
	for _, a := range b.cfg.Against {
		b.step("measuring %s: per call and %d clients x %d calls", a.Name, b.cfg.Clients, b.cfg.Calls)
		rep, err := b.againstOne(ctx, a, r)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
		r.Against = append(r.Against, rep)
	}
	return nil
}

func (b *run) againstOne(ctx context.Context, a Against, r *Report) (AgainstReport, error) {
	rep := AgainstReport{Name: a.Name}
	cs, err := a.connect(ctx, b.h)
	if err != nil {
		return rep, err
	}
	defer cs.Close()
	for _, c := range []struct {
		name string
		sql  func(users, i int) string
	}{
		{"primary-key lookup", pkLookup},
		{"~5 ms aggregate", smallAggregate},
	} {
		var raw, theirs samples
		for i := -3; i < b.cfg.Iterations; i++ { // three warm-up rounds
			sql := c.sql(b.cfg.Users, max(i, 0))
			d1, err := timed(func() error { return rawQuery(ctx, b.h.rawLocal, sql) })
			if err != nil {
				return rep, fmt.Errorf("raw pgx %q: %w", sql, err)
			}
			d2, err := timed(func() error { return a.call(ctx, cs, sql) })
			if err != nil {
				return rep, fmt.Errorf("%s %q: %w", a.Tool, sql, err)
			}
			if i >= 0 {
				raw, theirs = append(raw, d1), append(theirs, d2)
			}
		}
		row := AgainstRow{Case: c.name, Samples: len(raw), RawP50: raw.median(),
			TheirP50: theirs.median(), TheirP95: theirs.percentile(95), RatioP50: ratio(theirs.median(), raw.median())}
		for _, o := range r.Overhead {
			if o.Case == c.name {
				row.OursRatio = o.RatioP50
			}
		}
		rep.PerCall = append(rep.PerCall, row)
	}

	sessions := make([]*mcp.ClientSession, b.cfg.Clients)
	defer closeAll(sessions)
	for i := range sessions {
		if sessions[i], err = a.connect(ctx, b.h); err != nil {
			return rep, err
		}
	}
	theirs, err := b.drive(ctx, len(sessions), func(ctx context.Context, client, i int) error {
		return a.call(ctx, sessions[client], pkLookup(b.cfg.Users, client*b.cfg.Calls+i))
	})
	if err != nil {
		return rep, err
	}
	raw, err := b.drive(ctx, b.cfg.Clients, func(ctx context.Context, client, i int) error {
		return rawQuery(ctx, b.h.rawLocal, pkLookup(b.cfg.Users, client*b.cfg.Calls+i))
	})
	if err != nil {
		return rep, err
	}
	rep.Throughput = b.throughputRow(theirs, raw)
	return rep, nil
}
