package importer_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
	"github.com/mcp-analytics/mcp-analytics/internal/importer"
	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/secret"
	"github.com/mcp-analytics/mcp-analytics/internal/surveyfile"
	"github.com/mcp-analytics/mcp-analytics/internal/surveyfile/fixture"
)

func requireReadStat(t *testing.T) {
	t.Helper()
	_, cmdErr := os.Stat("/usr/bin/readstat")
	err := surveyfile.Available()
	if err == nil && cmdErr == nil {
		return
	}
	if os.Getenv("MCPA_REQUIRE_POSTGRES") == "1" || os.Getenv("CI") != "" {
		t.Fatalf("ReadStat is required here: %v %v", err, cmdErr)
	}
	pgtest.Skip(t, "ReadStat", fmt.Sprintf("ReadStat is not installed: %v %v", err, cmdErr))
}

func newStore(t *testing.T, dir string) *sqlitestore.Store {
	t.Helper()
	box, err := secret.Load(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "catalog.sqlite"), sqlitestore.WithBox(box))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// panelVars is the codebook of the test panel.
var panelVars = []fixture.Var{
	{Name: "respondent_id", Label: "Respondent ID", Measure: "scale"},
	{Name: "Gender", Label: "Gender of respondent", Measure: "nominal", Labels: fixture.Labels("1", "Male", "2", "Female")},
	{Name: "age", Label: "Age in years", Measure: "scale", MissingRange: []float64{900, 999}},
	{Name: "income", Label: "Household income band", Measure: "ordinal",
		Labels: fixture.Labels("1", "Low", "2", "Mid", "3", "High", "99", "Refused"), Missing: []string{"99"}},
	{Name: "weight", Label: "Projection weight", Decimals: 3, Measure: "scale"},
	{Name: "city", Label: "City", String: true, Measure: "nominal"},
}

// panelRow is row i of the test panel, as CSV fields.
func panelRow(i int, weight func(i int) string) []string {
	age := fixture.Num(float64(18 + i%60))
	if i%7 == 3 {
		age = "999"
	}
	return []string{fixture.Num(float64(i + 1)), fixture.Num(float64(1 + i%2)), age,
		[]string{"1", "2", "3", "99", "2"}[i%5], weight(i), []string{"Pune", "Delhi", "Mumbai"}[i%3]}
}

func regularWeight(i int) string { return fixture.Num(0.5 + float64(i%4)*0.25) }

