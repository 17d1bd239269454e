package admin

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

const logPageSize = 50

// logForm is the query log page's filter form, as given.
type logForm struct {
	Dataset, Tool, Client, Outcome, Kind, Period, Text string
	// From and To bound the time (UTC, as datetime-local inputs send it:
	// 2006-01-02T15:04), within the period.
	From, To string
	Before   int64
}

// timeInput is the format of datetime-local inputs (seconds optional).
const timeInput = "2006-01-02T15:04"

func parseTimeInput(s string) (time.Time, error) {
	for _, f := range []string{timeInput, timeInput + ":05", "2006-01-02"} {
		if t, err := time.ParseInLocation(f, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time such as 2026-12-01T09:30", s)
}

var periods = []struct{ Key, Label string }{{"", "any time"}, {"1h", "last hour"}, {"24h", "last 24 h"}, {"7d", "last 7 days"}, {"30d", "last 30 days"}}

func periodSpan(k string) time.Duration {
	switch k {
	case "1h":
		return time.Hour
	case "24h":
		return 24 * time.Hour
	case "7d":
		return 7 * 24 * time.Hour
	case "30d":
		return 30 * 24 * time.Hour
	}
	return 0
}

func readLogForm(q url.Values) logForm {
	f := logForm{Dataset: q.Get("dataset"), Tool: q.Get("tool"), Client: strings.TrimSpace(q.Get("client")), Outcome: q.Get("outcome"),
		Kind: q.Get("kind"), Period: q.Get("period"), Text: q.Get("q"), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	return f
}

// filter turns the form into a store filter; a value the store would
// refuse is reported rather than passed on.
func (f logForm) filter(now time.Time) (catalog.LogFilter, []string) {
	var lf catalog.LogFilter
	var problems []string
	if f.Dataset != "" {
		id, err := strconv.ParseInt(f.Dataset, 10, 64)
		if err != nil || id <= 0 {
			problems = append(problems, "dataset must be a dataset id")
		}
		lf.DatasetID = id
	}
	lf.Tool, lf.Client, lf.Text = f.Tool, f.Client, f.Text
	lf.Outcome, lf.Kind = f.Outcome, f.Kind
	if span := periodSpan(f.Period); span > 0 {
		lf.Since = now.Add(-span)
	} else if f.Period != "" {
		problems = append(problems, "unknown period "+strconv.Quote(f.Period))
	}
	if f.From != "" {
		if t, err := parseTimeInput(f.From); err != nil {
			problems = append(problems, "From: "+err.Error())
		} else if t.After(lf.Since) {
			lf.Since = t
		}
	}
	if f.To != "" {
		if t, err := parseTimeInput(f.To); err != nil {
			problems = append(problems, "To: "+err.Error())
		} else {
			lf.Until = t
		}
	}
	if !lf.Until.IsZero() && !lf.Since.Before(lf.Until) {
		problems = append(problems, "To must be later than From")
	}
	if f.Before > 0 {
		lf.BeforeSeq = f.Before
	}
	if err := lf.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	return lf, problems
}

// query returns the form as URL parameters, without paging.
func (f logForm) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"dataset": f.Dataset, "tool": f.Tool, "client": f.Client, "outcome": f.Outcome,
		"kind": f.Kind, "period": f.Period, "q": f.Text, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type logData struct {
	Form     logForm
	Records  []catalog.QueryRecord
	Datasets []catalog.Dataset
	Tools    []string
	Outcomes []string
	Kinds    []string
	Periods  []struct{ Key, Label string }
	Older    string // URL of the next page, "" on the last
	Newest   string // URL of the first page, "" on it
	CSV      string
	Problems []string
}

func (d logData) FormError() string { return strings.Join(d.Problems, "; ") }

// Tools the log filter offers: the MCP tools and the admin actions.
var logTools = []string{"list_available_datasets", "get_dataset_schema", "query_dataset", "get_dataset_sample", "execute_multi_query", "get_context",
	"admin." + ActionDatasetAdded, "admin." + ActionDatasetChanged, "admin." + ActionDatasetRemoved, "admin." + ActionDatasetTested,
	"admin." + ActionProfileRefresh, "admin." + ActionTokenCreated, "admin." + ActionTokenRevoked}

func (c *Console) logPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	form := readLogForm(r.URL.Query())
	d := logData{Form: form, Tools: logTools, Outcomes: catalog.Outcomes, Kinds: []string{catalog.KindCall, catalog.KindQuery, catalog.KindAdmin}, Periods: periods}
	d.Datasets, _ = c.opts.Store.List(ctx)
	lf, problems := form.filter(c.now())
	q := form.query()
	d.CSV = Prefix + "/log.csv?" + q.Encode()
	if len(problems) > 0 {
		d.Problems = problems
		c.render(w, r, s, http.StatusBadRequest, "log", "Query log", d)
		return
	}
	lf.Limit = logPageSize + 1
	recs, err := c.opts.Store.QueryLogRecords(ctx, lf)
	if err != nil {
		c.log.ErrorContext(ctx, "read the query log", "err", err)
		c.fail(w, r, s, http.StatusServiceUnavailable, "The query log cannot be read right now; try again shortly.")
		return
	}
	if len(recs) > logPageSize {
		recs = recs[:logPageSize]
		older := form.query()
		older.Set("before", strconv.FormatInt(recs[len(recs)-1].Seq, 10))
		d.Older = Prefix + "/log?" + older.Encode()
	}
	if form.Before > 0 {
		d.Newest = Prefix + "/log?" + q.Encode()
	}
	// Calls refused before the dataset was opened carry its id only.
	names := map[int64]string{}
	for _, ds := range d.Datasets {
		names[ds.ID] = ds.Name
	}
	for i := range recs {
		if recs[i].DatasetID != 0 && recs[i].DatasetName == "" {
			recs[i].DatasetName = names[recs[i].DatasetID]
		}
	}
	d.Records = recs
	c.render(w, r, s, http.StatusOK, "log", "Query log", d)
}

type logDetailData struct {
	Record  catalog.QueryRecord
	Queries []catalog.QueryRecord // the queries of an execute_multi_query call
	Options string
}

func (c *Console) logDetail(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("id")
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		c.fail(w, r, s, http.StatusNotFound, "There is no log record with that id.")
		return
	}
	recs, err := c.opts.Store.QueryLogRecords(ctx, catalog.LogFilter{CallID: id, Order: catalog.OrderOldest, Limit: 200})
	if err != nil {
		c.log.ErrorContext(ctx, "read the query log", "err", err)
		c.fail(w, r, s, http.StatusServiceUnavailable, "The query log cannot be read right now; try again shortly.")
		return
	}
	var d logDetailData
	found := false
	for _, rec := range recs {
		if rec.ID == id {
			d.Record, found = rec, true
		} else {
			d.Queries = append(d.Queries, rec)
		}
	}
	if !found {
		c.fail(w, r, s, http.StatusNotFound, "There is no log record with that id (it may have been pruned).")
		return
	}
	b, _ := json.MarshalIndent(d.Record.Options, "", "  ")
	d.Options = string(b)
	c.render(w, r, s, http.StatusOK, "logdetail", "Log record", d)
}

// logCSV exports the records matching the page's filters (at most
// catalog.MaxLogLimit), newest first.
func (c *Console) logCSV(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	lf, problems := readLogForm(r.URL.Query()).filter(c.now())
	if len(problems) > 0 {
		http.Error(w, strings.Join(problems, "; "), http.StatusBadRequest)
		return
	}
	lf.Limit = catalog.MaxLogLimit
	recs, err := c.opts.Store.QueryLogRecords(ctx, lf)
	if err != nil {
		c.log.ErrorContext(ctx, "read the query log", "err", err)
		http.Error(w, "the query log cannot be read right now", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mcp-analytics-log-%s.csv"`, c.now().UTC().Format("20060102-150405")))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seq", "id", "time", "kind", "call_id", "position", "label", "tool", "dataset_id", "dataset", "duration_ms",
		"outcome", "message", "sqlstate", "guard_rule", "rows", "truncated", "bytes", "client_name", "client_version", "session_id",
		"principal", "instance", "query_sent", "query_run"})
	for _, rec := range recs {
		_ = cw.Write([]string{strconv.FormatInt(rec.Seq, 10), rec.ID, rec.Time.UTC().Format(time.RFC3339Nano), rec.Kind, rec.CallID,
			strconv.Itoa(rec.Position), cell(rec.Label), rec.Tool, strconv.FormatInt(rec.DatasetID, 10), cell(rec.DatasetName),
			strconv.FormatFloat(rec.DurationMS, 'f', 3, 64), rec.Outcome, cell(rec.Message), rec.SQLState, rec.GuardRule,
			strconv.Itoa(rec.Rows), strconv.FormatBool(rec.Truncated), strconv.Itoa(rec.Bytes), cell(rec.ClientName),
			cell(rec.ClientVersion), rec.SessionID, cell(rec.Principal), rec.Instance, cell(rec.QuerySent), cell(rec.QueryRun)})
	}
	cw.Flush()
}

// cell keeps a spreadsheet from reading a logged text as a formula: text
// starting with = + - @ or a control character gets a leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
