package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
)

// logRecords returns one record of every outcome and kind, with every
// field set, starting at base a minute apart.
func logRecords(base time.Time) []catalog.QueryRecord {
	mk := func(i int, outcome string) catalog.QueryRecord {
		return catalog.QueryRecord{
			ID: fmt.Sprintf("%032x", i+1), Kind: catalog.KindCall, Time: base.Add(time.Duration(i) * time.Minute),
			DurationMS: float64(10 * (i + 1)), WaitMS: 0.5, Tool: "query_dataset", DatasetID: 1, DatasetName: "Panel",
			QuerySent: "SELECT nccs, COUNT(*) FROM users GROUP BY nccs", QueryRun: "SELECT nccs, count(*) FROM users GROUP BY nccs LIMIT 1001",
			Options: catalog.QueryOptions{ApplyWeights: true, MergeNCCS: true}, Weighted: true, Rows: 4, Bytes: 1234,
			Outcome: outcome, ClientName: "claude-ai", ClientVersion: "0.1.0", SessionID: "S1", Principal: "token analyst", Instance: "host:1",
		}
	}
	recs := []catalog.QueryRecord{
		mk(0, catalog.OutcomeOK),
		mk(1, catalog.OutcomeCallerError),
		mk(2, catalog.OutcomeDatabaseError),
		mk(3, catalog.OutcomeTimeout),
		mk(4, catalog.OutcomeCancelled),
		mk(5, catalog.OutcomeInternal),
	}
	recs[1].Message, recs[1].GuardRule, recs[1].QuerySent, recs[1].QueryRun = "only SELECT is allowed", "not_select", "DELETE FROM users", ""
	recs[2].Message, recs[2].SQLState, recs[2].QuerySent = `relation "nope" does not exist`, "42P01", "SELECT * FROM nope"
	recs[3].Message, recs[3].SQLState = "the query ran longer than the 1s timeout", "57014"
	recs[4].Message = "the call was cancelled before this query finished"
	recs[5].Message = "internal error (ref 0badf00d)"
	// A multi-query call and its two queries, from another client.
	call := mk(6, catalog.OutcomeOK)
	call.Tool, call.QuerySent, call.QueryRun, call.ClientName, call.DatasetID, call.DatasetName = "execute_multi_query", "", "", "ChatGPT", 0, ""
	q1 := mk(7, catalog.OutcomeOK)
	q1.Kind, q1.CallID, q1.Position, q1.Label, q1.Tool, q1.ClientName = catalog.KindQuery, call.ID, 1, "Gender 100% split", "execute_multi_query", "ChatGPT"
	q1.Truncated, q1.Cached, q1.Options.StandardErrors = true, true, true
	q2 := mk(8, catalog.OutcomeCallerError)
	q2.Kind, q2.CallID, q2.Position, q2.Label, q2.Tool, q2.ClientName, q2.DatasetID, q2.DatasetName = catalog.KindQuery, call.ID, 2, "Bad", "execute_multi_query", "ChatGPT", 2, "Other"
	q2.Message = "function pg_sleep is not allowed"
	list := mk(9, catalog.OutcomeOK)
	list.Tool, list.QuerySent, list.QueryRun, list.DatasetID, list.DatasetName, list.Weighted, list.Options = "list_available_datasets", "", "", 0, "", false, catalog.QueryOptions{}
	return append(recs, call, q1, q2, list)
}

