package weighting

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestRewrite_Golden checks every testdata/rewrite/*.txtar case: the input SQL and
// options give exactly the recorded SQL and notes. Run with -update to record them.
//
// A case holds the sections "input.sql", optional "options" (lines such as
// "raw", "weights=false", "merge_nccs=false", "twelve_grade", "min_base=50",
// "panel" for the design's constants given as literals),
// and the recorded "output.sql" and "result".
func TestRewrite_Golden(t *testing.T) {
	files, err := filepath.Glob("testdata/rewrite/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden cases in testdata/rewrite")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string]string{}
			for _, f := range ar.Files {
				sections[f.Name] = string(f.Data)
			}
			opts := goldenOptions(t, sections["options"])
			tree, err := pg.Parse(sections["input.sql"])
			if err != nil {
				t.Fatalf("parse input: %v", err)
			}
			res, err := Rewrite(tree, opts)
			if err != nil {
				t.Fatalf("Rewrite: %v", err)
			}
			out, err := pg.Deparse(res.Tree)
			if err != nil {
				t.Fatalf("deparse: %v", err)
			}
			gotSQL := formatSQL(out)
			gotResult := describe(res)
			if *update {
				ar.Files = []txtar.File{{Name: "input.sql", Data: []byte(sections["input.sql"])}}
				if o := sections["options"]; o != "" {
					ar.Files = append(ar.Files, txtar.File{Name: "options", Data: []byte(o)})
				}
				ar.Files = append(ar.Files,
					txtar.File{Name: "output.sql", Data: []byte(gotSQL)},
					txtar.File{Name: "result", Data: []byte(gotResult)})
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(sections["output.sql"], gotSQL); diff != "" {
				t.Errorf("output SQL (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sections["result"], gotResult); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			// The output must itself be valid SQL.
			if _, err := pg.Parse(out); err != nil {
				t.Errorf("rewritten SQL does not parse: %v", err)
			}
		})
	}
}

func goldenOptions(t *testing.T, text string) Options {
	t.Helper()
	opts := Options{Roles: panelRoles(), Schema: panelSchema(), Aggregated: true, Weights: true, MergeNCCS: true}
	for _, line := range strings.Fields(text) {
		switch {
		case line == "raw":
			opts.Aggregated = false
		case line == "weights=false":
			opts.Weights = false
		case line == "merge_nccs=false":
			opts.MergeNCCS = false
		case line == "twelve_grade":
			opts.Roles.NCCSMap, _ = catalog.NCCSPreset("12-grade")
		case line == "scale=1":
			opts.Roles.WeightScale = 1
		case line == "min_base=50":
			opts.Roles.MinBase = 50
		case line == "standard_errors":
			opts.StandardErrors = true
		case line == "totals":
			opts.Totals = true
		case strings.HasPrefix(line, "compare_by="):
			opts.CompareBy = strings.TrimPrefix(line, "compare_by=")
		case line == "panel":
			// The design's constants as the registry passes them.
			opts.Panel = &Panel{N: 2000, SumW: 1234.5, SumW2: 987.25}
		default:
			t.Fatalf("unknown option %q", line)
		}
	}
	return opts
}

// formatSQL puts each top-level clause keyword of the deparsed SQL on its own line
// so golden diffs stay readable.
func formatSQL(s string) string {
	for _, kw := range []string{" FROM (SELECT ", " GROUP BY ", " HAVING ", " ORDER BY ", " LIMIT "} {
		s = strings.ReplaceAll(s, kw, "\n"+strings.TrimPrefix(kw, " "))
	}
	s = strings.ReplaceAll(s, ", ", ",\n  ")
	return s + "\n"
}

func describe(res *Result) string {
	var b strings.Builder
	b.WriteString("applied: " + boolString(res.Applied) + "\n")
	if res.Reason != "" {
		b.WriteString(fmt.Sprintf("reason (%d): %s\n", res.Why, res.Reason))
	}
	b.WriteString("nccs_merged: " + boolString(res.NCCSMerged) + "\n")
	if len(res.AddedColumns) > 0 {
		b.WriteString("added: " + strings.Join(res.AddedColumns, ", ") + "\n")
	}
	if len(res.Groups) > 0 {
		b.WriteString("groups: " + strings.Join(res.Groups, ", ") + "\n")
	}
	if res.OneLevel != "" {
		b.WriteString("one_level: " + res.OneLevel + "\n")
	}
	for _, n := range res.Notes {
		b.WriteString("note: " + n + "\n")
	}
	for _, t := range res.Legend {
		b.WriteString("legend: " + t.Column + " = " + t.Meaning + "\n")
	}
	return b.String()
}

func boolString(v bool) string {
	if v {
		return "true"
	}
	return "false"
}
