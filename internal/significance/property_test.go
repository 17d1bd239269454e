package significance

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Property tests on many crosstabs and means drawn from the panel: random
// row and group variables, random sub-samples as bases, random minimum
// bases (so that some groups fall below them).

var categorical = []string{"gender", "age_group", "nccs_merged", "town_class", "device_type", "platform", "subscription_type", "spend_quartile"}

// randomBase draws a sub-sample of the panel: each user kept with a random
// probability. NULL NCCS stays in, as a group or row sorted last.
func randomBase(rng *rand.Rand, users []user) []user {
	p := 0.03 + 0.97*rng.Float64()
	var out []user
	for _, u := range users {
		if rng.Float64() < p {
			out = append(out, u)
		}
	}
	return out
}

func randomOptions(rng *rand.Rand) Options {
	return Options{NDesign: 2000, MinBase: []int64{1, 30, 30, 100, 400}[rng.IntN(5)], Alpha: []float64{0.05, 0.05, 0.01, 0.2}[rng.IntN(4)]}
}

// randomCrosstab returns a random crosstab of the panel and a description.
func randomCrosstab(rng *rand.Rand, users []user) (Crosstab, string) {
	for {
		i, j := rng.IntN(len(categorical)), rng.IntN(len(categorical))
		if i == j {
			continue
		}
		base := randomBase(rng, users)
		x := crosstabOf(base, categorical[i], categorical[j], randomOptions(rng))
		if len(x.Groups) < 2 || len(x.Rows) < 2 {
			continue
		}
		return x, fmt.Sprintf("%s by %s, base %d, min base %d, alpha %v", categorical[i], categorical[j], len(base), x.MinBase, x.Alpha)
	}
}

// randomMeans returns random means of the panel and a description.
func randomMeans(rng *rand.Rand, users []user) (Means, string) {
	for {
		y := []string{"total_spend", "age", "premium"}[rng.IntN(3)]
		g := categorical[rng.IntN(len(categorical))]
		base := randomBase(rng, users)
		values, sums := meanSumsOf(base, y, g)
		if len(values) < 2 {
			continue
		}
		m := Means{Options: randomOptions(rng)}
		ok := true
		for i, s := range sums {
			mg := s.Group(values[i], 2000)
			if s.N < 2 {
				ok = false // a group of one has no variance
			}
			m.Groups = append(m.Groups, mg)
		}
		if ok {
			return m, fmt.Sprintf("mean %s by %s, base %d, min base %d, alpha %v", y, g, len(base), m.MinBase, m.Alpha)
		}
	}
}

// crosstabMarks returns each cell's marks by row and group value.
func crosstabMarks(x Crosstab, r *CrosstabResult) map[string]Marks {
	out := map[string]Marks{}
	for i := range x.Rows {
		for j := range x.Groups {
			out[key(x.Rows[i])+"/"+key(x.Groups[j])] = r.Cells[i][j].Marks
		}
	}
	return out
}

