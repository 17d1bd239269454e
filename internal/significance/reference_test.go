package significance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// refFile is testdata/expected.json (made by compute_significance.R).
type refFile struct {
	Dataset struct {
		Files struct {
			Users struct {
				Rows int64 `json:"rows"`
			} `json:"users.csv"`
		} `json:"files"`
	} `json:"dataset"`
	Questions []refCase `json:"questions"`
}

type refCase struct {
	ID               string     `json:"id"`
	RowVariable      string     `json:"row_variable"`
	YVariable        string     `json:"y_variable"`
	GroupVariable    string     `json:"group_variable"`
	Groups           []refGroup `json:"groups"`
	NPairsBonferroni int        `json:"n_pairs_bonferroni"`
	Cells            []refCell  `json:"cells"`
	Pairs            []refPair  `json:"pairs"`
	Totals           []refCell  `json:"totals"`
	Overall          struct {
		F, NDF, DDF, P float64
		Chisq          struct {
			X2Pearson        float64 `json:"X2_pearson"`
			X2               float64 `json:"X2"`
			DF               float64 `json:"df"`
			MeanDesignEffect float64 `json:"mean_design_effect"`
			X2Adjusted       float64 `json:"X2_adjusted"`
			P                float64 `json:"p"`
		} `json:"chisq"`
	} `json:"overall_test"`
}

type refGroup struct {
	Group        any      `json:"group"`
	Letter       string   `json:"letter"`
	N            int64    `json:"n"`
	WeightedBase *float64 `json:"weighted_base"`
	NEff         *float64 `json:"n_eff"`
	Tested       bool     `json:"tested"`
}

// refCell is a crosstab cell, a mean, or a Total entry.
type refCell struct {
	Row               any     `json:"row"`
	Group             any     `json:"group"`
	Letter            string  `json:"letter"`
	N                 int64   `json:"n"`
	NCell             int64   `json:"n_cell"`
	WeightedCount     float64 `json:"weighted_count"`
	SEWeightedCount   float64 `json:"se_weighted_count"`
	WeightedPct       float64 `json:"weighted_pct"`
	SEPct             float64 `json:"se_pct"`
	WeightedBase      float64 `json:"weighted_base"`
	WeightedMean      float64 `json:"weighted_mean"`
	SE                float64 `json:"se"`
	NEff              float64 `json:"n_eff"`
	Letters           *string `json:"letters"`
	LettersBonferroni *string `json:"letters_bonferroni"`
	Tested            bool    `json:"tested"`
}

type refPair struct {
	Row           any      `json:"row"`
	G             any      `json:"g"`
	H             any      `json:"h"`
	Z             *float64 `json:"z"`
	P             *float64 `json:"p"`
	PBonferroni   *float64 `json:"p_bonferroni"`
	Tested        bool     `json:"tested"`
	Sig           bool     `json:"sig"`
	SigBonferroni bool     `json:"sig_bonferroni"`
}

// question is how a case of expected.json is asked of the panel: its base
// (the WHERE) and its variables. The README of testdata describes each.
var questions = map[string]keep{
	"subscription_by_town_class": nil,
	// NULL NCCS is left out of the base: not a row, in no denominator.
	"nccs_merged_by_gender":                    func(u user) bool { return u["nccs"] != nil },
	"mean_spend_by_age_group_tests":            nil,
	"subscription_by_age_group_tier1_low_base": func(u user) bool { return u["town_class"] == "Tier 1" },
}

func loadReference(t *testing.T) refFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref refFile
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Questions) != 4 {
		t.Fatalf("expected.json has %d questions, want 4", len(ref.Questions))
	}
	return ref
}

