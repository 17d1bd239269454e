package significance

import (
	"fmt"
	"math"
)

// MeanGroup is one group's weighted mean of a measure y and its standard
// error: what the weighted SQL returns per group as weighted_avg_… and
// se_…, or what [MeanSums.Group] computes from plain sums. A proportion
// (the mean of a 0/1 indicator, an AVG of a condition) is a mean like any
// other.
type MeanGroup struct {
	Value any
	// N counts the group's respondents with a positive weight and a
	// non-NULL y; SumW and SumW2 are Σw and Σw² over them.
	N     int64
	SumW  float64
	SumW2 float64
	// Mean is Σw·y/Σw and SE its standard error as R's svyby(~y, ~G, des,
	// svymean) gives it: √(n/(n−1)·Σw²(y − Mean)²)/Σw with n the whole
	// design (Options.NDesign), not the group.
	Mean float64
	SE   float64
}

// Means compares weighted means across groups, as R's svyby(~y, ~G, des,
// svymean) with svycontrast for the pairs and regTermTest(svyglm(y ~
// factor(G), des), ~factor(G)) for the overall test. The base is the union
// of the groups.
type Means struct {
	// Groups in any order; they are lettered in the sort order of their
	// values and results stay parallel to this slice.
	Groups []MeanGroup
	Options
}

// MeanResult is one group's estimate and letters.
type MeanResult struct {
	Mean float64
	SE   float64
	Marks
}

// MeansResult is the answer to [Means.Compare]; Groups and Estimates are
// parallel to the input, Pairs in letter order.
type MeansResult struct {
	Options   Options
	Groups    []Group
	Estimates []MeanResult
	// Base is the whole base: N, weighted base with its standard error,
	// effective base (the Total row's; its mean and SE come from the base's
	// [MeanSums] or the statement's Total row). Its Letter is empty.
	Base  Group
	Pairs []Pair
	// PairsTested is m, the number of pairs tested.
	PairsTested int
	// Overall is the Wald F test that all means are equal, nil when it
	// cannot be computed; OverallNote then says why.
	Overall     *Overall
	OverallNote string

	order []int
}

// Compare runs the pairwise tests of the means, letters them and computes
// the overall Wald test.
func (m *Means) Compare() (*MeansResult, error) {
	if len(m.Groups) == 0 {
		return nil, fmt.Errorf("means: no groups")
	}
	values := make([]any, len(m.Groups))
	var baseN int64
	for i, g := range m.Groups {
		values[i] = g.Value
		if g.N <= 0 || !(g.SumW > 0) || !(g.SumW2 > 0) || !(g.SE >= 0) || math.IsInf(g.SE, 0) || math.IsNaN(g.Mean) || math.IsInf(g.Mean, 0) {
			return nil, fmt.Errorf("means: group %v has n %d, Σw %v, Σw² %v, mean %v, SE %v: need n, Σw and Σw² > 0, a finite mean and SE ≥ 0", g.Value, g.N, g.SumW, g.SumW2, g.Mean, g.SE)
		}
		baseN += g.N
	}
	groups, order, err := newGroups(values)
	if err != nil {
		return nil, fmt.Errorf("means: %w", err)
	}
	o, err := m.Options.resolve(baseN)
	if err != nil {
		return nil, fmt.Errorf("means: %w", err)
	}
	r := &MeansResult{Options: o, Groups: groups, Estimates: make([]MeanResult, len(groups)), order: order}
	c := comparison{estimate: make([]float64, len(groups)), se: make([]float64, len(groups))}
	var baseW2 float64
	for i, g := range m.Groups {
		gr := &r.Groups[i]
		gr.N = g.N
		gr.Tested = g.N >= o.MinBase
		gr.WeightedBase = g.SumW
		gr.SEWeightedBase = seTotal(g.SumW, g.SumW2, o.NDesign)
		gr.NEff = kish(g.SumW, g.SumW2)
		c.estimate[i], c.se[i] = g.Mean, g.SE
		if gr.Tested {
			r.PairsTested++
		}
		r.Base.N += g.N
		r.Base.WeightedBase += g.SumW
		baseW2 += g.SumW2
	}
	r.Base.SEWeightedBase = seTotal(r.Base.WeightedBase, baseW2, o.NDesign)
	r.Base.NEff = kish(r.Base.WeightedBase, baseW2)
	r.PairsTested = r.PairsTested * (r.PairsTested - 1) / 2
	pairs, marks := compareRow(groups, order, c, o)
	r.Pairs = pairs
	for i := range marks {
		r.Estimates[i] = MeanResult{Mean: m.Groups[i].Mean, SE: m.Groups[i].SE, Marks: marks[i]}
	}
	r.Overall, r.OverallNote = waldMeans(m.Groups, baseN)
	return r, nil
}

