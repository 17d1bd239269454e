package significance

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Defaults applied by [Options] when a field is zero.
const (
	DefaultAlpha   = 0.05
	DefaultMinBase = 30
	// MaxGroups is how many groups can be lettered: A to Z.
	MaxGroups = 26
)

// ErrTooManyGroups is returned (wrapped) when a comparison has more groups
// than letters. A tab tool would not letter 27 columns either; the analyst
// should compare fewer groups.
var ErrTooManyGroups = errors.New("too many groups to letter")

// Options are the settings every comparison takes.
type Options struct {
	// NDesign is the number of respondents in the whole design (panelists
	// with a positive weight), whatever the question's filter: every group
	// and every filtered base is a domain of the full sample, so this is the
	// n in the n/(n−1) of each variance, as R's svyby and subset use it.
	NDesign int64
	// Alpha is the two-sided significance level of the pairwise tests;
	// zero means DefaultAlpha.
	Alpha float64
	// Bonferroni multiplies each p-value by the number of pairs tested in
	// its row (m) before comparing it with Alpha. Both sets of letters are
	// always computed; this picks the ones [Significance] shows.
	Bonferroni bool
	// MinBase is the smallest unweighted group base that is tested; zero
	// means DefaultMinBase. Smaller groups are shown but never get or give
	// letters.
	MinBase int64
}

// resolve fills in the defaults and checks the options against a base of
// baseN respondents.
func (o Options) resolve(baseN int64) (Options, error) {
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.MinBase == 0 {
		o.MinBase = DefaultMinBase
	}
	switch {
	case !(o.Alpha > 0 && o.Alpha < 1):
		return o, fmt.Errorf("alpha %v is not between 0 and 1", o.Alpha)
	case o.MinBase < 0:
		return o, fmt.Errorf("minimum base %d is negative", o.MinBase)
	case o.NDesign < 2:
		return o, fmt.Errorf("design size %d: need at least 2 respondents", o.NDesign)
	case baseN > o.NDesign:
		return o, fmt.Errorf("base of %d respondents is larger than the design (%d)", baseN, o.NDesign)
	}
	return o, nil
}

// correction names the multiple-comparison correction for [Significance].
func (o Options) correction() string {
	if o.Bonferroni {
		return "bonferroni"
	}
	return "none"
}

// Group is one compared group (a value of the compare_by column) with its
// letter. Its JSON is an entry of the structuredContent significance.groups.
type Group struct {
	Letter string `json:"letter" jsonschema:"the group's letter: A, B, C… in the sort order of the values, NULL last"`
	Value  any    `json:"value" jsonschema:"the group's value of the compare_by column (null for the NULL group)"`
	// Tested is false when the unweighted base is below the minimum base.
	Tested bool  `json:"tested" jsonschema:"false when the group's unweighted base is below the minimum base: it gets and gives no letters"`
	N      int64 `json:"n" jsonschema:"unweighted base of the group"`
	// WeightedBase is Σw over the group's respondents, and SEWeightedBase
	// its standard error (R's svytotal).
	WeightedBase   float64 `json:"weighted_base" jsonschema:"weighted base of the group, Σw"`
	SEWeightedBase float64 `json:"se_weighted_base" jsonschema:"standard error of the weighted base"`
	NEff           float64 `json:"n_eff" jsonschema:"Kish effective base of the group, (Σw)²/Σw²"`

	// index is the group's position in the caller's input.
	index int
}

