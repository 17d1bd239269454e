package significance

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// extraFile is testdata/extra.json (made by extra.R): more shapes than
// expected.json has, checked on their numbers.
type extraFile struct {
	NDesign int64 `json:"n_design"`
	Cases   []struct {
		ID            string `json:"id"`
		Kind          string `json:"kind"`
		RowVariable   string `json:"row_variable"`
		YVariable     string `json:"y_variable"`
		GroupVariable string `json:"group_variable"`
		Groups        []struct {
			Group any   `json:"group"`
			N     int64 `json:"n"`
		} `json:"groups"`
		Cells []struct {
			Row             any     `json:"row"`
			Group           any     `json:"group"`
			Pct             float64 `json:"pct"`
			SEPct           float64 `json:"se_pct"`
			WeightedCount   float64 `json:"weighted_count"`
			SEWeightedCount float64 `json:"se_weighted_count"`
			Mean            float64 `json:"mean"`
			SE              float64 `json:"se"`
		} `json:"cells"`
		Pairs   []refPair       `json:"pairs"`
		Totals  json.RawMessage `json:"totals"`
		Overall struct {
			Error          string
			F, NDF, DDF, P float64
			Chisq          struct {
				X2Pearson float64 `json:"X2_pearson"`
				DF        float64 `json:"df"`
				P         float64 `json:"p"`
			} `json:"chisq"`
		} `json:"overall_test"`
	} `json:"cases"`
}

// extraQuestions are the bases of extra.json's cases (their "filter").
var extraQuestions = map[string]keep{
	"device_by_platform_empty_cells":    nil,
	"nccs_raw_by_age_group_metro":       func(u user) bool { return u["town_class"] == "Metro" && u["nccs"] != nil },
	"spend_quartile_by_gender_low_base": nil,
	"state_by_town_class_singular":      nil,
	"platform_by_gender_mobile_2x2":     func(u user) bool { return u["device_type"] == "mobile" && u["gender"] != "Other" },
	"multi_response_by_town_class":      func(u user) bool { return u["age_group"] != "55+" },
	"mean_age_by_nccs_tier2":            func(u user) bool { return u["town_class"] == "Tier 2" && u["nccs"] != nil },
	"premium_share_by_town_class":       nil,
	"mean_spend_by_gender_low_base":     nil,
}

// multiRows are the overlapping rows of multi_response_by_town_class: one
// 0/1 indicator each, as a "which of these apply" question or the reach of
// several apps.
var multiRows = []struct {
	name string
	in   func(u user) bool
}{
	{"premium", func(u user) bool { return u["subscription_type"] == "premium" }},
	{"mobile", func(u user) bool { return u["device_type"] == "mobile" }},
	{"spend_q4", func(u user) bool { return u["spend_quartile"] == "Q4" }},
	{"ios", func(u user) bool { return u["platform"] == "ios" }},
}

// multiOf computes the sufficient statistics of a multi-response table:
// per (indicator, group) the respondents with the indicator, and per group
// its whole base.
func multiOf(users []user, groupVar string, o Options) Crosstab {
	x := Crosstab{Options: o}
	idx := map[any]int{}
	for _, u := range users {
		if _, ok := idx[u[groupVar]]; !ok {
			idx[u[groupVar]] = len(x.Groups)
			x.Groups = append(x.Groups, u[groupVar])
		}
	}
	x.Bases = make([]Cell, len(x.Groups))
	x.Cells = make([][]Cell, len(multiRows))
	for i, row := range multiRows {
		x.Rows = append(x.Rows, row.name)
		x.Cells[i] = make([]Cell, len(x.Groups))
	}
	add := func(c *Cell, w float64) {
		c.N++
		c.SumW += w
		c.SumW2 += w * w
	}
	for _, u := range users {
		j, w := idx[u[groupVar]], u["weight"].(float64)
		add(&x.Bases[j], w)
		for i, row := range multiRows {
			if row.in(u) {
				add(&x.Cells[i][j], w)
			}
		}
	}
	return x
}