// waldMeans is regTermTest(svyglm(y ~ factor(G), des), ~factor(G)) with its
// default Wald method. The group means of a one-stage design are estimates
// over disjoint domains with zero covariance, so the Wald statistic of
// "all equal" is Σ(m_g − m̄)²/se_g² with m̄ the inverse-variance weighted mean
// of the m_g; F = X²/(k−1) on (k−1, n−k) degrees of freedom, n the base (the
// residual degrees of freedom of the glm on the design restricted to it).
// Every group counts, below the minimum base or not, as in R.
func waldMeans(groups []MeanGroup, baseN int64) (*Overall, string) {
	k := len(groups)
	if k < 2 {
		return nil, "the overall test needs at least two groups"
	}
	var sw, swm float64
	for _, g := range groups {
		if g.SE <= 0 {
			return nil, fmt.Sprintf("the overall test cannot be computed: the mean of group %v has no variance", g.Value)
		}
		iv := 1 / (g.SE * g.SE)
		sw += iv
		swm += iv * g.Mean
	}
	mbar := swm / sw
	var x2 float64
	for _, g := range groups {
		d := (g.Mean - mbar) / g.SE
		x2 += d * d
	}
	df1 := float64(k - 1)
	df2 := float64(baseN) - float64(k)
	if df2 <= 0 {
		return nil, "the overall test needs more respondents than groups"
	}
	f := x2 / df1
	return &Overall{
		Test: "Wald F",
		F:    f, DF1: df1, DF2: df2, P: upperF(f, df1, df2),
		ChiSquare: ChiSquare{Test: "Wald chi-square", X2: x2, DF: df1, P: upperChiSquare(x2, df1)},
	}, ""
}

// MeanSums are the one-pass sums from which a weighted mean and its
// standard error follow, over one group or the whole base. A statement can
// return them per group with plain aggregates (no second pass over the rows
// to centre y), and the base's sums are the groups' added up, which is how
// the Total's mean and SE come out of the same statement. Rows where y is
// NULL are left out of every sum, N included.
type MeanSums struct {
	N       int64
	SumW    float64 // Σw
	SumW2   float64 // Σw²
	SumWY   float64 // Σw·y
	SumW2Y  float64 // Σw²·y
	SumW2Y2 float64 // Σw²·y²
}

// Add returns the sums of two disjoint sets of respondents.
func (s MeanSums) Add(t MeanSums) MeanSums {
	return MeanSums{N: s.N + t.N, SumW: s.SumW + t.SumW, SumW2: s.SumW2 + t.SumW2,
		SumWY: s.SumWY + t.SumWY, SumW2Y: s.SumW2Y + t.SumW2Y, SumW2Y2: s.SumW2Y2 + t.SumW2Y2}
}

// Group returns the group's weighted mean and its standard error for a
// design of nDesign respondents: Σw²(y − m)² expands to Σw²y² − 2m·Σw²y +
// m²·Σw². The expansion divides the sums' relative rounding error by about
// the squared coefficient of variation of y: with sums good to 1e-13, a
// measure whose spread is 1% of its mean still gets its SE to 1e-9.
func (s MeanSums) Group(value any, nDesign int64) MeanGroup {
	g := MeanGroup{Value: value, N: s.N, SumW: s.SumW, SumW2: s.SumW2, Mean: math.NaN(), SE: math.NaN()}
	if s.SumW <= 0 || nDesign < 2 {
		return g
	}
	g.Mean = s.SumWY / s.SumW
	ss := s.SumW2Y2 - 2*g.Mean*s.SumW2Y + g.Mean*g.Mean*s.SumW2
	n := float64(nDesign)
	g.SE = math.Sqrt(n/(n-1)*math.Max(0, ss)) / s.SumW
	return g
}
