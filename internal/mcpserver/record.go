package mcpserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/metrics"
	"github.com/mcp-analytics/mcp-analytics/internal/querylog"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// RecordOptions configure a [Recorder].
type RecordOptions struct {
	// QueryLog receives the records; nil records none.
	QueryLog *querylog.Writer
	// Metrics receives the observations; nil observes none.
	Metrics *metrics.Metrics
	// Principal names the caller of a request (the token's name or OAuth
	// subject, see auth.GrantFromRequest); nil or "" without auth.
	Principal func(req mcp.Request) string
	// Instance names this server process in the records (host:pid).
	Instance string
	// Transport is "tcp" (HTTP) or "pipe" (stdio), for the session metric.
	Transport string
	Logger    *slog.Logger
}

// Recorder is the receiving middleware that writes the query log and the
// MCP metrics, and logs each tool call with its outcome (and, when it
// failed, the reason). Install it as the outermost middleware (the last
// AddReceivingMiddleware call), so calls that other middleware refuses,
// such as arguments with duplicate keys, are recorded too.
type Recorder struct {
	opts RecordOptions
	log  *slog.Logger
}

// NewRecorder returns a recorder.
func NewRecorder(opts RecordOptions) *Recorder {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{opts: opts, log: log.With("component", "mcpserver")}
}

// note is what a tool handler tells the recorder about its call: the
// queries it ran, and the arguments that describe them.
type note struct {
	datasetID int64
	options   catalog.QueryOptions
	label     string
	results   []result.Result
	multi     bool
	panicked  bool // the handler panicked (see recoverPanics)
}

type noteKey struct{}

// noteOf returns the note of the call ctx belongs to (a throwaway when the
// call is not recorded).
func noteOf(ctx context.Context) *note {
	if n, ok := ctx.Value(noteKey{}).(*note); ok {
		return n
	}
	return &note{}
}

// Middleware records every request: tools/call in the query log, every
// method in the metrics.
func (rec *Recorder) Middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		start := time.Now()
		if method == "initialize" {
			rec.watchSession(req)
		}
		if method != "tools/call" {
			res, err := next(ctx, method, req)
			rec.opts.Metrics.ObserveOperation(method, "", errorType(nil, err), time.Since(start))
			return res, err
		}
		n := &note{}
		ctx = context.WithValue(ctx, noteKey{}, n)
		tool := ""
		if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok {
			tool = p.Name
		}
		res, err := next(ctx, method, req)
		rec.finish(ctx, req, tool, start, time.Since(start), n, res, err)
		return res, err
	}
}

// watchSession observes a session's duration when it ends.
func (rec *Recorder) watchSession(req mcp.Request) {
	ss, ok := req.GetSession().(*mcp.ServerSession)
	if !ok || ss == nil || rec.opts.Metrics == nil {
		return
	}
	version := ""
	if p, ok := req.GetParams().(*mcp.InitializeParams); ok && p != nil {
		version = p.ProtocolVersion
	}
	start := time.Now()
	go func() {
		_ = ss.Wait()
		rec.opts.Metrics.ObserveSession(version, rec.opts.Transport, time.Since(start))
	}()
}

// errorType is the OpenTelemetry error.type of a request: the JSON-RPC
// error code, "tool_error" for a tool result with isError, "" on success.
func errorType(res mcp.Result, err error) string {
	if err != nil {
		if w, ok := err.(*jsonrpc.Error); ok {
			return strconv.FormatInt(w.Code, 10)
		}
		return "_OTHER"
	}
	if r, ok := res.(*mcp.CallToolResult); ok && r != nil && r.IsError {
		return "tool_error"
	}
	return ""
}

// maxMessage caps the error text kept in a record.
const maxMessage = 2000