// TestProperties_crosstab checks, on random crosstabs, that the input order
// of rows and groups changes nothing, that swapping the values of two groups
// swaps their letters, that Bonferroni never adds a letter, that a group
// below the minimum base never gets or gives a letter, and that letters
// follow the pairs.
func TestProperties_crosstab(t *testing.T) {
	users := loadUsers(t)
	rng := rand.New(rand.NewPCG(14, 2026))
	for n := 0; n < 60; n++ {
		x, what := randomCrosstab(rng, users)
		r, err := x.Compare()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		marks := crosstabMarks(x, r)
		checkInvariants(t, what, r.Groups, r.Pairs, r.PairsTested, func(row, g int) Marks { return r.Cells[row][g].Marks })

		// Input order: shuffle rows and groups.
		y := shuffled(rng, x)
		ry, err := y.Compare()
		if err != nil {
			t.Fatalf("%s shuffled: %v", what, err)
		}
		for k, m := range crosstabMarks(y, ry) {
			if m != marks[k] {
				t.Errorf("%s: cell %s has %+v, shuffled input %+v", what, k, marks[k], m)
			}
		}
		if (r.Overall == nil) != (ry.Overall == nil) || r.Overall != nil && relDiff(r.Overall.F, ry.Overall.F) > 1e-9 {
			t.Errorf("%s: overall test changed with the input order: %+v, %+v", what, r.Overall, ry.Overall)
		}

		// Swap the values of two groups: their letters swap.
		a, b := rng.IntN(len(x.Groups)), rng.IntN(len(x.Groups)-1)
		if b >= a {
			b++
		}
		s := x
		s.Groups = slices.Clone(x.Groups)
		s.Groups[a], s.Groups[b] = x.Groups[b], x.Groups[a]
		rs, err := s.Compare()
		if err != nil {
			t.Fatalf("%s swapped: %v", what, err)
		}
		la, lb := r.Groups[a].Letter, r.Groups[b].Letter
		if rs.Groups[a].Letter != lb || rs.Groups[b].Letter != la {
			t.Fatalf("%s: swapping the values of groups %s and %s gave letters %s and %s", what, la, lb, rs.Groups[a].Letter, rs.Groups[b].Letter)
		}
		swap := strings.NewReplacer(la, lb, lb, la)
		for i := range x.Rows {
			for j := range x.Groups {
				before, after := r.Cells[i][j].Marks, rs.Cells[i][j].Marks
				want := Marks{Tested: before.Tested, Letters: sortLetters(swap.Replace(before.Letters)), LettersBonferroni: sortLetters(swap.Replace(before.LettersBonferroni))}
				if after != want {
					t.Errorf("%s: swapping %s and %s: cell (%v, data of %v) has %+v, want %+v", what, la, lb, x.Rows[i], x.Groups[j], after, want)
				}
			}
		}
	}
}

// TestProperties_means checks the same properties on random means.
func TestProperties_means(t *testing.T) {
	users := loadUsers(t)
	rng := rand.New(rand.NewPCG(14, 2027))
	for n := 0; n < 60; n++ {
		m, what := randomMeans(rng, users)
		r, err := m.Compare()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		checkInvariants(t, what, r.Groups, r.Pairs, r.PairsTested, func(_, g int) Marks { return r.Estimates[g].Marks })

		perm := rng.Perm(len(m.Groups))
		p := m
		p.Groups = make([]MeanGroup, len(m.Groups))
		for i, k := range perm {
			p.Groups[i] = m.Groups[k]
		}
		rp, err := p.Compare()
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range perm {
			if rp.Estimates[i].Marks != r.Estimates[k].Marks || rp.Groups[i].Letter != r.Groups[k].Letter {
				t.Errorf("%s: group %v has %+v (%s), shuffled %+v (%s)", what, m.Groups[k].Value, r.Estimates[k].Marks, r.Groups[k].Letter, rp.Estimates[i].Marks, rp.Groups[i].Letter)
			}
		}

		a, b := rng.IntN(len(m.Groups)), rng.IntN(len(m.Groups)-1)
		if b >= a {
			b++
		}
		s := m
		s.Groups = slices.Clone(m.Groups)
		s.Groups[a].Value, s.Groups[b].Value = m.Groups[b].Value, m.Groups[a].Value
		rs, err := s.Compare()
		if err != nil {
			t.Fatal(err)
		}
		la, lb := r.Groups[a].Letter, r.Groups[b].Letter
		swap := strings.NewReplacer(la, lb, lb, la)
		for j := range m.Groups {
			before := r.Estimates[j].Marks
			want := Marks{Tested: before.Tested, Letters: sortLetters(swap.Replace(before.Letters)), LettersBonferroni: sortLetters(swap.Replace(before.LettersBonferroni))}
			if rs.Estimates[j].Marks != want {
				t.Errorf("%s: swapping %s and %s: data of %v has %+v, want %+v", what, la, lb, m.Groups[j].Value, rs.Estimates[j].Marks, want)
			}
		}
	}
}