func writePanel(t *testing.T, dir, name string, n int, weight func(int) string) string {
	t.Helper()
	path, err := fixture.Write(context.Background(), dir, name, panelVars, func(w *csv.Writer) error {
		for i := range n {
			w.Write(panelRow(i, weight))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImport_SAV imports a .sav file and checks labels, missing codes,
// types and the codebook against figures computed from the generator.
func TestImport_SAV(t *testing.T) {
	requireReadStat(t)
	ctx := context.Background()
	dir := t.TempDir()
	store := newStore(t, dir)
	sav := writePanel(t, t.TempDir(), "users", 3000, regularWeight)
	res, err := importer.Import(ctx, store, importer.Options{Name: "Wave 1", DataDir: dir, KeepCodes: true,
		Files: []importer.File{{Path: sav}}, Roles: catalog.Roles{WeightScale: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Roles.WeightColumn != "weight" || res.Roles.WeightsTable != "users" || res.Roles.RespondentKey != "respondent_id" {
		t.Errorf("roles = %+v", res.Roles)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings = %v", res.Warnings)
	}
	db, err := sql.Open("duckdb", res.Dataset.DSN+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var types string
	db.QueryRow(`SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() WHERE table_name = 'users'`).Scan(&types)
	if want := "respondent_id BIGINT, gender VARCHAR, gender_code BIGINT, age BIGINT, age_code BIGINT, income VARCHAR, income_code BIGINT, weight DOUBLE, city VARCHAR"; types != want {
		t.Errorf("columns:\n got %s\nwant %s", types, want)
	}
	// Counted from the generator, not from the import.
	want := map[string]int{}
	ageMissing, incomeMissing := 0, 0
	for i := range 3000 {
		want[[]string{"Male", "Female"}[i%2]]++
		if i%7 == 3 {
			ageMissing++
		}
		if i%5 == 3 {
			incomeMissing++
		}
	}
	for label, n := range want {
		var got int
		db.QueryRow(`SELECT COUNT(*) FROM users WHERE gender = ?`, label).Scan(&got)
		if got != n {
			t.Errorf("gender = %s: %d rows, want %d", label, got, n)
		}
	}
	var ageNull, incomeNull, refusedCode int
	db.QueryRow(`SELECT COUNT(*) FILTER (WHERE age IS NULL), COUNT(*) FILTER (WHERE income IS NULL), COUNT(*) FILTER (WHERE income_code = 99) FROM users`).Scan(&ageNull, &incomeNull, &refusedCode)
	if ageNull != ageMissing || incomeNull != incomeMissing || refusedCode != incomeMissing {
		t.Errorf("NULL age %d (want %d), NULL income %d and code 99 %d (want %d)", ageNull, ageMissing, incomeNull, refusedCode, incomeMissing)
	}
	cb, err := store.Codebook(ctx, res.Dataset.ID)
	if err != nil {
		t.Fatal(err)
	}
	users, _ := cb.Table("users")
	inc, _ := users.Variable("income")
	if inc.Measure != "ordinal" || inc.MissingRows != int64(incomeMissing) || strings.Join(inc.Missing, ",") != "99" || len(inc.Values) != 4 || inc.CodeColumn != "income_code" {
		t.Errorf("income codebook = %+v", inc)
	}
	descs, _ := store.Descriptions(ctx, res.Dataset.ID)
	byCol := map[string]string{}
	for _, d := range descs {
		byCol[d.Column] = d.Description
	}
	if d := byCol["income"]; d != "Household income band. Values are labels (codes replaced): 1 = Low, 2 = Mid, 3 = High, 99 = Refused. User-missing codes 99 (Refused) are NULL. Original codes in income_code." {
		t.Errorf("income description = %q", d)
	}
	if d := byCol["age"]; d != "Age in years. User-missing codes 900 thru 999 are NULL. Original codes in age_code." {
		t.Errorf("age description = %q", d)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "imports")); len(entries) != 1 {
		t.Errorf("imports/ holds %d entries, want the one file", len(entries))
	}
}

// TestImport_BadFiles checks every kind of bad input gives its error and
// leaves no dataset, no file and no catalog row.
func TestImport_BadFiles(t *testing.T) {
	requireReadStat(t)
	ctx := context.Background()
	src := t.TempDir()
	good := writePanel(t, src, "good", 500, regularWeight)
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(src, "truncated.sav")
	os.WriteFile(truncated, data[:len(data)*3/4], 0o600)
	negative := writePanel(t, src, "negative", 500, func(i int) string {
		if i%100 == 7 {
			return "-0.5"
		}
		return regularWeight(i)
	})
	dupes := filepath.Join(src, "dupes.csv")
	var b strings.Builder
	b.WriteString("respondent_id,weight,city\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%d,1.0,Pune\n", i%150)
	}
	os.WriteFile(dupes, []byte(b.String()), 0o600)
	ragged := filepath.Join(src, "ragged.csv")
	os.WriteFile(ragged, []byte("respondent_id,weight,city\n1,1.0,Pune\n2,1.0,Delhi\n3,1.0,Agra,extra\n4,1.0,Goa\n"), 0o600)
	latin1 := filepath.Join(src, "latin1.csv")
	os.WriteFile(latin1, []byte("respondent_id,weight,city\n1,1.0,Pune\n2,1.0,M\xfcnchen\n"), 0o600)
	tests := []struct {
		name  string
		files []string
		opts  importer.Options
		want  []string
	}{
		{"truncated sav", []string{truncated}, importer.Options{}, []string{"truncated.sav", "at byte", "of the 500 rows its header announces"}},
		{"ragged csv", []string{good, ragged}, importer.Options{}, []string{"ragged.csv", "line 4", "4 values where the header has 3 columns"}},
		{"not utf-8", []string{latin1}, importer.Options{}, []string{"latin1.csv is not UTF-8", "line 3"}},
		{"duplicate ids", []string{dupes}, importer.Options{}, []string{"dupes.respondent_id must identify one panelist per row", "50 ids repeat", "(2 rows)"}},
		{"negative weights", []string{negative}, importer.Options{}, []string{"weight negative.weight is negative for 5 of 500 rows", "--allow-bad-weights"}},
		{"a weight column that is not there", []string{good}, importer.Options{Roles: catalog.Roles{WeightColumn: "wgt"}}, []string{"--weight wgt"}},
		{"unknown file type", []string{good + ".xlsx"}, importer.Options{}, []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			store := newStore(t, dir)
			opts := tt.opts
			opts.Name, opts.DataDir = "Bad", dir
			for _, f := range tt.files {
				opts.Files = append(opts.Files, importer.File{Path: f})
			}
			_, err := importer.Import(ctx, store, opts)
			var ie *importer.Error
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want an *importer.Error", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error()+"\nhint: "+ie.Hint, w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if list, _ := store.List(ctx); len(list) != 0 {
				t.Errorf("a failed import registered %v", list)
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "imports")); len(entries) != 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("a failed import left files: %v", names)
			}
		})
	}
}

// TestImport_Warnings: NULL and zero weights are warnings, and negative
// ones go through with --allow-bad-weights.
func TestImport_Warnings(t *testing.T) {
	requireReadStat(t)
	ctx := context.Background()
	dir := t.TempDir()
	store := newStore(t, dir)
	sav := writePanel(t, t.TempDir(), "users", 400, func(i int) string {
		switch i % 50 {
		case 1:
			return ""
		case 2:
			return "0"
		case 3:
			return "-1"
		}
		return "1"
	})
	res, err := importer.Import(ctx, store, importer.Options{Name: "Odd weights", DataDir: dir, AllowBadWeights: true, Files: []importer.File{{Path: sav}}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(res.Warnings, "\n")
	for _, w := range []string{"users.weight is NULL for 8 of 400 rows", "users.weight is 0 for 8 of 400 rows", "users.weight is negative for 8 of 400 rows (lowest -1); imported anyway"} {
		if !strings.Contains(got, w) {
			t.Errorf("warnings lack %q:\n%s", w, got)
		}
	}
}