// Pair is the test of one pair of groups (within one row of a crosstab).
// Its JSON is an entry of significance.pairs.
type Pair struct {
	// Row is the crosstab row category the pair is tested in; null for
	// means (and for a crosstab's NULL row category).
	Row any `json:"row" jsonschema:"the row category of a crosstab the pair is tested in; null for means"`
	// G and H are the group values, G's letter sorting first.
	G       any    `json:"g" jsonschema:"the first group's value"`
	H       any    `json:"h" jsonschema:"the second group's value"`
	GLetter string `json:"g_letter" jsonschema:"the first group's letter"`
	HLetter string `json:"h_letter" jsonschema:"the second group's letter"`
	// Diff is estimate(G) − estimate(H): percentage points for column
	// percentages, the measure's unit for means.
	Diff float64 `json:"diff" jsonschema:"the first group's estimate minus the second's"`
	// Z is Diff / √(se_g² + se_h²) and P its two-sided normal p-value. When
	// both standard errors are zero, Z is null and P is 0 if the estimates
	// differ, both null if they are equal (nothing to test).
	Z *float64 `json:"z" jsonschema:"Wald z of the difference; null when both standard errors are 0"`
	P *float64 `json:"p" jsonschema:"two-sided p-value from the normal distribution"`
	// PBonferroni is min(1, P·m), m the number of pairs tested in the row;
	// null when no pair of the row is tested.
	PBonferroni *float64 `json:"p_bonferroni" jsonschema:"min(1, p × number of pairs tested in the row)"`
	// Tested is true when both groups reach the minimum base; a pair that
	// is not tested is listed for information and never significant.
	Tested        bool `json:"tested" jsonschema:"true when both groups reach the minimum base"`
	Sig           bool `json:"sig" jsonschema:"tested and p < alpha"`
	SigBonferroni bool `json:"sig_bonferroni" jsonschema:"tested and p × m < alpha"`

	// RowIndex, GIndex and HIndex are positions in the caller's input.
	RowIndex int `json:"-"`
	GIndex   int `json:"-"`
	HIndex   int `json:"-"`
}

// Marks are the letters of one tested estimate.
type Marks struct {
	// Tested is false when the group is below the minimum base; the letters
	// are then empty and mean nothing.
	Tested bool
	// Letters are the letters of the groups this estimate is significantly
	// higher than, sorted ("" when none); LettersBonferroni the same with
	// the Bonferroni correction.
	Letters           string
	LettersBonferroni string
}

// newGroups checks the group values, orders them (C collation, NULL last,
// as ORDER BY value COLLATE "C" NULLS LAST does) and letters them. It
// returns the groups in input order and the input indexes in letter order.
func newGroups(values []any) ([]Group, []int, error) {
	if len(values) > MaxGroups {
		return nil, nil, fmt.Errorf("%w: %d groups, at most %d", ErrTooManyGroups, len(values), MaxGroups)
	}
	order := make([]int, len(values))
	for i, v := range values {
		if _, err := rank(v); err != nil {
			return nil, nil, fmt.Errorf("group %d: %w", i+1, err)
		}
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return compareValues(values[i], values[j]) })
	for k := 1; k < len(order); k++ {
		if compareValues(values[order[k-1]], values[order[k]]) == 0 {
			return nil, nil, fmt.Errorf("group value %v appears twice", values[order[k]])
		}
	}
	groups := make([]Group, len(values))
	for k, i := range order {
		groups[i] = Group{Letter: string(rune('A' + k)), Value: values[i], index: i}
	}
	return groups, order, nil
}

// rank is a value's kind in the sort: numbers, then booleans, then text,
// NULL last. A column holds one kind; the rank only makes the order total.
func rank(v any) (int, error) {
	switch v.(type) {
	case int, int32, int64, float32, float64:
		return 0, nil
	case bool:
		return 1, nil
	case string:
		return 2, nil
	case nil:
		return 3, nil
	}
	return 0, fmt.Errorf("value %v of type %T cannot be ordered", v, v)
}

// compareValues orders two group values: numbers by value, false before
// true, text byte by byte (PostgreSQL's C collation), NULL last.
func compareValues(a, b any) int {
	ra, _ := rank(a)
	rb, _ := rank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch ra {
	case 0:
		return cmp.Compare(number(a), number(b))
	case 1:
		ab, bb := a.(bool), b.(bool)
		switch {
		case ab == bb:
			return 0
		case !ab:
			return -1
		}
		return 1
	case 2:
		return strings.Compare(a.(string), b.(string))
	}
	return 0
}

