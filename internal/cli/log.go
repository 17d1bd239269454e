package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// runLog lists the query log, filtered, as a table, JSON lines or CSV;
// --follow keeps printing new records as they arrive.
func runLog(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("log", env)
	var common commonFlags
	common.register(fs)
	var cat catalogFlags
	cat.registerStore(fs)
	var f catalog.LogFilter
	fs.Int64Var(&f.DatasetID, "dataset", 0, "only this dataset id")
	fs.StringVar(&f.Tool, "tool", "", "only this tool, e.g. query_dataset")
	fs.StringVar(&f.Client, "client", "", "only this client name (from the MCP handshake), e.g. claude-ai")
	fs.StringVar(&f.Outcome, "outcome", "", "only this outcome: "+strings.Join(catalog.Outcomes, ", "))
	fs.StringVar(&f.Kind, "kind", "", "only calls (call), the queries of execute_multi_query (query) or admin console actions (admin)")
	fs.StringVar(&f.Principal, "principal", "", "only this caller, as logged: token:NAME or oauth:SUBJECT")
	token := fs.String("token", "", "only calls made with this API token name (same as --principal token:NAME)")
	fs.StringVar(&f.SessionID, "session", "", "only this MCP session id")
	fs.StringVar(&f.CallID, "call", "", "only this call id, with its queries")
	fs.StringVar(&f.Text, "search", "", "only records whose SQL, label or error contains this text (any case)")
	since := fs.String("since", "", "only records from this time on: a duration back from now (90m, 24h) or a time (2026-03-01, 2026-03-01T09:00:00Z)")
	until := fs.String("until", "", "only records before this time (same forms as --since)")
	fs.IntVar(&f.Limit, "limit", 50, "at most this many records (newest first); with --follow, how many to show first")
	slowest := fs.Bool("slowest", false, "the slowest records first instead of the newest")
	format := fs.String("format", "table", "table, json (one JSON object per line) or csv")
	follow := fs.Bool("follow", false, "keep printing new records as they are written (Ctrl-C to stop)")
	every := fs.Duration("every", time.Second, "with --follow, how often to look for new records")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Message: "unexpected argument " + fs.Arg(0), Hint: "filters are flags, e.g. mcp-analytics log --search users --since 24h"}
	}
	if *token != "" {
		f.Principal = "token:" + *token
	}
	now := time.Now()
	var err error
	if f.Since, err = parseWhen(*since, now); err != nil {
		return &UsageError{Message: "--since: " + err.Error(), Hint: "e.g. --since 24h or --since 2026-03-01"}
	}
	if f.Until, err = parseWhen(*until, now); err != nil {
		return &UsageError{Message: "--until: " + err.Error(), Hint: "e.g. --until 2026-03-02T00:00:00Z"}
	}
	if *slowest {
		if *follow {
			return &UsageError{Message: "--slowest and --follow do not go together", Hint: "follow shows records as they arrive"}
		}
		f.Order = catalog.OrderSlowest
	}
	if err := f.Validate(); err != nil {
		return &UsageError{Message: err.Error(), Hint: "see 'mcp-analytics log -h'"}
	}
	out, err := newLogPrinter(*format, env.Stdout)
	if err != nil {
		return &UsageError{Message: err.Error(), Hint: "--format table, json or csv"}
	}
	store, err := tokenStore(ctx, env, common, cat)
	if err != nil {
		return err
	}
	defer store.Close()

	records, err := store.QueryLogRecords(ctx, f)
	if err != nil {
		return err
	}
	if f.Order != catalog.OrderSlowest {
		// Newest were fetched; print oldest first, as a log reads.
		for i, j := 0, len(records)-1; i < j; i, j = i+1, j-1 {
			records[i], records[j] = records[j], records[i]
		}
	}
	if err := out.print(records); err != nil {
		return err
	}
	if !*follow {
		return out.flush()
	}
	if err := out.flush(); err != nil {
		return err
	}
	return followLog(ctx, store, f, records, *every, out)
}