// TestReference reproduces every figure of expected.json (R survey 4.1.1)
// from sufficient statistics computed out of users.csv: cells, their
// standard errors, letters with and without Bonferroni, every pair's z and
// p, the Total column, the overall Rao–Scott F and chi-square tests, and the
// means' Wald F. Floats to 1e-6 relative; letters, counts and flags exactly.
func TestReference(t *testing.T) {
	ref := loadReference(t)
	users := loadUsers(t)
	nDesign := ref.Dataset.Files.Users.Rows
	for _, q := range ref.Questions {
		t.Run(q.ID, func(t *testing.T) {
			k, ok := questions[q.ID]
			if !ok {
				t.Fatalf("no question for case %s: add its base to questions", q.ID)
			}
			base := filter(users, k)
			c := &checker{t: t, tol: 1e-6}
			if q.YVariable != "" {
				checkMeansCase(t, c, q, base, nDesign)
			} else {
				checkCrosstabCase(t, c, q, base, nDesign)
			}
			t.Logf("largest relative difference from R: %.2g", c.worst)
		})
	}
}

func checkCrosstabCase(t *testing.T, c *checker, q refCase, base []user, nDesign int64) {
	x := crosstabOf(base, q.RowVariable, q.GroupVariable, Options{NDesign: nDesign})
	r, err := x.Compare()
	if err != nil {
		t.Fatal(err)
	}
	groupIdx := checkGroups(t, c, q, r.Groups)
	rowIdx := map[string]int{}
	for i, v := range x.Rows {
		rowIdx[key(v)] = i
	}
	if len(q.Cells) != len(x.Rows)*len(x.Groups) {
		t.Errorf("%d cells, R has %d", len(x.Rows)*len(x.Groups), len(q.Cells))
	}
	for _, want := range q.Cells {
		i, ok := rowIdx[key(want.Row)]
		j, ok2 := groupIdx[key(want.Group)]
		if !ok || !ok2 {
			t.Errorf("cell (%v, %v) of R is missing", want.Row, want.Group)
			continue
		}
		got, g := r.Cells[i][j], r.Groups[j]
		at := "cell " + key(want.Row) + "/" + key(want.Group)
		if g.Letter != want.Letter || g.N != want.N || got.N != want.NCell || got.Tested != want.Tested {
			t.Errorf("%s: letter %s n %d n_cell %d tested %v, R %s %d %d %v", at, g.Letter, g.N, got.N, got.Tested, want.Letter, want.N, want.NCell, want.Tested)
		}
		c.float(at+" weighted_count", got.WeightedCount, want.WeightedCount)
		c.float(at+" se_weighted_count", got.SEWeightedCount, want.SEWeightedCount)
		c.float(at+" weighted_pct", got.Pct, want.WeightedPct)
		c.float(at+" se_pct", got.SEPct, want.SEPct)
		c.float(at+" n_eff", g.NEff, want.NEff)
		checkLetters(t, at, got.Marks, want)
	}
	checkPairs(t, c, q, r.Pairs, r.PairsTested)
	if len(q.Totals) != len(x.Rows) {
		t.Errorf("%d Total entries, R has %d", len(x.Rows), len(q.Totals))
	}
	for _, want := range q.Totals {
		i, ok := rowIdx[key(want.Row)]
		if !ok {
			t.Errorf("Total of row %v is missing", want.Row)
			continue
		}
		got := r.Total[i]
		at := "Total " + key(want.Row)
		if got.N != want.NCell || r.Base.N != want.N {
			t.Errorf("%s: n_cell %d base %d, R %d %d", at, got.N, r.Base.N, want.NCell, want.N)
		}
		c.float(at+" weighted_count", got.WeightedCount, want.WeightedCount)
		c.float(at+" se_weighted_count", got.SEWeightedCount, want.SEWeightedCount)
		c.float(at+" weighted_pct", got.Pct, want.WeightedPct)
		c.float(at+" se_pct", got.SEPct, want.SEPct)
		c.float(at+" n_eff", r.Base.NEff, want.NEff)
	}
	if r.Overall == nil {
		t.Fatalf("no overall test: %s", r.OverallNote)
	}
	o, w := r.Overall, q.Overall
	if o.Test != "Rao-Scott F" || o.ChiSquare.Test != "Rao-Scott chi-square" {
		t.Errorf("overall test named %q / %q", o.Test, o.ChiSquare.Test)
	}
	c.float("overall F", o.F, w.F)
	c.float("overall ndf", o.DF1, w.NDF)
	c.float("overall ddf", o.DF2, w.DDF)
	c.float("overall p", o.P, w.P)
	c.float("chisq X2 (Pearson)", o.ChiSquare.X2, w.Chisq.X2Pearson)
	c.float("chisq df", o.ChiSquare.DF, w.Chisq.DF)
	c.float("chisq mean design effect", o.ChiSquare.MeanDesignEffect, w.Chisq.MeanDesignEffect)
	c.float("chisq X2 adjusted", o.ChiSquare.X2Adjusted, w.Chisq.X2Adjusted)
	c.float("chisq p", o.ChiSquare.P, w.Chisq.P)
}

