package significance

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The reference panel and R's answers live in testdata/ (see its README):
// users.csv is the public weighting test panel, expected.json and extra.json
// hold what R's survey package computed on it.

// user is one panelist of testdata/users.csv; a NULL (empty) field is nil.
type user map[string]any

// loadUsers reads testdata/users.csv. Numbers that the tests use as
// measures or weights are float64, everything else stays text.
func loadUsers(t testing.TB) []user {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	numeric := map[string]bool{"weight": true, "total_spend": true, "age": true}
	var users []user
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		u := user{}
		for i, name := range header {
			switch {
			case rec[i] == "":
				u[name] = nil
			case numeric[name]:
				v, err := strconv.ParseFloat(rec[i], 64)
				if err != nil {
					t.Fatalf("users.csv %s %q: %v", name, rec[i], err)
				}
				u[name] = v
			default:
				u[name] = rec[i]
			}
		}
		// The NCCS merge of the dataset's preset: A1 + A → A, C + D + E →
		// C/D/E, NULL stays NULL.
		switch u["nccs"] {
		case "A1", "A":
			u["nccs_merged"] = "A"
		case "C", "D", "E":
			u["nccs_merged"] = "C/D/E"
		default:
			u["nccs_merged"] = u["nccs"]
		}
		u["premium"] = 0.0
		if u["subscription_type"] == "premium" {
			u["premium"] = 1.0
		}
		users = append(users, u)
	}
	if len(users) != 2000 {
		t.Fatalf("users.csv: %d users, want 2000", len(users))
	}
	return users
}

// keep is a question's WHERE: nil keeps everyone.
type keep func(u user) bool

func filter(users []user, k keep) []user {
	if k == nil {
		return users
	}
	var out []user
	for _, u := range users {
		if k(u) {
			out = append(out, u)
		}
	}
	return out
}

// crosstabOf computes the sufficient statistics of a crosstab from
// respondent rows, as the weighted SQL does: per (row category, group) n,
// Σw and Σw². Categories and groups are listed in order of first appearance,
// not sorted, so that the lettering order is the package's doing.
func crosstabOf(users []user, rowVar, groupVar string, o Options) Crosstab {
	x := Crosstab{Options: o}
	rowIdx := map[any]int{}
	groupIdx := map[any]int{}
	for _, u := range users {
		if _, ok := rowIdx[u[rowVar]]; !ok {
			rowIdx[u[rowVar]] = len(x.Rows)
			x.Rows = append(x.Rows, u[rowVar])
		}
		if _, ok := groupIdx[u[groupVar]]; !ok {
			groupIdx[u[groupVar]] = len(x.Groups)
			x.Groups = append(x.Groups, u[groupVar])
		}
	}
	x.Cells = make([][]Cell, len(x.Rows))
	for i := range x.Cells {
		x.Cells[i] = make([]Cell, len(x.Groups))
	}
	for _, u := range users {
		w := u["weight"].(float64)
		c := &x.Cells[rowIdx[u[rowVar]]][groupIdx[u[groupVar]]]
		c.N++
		c.SumW += w
		c.SumW2 += w * w
	}
	return x
}

// meanSumsOf computes each group's one-pass sums of y (first-appearance
// order) and returns them with the group values.
func meanSumsOf(users []user, yVar, groupVar string) ([]any, []MeanSums) {
	idx := map[any]int{}
	var values []any
	var sums []MeanSums
	for _, u := range users {
		g := u[groupVar]
		i, ok := idx[g]
		if !ok {
			i = len(values)
			idx[g] = i
			values = append(values, g)
			sums = append(sums, MeanSums{})
		}
		w, y := u["weight"].(float64), u[yVar].(float64)
		s := &sums[i]
		s.N++
		s.SumW += w
		s.SumW2 += w * w
		s.SumWY += w * y
		s.SumW2Y += w * w * y
		s.SumW2Y2 += w * w * y * y
	}
	return values, sums
}

// twoPassMeans computes each group's mean and SE the way the weighted SQL's
// se_… column does: the mean first, then √(n/(n−1)·Σw²(y − m)²)/Σw.
func twoPassMeans(users []user, yVar, groupVar string, nDesign int64) []MeanGroup {
	values, sums := meanSumsOf(users, yVar, groupVar)
	groups := make([]MeanGroup, len(values))
	idx := map[any]int{}
	for i, v := range values {
		idx[v] = i
		groups[i] = MeanGroup{Value: v, N: sums[i].N, SumW: sums[i].SumW, SumW2: sums[i].SumW2, Mean: sums[i].SumWY / sums[i].SumW}
	}
	ss := make([]float64, len(values))
	for _, u := range users {
		i := idx[u[groupVar]]
		w, y := u["weight"].(float64), u[yVar].(float64)
		d := y - groups[i].Mean
		ss[i] += w * w * d * d
	}
	n := float64(nDesign)
	for i := range groups {
		groups[i].SE = math.Sqrt(n/(n-1)*ss[i]) / groups[i].SumW
	}
	return groups
}

// checker compares numbers to a relative tolerance and reports the worst.
type checker struct {
	t     *testing.T
	tol   float64
	worst float64
}

func (c *checker) float(what string, got, want float64) {
	c.t.Helper()
	d := relDiff(got, want)
	if math.IsNaN(d) {
		d = math.Inf(1)
	}
	c.worst = math.Max(c.worst, d)
	if d > c.tol {
		c.t.Errorf("%s = %.15g, R %.15g (rel %.2g)", what, got, want, d)
	}
}

// floatFloor is float with differences below floor ignored: a standard
// error R leaves at 1e-15 from rounding where the exact value is 0.
func (c *checker) floatFloor(what string, got, want, floor float64) {
	c.t.Helper()
	if math.Abs(got-want) <= floor {
		return
	}
	c.float(what, got, want)
}

// optFloat compares a nullable number: both null, or both within tolerance.
func (c *checker) optFloat(what string, got *float64, want *float64) {
	c.t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		c.t.Errorf("%s = %v, R %v", what, deref(got), deref(want))
	default:
		c.float(what, *got, *want)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// key renders a group or row value (nil for NULL) as JSON does.
func key(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
