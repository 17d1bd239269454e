package significance

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// cellsOf builds a crosstab from per-cell (n, Σw, Σw²) triples given row by
// row.
func cellsOf(rows [][][3]float64) [][]Cell {
	out := make([][]Cell, len(rows))
	for i, row := range rows {
		for _, c := range row {
			out[i] = append(out[i], Cell{N: int64(c[0]), SumW: c[1], SumW2: c[2]})
		}
	}
	return out
}

func TestGroups_letterOrder(t *testing.T) {
	for _, c := range []struct {
		name   string
		values []any
		want   []string // letter of each value, input order
	}{
		{"text in C collation: upper case before lower case, NULL last", []any{nil, "b", "B", "a"}, []string{"D", "C", "A", "B"}},
		{"numbers by value, int64 and float64 mixed", []any{int64(10), 9.5, int64(2), nil}, []string{"C", "B", "A", "D"}},
		{"age bands as text", []any{"55+", "15-24", "25-34"}, []string{"C", "A", "B"}},
		{"booleans: false first", []any{true, false}, []string{"B", "A"}},
		{"UTF-8 byte order", []any{"Ä", "Z", "a"}, []string{"C", "A", "B"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			groups, order, err := newGroups(c.values)
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range groups {
				if g.Letter != c.want[i] {
					t.Errorf("%v: letter %s, want %s", c.values[i], g.Letter, c.want[i])
				}
			}
			for k, i := range order {
				if groups[i].Letter != string(rune('A'+k)) {
					t.Errorf("order[%d] = %d has letter %s", k, i, groups[i].Letter)
				}
			}
		})
	}
}

