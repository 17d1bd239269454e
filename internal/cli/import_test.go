package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/surveyfile"
	"github.com/mcp-analytics/mcp-analytics/internal/surveyfile/fixture"
)

func requireReadStat(t *testing.T) {
	t.Helper()
	err := surveyfile.Available()
	_, cmdErr := os.Stat("/usr/bin/readstat")
	if err == nil && cmdErr == nil {
		return
	}
	if os.Getenv("MCPA_REQUIRE_POSTGRES") == "1" || os.Getenv("CI") != "" {
		t.Fatalf("ReadStat is required here: %v %v", err, cmdErr)
	}
	pgtest.Skip(t, "ReadStat", fmt.Sprintf("ReadStat is not installed: %v %v", err, cmdErr))
}

// surveyVars is the codebook of the survey file the tests import.
var surveyVars = []fixture.Var{
	{Name: "respondent_id", Label: "Respondent ID", Measure: "scale"},
	{Name: "gender", Label: "Gender of respondent", Measure: "nominal", Labels: fixture.Labels("1", "Male", "2", "Female")},
	{Name: "age", Label: "Age in years", Measure: "scale", MissingRange: []float64{900, 999}},
	{Name: "income", Label: "Household income band", Measure: "ordinal",
		Labels: fixture.Labels("1", "Low", "2", "Mid", "3", "High", "99", "Refused"), Missing: []string{"99"}},
	{Name: "weight", Label: "Projection weight", Decimals: 4, Measure: "scale"},
}

// writeSurvey writes wave.sav and, for the independent check, the same
// rows as wave.csv (codes, not labels).
func writeSurvey(t *testing.T, dir, name string, n, seed int) (sav, csvPath string) {
	t.Helper()
	rows := make([][]string, n)
	for i := range n {
		k := i*7 + seed
		age := strconv.Itoa(18 + k%53)
		if k%13 == 4 {
			age = "999"
		}
		rows[i] = []string{strconv.Itoa(i + 1), strconv.Itoa(1 + (k/3)%2), age, []string{"1", "2", "3", "99", "2", "1"}[k%6],
			strconv.FormatFloat(0.2+float64(k%17)*0.137, 'f', 4, 64)}
	}
	sav, err := fixture.Write(context.Background(), dir, name, surveyVars, func(w *csv.Writer) error { return w.WriteAll(rows) })
	if err != nil {
		t.Fatal(err)
	}
	csvPath = filepath.Join(dir, name+".csv")
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"respondent_id", "gender", "age", "income", "weight"})
	w.WriteAll(rows)
	os.WriteFile(csvPath, b.Bytes(), 0o600)
	return sav, csvPath
}

// startServe runs "serve" in-process on dir and connects an MCP client.
func startServe(t *testing.T, dir string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--no-demo", "--data-dir", dir, "--listen", "127.0.0.1:0"},
			Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: stderr, Environ: []string{"MCPA_CATALOG_POLL=200ms"}})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, stderr.String())
		}
	})
	re := regexp.MustCompile(`MCP endpoint: (http://\S+/mcp)`)
	endpoint := ""
	for deadline := time.Now().Add(60 * time.Second); endpoint == ""; time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			endpoint = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s", stderr.String())
		}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "import-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// structured calls a tool and decodes its structured content.
func structured(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any, out any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if res.IsError {
		t.Fatalf("%s: %s", tool, text)
	}
	js, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(js, out); err != nil {
		t.Fatal(err)
	}
	return text
}

type queryOut struct {
	OK      bool                    `json:"ok"`
	Error   string                  `json:"error"`
	Columns []struct{ Name string } `json:"columns"`
	Rows    [][]any                 `json:"rows"`
}

// total reports whether r is a Total row (is_total), not a group.
func (q queryOut) total(r []any) bool {
	for i, c := range q.Columns {
		if c.Name == "is_total" && i < len(r) {
			return r[i] == true
		}
	}
	return false
}