// number converts a numeric group value for ordering.
func number(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// comparison is one row of estimates to compare across the groups.
type comparison struct {
	row      any
	rowIndex int
	estimate []float64 // per group, input order
	se       []float64
}

// compareRow runs the pairwise tests of one row: every pair of groups in
// letter order, z = (e_g − e_h)/√(se_g² + se_h²) (the estimates of disjoint
// domains of this design have zero covariance), two-sided normal p, and
// Bonferroni over the m pairs whose groups are both tested. It returns the
// pairs and each group's marks (input order).
func compareRow(groups []Group, order []int, c comparison, o Options) ([]Pair, []Marks) {
	marks := make([]Marks, len(groups))
	for i := range groups {
		marks[i].Tested = groups[i].Tested
	}
	n := len(order) * (len(order) - 1) / 2
	pairs := make([]Pair, 0, n)
	// z, p and p_bonferroni of every pair, in one allocation.
	vals := make([]float64, 3*n)
	m := 0
	for a := 0; a < len(order); a++ {
		for b := a + 1; b < len(order); b++ {
			g, h := order[a], order[b]
			pr := Pair{
				Row: c.row, RowIndex: c.rowIndex,
				G: groups[g].Value, H: groups[h].Value, GIndex: g, HIndex: h,
				GLetter: groups[g].Letter, HLetter: groups[h].Letter,
				Diff:   c.estimate[g] - c.estimate[h],
				Tested: groups[g].Tested && groups[h].Tested,
			}
			v := vals[3*len(pairs) : 3*len(pairs)+3]
			switch sd := math.Hypot(c.se[g], c.se[h]); {
			case sd > 0:
				v[0] = pr.Diff / sd
				v[1] = twoSidedNormal(v[0])
				pr.Z, pr.P = &v[0], &v[1]
			case pr.Diff != 0:
				// Two estimates without sampling variance that differ (a
				// share of 100% against one of 0%): the limit of the test,
				// z infinite (null in JSON) and p = 0. R's arithmetic leaves
				// such an SE at about 1e-15 instead of 0, with the same
				// outcome.
				pr.P = &v[1]
			}
			if pr.Tested {
				m++
			}
			pairs = append(pairs, pr)
		}
	}
	for i := range pairs {
		pr := &pairs[i]
		if pr.P == nil {
			continue
		}
		if m > 0 {
			v := &vals[3*i+2]
			*v = math.Min(1, *pr.P*float64(m))
			pr.PBonferroni = v
		}
		if !pr.Tested {
			continue
		}
		pr.Sig = *pr.P < o.Alpha
		pr.SigBonferroni = *pr.P*float64(m) < o.Alpha
		// The higher estimate gets the lower one's letter.
		hi, lo := pr.GIndex, pr.HIndex
		if pr.Diff < 0 {
			hi, lo = lo, hi
		}
		if pr.Sig {
			marks[hi].Letters += groups[lo].Letter
		}
		if pr.SigBonferroni {
			marks[hi].LettersBonferroni += groups[lo].Letter
		}
	}
	for i := range marks {
		marks[i].Letters = sortLetters(marks[i].Letters)
		marks[i].LettersBonferroni = sortLetters(marks[i].LettersBonferroni)
	}
	return pairs, marks
}

// sortLetters returns the letters of s in alphabetical order.
func sortLetters(s string) string {
	b := []byte(s)
	slices.Sort(b)
	return string(b)
}

// kish returns the Kish effective base (Σw)²/Σw².
func kish(sumW, sumW2 float64) float64 {
	if sumW2 <= 0 {
		return 0
	}
	return sumW * sumW / sumW2
}

// seTotal is the standard error of a weighted total Σw over a domain with
// the given Σw², as R's svytotal computes it for a with-replacement design of
// n respondents: √((n·Σw² − (Σw)²)/(n−1)).
func seTotal(sumW, sumW2 float64, n int64) float64 {
	nf := float64(n)
	return math.Sqrt(math.Max(0, (nf*sumW2-sumW*sumW)/(nf-1)))
}