func checkMeansCase(t *testing.T, c *checker, q refCase, base []user, nDesign int64) {
	if len(q.Totals) != 1 {
		t.Fatalf("R has %d Total entries, want 1", len(q.Totals))
	}
	values, sums := meanSumsOf(base, q.YVariable, q.GroupVariable)
	fromSums := make([]MeanGroup, len(values))
	var total MeanSums
	for i, s := range sums {
		fromSums[i] = s.Group(values[i], nDesign)
		total = total.Add(s)
	}
	// Both inputs the SQL may give: the mean and SE of its two-pass se_…
	// column, or one-pass sums.
	for _, in := range []struct {
		name   string
		groups []MeanGroup
	}{
		{"two-pass", twoPassMeans(base, q.YVariable, q.GroupVariable, nDesign)},
		{"sums", fromSums},
	} {
		t.Run(in.name, func(t *testing.T) {
			c := &checker{t: t, tol: c.tol}
			r, err := (&Means{Groups: in.groups, Options: Options{NDesign: nDesign}}).Compare()
			if err != nil {
				t.Fatal(err)
			}
			groupIdx := checkGroups(t, c, q, r.Groups)
			for _, want := range q.Cells {
				j, ok := groupIdx[key(want.Group)]
				if !ok {
					t.Errorf("group %v of R is missing", want.Group)
					continue
				}
				got, g := r.Estimates[j], r.Groups[j]
				at := "group " + key(want.Group)
				if g.Letter != want.Letter || g.N != want.N || got.Tested != want.Tested {
					t.Errorf("%s: letter %s n %d tested %v, R %s %d %v", at, g.Letter, g.N, got.Tested, want.Letter, want.N, want.Tested)
				}
				c.float(at+" weighted_base", g.WeightedBase, want.WeightedBase)
				c.float(at+" weighted_mean", got.Mean, want.WeightedMean)
				c.float(at+" se", got.SE, want.SE)
				c.float(at+" n_eff", g.NEff, want.NEff)
				checkLetters(t, at, got.Marks, want)
			}
			checkPairs(t, c, q, r.Pairs, r.PairsTested)
			if tw := q.Totals[0]; r.Base.N != tw.N {
				t.Errorf("base n %d, R %d", r.Base.N, tw.N)
			} else {
				c.float("base weighted_base", r.Base.WeightedBase, tw.WeightedBase)
				c.float("base n_eff", r.Base.NEff, tw.NEff)
			}
			if r.Overall == nil {
				t.Fatalf("no overall test: %s", r.OverallNote)
			}
			o, w := r.Overall, q.Overall
			if o.Test != "Wald F" {
				t.Errorf("overall test named %q", o.Test)
			}
			c.float("overall F", o.F, w.F)
			c.float("overall ndf", o.DF1, w.NDF)
			c.float("overall ddf", o.DF2, w.DDF)
			c.float("overall p", o.P, w.P)
			c.float("chisq X2", o.ChiSquare.X2, w.Chisq.X2)
			c.float("chisq df", o.ChiSquare.DF, w.Chisq.DF)
			c.float("chisq p", o.ChiSquare.P, w.Chisq.P)
			t.Logf("largest relative difference from R: %.2g", c.worst)
		})
	}
	// The Total row: the whole base's sums are the groups' sums added up.
	got, want := total.Group(nil, nDesign), q.Totals[0]
	if got.N != want.N {
		t.Errorf("Total n %d, R %d", got.N, want.N)
	}
	c.float("Total weighted_base", got.SumW, want.WeightedBase)
	c.float("Total weighted_mean", got.Mean, want.WeightedMean)
	c.float("Total se", got.SE, want.SE)
	c.float("Total n_eff", kish(got.SumW, got.SumW2), want.NEff)
}