// checkInvariants checks what must hold for any result: Bonferroni letters
// are a subset of the plain ones; untested groups neither get nor give
// letters and their pairs are untested; m counts the tested pairs of a row;
// each letter is backed by a significant pair in the right direction, and
// every significant pair gives one.
func checkInvariants(t *testing.T, what string, groups []Group, pairs []Pair, m int, marks func(row, g int) Marks) {
	t.Helper()
	letterOf := map[string]int{}
	tested := 0
	for j, g := range groups {
		letterOf[g.Letter] = j
		if g.Tested {
			tested++
		}
	}
	if m != tested*(tested-1)/2 {
		t.Errorf("%s: m = %d with %d tested groups", what, m, tested)
	}
	perRow := map[int][]Pair{}
	for _, p := range pairs {
		perRow[p.RowIndex] = append(perRow[p.RowIndex], p)
	}
	for row, ps := range perRow {
		if len(ps) != len(groups)*(len(groups)-1)/2 {
			t.Errorf("%s: row %d has %d pairs for %d groups", what, row, len(ps), len(groups))
		}
		want := map[int]string{}
		wantB := map[int]string{}
		for _, p := range ps {
			if p.Tested != (groups[p.GIndex].Tested && groups[p.HIndex].Tested) {
				t.Errorf("%s: pair %s-%s tested = %v", what, p.GLetter, p.HLetter, p.Tested)
			}
			if !p.Tested && (p.Sig || p.SigBonferroni) {
				t.Errorf("%s: untested pair %s-%s is significant", what, p.GLetter, p.HLetter)
			}
			if p.SigBonferroni && !p.Sig {
				t.Errorf("%s: pair %s-%s significant only after Bonferroni", what, p.GLetter, p.HLetter)
			}
			hi, lo := p.GIndex, p.HIndex
			if p.Diff < 0 {
				hi, lo = lo, hi
			}
			if p.Sig {
				want[hi] += groups[lo].Letter
			}
			if p.SigBonferroni {
				wantB[hi] += groups[lo].Letter
			}
		}
		for j, g := range groups {
			mk := marks(row, j)
			if mk.Tested != g.Tested {
				t.Errorf("%s: row %d group %s tested %v, group %v", what, row, g.Letter, mk.Tested, g.Tested)
			}
			if mk.Letters != sortLetters(want[j]) || mk.LettersBonferroni != sortLetters(wantB[j]) {
				t.Errorf("%s: row %d group %s letters %q/%q, pairs say %q/%q", what, row, g.Letter, mk.Letters, mk.LettersBonferroni, sortLetters(want[j]), sortLetters(wantB[j]))
			}
			for _, l := range mk.LettersBonferroni {
				if !strings.ContainsRune(mk.Letters, l) {
					t.Errorf("%s: row %d group %s: Bonferroni added letter %c (%q vs %q)", what, row, g.Letter, l, mk.LettersBonferroni, mk.Letters)
				}
			}
			if !g.Tested && (mk.Letters != "" || mk.LettersBonferroni != "") {
				t.Errorf("%s: untested group %s got letters %q/%q", what, g.Letter, mk.Letters, mk.LettersBonferroni)
			}
			for _, l := range mk.Letters + mk.LettersBonferroni {
				if !groups[letterOf[string(l)]].Tested {
					t.Errorf("%s: row %d group %s carries the letter of untested group %c", what, row, g.Letter, l)
				}
			}
		}
	}
}

// shuffled returns the crosstab with its rows and groups in random order.
func shuffled(rng *rand.Rand, x Crosstab) Crosstab {
	rp, gp := rng.Perm(len(x.Rows)), rng.Perm(len(x.Groups))
	y := x
	y.Rows = make([]any, len(x.Rows))
	y.Groups = make([]any, len(x.Groups))
	y.Cells = make([][]Cell, len(x.Rows))
	for i, oi := range rp {
		y.Rows[i] = x.Rows[oi]
		y.Cells[i] = make([]Cell, len(x.Groups))
		for j, oj := range gp {
			y.Groups[j] = x.Groups[oj]
			y.Cells[i][j] = x.Cells[oi][oj]
		}
	}
	return y
}