// byFirst maps a result's first column to the named column's value; Total
// rows are left out.
func (q queryOut) byFirst(t *testing.T, column string) map[string]float64 {
	t.Helper()
	idx := -1
	for i, c := range q.Columns {
		if c.Name == column {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("no column %s in %+v", column, q.Columns)
	}
	out := map[string]float64{}
	for _, r := range q.Rows {
		if q.total(r) {
			continue
		}
		key := fmt.Sprint(r[0])
		if r[0] == nil {
			key = "NULL"
		}
		f, _ := r[idx].(float64)
		out[key] = f
	}
	return out
}

// handWeighted runs hand-written weighted SQL over the CSV with DuckDB,
// without our rewrite, and returns key → value.
func handWeighted(t *testing.T, query string) map[string]float64 {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var k sql.NullString
		var v float64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		key := k.String
		if !k.Valid {
			key = "NULL"
		}
		out[key] = v
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// TestDatasetsImport_EndToEnd imports a .sav file, a CSV and a Parquet
// file with the command while a server runs, then asks through an MCP
// client and checks the answers against hand-weighted SQL over the source
// CSV: labels in answers, weighted figures, missing codes, descriptions.
func TestDatasetsImport_EndToEnd(t *testing.T) {
	requireReadStat(t)
	dir, src := t.TempDir(), t.TempDir()
	sav, raw := writeSurvey(t, src, "users", 2000, 0)
	events := filepath.Join(src, "app_usage.csv")
	var b strings.Builder
	b.WriteString("respondent_id,app,minutes\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "%d,%s,%d\n", 1+(i*37)%2000, []string{"maps", "chat", "video"}[i%3], 1+i%90)
	}
	os.WriteFile(events, []byte(b.String()), 0o600)
	orders := filepath.Join(src, "orders.parquet")
	db, _ := sql.Open("duckdb", "")
	if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT 1 + (i * 11) %% 2000 AS respondent_id, (i %% 50) * 10.0 AS amount FROM range(3000) t(i)) TO '%s' (FORMAT parquet)`, orders)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cs := startServe(t, dir)
	code, stdout, stderr := run(t, "datasets", "import", "--data-dir", dir, "--name", "Wave 1", sav, events, orders, "--keep-codes")
	if code != 0 {
		t.Fatalf("import exited %d:\n%s", code, stderr)
	}
	id := atoi(t, stdout)
	for _, want := range []string{"users.sav → table users: 2000 rows", "app_usage.csv → table app_usage: 5000 rows", "orders.parquet → table orders: 3000 rows",
		"roles: weight users.weight, respondent key respondent_id"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("import output lacks %q:\n%s", want, stderr)
		}
	}
	var list struct {
		Datasets []struct{ ID int } `json:"datasets"`
	}
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		structured(t, cs, "list_available_datasets", map[string]any{}, &list)
		if len(list.Datasets) == 1 && list.Datasets[0].ID == id {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the server did not see the import: %+v", list)
		}
	}

	// Labels in answers, weighted as R's survey would: Σw per label.
	var q queryOut
	structured(t, cs, "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT gender, COUNT(*) AS n FROM users GROUP BY gender"}, &q)
	got := q.byFirst(t, "weighted_count")
	want := handWeighted(t, fmt.Sprintf(`SELECT CASE gender WHEN 1 THEN 'Male' WHEN 2 THEN 'Female' END, SUM(weight) FROM read_csv('%s') GROUP BY 1`, raw))
	if len(got) != 2 || !near(got["Male"], want["Male"]) || !near(got["Female"], want["Female"]) {
		t.Errorf("weighted count by gender = %v, want %v", got, want)
	}
	// A filter on a label; the weighted mean leaves user-missing ages out.
	structured(t, cs, "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT gender, AVG(age) AS age FROM users WHERE gender = 'Female' GROUP BY gender"}, &q)
	got = q.byFirst(t, "weighted_avg_age")
	want = handWeighted(t, fmt.Sprintf(`SELECT 'Female', SUM(age * weight) / SUM(weight) FROM read_csv('%s') WHERE gender = 2 AND age < 900`, raw))
	if len(got) != 1 || !near(got["Female"], want["Female"]) {
		t.Errorf("weighted mean age of women = %v, want %v", got, want)
	}
	// User-missing income (99 = Refused) is NULL, its weight counted there.
	structured(t, cs, "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT income, COUNT(*) AS n FROM users GROUP BY income"}, &q)
	got = q.byFirst(t, "weighted_count")
	want = handWeighted(t, fmt.Sprintf(`SELECT CASE income WHEN 1 THEN 'Low' WHEN 2 THEN 'Mid' WHEN 3 THEN 'High' END, SUM(weight) FROM read_csv('%s') GROUP BY 1`, raw))
	if _, refused := got["Refused"]; refused || len(got) != 4 {
		t.Errorf("income groups = %v, want Low, Mid, High and NULL", got)
	}
	for k, w := range want {
		if !near(got[k], w) {
			t.Errorf("income %s: weighted count %v, want %v", k, got[k], w)
		}
	}
	// Reach over the CSV event table, weighted through users.
	structured(t, cs, "query_dataset", map[string]any{"dataset_id": id, "query": "SELECT app, COUNT(DISTINCT respondent_id) AS reach FROM app_usage GROUP BY app"}, &q)
	got = q.byFirst(t, "weighted_reach")
	want = handWeighted(t, fmt.Sprintf(`SELECT e.app, SUM(u.weight) FROM (SELECT DISTINCT app, respondent_id FROM read_csv('%s')) e JOIN read_csv('%s') u USING (respondent_id) GROUP BY 1`, events, raw))
	for k, w := range want {
		if !near(got[k], w) {
			t.Errorf("reach of %s = %v, want %v", k, got[k], w)
		}
	}

	// The codebook in the schema tool, through the real MCP path.
	var sc struct {
		Tables []struct {
			Name    string
			Source  string
			Columns []struct {
				Name        string
				Description string
				Measure     string
				Values      []struct{ Code, Label string } `json:"value_labels"`
				Missing     []string                       `json:"missing_codes"`
				CodeColumn  string                         `json:"code_column"`
			}
		}
	}
	md := structured(t, cs, "get_dataset_schema", map[string]any{"dataset_id": id}, &sc)
	found := 0
	for _, tb := range sc.Tables {
		if tb.Name != "users" {
			continue
		}
		if tb.Source != "users.sav" {
			t.Errorf("users source = %q", tb.Source)
		}
		for _, c := range tb.Columns {
			switch c.Name {
			case "gender":
				found++
				if c.Measure != "nominal" || len(c.Values) != 2 || c.Values[1].Label != "Female" || !strings.HasPrefix(c.Description, "Gender of respondent.") || c.CodeColumn != "gender_code" {
					t.Errorf("gender in the schema: %+v", c)
				}
			case "income":
				found++
				if c.Measure != "ordinal" || strings.Join(c.Missing, ",") != "99" || !strings.Contains(c.Description, "User-missing codes 99 (Refused) are NULL") {
					t.Errorf("income in the schema: %+v", c)
				}
			}
		}
	}
	if found != 2 {
		t.Errorf("gender and income not in the schema:\n%s", md)
	}
	if !strings.Contains(md, "**Imported from**: users.sav") || !strings.Contains(md, "| ordinal |") {
		t.Errorf("schema Markdown lacks the codebook:\n%s", md)
	}
	var cx struct{ Markdown string }
	structured(t, cs, "get_context", map[string]any{"level": 2, "dataset_id": id}, &cx)
	if !strings.Contains(cx.Markdown, "`income` varchar (ordinal)") || !strings.Contains(cx.Markdown, "Imported from users.sav") {
		t.Errorf("get_context level 2 lacks the codebook:\n%s", cx.Markdown)
	}

	// A bad file through the command: an error, nothing registered.
	bad := filepath.Join(src, "broken.sav")
	data, _ := os.ReadFile(sav)
	os.WriteFile(bad, data[:len(data)/2], 0o600)
	code, _, stderr = run(t, "datasets", "import", "--data-dir", dir, "--name", "Broken", bad)
	if code != 1 || !strings.Contains(stderr, "broken.sav") || !strings.Contains(stderr, "nothing was imported") {
		t.Errorf("a broken file: exit %d\n%s", code, stderr)
	}
	if _, out, _ := run(t, "datasets", "list", "--data-dir", dir); strings.Contains(out, "Broken") {
		t.Errorf("the broken import was registered:\n%s", out)
	}
}

// TestDatasetsImport_ReplaceUnderLoad re-imports a new wave with --replace
// while clients query the dataset without pause: no call may fail, and
// the answers switch to the new wave.
func TestDatasetsImport_ReplaceUnderLoad(t *testing.T) {
	requireReadStat(t)
	dir, src := t.TempDir(), t.TempDir()
	wave1, _ := writeSurvey(t, src, "wave1", 1500, 0)
	wave2, _ := writeSurvey(t, src, "wave2", 2500, 5)
	cs := startServe(t, dir)
	code, stdout, stderr := run(t, "datasets", "import", "--data-dir", dir, "--name", "Tracker", "--table", "users="+wave1, wave1)
	if code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	id := atoi(t, stdout)
	count := func() (int, error) {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "query_dataset",
			Arguments: map[string]any{"dataset_id": id, "query": "SELECT gender, COUNT(*) AS n FROM users GROUP BY gender"}})
		if err != nil {
			return 0, err
		}
		if res.IsError {
			return 0, fmt.Errorf("%s", res.Content[0].(*mcp.TextContent).Text)
		}
		var q queryOut
		js, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(js, &q)
		n := 0
		for _, r := range q.Rows {
			if v, ok := r[1].(float64); ok && !q.total(r) {
				n += int(v)
			}
		}
		return n, nil
	}
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if n, err := count(); err == nil && n == 1500 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the server did not see wave 1")
		}
	}
	var calls, failures atomic.Int64
	var sawWave2 atomic.Bool
	var mu sync.Mutex
	var firstErr error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := count()
				calls.Add(1)
				switch {
				case err != nil || (n != 1500 && n != 2500):
					failures.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%d rows, %v", n, err)
					}
					mu.Unlock()
				case n == 2500:
					sawWave2.Store(true)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	code, _, stderr = run(t, "datasets", "import", "--data-dir", dir, "--replace", strconv.Itoa(id), "--table", "users="+wave2, wave2)
	if code != 0 {
		close(stop)
		wg.Wait()
		t.Fatalf("replace: %s", stderr)
	}
	for start := time.Now(); !sawWave2.Load() && time.Since(start) < 10*time.Second; {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d of %d calls failed during the replace; first: %v", failures.Load(), calls.Load(), firstErr)
	}
	if !sawWave2.Load() {
		t.Error("the answers never switched to wave 2")
	}
	t.Logf("%d calls during the replace, none failed", calls.Load())
	if !strings.Contains(stderr, fmt.Sprintf("replaced dataset %d", id)) {
		t.Errorf("replace output:\n%s", stderr)
	}
	// A second replace removes wave 1's file and keeps wave 2's (the one
	// just replaced) for servers that have not switched yet.
	if code, _, stderr := run(t, "datasets", "import", "--data-dir", dir, "--replace", strconv.Itoa(id), "--table", "users="+wave1, wave1); code != 0 {
		t.Fatalf("second replace: %s", stderr)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "imports"))
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".duckdb") {
			names = append(names, e.Name())
		}
	}
	if len(names) != 2 {
		t.Errorf("imports/ after three imports holds %v, want the current file and the one before", names)
	}
}