// checkGroups compares the lettering and bases of the groups and returns
// each R group's index in the result.
func checkGroups(t *testing.T, c *checker, q refCase, groups []Group) map[string]int {
	t.Helper()
	if len(groups) != len(q.Groups) {
		t.Errorf("%d groups, R has %d", len(groups), len(q.Groups))
	}
	idx := map[string]int{}
	for j, g := range groups {
		idx[key(g.Value)] = j
	}
	for _, want := range q.Groups {
		j, ok := idx[key(want.Group)]
		if !ok {
			t.Errorf("group %v of R is missing", want.Group)
			continue
		}
		g := groups[j]
		if g.Letter != want.Letter || g.N != want.N || g.Tested != want.Tested {
			t.Errorf("group %v: letter %s n %d tested %v, R %s %d %v", want.Group, g.Letter, g.N, g.Tested, want.Letter, want.N, want.Tested)
		}
		if want.WeightedBase != nil {
			c.float("group "+key(want.Group)+" weighted_base", g.WeightedBase, *want.WeightedBase)
		}
		if want.NEff != nil {
			c.float("group "+key(want.Group)+" n_eff", g.NEff, *want.NEff)
		}
	}
	return idx
}

// checkLetters compares a cell's letters, null meaning not tested.
func checkLetters(t *testing.T, at string, got Marks, want refCell) {
	t.Helper()
	if str(got.letters(false)) != str(want.Letters) || str(got.letters(true)) != str(want.LettersBonferroni) {
		t.Errorf("%s: letters %s / Bonferroni %s, R %s / %s", at, str(got.letters(false)), str(got.letters(true)), str(want.Letters), str(want.LettersBonferroni))
	}
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return `"` + *p + `"`
}

// checkPairs compares every pair's z, p, Bonferroni p and flags, and m.
func checkPairs(t *testing.T, c *checker, q refCase, pairs []Pair, m int) {
	t.Helper()
	if m != q.NPairsBonferroni {
		t.Errorf("pairs tested per row %d, R %d", m, q.NPairsBonferroni)
	}
	if len(pairs) != len(q.Pairs) {
		t.Errorf("%d pairs, R has %d", len(pairs), len(q.Pairs))
	}
	byKey := map[string]Pair{}
	for _, p := range pairs {
		byKey[key(p.Row)+key(p.G)+key(p.H)] = p
	}
	for _, want := range q.Pairs {
		k := key(want.Row) + key(want.G) + key(want.H)
		got, ok := byKey[k]
		if !ok {
			t.Errorf("pair %s of R is missing (or in the other order)", k)
			continue
		}
		c.optFloat("pair "+k+" z", got.Z, want.Z)
		c.optFloat("pair "+k+" p", got.P, want.P)
		c.optFloat("pair "+k+" p_bonferroni", got.PBonferroni, want.PBonferroni)
		if got.Tested != want.Tested || got.Sig != want.Sig || got.SigBonferroni != want.SigBonferroni {
			t.Errorf("pair %s: tested %v sig %v sig_bonferroni %v, R %v %v %v", k, got.Tested, got.Sig, got.SigBonferroni, want.Tested, want.Sig, want.SigBonferroni)
		}
	}
}
