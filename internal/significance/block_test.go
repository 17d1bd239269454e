package significance

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestSignificance_block builds the structuredContent block for two results
// laid out as the tools return them (one row per cell, Total rows marked),
// checks it against the reference answers and the shape the chart view
// reads (web/result-view/src/model.js significanceOf), and keeps it as a
// golden file.
func TestSignificance_block(t *testing.T) {
	ref := loadReference(t)
	users := loadUsers(t)
	byID := map[string]refCase{}
	for _, q := range ref.Questions {
		byID[q.ID] = q
	}

	t.Run("crosstab with a low-base column, Bonferroni", func(t *testing.T) {
		q := byID["subscription_by_age_group_tier1_low_base"]
		base := filter(users, questions[q.ID])
		x := crosstabOf(base, "subscription_type", "age_group", Options{NDesign: 2000, Bonferroni: true})
		r, err := x.Compare()
		if err != nil {
			t.Fatal(err)
		}
		// The result rows: SELECT age_group, subscription_type, … GROUP BY
		// 1, 2 ORDER BY 1, 2, then the Total column as rows with a NULL
		// age_group.
		var refs []CellRef
		var rowKeys []string
		for _, g := range sortedIndexes(x.Groups) {
			for _, i := range sortedIndexes(x.Rows) {
				refs = append(refs, CellRef{Row: i, Group: g})
				rowKeys = append(rowKeys, key(x.Rows[i])+"/"+key(x.Groups[g]))
			}
		}
		for range x.Rows {
			refs = append(refs, CellRef{Row: -1, Group: -1})
			rowKeys = append(rowKeys, "Total")
		}
		s := r.Significance("age_group", "weighted_pct", refs)
		want := map[string]*string{}
		for _, c := range q.Cells {
			want[key(c.Row)+"/"+key(c.Group)] = c.LettersBonferroni
		}
		for i, l := range s.Letters {
			if w, ok := want[rowKeys[i]]; rowKeys[i] != "Total" && (!ok || str(l) != str(w)) {
				t.Errorf("row %d (%s): letters %s, R (Bonferroni) %s", i, rowKeys[i], str(l), str(w))
			}
			if rowKeys[i] == "Total" && l != nil {
				t.Errorf("Total row %d has letters %s", i, *l)
			}
		}
		checkBlock(t, s, len(refs), "Rao-Scott F")
		golden(t, "block_crosstab.golden.json", s)
	})

	t.Run("means", func(t *testing.T) {
		q := byID["mean_spend_by_age_group_tests"]
		values, sums := meanSumsOf(users, "total_spend", "age_group")
		m := Means{Options: Options{NDesign: 2000}}
		for i, s := range sums {
			m.Groups = append(m.Groups, s.Group(values[i], 2000))
		}
		r, err := m.Compare()
		if err != nil {
			t.Fatal(err)
		}
		rows := append(sortedIndexes(values), -1) // the groups in order, then the Total row
		s := r.Significance("age_group", "weighted_avg_total_spend", rows)
		for i, g := range rows[:len(rows)-1] {
			for _, c := range q.Cells {
				if key(c.Group) == key(values[g]) && str(s.Letters[i]) != str(c.Letters) {
					t.Errorf("group %v: letters %s, R %s", values[g], str(s.Letters[i]), str(c.Letters))
				}
			}
		}
		if s.Letters[len(rows)-1] != nil {
			t.Error("the Total row has letters")
		}
		checkBlock(t, s, len(rows), "Wald F")
		golden(t, "block_means.golden.json", s)
	})
}

// sortedIndexes returns the indexes of values in their lettering order.
func sortedIndexes(values []any) []int {
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return compareValues(values[a], values[b]) })
	return idx
}

// checkBlock checks the JSON shape the chart view reads.
func checkBlock(t *testing.T, s Significance, rows int, test string) {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		CompareBy  *string  `json:"compare_by"`
		Alpha      *float64 `json:"alpha"`
		Correction *string  `json:"correction"`
		Measure    *string  `json:"measure"`
		Groups     []struct {
			Letter *string `json:"letter"`
			Value  any     `json:"value"`
			Tested *bool   `json:"tested"`
		} `json:"groups"`
		Letters []json.RawMessage `json:"letters"`
		Pairs   []map[string]any  `json:"pairs"`
		Overall *struct {
			Test           string
			F, DF1, DF2, P *float64
		} `json:"overall"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if v.CompareBy == nil || v.Alpha == nil || v.Correction == nil || v.Measure == nil {
		t.Errorf("block lacks compare_by, alpha, correction or measure: %s", data)
	}
	for k, g := range v.Groups {
		if g.Letter == nil || *g.Letter != string(rune('A'+k)) || g.Tested == nil {
			t.Errorf("group %d: %+v", k, g)
		}
	}
	if len(v.Letters) != rows {
		t.Errorf("%d letters for %d rows", len(v.Letters), rows)
	}
	for _, p := range v.Pairs {
		for _, f := range []string{"z", "p", "p_bonferroni", "tested", "sig", "g", "h", "g_letter", "h_letter"} {
			if _, ok := p[f]; !ok {
				t.Errorf("pair without %s: %v", f, p)
			}
		}
	}
	if o := v.Overall; o == nil || o.Test != test || o.F == nil || o.DF1 == nil || o.DF2 == nil || o.P == nil {
		t.Errorf("overall: %s", data)
	}
}

// golden compares v's JSON with testdata/name, numbers to 1e-9 relative
// (the last digits of a float can differ between architectures), and
// rewrites the file with -update.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var a, b any
	for _, p := range []struct {
		data []byte
		v    *any
	}{{got, &a}, {want, &b}} {
		d := json.NewDecoder(bytes.NewReader(p.data))
		d.UseNumber()
		if err := d.Decode(p.v); err != nil {
			t.Fatal(err)
		}
	}
	if diff := jsonDiff("", a, b); diff != "" {
		t.Errorf("%s differs from the golden file (go test -update rewrites it): %s", name, diff)
	}
}

// jsonDiff returns the first difference between two decoded JSON values.
func jsonDiff(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
		for k := range x {
			if d := jsonDiff(path+"."+k, x[k], y[k]); d != "" {
				return d
			}
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: %d vs %v items", path, len(x), b)
		}
		for i := range x {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
		fa, _ := x.Float64()
		fb, _ := y.Float64()
		if relDiff(fa, fb) > 1e-9 || math.IsNaN(fa) != math.IsNaN(fb) {
			return fmt.Sprintf("%s: %v vs %v", path, x, y)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
	}
	return ""
}

// TestSignificance_schema: the block goes into the tools' typed output, whose
// JSON Schema the SDK derives from the Go types with jsonschema-go.
func TestSignificance_schema(t *testing.T) {
	s, err := jsonschema.For[Significance](nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"compare_by"`, `"letters"`, `"p_bonferroni"`, `"overall"`, `"chisq"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("schema lacks %s: %s", want, data)
		}
	}
	// The schema must accept what the package produces.
	resolved, err := s.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	x := Crosstab{Rows: []any{"x", "y"}, Groups: []any{"a", nil},
		Cells: cellsOf([][][3]float64{{{0, 0, 0}, {40, 44, 52}}, {{40, 38, 40}, {0, 0, 0}}}), Options: Options{NDesign: 100}}
	r, err := x.Compare()
	if err != nil {
		t.Fatal(err)
	}
	block := r.Significance("g", "weighted_pct", []CellRef{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {-1, -1}})
	data, err = json.Marshal(block)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if err := resolved.Validate(v); err != nil {
		t.Errorf("the block does not validate against its schema: %v\n%s", err, data)
	}
}