func testQueryLog(t *testing.T, b Backend) {
	ctx := context.Background()
	s, other := open(t, b), open(t, b)
	v0, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recs := logRecords(base)
	if err := s.AppendQueryLog(ctx, recs[:5]); err != nil {
		t.Fatal(err)
	}
	// The same records again (a replayed spool), with the rest: each is
	// stored once.
	if err := other.AppendQueryLog(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx); v != v0 {
		t.Errorf("the catalog version changed from %d to %d: log writes must not make servers reload datasets", v0, v)
	}
	all, err := other.QueryLogRecords(ctx, catalog.LogFilter{Order: catalog.OrderOldest, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs, all, cmpopts.IgnoreFields(catalog.QueryRecord{}, "Seq")); diff != "" {
		t.Errorf("stored records differ (-appended +read):\n%s", diff)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Errorf("seq does not grow: %d after %d", all[i].Seq, all[i-1].Seq)
		}
	}
	ids := func(rs []catalog.QueryRecord) string {
		var out []string
		for _, r := range rs {
			out = append(out, strings.TrimLeft(r.ID, "0"))
		}
		return strings.Join(out, " ")
	}
	last := all[len(all)-1].Seq
	tests := []struct {
		name string
		f    catalog.LogFilter
		want string // record ids (hex, without leading zeros), in order
	}{
		{"newest first by default", catalog.LogFilter{}, "a 9 8 7 6 5 4 3 2 1"},
		{"limit", catalog.LogFilter{Limit: 2}, "a 9"},
		{"page before a seq", catalog.LogFilter{BeforeSeq: all[2].Seq}, "2 1"},
		{"follow after a seq", catalog.LogFilter{AfterSeq: all[7].Seq, Order: catalog.OrderOldest}, "9 a"},
		{"nothing after the last", catalog.LogFilter{AfterSeq: last}, ""},
		{"slowest first", catalog.LogFilter{Order: catalog.OrderSlowest, Limit: 3}, "a 9 8"},
		{"time range", catalog.LogFilter{Since: base.Add(2 * time.Minute), Until: base.Add(4 * time.Minute)}, "4 3"},
		{"dataset", catalog.LogFilter{DatasetID: 2}, "9"},
		{"tool", catalog.LogFilter{Tool: "list_available_datasets"}, "a"},
		{"client, any case", catalog.LogFilter{Client: "chatgpt"}, "9 8 7"},
		{"outcome", catalog.LogFilter{Outcome: catalog.OutcomeCallerError}, "9 2"},
		{"kind", catalog.LogFilter{Kind: catalog.KindQuery}, "9 8"},
		{"a call with its queries", catalog.LogFilter{CallID: recs[6].ID, Order: catalog.OrderOldest}, "7 8 9"},
		{"principal", catalog.LogFilter{Principal: "token analyst", Limit: 1}, "a"},
		{"session", catalog.LogFilter{SessionID: "nope"}, ""},
		{"guard rule", catalog.LogFilter{GuardRule: "not_select"}, "2"},
		{"text in the SQL, any case", catalog.LogFilter{Text: "from NOPE"}, "3"},
		{"text in a message", catalog.LogFilter{Text: "pg_sleep"}, "9"},
		{"text with a wildcard is literal", catalog.LogFilter{Text: "100%"}, "8"},
		{"underscore is literal", catalog.LogFilter{Text: "pg_s"}, "9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.QueryLogRecords(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if ids(got) != tt.want {
				t.Errorf("records = %q, want %q", ids(got), tt.want)
			}
		})
	}
	if _, err := s.QueryLogRecords(ctx, catalog.LogFilter{Outcome: "fine"}); err == nil {
		t.Error("an unknown outcome was accepted")
	}

	n, err := s.PruneQueryLog(ctx, base.Add(3*time.Minute))
	if err != nil || n != 3 {
		t.Errorf("PruneQueryLog = %d, %v; want 3 records older than the cut", n, err)
	}
	left, _ := other.QueryLogRecords(ctx, catalog.LogFilter{Order: catalog.OrderOldest})
	if ids(left) != "4 5 6 7 8 9 a" {
		t.Errorf("after pruning: %q", ids(left))
	}
}