func TestGroups_errors(t *testing.T) {
	many := make([]any, MaxGroups+1)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	if _, _, err := newGroups(many); !errors.Is(err, ErrTooManyGroups) {
		t.Errorf("27 groups: %v, want ErrTooManyGroups", err)
	}
	if _, _, err := newGroups(many[:MaxGroups]); err != nil {
		t.Errorf("26 groups: %v", err)
	}
	for _, c := range []struct {
		name   string
		values []any
		want   string
	}{
		{"duplicate", []any{"a", "b", "a"}, "appears twice"},
		{"duplicate number across types", []any{int64(1), 1.0}, "appears twice"},
		{"two NULLs", []any{nil, nil}, "appears twice"},
		{"unorderable", []any{"a", []byte("b")}, "cannot be ordered"},
	} {
		if _, _, err := newGroups(c.values); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestCrosstab_Compare_errors(t *testing.T) {
	ok := Crosstab{Rows: []any{"x", "y"}, Groups: []any{"a", "b"},
		Cells:   cellsOf([][][3]float64{{{40, 40, 40}, {50, 50, 50}}, {{60, 60, 60}, {50, 50, 50}}}),
		Options: Options{NDesign: 200}}
	if _, err := ok.Compare(); err != nil {
		t.Fatalf("valid crosstab: %v", err)
	}
	for _, c := range []struct {
		name   string
		change func(x *Crosstab)
		want   string
	}{
		{"no rows", func(x *Crosstab) { x.Rows, x.Cells = nil, nil }, "at least one"},
		{"rows of cells", func(x *Crosstab) { x.Cells = x.Cells[:1] }, "1 rows of cells for 2"},
		{"cells in a row", func(x *Crosstab) { x.Cells[1] = x.Cells[1][:1] }, "row 2 has 1 cells for 2 groups"},
		{"negative n", func(x *Crosstab) { x.Cells[0][0].N = -1 }, "cell (x, a)"},
		{"weight without respondents", func(x *Crosstab) { x.Cells[0][0].N = 0 }, "cell (x, a)"},
		{"respondents without weight", func(x *Crosstab) { x.Cells[0][0].SumW = 0 }, "cell (x, a)"},
		{"NaN", func(x *Crosstab) { x.Cells[0][0].SumW2 = math.NaN() }, "cell (x, a)"},
		{"empty group", func(x *Crosstab) { x.Cells[0][1], x.Cells[1][1] = Cell{}, Cell{} }, "group b has no respondents"},
		{"design smaller than the base", func(x *Crosstab) { x.NDesign = 199 }, "larger than the design"},
		{"design of one", func(x *Crosstab) { x.NDesign = 1 }, "at least 2"},
		{"alpha", func(x *Crosstab) { x.Alpha = 1.5 }, "alpha"},
		{"min base", func(x *Crosstab) { x.MinBase = -1 }, "negative"},
		{"duplicate group", func(x *Crosstab) { x.Groups = []any{"a", "a"} }, "twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := ok
			x.Rows = append([]any(nil), ok.Rows...)
			x.Cells = cellsOf([][][3]float64{{{40, 40, 40}, {50, 50, 50}}, {{60, 60, 60}, {50, 50, 50}}})
			c.change(&x)
			if _, err := x.Compare(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestMeans_Compare_errors(t *testing.T) {
	ok := func() Means {
		return Means{Groups: []MeanGroup{
			{Value: "a", N: 50, SumW: 50, SumW2: 50, Mean: 1, SE: 0.1},
			{Value: "b", N: 50, SumW: 50, SumW2: 50, Mean: 2, SE: 0.1},
		}, Options: Options{NDesign: 100}}
	}
	m := ok()
	if _, err := m.Compare(); err != nil {
		t.Fatalf("valid means: %v", err)
	}
	for _, c := range []struct {
		name   string
		change func(m *Means)
		want   string
	}{
		{"no groups", func(m *Means) { m.Groups = nil }, "no groups"},
		{"empty group", func(m *Means) { m.Groups[0].N = 0 }, "group a"},
		{"negative SE", func(m *Means) { m.Groups[1].SE = -1 }, "group b"},
		{"NaN mean", func(m *Means) { m.Groups[1].Mean = math.NaN() }, "group b"},
		{"design smaller than the base", func(m *Means) { m.NDesign = 99 }, "larger than the design"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := ok()
			c.change(&m)
			if _, err := m.Compare(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestOptions_defaults(t *testing.T) {
	o, err := Options{NDesign: 10}.resolve(10)
	if err != nil {
		t.Fatal(err)
	}
	if o.Alpha != 0.05 || o.MinBase != 30 || o.correction() != "none" {
		t.Errorf("defaults: %+v", o)
	}
	o, _ = Options{NDesign: 10, Alpha: 0.1, MinBase: 5, Bonferroni: true}.resolve(10)
	if o.Alpha != 0.1 || o.MinBase != 5 || o.correction() != "bonferroni" {
		t.Errorf("explicit: %+v", o)
	}
}

// TestCrosstab_Compare_shapes covers what the panel cases do not: one
// group, one row, shares of 0% and 100% (no sampling variance), and that
// column percentages and the Total column each add up to 100.
func TestCrosstab_Compare_shapes(t *testing.T) {
	t.Run("one group: nothing to compare", func(t *testing.T) {
		x := Crosstab{Rows: []any{"x", "y"}, Groups: []any{"a"},
			Cells: cellsOf([][][3]float64{{{40, 45, 60}}, {{60, 50, 55}}}), Options: Options{NDesign: 500}}
		r, err := x.Compare()
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Pairs) != 0 || r.PairsTested != 0 || r.Overall != nil || r.OverallNote == "" {
			t.Errorf("pairs %d, m %d, overall %+v, note %q", len(r.Pairs), r.PairsTested, r.Overall, r.OverallNote)
		}
		if c := r.Cells[0][0]; !c.Tested || c.Letters != "" {
			t.Errorf("cell %+v", c)
		}
	})
	t.Run("zero and full shares", func(t *testing.T) {
		// Row x: group a 0%, b 0%, c 100%, d 50%.
		x := Crosstab{Rows: []any{"x", "y"}, Groups: []any{"a", "b", "c", "d"},
			Cells: cellsOf([][][3]float64{
				{{0, 0, 0}, {0, 0, 0}, {40, 44, 52}, {40, 41, 47}},
				{{40, 38, 40}, {50, 55, 66}, {0, 0, 0}, {40, 43, 50}},
			}), Options: Options{NDesign: 500}}
		r, err := x.Compare()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Pairs {
			if p.RowIndex != 0 {
				continue
			}
			switch p.GLetter + p.HLetter {
			case "AB": // 0% against 0%: nothing to test
				if p.Z != nil || p.P != nil || p.Sig || !p.Tested || p.PBonferroni != nil {
					t.Errorf("0%% vs 0%%: %+v", p)
				}
			case "AC", "BC": // 0% against 100%
				if p.Z != nil || p.P == nil || *p.P != 0 || !p.Sig || !p.SigBonferroni {
					t.Errorf("0%% vs 100%%: %+v", p)
				}
			case "AD": // 0% against 50%: a finite test
				if p.Z == nil || !p.Sig {
					t.Errorf("0%% vs 50%%: %+v", p)
				}
			}
		}
		if r.PairsTested != 6 {
			t.Errorf("m = %d, want 6 (the untestable 0%% pair still counts, as in R)", r.PairsTested)
		}
		if got := r.Cells[0][2].Letters; got != "ABD" {
			t.Errorf("the 100%% cell has letters %q, want ABD", got)
		}
	})
	t.Run("percentages add up", func(t *testing.T) {
		users := loadUsers(t)
		x := crosstabOf(users, "spend_quartile", "age_group", Options{NDesign: 2000})
		r, err := x.Compare()
		if err != nil {
			t.Fatal(err)
		}
		for j := range x.Groups {
			var sum float64
			for i := range x.Rows {
				sum += r.Cells[i][j].Pct
			}
			if math.Abs(sum-100) > 1e-9 {
				t.Errorf("column %v adds up to %v%%", x.Groups[j], sum)
			}
		}
		var sum, count float64
		var n int64
		for i := range x.Rows {
			sum += r.Total[i].Pct
			count += r.Total[i].WeightedCount
			n += r.Total[i].N
		}
		if math.Abs(sum-100) > 1e-9 || relDiff(count, r.Base.WeightedBase) > 1e-12 || n != r.Base.N || n != 2000 {
			t.Errorf("Total column: %v%%, Σ counts %v of %v, n %d of %d", sum, count, r.Base.WeightedBase, n, r.Base.N)
		}
	})
}

func TestMeans_Compare_shapes(t *testing.T) {
	t.Run("a group without variance has no overall test", func(t *testing.T) {
		m := Means{Groups: []MeanGroup{
			{Value: "a", N: 50, SumW: 50, SumW2: 50, Mean: 1, SE: 0},
			{Value: "b", N: 50, SumW: 50, SumW2: 50, Mean: 2, SE: 0.1},
		}, Options: Options{NDesign: 100}}
		r, err := m.Compare()
		if err != nil {
			t.Fatal(err)
		}
		if r.Overall != nil || !strings.Contains(r.OverallNote, "no variance") {
			t.Errorf("overall %+v, note %q", r.Overall, r.OverallNote)
		}
		if r.Estimates[1].Letters != "A" {
			t.Errorf("b (2 ± 0.1) against a (1 ± 0): letters %q, want A", r.Estimates[1].Letters)
		}
	})
	t.Run("one group", func(t *testing.T) {
		m := Means{Groups: []MeanGroup{{Value: "a", N: 50, SumW: 50, SumW2: 50, Mean: 1, SE: 0.1}}, Options: Options{NDesign: 100}}
		r, err := m.Compare()
		if err != nil {
			t.Fatal(err)
		}
		if r.Overall != nil || r.OverallNote == "" || len(r.Pairs) != 0 {
			t.Errorf("overall %+v, note %q, %d pairs", r.Overall, r.OverallNote, len(r.Pairs))
		}
	})
	t.Run("sums of a constant measure", func(t *testing.T) {
		g := MeanSums{N: 3, SumW: 6, SumW2: 14, SumWY: 30, SumW2Y: 70, SumW2Y2: 350}.Group("a", 10)
		if g.Mean != 5 || g.SE != 0 {
			t.Errorf("y = 5 for everyone: mean %v SE %v", g.Mean, g.SE)
		}
		if g := (MeanSums{}).Group("a", 10); !math.IsNaN(g.Mean) || !math.IsNaN(g.SE) {
			t.Errorf("no respondents: %+v", g)
		}
	})
}

// TestCrosstab_Compare_bases: giving the bases of an exclusive crosstab
// explicitly changes nothing but the overall test, and a cell larger than
// its base is an error.
func TestCrosstab_Compare_bases(t *testing.T) {
	users := loadUsers(t)
	x := crosstabOf(filter(users, func(u user) bool { return u["town_class"] != "Metro" }), "subscription_type", "age_group", Options{NDesign: 2000})
	r, err := x.Compare()
	if err != nil {
		t.Fatal(err)
	}
	y := x
	y.Bases = make([]Cell, len(x.Groups))
	for _, row := range x.Cells {
		for j, c := range row {
			y.Bases[j].N += c.N
			y.Bases[j].SumW += c.SumW
			y.Bases[j].SumW2 += c.SumW2
		}
	}
	ry, err := y.Compare()
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Rows {
		for j := range x.Groups {
			a, b := r.Cells[i][j], ry.Cells[i][j]
			if a.Marks != b.Marks || relDiff(a.Pct, b.Pct) > 1e-12 || relDiff(a.SEPct, b.SEPct) > 1e-12 {
				t.Errorf("cell (%v, %v): %+v without bases, %+v with", x.Rows[i], x.Groups[j], a, b)
			}
		}
		if relDiff(r.Total[i].SEPct, ry.Total[i].SEPct) > 1e-12 {
			t.Errorf("Total %v: %+v without bases, %+v with", x.Rows[i], r.Total[i], ry.Total[i])
		}
	}
	if r.Overall == nil || ry.Overall != nil || ry.OverallNote == "" {
		t.Errorf("overall test: %v without bases, %v (%q) with", r.Overall, ry.Overall, ry.OverallNote)
	}

	y.Bases = y.Bases[1:]
	if _, err := y.Compare(); err == nil || !strings.Contains(err.Error(), "bases for") {
		t.Errorf("too few bases: %v", err)
	}
	y.Bases = append([]Cell{{N: 1, SumW: 1, SumW2: 1}}, y.Bases...)
	if _, err := y.Compare(); err == nil || !strings.Contains(err.Error(), "larger than its group's base") {
		t.Errorf("a cell larger than its base: %v", err)
	}
}