func (rec *Recorder) finish(ctx context.Context, req mcp.Request, tool string, start time.Time, d time.Duration, n *note, res mcp.Result, err error) {
	ms := float64(d.Microseconds()) / 1000
	call := catalog.QueryRecord{
		ID: querylog.NewID(), Kind: catalog.KindCall, Time: start.UTC(), DurationMS: ms, Tool: tool,
		DatasetID: n.datasetID, Options: n.options, Label: n.label, Instance: rec.opts.Instance,
	}
	call.ClientName, call.ClientVersion = clientOf(req)
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil {
		call.SessionID = ss.ID()
	}
	if rec.opts.Principal != nil {
		call.Principal = rec.opts.Principal(req)
	}
	tr, _ := res.(*mcp.CallToolResult)
	call.Bytes = resultBytes(tr)
	call.Outcome, call.Message = outcomeOf(n, tr, err)

	records := []catalog.QueryRecord{call}
	switch {
	case len(n.results) == 1 && !n.multi:
		fromResult(&records[0], n.results[0])
	case n.multi:
		records[0].DatasetID = 0
		var ds int64
		for i, r := range n.results {
			q := call
			q.ID, q.Kind, q.CallID, q.Position, q.Label = querylog.NewID(), catalog.KindQuery, call.ID, i+1, r.Label
			q.DurationMS, q.Bytes, q.Outcome, q.Message = r.TimeMS, partBytes(r), "", ""
			q.Time = start.UTC()
			fromResult(&q, r)
			records = append(records, q)
			records[0].Rows += q.Rows
			if i == 0 || ds == r.DatasetID {
				ds = r.DatasetID
			} else {
				ds = -1
			}
		}
		if ds > 0 {
			records[0].DatasetID, records[0].DatasetName = ds, records[1].DatasetName
		}
	}
	for i := range records {
		records[i].Message = capText(records[i].Message, maxMessage)
	}
	if rec.opts.QueryLog != nil {
		rec.opts.QueryLog.Add(records...)
	}

	m := rec.opts.Metrics
	m.ObserveOperation("tools/call", tool, errorType(res, err), d)
	m.ObserveResponse(tool, call.Bytes)
	for _, r := range records {
		if r.QuerySent == "" && r.QueryRun == "" && r.GuardRule == "" {
			continue
		}
		if n.multi && r.Kind == catalog.KindCall {
			continue
		}
		wait := time.Duration(r.WaitMS * float64(time.Millisecond))
		m.ObserveQuery(metrics.Query{Dataset: metrics.DatasetLabel(r.DatasetID, r.DatasetName), Outcome: r.Outcome,
			Duration: time.Duration(r.DurationMS * float64(time.Millisecond)), SlotWait: wait, Rows: r.Rows, GuardRule: r.GuardRule})
	}

	attrs := []any{"tool", tool, "client", strings.Trim(call.ClientName+"/"+call.ClientVersion, "/"), "ms", int64(ms), "outcome", records[0].Outcome}
	if call.Principal != "" {
		attrs = append(attrs, "principal", call.Principal)
	}
	if records[0].Outcome != catalog.OutcomeOK {
		attrs = append(attrs, "reason", capText(records[0].Message, 300))
	}
	if n.multi {
		failed := 0
		for _, r := range records[1:] {
			if r.Outcome != catalog.OutcomeOK {
				failed++
			}
		}
		attrs = append(attrs, "queries", len(records)-1, "failed", failed)
	}
	rec.log.InfoContext(ctx, "tool call", attrs...)
}

// fromResult copies a query's details into a record.
func fromResult(r *catalog.QueryRecord, q result.Result) {
	r.DatasetID, r.DatasetName = q.DatasetID, q.Dataset
	if q.Query != "" {
		r.QuerySent = q.Query
	}
	r.QueryRun = q.Trace.SQL
	r.Weighted = q.Weighting.Applied
	r.Rows, r.Truncated, r.Cached = q.RowCount, q.Truncated, q.Cached
	r.WaitMS = q.QueueMS
	r.SQLState, r.GuardRule = q.Trace.SQLState, q.Trace.GuardRule
	r.Outcome, r.Message = q.Trace.Outcome, q.Error
	if r.Outcome == "" {
		r.Outcome = catalog.OutcomeOK
		if !q.OK {
			r.Outcome = catalog.OutcomeCallerError
		}
	}
}

// outcomeOf is a call's outcome: that of its first failed query when it
// ran queries and failed, else from the tool result.
func outcomeOf(n *note, res *mcp.CallToolResult, err error) (string, string) {
	switch {
	case n.panicked:
		return catalog.OutcomeInternal, textOf(res)
	case err != nil:
		return catalog.OutcomeCallerError, err.Error()
	case res == nil || !res.IsError:
		return catalog.OutcomeOK, ""
	}
	for _, r := range n.results {
		if !r.OK {
			out := r.Trace.Outcome
			if out == "" {
				out = catalog.OutcomeCallerError
			}
			return out, r.Error
		}
	}
	return catalog.OutcomeCallerError, textOf(res)
}

func textOf(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

// resultBytes is the size of a tool result's text and structured content.
func resultBytes(res *mcp.CallToolResult) int {
	if res == nil {
		return 0
	}
	n := 0
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			n += len(t.Text)
		}
	}
	if raw, ok := res.StructuredContent.(json.RawMessage); ok {
		n += len(raw)
	}
	return n
}

// partBytes is the size of one query's rows in a multi-query answer.
func partBytes(r result.Result) int {
	if len(r.Rows) == 0 {
		return 0
	}
	b, err := json.Marshal(r.Rows)
	if err != nil {
		return 0
	}
	return len(b)
}

// clientOf returns the client's name and version: from the request's
// _meta (newer protocol), else the session's initialize handshake, else
// (stateless HTTP) the User-Agent header as the name.
func clientOf(req mcp.Request) (name, version string) {
	if ctr, ok := req.(*mcp.CallToolRequest); ok {
		if ci := ctr.ClientInfo(); ci != nil && ci.Name != "" {
			return ci.Name, ci.Version
		}
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil {
		if ip := ss.InitializeParams(); ip != nil && ip.ClientInfo != nil && ip.ClientInfo.Name != "" {
			return ip.ClientInfo.Name, ip.ClientInfo.Version
		}
	}
	if ex := req.GetExtra(); ex != nil && ex.Header != nil {
		return capText(ex.Header.Get("User-Agent"), 200), ""
	}
	return "", ""
}

func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