// TestProperties_identicalGroups: groups with the same figures get no
// letters from each other; when every group is the same, no cell has a
// letter and the test of independence finds nothing (F = 0, p = 1).
func TestProperties_identicalGroups(t *testing.T) {
	users := loadUsers(t)
	rng := rand.New(rand.NewPCG(14, 2028))
	for n := 0; n < 30; n++ {
		x, what := randomCrosstab(rng, users)
		a, b := rng.IntN(len(x.Groups)), rng.IntN(len(x.Groups)-1)
		if b >= a {
			b++
		}
		// Group b becomes a copy of group a (the copies are more
		// respondents, so the design grows too).
		x.NDesign = 100_000
		for i := range x.Cells {
			x.Cells[i] = slices.Clone(x.Cells[i])
			x.Cells[i][b] = x.Cells[i][a]
		}
		r, err := x.Compare()
		if err != nil {
			t.Fatal(err)
		}
		la, lb := r.Groups[a].Letter, r.Groups[b].Letter
		for i := range x.Rows {
			ma, mb := r.Cells[i][a].Marks, r.Cells[i][b].Marks
			if strings.Contains(ma.Letters, lb) || strings.Contains(mb.Letters, la) {
				t.Errorf("%s: identical groups %s and %s letter each other in row %v: %q, %q", what, la, lb, x.Rows[i], ma.Letters, mb.Letters)
			}
			if ma != mb {
				t.Errorf("%s: identical groups %s and %s differ in row %v: %+v, %+v", what, la, lb, x.Rows[i], ma, mb)
			}
		}
		for _, p := range r.Pairs {
			if (p.GIndex == a && p.HIndex == b || p.GIndex == b && p.HIndex == a) && (p.Diff != 0 || p.Sig) {
				t.Errorf("%s: pair of identical groups: diff %v sig %v", what, p.Diff, p.Sig)
			}
		}

		// Every group a copy of the first.
		for i := range x.Cells {
			for j := range x.Cells[i] {
				x.Cells[i][j] = x.Cells[i][0]
			}
		}
		r, err = x.Compare()
		if err != nil {
			t.Fatal(err)
		}
		for i := range x.Rows {
			for j := range x.Groups {
				if c := r.Cells[i][j]; c.Letters != "" || c.LettersBonferroni != "" {
					t.Errorf("%s, all groups equal: cell (%d, %d) has letters %q/%q", what, i, j, c.Letters, c.LettersBonferroni)
				}
			}
		}
		if o := r.Overall; o != nil && (o.F > 1e-20 || o.P < 1-1e-9) {
			t.Errorf("%s, all groups equal: F = %v, p = %v", what, o.F, o.P)
		}
	}
}

// TestProperties_alpha: a larger alpha never removes a letter.
func TestProperties_alpha(t *testing.T) {
	users := loadUsers(t)
	rng := rand.New(rand.NewPCG(14, 2029))
	for n := 0; n < 30; n++ {
		x, what := randomCrosstab(rng, users)
		x.Alpha = 0.01
		strict, err := x.Compare()
		if err != nil {
			t.Fatal(err)
		}
		x.Alpha = 0.1
		loose, err := x.Compare()
		if err != nil {
			t.Fatal(err)
		}
		for i := range x.Rows {
			for j := range x.Groups {
				for _, l := range strict.Cells[i][j].Letters {
					if !strings.ContainsRune(loose.Cells[i][j].Letters, l) {
						t.Errorf("%s: letter %c at α = 0.01 is gone at α = 0.1", what, l)
					}
				}
			}
		}
	}
}