func testQueryLogAggregate(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// Hour 9: 100 query_dataset calls of 1..100 ms, every tenth failing;
	// hour 10: 20 get_context calls of 5 ms from another client.
	var recs []catalog.QueryRecord
	for i := range 100 {
		r := catalog.QueryRecord{ID: fmt.Sprintf("a%031x", i), Kind: catalog.KindCall, Time: base.Add(time.Duration(i) * time.Second),
			DurationMS: float64(i + 1), Tool: "query_dataset", DatasetID: 1, DatasetName: "Panel", Outcome: catalog.OutcomeOK,
			ClientName: "claude-ai", Rows: 2, Bytes: 100}
		if i%10 == 9 {
			r.Outcome, r.GuardRule = catalog.OutcomeCallerError, "denied_function"
		}
		recs = append(recs, r)
	}
	for i := range 20 {
		recs = append(recs, catalog.QueryRecord{ID: fmt.Sprintf("b%031x", i), Kind: catalog.KindCall, Time: base.Add(time.Hour + time.Duration(i)*time.Second),
			DurationMS: 5, Tool: "get_context", Outcome: catalog.OutcomeOK, ClientName: "ChatGPT"})
	}
	if err := s.AppendQueryLog(ctx, recs); err != nil {
		t.Fatal(err)
	}
	rows, err := s.AggregateQueryLog(ctx, catalog.Aggregate{Filter: catalog.LogFilter{Since: base}, By: catalog.ByTool, Bucket: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("aggregate by tool and hour = %+v, want 2 groups", rows)
	}
	q, c := rows[0], rows[1]
	if !q.Start.Equal(base) || q.Key != "query_dataset" || q.Count != 100 || q.Errors != 10 || q.Rows != 200 || q.Bytes != 10000 || q.TotalMS != 5050 || q.MaxMS != 100 {
		t.Errorf("first group = %+v", q)
	}
	// Percentiles are bucket upper bounds: within one bucket (9 %) above.
	near := func(got, want float64) bool { return got >= want && got <= want*1.1 }
	if !near(q.P50MS, 50) || !near(q.P95MS, 95) {
		t.Errorf("p50, p95 = %v, %v; want 50 and 95 within 9 %%", q.P50MS, q.P95MS)
	}
	if !c.Start.Equal(base.Add(time.Hour)) || c.Key != "get_context" || c.Count != 20 || c.Errors != 0 || !near(c.P95MS, 5) {
		t.Errorf("second group = %+v", c)
	}
	if math.Abs(q.ErrorRate()-0.1) > 1e-9 {
		t.Errorf("error rate = %v", q.ErrorRate())
	}
	for _, tt := range []struct {
		a    catalog.Aggregate
		want string
	}{
		{catalog.Aggregate{By: catalog.ByClient}, "claude-ai=100 ChatGPT=20"},
		{catalog.Aggregate{By: catalog.ByDataset, Filter: catalog.LogFilter{Tool: "query_dataset"}}, "1 Panel=100"},
		{catalog.Aggregate{By: catalog.ByGuardRule, Filter: catalog.LogFilter{Outcome: catalog.OutcomeCallerError}}, "denied_function=10"},
		{catalog.Aggregate{By: catalog.ByOutcome}, "ok=110 caller_error=10"},
		{catalog.Aggregate{}, "=120"},
	} {
		rows, err := s.AggregateQueryLog(ctx, tt.a)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s=%d", r.Key, r.Count))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("aggregate by %q = %q, want %q", tt.a.By, strings.Join(got, " "), tt.want)
		}
	}
	if _, err := s.AggregateQueryLog(ctx, catalog.Aggregate{By: "query_sent"}); err == nil {
		t.Error("grouping by an unknown dimension was accepted")
	}
}