// TestExtraReference checks shapes expected.json lacks against R: empty
// cells (pairs of two zero shares have no z; svychisq still solves), a
// p-value of 1e-192, a 2×2 table (ndf exactly 1), a 6×5 table on a filtered
// base, a table R's svychisq cannot solve (no overall test here either),
// a multi-response table (overlapping rows, explicit group bases, no test
// of independence), means on a filtered base (ddf = base n − k), a
// proportion as the mean of a 0/1 indicator, and a low-base group inside the
// Wald test. Crosstabs also check the Total column.
func TestExtraReference(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "extra.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref extraFile
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) != len(extraQuestions) {
		t.Fatalf("extra.json has %d cases, the test knows %d", len(ref.Cases), len(extraQuestions))
	}
	users := loadUsers(t)
	for _, q := range ref.Cases {
		t.Run(q.ID, func(t *testing.T) {
			k, ok := extraQuestions[q.ID]
			if !ok {
				t.Fatalf("no question for case %s", q.ID)
			}
			base := filter(users, k)
			c := &checker{t: t, tol: 1e-6}
			var pairs []Pair
			var overall *Overall
			var groups []Group
			switch q.Kind {
			case "crosstab", "multi":
				x := crosstabOf(base, q.RowVariable, q.GroupVariable, Options{NDesign: ref.NDesign})
				if q.Kind == "multi" {
					x = multiOf(base, q.GroupVariable, Options{NDesign: ref.NDesign})
				}
				r, err := x.Compare()
				if err != nil {
					t.Fatal(err)
				}
				groups, pairs, overall = r.Groups, r.Pairs, r.Overall
				rowIdx, groupIdx := map[string]int{}, map[string]int{}
				for i, v := range x.Rows {
					rowIdx[key(v)] = i
				}
				for j, v := range x.Groups {
					groupIdx[key(v)] = j
				}
				if len(q.Cells) != len(x.Rows)*len(x.Groups) {
					t.Errorf("%d cells, R has %d", len(x.Rows)*len(x.Groups), len(q.Cells))
				}
				for _, w := range q.Cells {
					got := r.Cells[rowIdx[key(w.Row)]][groupIdx[key(w.Group)]]
					at := "cell " + key(w.Row) + "/" + key(w.Group)
					c.float(at+" pct", got.Pct, w.Pct)
					c.floatFloor(at+" se_pct", got.SEPct, w.SEPct, 1e-12)
					c.float(at+" weighted_count", got.WeightedCount, w.WeightedCount)
					c.float(at+" se_weighted_count", got.SEWeightedCount, w.SEWeightedCount)
				}
				var totals []struct {
					Row             any     `json:"row"`
					Pct             float64 `json:"pct"`
					SEPct           float64 `json:"se_pct"`
					WeightedCount   float64 `json:"weighted_count"`
					SEWeightedCount float64 `json:"se_weighted_count"`
				}
				if err := json.Unmarshal(q.Totals, &totals); err != nil {
					t.Fatal(err)
				}
				if len(totals) != len(x.Rows) {
					t.Errorf("%d Total entries, R %d", len(x.Rows), len(totals))
				}
				for _, w := range totals {
					got := r.Total[rowIdx[key(w.Row)]]
					at := "Total " + key(w.Row)
					c.float(at+" pct", got.Pct, w.Pct)
					c.floatFloor(at+" se_pct", got.SEPct, w.SEPct, 1e-12)
					c.float(at+" weighted_count", got.WeightedCount, w.WeightedCount)
					c.float(at+" se_weighted_count", got.SEWeightedCount, w.SEWeightedCount)
				}
				if q.Overall.Error == "" && overall != nil {
					c.float("chisq X2 (Pearson)", overall.ChiSquare.X2, q.Overall.Chisq.X2Pearson)
					c.float("chisq df", overall.ChiSquare.DF, q.Overall.Chisq.DF)
					c.float("chisq p", overall.ChiSquare.P, q.Overall.Chisq.P)
				}
				if overall == nil && r.OverallNote == "" {
					t.Error("no overall test and no note saying why")
				}
			case "means":
				values, sums := meanSumsOf(base, q.YVariable, q.GroupVariable)
				in := make([]MeanGroup, len(values))
				var total MeanSums
				for i, s := range sums {
					in[i] = s.Group(values[i], ref.NDesign)
					total = total.Add(s)
				}
				r, err := (&Means{Groups: in, Options: Options{NDesign: ref.NDesign}}).Compare()
				if err != nil {
					t.Fatal(err)
				}
				groups, pairs, overall = r.Groups, r.Pairs, r.Overall
				idx := map[string]int{}
				for j, g := range r.Groups {
					idx[key(g.Value)] = j
				}
				for _, w := range q.Cells {
					got := r.Estimates[idx[key(w.Group)]]
					c.float("mean "+key(w.Group), got.Mean, w.Mean)
					c.float("se "+key(w.Group), got.SE, w.SE)
				}
				var totals struct{ Mean, SE float64 }
				if err := json.Unmarshal(q.Totals, &totals); err != nil {
					t.Fatal(err)
				}
				tg := total.Group(nil, ref.NDesign)
				c.float("Total mean", tg.Mean, totals.Mean)
				c.float("Total se", tg.SE, totals.SE)
			default:
				t.Fatalf("kind %q", q.Kind)
			}
			if len(groups) != len(q.Groups) {
				t.Errorf("%d groups, R %d", len(groups), len(q.Groups))
			}
			gi := map[string]Group{}
			for _, g := range groups {
				gi[key(g.Value)] = g
			}
			for k, w := range q.Groups {
				g := gi[key(w.Group)]
				if g.N != w.N || g.Letter != string(rune('A'+k)) {
					t.Errorf("group %v: n %d letter %s, R n %d letter %c", w.Group, g.N, g.Letter, w.N, 'A'+k)
				}
			}
			if len(pairs) != len(q.Pairs) {
				t.Errorf("%d pairs, R %d", len(pairs), len(q.Pairs))
			}
			byKey := map[string]Pair{}
			for _, p := range pairs {
				byKey[key(p.Row)+key(p.G)+key(p.H)] = p
			}
			for _, w := range q.Pairs {
				k := key(w.Row) + key(w.G) + key(w.H)
				got, ok := byKey[k]
				if !ok {
					t.Errorf("pair %s missing", k)
					continue
				}
				if w.Z != nil && math.Abs(*w.Z) > 1e12 {
					// R divided a difference by an SE of rounding noise
					// (100% against 0%, both exactly without variance).
					if got.Z != nil || got.P == nil || *got.P != 0 {
						t.Errorf("pair %s: z %v p %v, want null and 0 (R z %v)", k, deref(got.Z), deref(got.P), *w.Z)
					}
					continue
				}
				c.optFloat("pair "+k+" z", got.Z, w.Z)
				c.optFloat("pair "+k+" p", got.P, w.P)
			}
			switch {
			case q.Overall.Error != "":
				if overall != nil {
					t.Errorf("R could not compute the overall test (%s), we did: %+v", q.Overall.Error, overall)
				}
			case overall == nil:
				t.Errorf("no overall test, R has F = %v", q.Overall.F)
			default:
				c.float("overall F", overall.F, q.Overall.F)
				c.float("overall ndf", overall.DF1, q.Overall.NDF)
				c.float("overall ddf", overall.DF2, q.Overall.DDF)
				c.float("overall p", overall.P, q.Overall.P)
			}
			t.Logf("largest relative difference from R: %.2g", c.worst)
		})
	}
}