// followLog polls for records after the last one shown. Replicas commit
// out of seq order now and then, so it looks back over a window of seq
// numbers and skips the ids it has printed.
func followLog(ctx context.Context, store catalog.QueryLog, f catalog.LogFilter, shown []catalog.QueryRecord, every time.Duration, out *logPrinter) error {
	const window = 1000
	seen := map[string]int64{}
	var last int64
	for _, r := range shown {
		seen[r.ID] = r.Seq
		last = max(last, r.Seq)
	}
	if last == 0 {
		latest, err := store.QueryLogRecords(ctx, catalog.LogFilter{Limit: 1})
		if err != nil {
			return err
		}
		if len(latest) > 0 {
			last = latest[0].Seq
			seen[latest[0].ID] = last
		}
	}
	f.Order, f.Limit, f.BeforeSeq = catalog.OrderOldest, catalog.MaxLogLimit, 0
	// What is in the look-back window now is old news, shown or not.
	f.AfterSeq = max(last-window, 0)
	old, err := store.QueryLogRecords(ctx, f)
	if err != nil {
		return err
	}
	for _, r := range old {
		seen[r.ID] = r.Seq
		last = max(last, r.Seq)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		f.AfterSeq = max(last-window, 0)
		records, err := store.QueryLogRecords(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var fresh []catalog.QueryRecord
		for _, r := range records {
			if _, ok := seen[r.ID]; ok {
				continue
			}
			seen[r.ID] = r.Seq
			last = max(last, r.Seq)
			fresh = append(fresh, r)
		}
		for id, seq := range seen {
			if seq < last-window {
				delete(seen, id)
			}
		}
		if err := out.print(fresh); err != nil {
			return err
		}
		if err := out.flush(); err != nil {
			return err
		}
	}
}

// parseWhen reads a time: a duration back from now, an RFC 3339 time or
// a date (UTC).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (90m, 24h, 7d) nor a time (2026-03-01, 2026-03-01T09:00:00Z)", s)
}

// logColumns are the CSV columns, in order.
var logColumns = []string{"seq", "id", "time", "kind", "call_id", "position", "label", "tool", "dataset_id", "dataset", "duration_ms", "wait_ms",
	"outcome", "message", "sqlstate", "guard_rule", "rows", "truncated", "bytes", "cached", "weighted", "apply_weights", "merge_nccs",
	"standard_errors", "show_sql", "query_sent", "query_run", "client_name", "client_version", "session_id", "principal", "instance"}

// logPrinter writes records in one format.
type logPrinter struct {
	format string
	tw     *tabwriter.Writer
	cw     *csv.Writer
	w      io.Writer
	header bool
}

func newLogPrinter(format string, w io.Writer) (*logPrinter, error) {
	p := &logPrinter{format: format, w: w}
	switch format {
	case "table":
		p.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	case "csv":
		p.cw = csv.NewWriter(w)
	case "json":
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return p, nil
}

func (p *logPrinter) print(records []catalog.QueryRecord) error {
	for _, r := range records {
		switch p.format {
		case "json":
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(p.w, "%s\n", b); err != nil {
				return err
			}
		case "csv":
			if !p.header {
				p.header = true
				if err := p.cw.Write(logColumns); err != nil {
					return err
				}
			}
			b := strconv.FormatBool
			if err := p.cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.ID, r.Time.Format(time.RFC3339Nano), r.Kind, r.CallID,
				strconv.Itoa(r.Position), r.Label, r.Tool, strconv.FormatInt(r.DatasetID, 10), r.DatasetName,
				strconv.FormatFloat(r.DurationMS, 'f', -1, 64), strconv.FormatFloat(r.WaitMS, 'f', -1, 64), r.Outcome, r.Message,
				r.SQLState, r.GuardRule, strconv.Itoa(r.Rows), b(r.Truncated), strconv.Itoa(r.Bytes), b(r.Cached), b(r.Weighted),
				b(r.Options.ApplyWeights), b(r.Options.MergeNCCS), b(r.Options.StandardErrors), b(r.Options.ShowSQL),
				r.QuerySent, r.QueryRun, r.ClientName, r.ClientVersion, r.SessionID, r.Principal, r.Instance}); err != nil {
				return err
			}
		default:
			if !p.header {
				p.header = true
				fmt.Fprintln(p.tw, "TIME\tTOOL\t#\tDATASET\tMS\tOUTCOME\tROWS\tCLIENT\tPRINCIPAL\tQUERY / ERROR")
			}
			pos := ""
			if r.Kind == catalog.KindQuery {
				pos = strconv.Itoa(r.Position)
			}
			ds := ""
			if r.DatasetID != 0 {
				ds = strconv.FormatInt(r.DatasetID, 10)
			}
			detail := oneLine(r.QuerySent)
			if r.Outcome != catalog.OutcomeOK {
				detail = oneLine(r.Message)
				if r.SQLState != "" {
					detail = "[" + r.SQLState + "] " + detail
				}
				if r.GuardRule != "" {
					detail = "[" + r.GuardRule + "] " + detail
				}
			}
			client := strings.Trim(r.ClientName+"/"+r.ClientVersion, "/")
			fmt.Fprintf(p.tw, "%s\t%s\t%s\t%s\t%.1f\t%s\t%d\t%s\t%s\t%s\n", r.Time.Local().Format("2006-01-02 15:04:05"), r.Tool, pos, ds,
				r.DurationMS, r.Outcome, r.Rows, orDash(client), orDash(r.Principal), capText(detail, 100))
		}
	}
	return nil
}

func (p *logPrinter) flush() error {
	switch {
	case p.tw != nil:
		return p.tw.Flush()
	case p.cw != nil:
		p.cw.Flush()
		return p.cw.Error()
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func capText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