func testTokens(t *testing.T, b Backend) {
	ctx := context.Background()
	s, other := open(t, b), open(t, b)
	if got, err := s.Tokens(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Tokens on a new catalog = %v, %v; want none", got, err)
	}
	a, err := s.AddToken(ctx, catalog.Token{Name: "analyst", Hash: "h1", Datasets: []int64{2, 1}})
	if err != nil {
		t.Fatal(err)
	}
	bt, err := s.AddToken(ctx, catalog.Token{Name: "admin", Hash: "h2", AllDatasets: true, Scopes: []string{catalog.ScopeMCP, catalog.ScopeMetrics}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.AddToken(ctx, catalog.Token{Name: "prometheus", Hash: "h3", Scopes: []string{catalog.ScopeMetrics}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddToken(ctx, catalog.Token{Name: "analyst", Hash: "h4"}); !errors.Is(err, catalog.ErrExists) || err.Error() != `an active token named "analyst" already exists` {
		t.Errorf("duplicate active name: err = %v", err)
	}
	if _, err := s.AddToken(ctx, catalog.Token{Name: "other", Hash: "h1"}); err == nil {
		t.Error("duplicate hash accepted")
	}
	if _, err := s.AddToken(ctx, catalog.Token{Name: "other", Hash: "h9", Scopes: []string{"root"}}); err == nil {
		t.Error("unknown scope accepted")
	}
	type row struct {
		ID       int64
		Name     string
		All      bool
		Datasets []int64
		Scopes   []string
		Active   bool
	}
	rowsOf := func(tokens []catalog.Token) []row {
		var rows []row
		for _, tk := range tokens {
			if tk.CreatedAt.IsZero() {
				t.Errorf("token %d: no creation time", tk.ID)
			}
			rows = append(rows, row{tk.ID, tk.Name, tk.AllDatasets, tk.Datasets, tk.Scopes, tk.Active()})
		}
		return rows
	}
	got, err := other.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{a.ID, "analyst", false, []int64{2, 1}, []string{"mcp"}, true},
		{bt.ID, "admin", true, nil, []string{"mcp", "metrics"}, true},
		{e.ID, "prometheus", false, []int64{}, []string{"metrics"}, true},
	}
	if d := cmp.Diff(want, rowsOf(got)); d != "" {
		t.Errorf("Tokens through another store (-want +got):\n%s", d)
	}
	if !got[1].HasScope(catalog.ScopeMetrics) || got[0].HasScope(catalog.ScopeMetrics) || got[2].HasScope(catalog.ScopeMCP) {
		t.Error("HasScope disagrees with the stored scopes")
	}

	if err := s.RevokeTokenByName(ctx, "analyst"); err != nil {
		t.Fatal(err)
	}
	if err := other.RevokeTokenByName(ctx, "analyst"); !errors.Is(err, catalog.ErrTokenNotFound) {
		t.Errorf("second revoke by name: err = %v, want ErrTokenNotFound", err)
	}
	if err := other.RevokeToken(ctx, bt.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, 999); !errors.Is(err, catalog.ErrTokenNotFound) {
		t.Errorf("revoke unknown id: err = %v, want ErrTokenNotFound", err)
	}
	if _, err := s.AddToken(ctx, catalog.Token{Name: "analyst", Hash: "h5", Datasets: []int64{1}}); err != nil {
		t.Errorf("reuse of a revoked name: %v", err)
	}
	got, _ = other.Tokens(ctx)
	var active []string
	for _, tk := range got {
		if tk.Active() {
			active = append(active, tk.Name)
		} else if tk.RevokedAt.Before(tk.CreatedAt) {
			t.Errorf("token %d revoked before it was created", tk.ID)
		}
	}
	if d := cmp.Diff([]string{"prometheus", "analyst"}, active); d != "" {
		t.Errorf("active tokens (-want +got):\n%s", d)
	}

	// Importing a replica's local tokens: a known hash and an active name
	// are skipped; the rest keep their times and revocation.
	created := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	n, err := other.ImportTokens(ctx, []catalog.Token{
		{Name: "analyst", Hash: "h1", Datasets: []int64{7}, CreatedAt: created},                             // known hash
		{Name: "prometheus", Hash: "h6", Datasets: []int64{7}, CreatedAt: created},                          // active name
		{Name: "local", Hash: "h7", Datasets: []int64{3}, CreatedAt: created},                               // new
		{Name: "old", Hash: "h8", AllDatasets: true, CreatedAt: created, RevokedAt: created.Add(time.Hour)}, // new, revoked
	})
	if err != nil || n != 2 {
		t.Errorf("ImportTokens = %d, %v; want 2", n, err)
	}
	got, _ = s.Tokens(ctx)
	byName := map[string]catalog.Token{}
	for _, tk := range got {
		if tk.Active() || tk.Name == "old" {
			byName[tk.Name] = tk
		}
	}
	if l := byName["local"]; !l.CreatedAt.Equal(created) || !l.Active() || !cmp.Equal(l.Datasets, []int64{3}) {
		t.Errorf("imported token = %+v", l)
	}
	if o := byName["old"]; o.Active() || !o.RevokedAt.Equal(created.Add(time.Hour)) {
		t.Errorf("imported revoked token = %+v", o)
	}
	if p := byName["prometheus"]; p.Hash != "h3" {
		t.Errorf("an import replaced the active token %q", p.Name)
	}
}
