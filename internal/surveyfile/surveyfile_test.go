package surveyfile_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
	"github.com/mcp-analytics/mcp-analytics/internal/surveyfile"
	"github.com/mcp-analytics/mcp-analytics/internal/surveyfile/fixture"
)

// requireReadStat skips (loudly) when ReadStat is missing, unless CI
// requires it (.ci/run installs it).
func requireReadStat(t *testing.T) {
	t.Helper()
	err := surveyfile.Available()
	if err == nil {
		return
	}
	if os.Getenv("MCPA_REQUIRE_POSTGRES") == "1" || os.Getenv("CI") != "" {
		t.Fatalf("ReadStat is required here: %v", err)
	}
	pgtest.Skip(t, "ReadStat", fmt.Sprint(err))
}

var vars = []fixture.Var{
	{Name: "respondent_id", Label: "Respondent ID", Measure: "scale"},
	{Name: "gender", Label: "Gender of respondent", Measure: "nominal", Labels: fixture.Labels("1", "Male", "2", "Female")},
	{Name: "age", Label: "Age in years", Measure: "scale", MissingRange: []float64{900, 999}},
	{Name: "income", Label: "Household income band", Measure: "ordinal",
		Labels: fixture.Labels("1", "Low", "2", "Mid", "3", "High", "99", "Refused"), Missing: []string{"99"}},
	{Name: "weight", Label: "Projection weight", Decimals: 3},
	{Name: "city", Label: "City", String: true},
}

func write(t *testing.T, dir string, n int) string {
	t.Helper()
	path, err := fixture.Write(context.Background(), dir, "panel", vars, func(w *csv.Writer) error {
		cities := []string{"Pune", "Delhi", "NA", "Mumbai"}
		for i := range n {
			age := fixture.Num(float64(18 + i%60))
			if i%7 == 3 {
				age = "999"
			}
			if i%11 == 5 {
				age = ""
			}
			w.Write([]string{fixture.Num(float64(i + 1)), fixture.Num(float64(1 + i%2)), age,
				[]string{"1", "2", "3", "99"}[i%4], fixture.Num(0.5 + float64(i%3)*0.25), cities[i%4]})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRead(t *testing.T) {
	requireReadStat(t)
	path := write(t, t.TempDir(), 20000)
	var h surveyfile.Header
	rows, batches := 0, 0
	var ids, missingAge, sysmisAge, naCity int
	err := surveyfile.Read(context.Background(), path, surveyfile.Options{}, func(hd *surveyfile.Header) error {
		h = *hd
		return nil
	}, func(b *surveyfile.Batch) error {
		batches++
		if b.First != int64(rows) {
			t.Errorf("batch starts at row %d, want %d", b.First, rows)
		}
		for r := range b.Rows {
			if got := b.Num(r, 0); got != float64(rows+1) {
				t.Fatalf("row %d: id %v", rows, got)
			}
			ids++
			age := b.Num(r, 2)
			switch {
			case math.IsNaN(age):
				sysmisAge++
			case h.Variables[2].IsMissingNum(age):
				missingAge++
			}
			if b.Str(r, 5) == "NA" {
				naCity++
			}
			rows++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 20000 || h.Rows != 20000 || batches < 2 {
		t.Errorf("rows %d (header %d) in %d batches", rows, h.Rows, batches)
	}
	type brief struct {
		Name, Label, Measure string
		Kind                 surveyfile.Kind
		Labels, Missing      string
	}
	var got []brief
	for _, v := range h.Variables {
		var labels, missing []string
		for _, l := range v.ValueLabels {
			labels = append(labels, l.Value.String()+"="+l.Label)
		}
		for _, m := range v.Missing {
			missing = append(missing, m.String())
		}
		got = append(got, brief{v.Name, v.Label, string(v.Measure), v.Kind(), strings.Join(labels, ","), strings.Join(missing, ",")})
	}
	want := []brief{
		{"respondent_id", "Respondent ID", "scale", surveyfile.KindInteger, "", ""},
		{"gender", "Gender of respondent", "nominal", surveyfile.KindInteger, "1=Male,2=Female", ""},
		{"age", "Age in years", "scale", surveyfile.KindInteger, "", "900 thru 999"},
		{"income", "Household income band", "ordinal", surveyfile.KindInteger, "1=Low,2=Mid,3=High,99=Refused", "99"},
		{"weight", "Projection weight", "", surveyfile.KindNumber, "", ""},
		{"city", "City", "", surveyfile.KindString, "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	// Counted independently from the generator above.
	wantSys, wantMis := 0, 0
	for i := range 20000 {
		switch {
		case i%11 == 5:
			wantSys++
		case i%7 == 3:
			wantMis++
		}
	}
	if sysmisAge != wantSys || missingAge != wantMis || naCity != 5000 {
		t.Errorf("age system-missing %d (want %d), user-missing %d (want %d); city NA %d (want 5000)", sysmisAge, wantSys, missingAge, wantMis, naCity)
	}
}

// TestRead_Broken checks that damaged files are errors naming the file and
// where it broke, never a panic or a silent short read.
func TestRead_Broken(t *testing.T) {
	requireReadStat(t)
	dir := t.TempDir()
	path := write(t, dir, 5000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"truncated in the data", data[:len(data)*2/3], []string{"truncated.sav", "at byte", "of the 5000 rows its header announces"}},
		{"truncated in the dictionary", data[:300], []string{"truncated_in_the_dictionary.sav", "at byte"}},
		{"not a sav file", []byte("respondent_id,gender\n1,2\n"), []string{"not_a_sav_file.sav", "not an SPSS .sav file"}},
		{"empty", nil, []string{"empty.sav"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "_") + ".sav"
			if tc.name == "truncated in the data" {
				name = "truncated.sav"
			}
			p := filepath.Join(dir, name)
			os.WriteFile(p, tc.data, 0o600)
			rows := 0
			err := surveyfile.Read(context.Background(), p, surveyfile.Options{}, func(*surveyfile.Header) error { return nil },
				func(b *surveyfile.Batch) error { rows += b.Rows; return nil })
			t.Log(err)
			var fe *surveyfile.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%d rows read), want a *surveyfile.Error", err, rows)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRead_Cancelled(t *testing.T) {
	requireReadStat(t)
	path := write(t, t.TempDir(), 20000)
	ctx, cancel := context.WithCancel(context.Background())
	err := surveyfile.Read(ctx, path, surveyfile.Options{}, func(*surveyfile.Header) error { return nil },
		func(*surveyfile.Batch) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
