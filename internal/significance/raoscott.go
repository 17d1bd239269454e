package significance

import (
	"math"
)

// Overall is a test over all the groups at once: for a crosstab the
// Rao–Scott test of independence, for means the Wald test that all group
// means are equal. Its JSON is significance.overall.
type Overall struct {
	// Test is "Rao-Scott F" (svychisq's default statistic) or "Wald F"
	// (regTermTest on svyglm(y ~ factor(G))).
	Test string  `json:"test" jsonschema:"the overall test: Rao-Scott F (crosstab) or Wald F (means)"`
	F    float64 `json:"f" jsonschema:"the F statistic"`
	DF1  float64 `json:"df1" jsonschema:"numerator degrees of freedom (not a whole number for Rao-Scott)"`
	DF2  float64 `json:"df2" jsonschema:"denominator degrees of freedom"`
	P    float64 `json:"p" jsonschema:"p-value"`
	// ChiSquare is the same test in chi-square form.
	ChiSquare ChiSquare `json:"chisq" jsonschema:"the chi-square form of the test"`
}

// ChiSquare is the chi-square form of an overall test: for a crosstab,
// svychisq(..., statistic = "Chisq"), the Pearson X² divided by the mean
// design effect (Rao–Scott first order) on (r−1)(c−1) degrees of freedom; for
// means, the Wald statistic F·df1 on df1 degrees of freedom.
type ChiSquare struct {
	Test string `json:"test" jsonschema:"Rao-Scott chi-square or Wald chi-square"`
	// X2 is the unadjusted Pearson statistic for a crosstab (what R
	// reports), the Wald statistic for means.
	X2               float64 `json:"x2" jsonschema:"Pearson X² of the weighted table scaled to the base (crosstab) or Wald X² (means)"`
	MeanDesignEffect float64 `json:"mean_design_effect,omitempty" jsonschema:"mean of the design effects (crosstab)"`
	X2Adjusted       float64 `json:"x2_adjusted,omitempty" jsonschema:"X² divided by the mean design effect, the statistic p comes from (crosstab)"`
	DF               float64 `json:"df" jsonschema:"degrees of freedom"`
	P                float64 `json:"p" jsonschema:"p-value"`
}

// raoScott computes svychisq(~R + G, des) with its default statistic "F"
// (Rao–Scott second-order correction) and with statistic = "Chisq", from the
// cells alone. The design covariance of the cell proportions p_k = t_k/W is
// n/(n−1)·Σ_i z_i·z_iᵀ with influence values z_i = w_i·(e_k(i) − p)/W, and as
// each respondent is in exactly one cell k(i) that sum is
//
//	(diag(S2) − S2·pᵀ − p·S2ᵀ + ΣS2·p·pᵀ) / W²,  S2_k = Σw² over cell k,
//
// so per-cell Σw and Σw² suffice. Rows and groups without respondents are
// left out, as svychisq only sees the levels present. It returns nil and the
// reason when the test cannot be computed.
func raoScott(cells [][]Cell, nDesign int64) (*Overall, string) {
	// Rows and columns with respondents.
	var rows, cols []int
	for i, row := range cells {
		var n int64
		for _, c := range row {
			n += c.N
		}
		if n > 0 {
			rows = append(rows, i)
		}
	}
	for j := range cells[0] {
		var n int64
		for _, row := range cells {
			n += row[j].N
		}
		if n > 0 {
			cols = append(cols, j)
		}
	}
	nr, nc := len(rows), len(cols)
	if nr < 2 || nc < 2 {
		return nil, "the test of independence needs at least two row categories and two groups with respondents"
	}
	k := nr * nc
	q := (nr - 1) * (nc - 1)
	// Cell k = a·nc + b holds row rows[a], column cols[b].
	pc := make([]float64, k)
	s2 := make([]float64, k)
	var w, t2 float64
	var baseN int64
	for a, i := range rows {
		for b, j := range cols {
			c := cells[i][j]
			pc[a*nc+b] = c.SumW
			s2[a*nc+b] = c.SumW2
			w += c.SumW
			t2 += c.SumW2
			baseN += c.N
		}
	}
	for i := range pc {
		pc[i] /= w
	}
	nn := float64(baseN)

	// Cmat: the interaction columns of ~rows*cols with the main effects
	// projected out. On the full rc grid that projection is double centring,
	// so column (a, b), a, b ≥ 1, is e_ab − row mean − column mean + grand
	// mean. Any basis of that space gives the same Δ up to similarity, so
	// the same trace and trace of Δ².
	cm := make([]float64, k*q) // cm[cell*q + col]
	for a := 1; a < nr; a++ {
		for b := 1; b < nc; b++ {
			col := (a-1)*(nc-1) + (b - 1)
			for x := 0; x < nr; x++ {
				for y := 0; y < nc; y++ {
					v := 1 / float64(nr*nc)
					if x == a {
						v -= 1 / float64(nc)
					}
					if y == b {
						v -= 1 / float64(nr)
					}
					if x == a && y == b {
						v++
					}
					cm[(x*nc+y)*q+col] = v
				}
			}
		}
	}
	inv := make([]float64, k) // diag(1/p), 0 for an empty cell as svychisq does
	for i, p := range pc {
		if p > 0 {
			inv[i] = 1 / p
		}
	}

	// denom = Cᵀ·diag(1/p)/N·C and numr = Uᵀ·V·U with U = diag(1/p)·C.
	denom := make([]float64, q*q)
	numr := make([]float64, q*q)
	up := make([]float64, q)  // Uᵀ·p
	us2 := make([]float64, q) // Uᵀ·S2
	scale := float64(nDesign) / float64(nDesign-1) / (w * w)
	for cell := 0; cell < k; cell++ {
		row := cm[cell*q : (cell+1)*q]
		for a := 0; a < q; a++ {
			ua := row[a] * inv[cell]
			if ua == 0 {
				continue
			}
			up[a] += ua * pc[cell]
			us2[a] += ua * s2[cell]
			for b := a; b < q; b++ {
				ub := row[b] * inv[cell]
				denom[a*q+b] += ua * row[b] / nn
				numr[a*q+b] += ua * s2[cell] * ub
			}
		}
	}
	for a := 0; a < q; a++ {
		for b := a; b < q; b++ {
			v := numr[a*q+b] - us2[a]*up[b] - up[a]*us2[b] + t2*up[a]*up[b]
			numr[a*q+b], numr[b*q+a] = scale*v, scale*v
			denom[b*q+a] = denom[a*q+b]
		}
	}
	delta, ok := solve(denom, numr, q, q)
	if !ok {
		return nil, "the test of independence cannot be computed: the table's design matrix is singular (empty cells)"
	}
	var tr, tr2 float64
	for a := 0; a < q; a++ {
		tr += delta[a*q+a]
		for b := 0; b < q; b++ {
			tr2 += delta[a*q+b] * delta[b*q+a]
		}
	}
	if !(tr > 0 && tr2 > 0) {
		return nil, "the test of independence cannot be computed: no variance"
	}

	// Pearson X² of the weighted table scaled to the base, as
	// chisq.test(svytable(~R + G, des, Ntotal = n)) computes it.
	rp := make([]float64, nr)
	cp := make([]float64, nc)
	for a := 0; a < nr; a++ {
		for b := 0; b < nc; b++ {
			rp[a] += pc[a*nc+b]
			cp[b] += pc[a*nc+b]
		}
	}
	var x2 float64
	for a := 0; a < nr; a++ {
		for b := 0; b < nc; b++ {
			e := rp[a] * cp[b]
			d := pc[a*nc+b] - e
			x2 += d * d / e
		}
	}
	x2 *= nn

	d0 := tr * tr / tr2
	ddf := d0 * (nn - 1)
	f := x2 / tr
	deff := tr / float64(q)
	return &Overall{
		Test: "Rao-Scott F",
		F:    f, DF1: d0, DF2: ddf,
		P: upperF(f, d0, ddf),
		ChiSquare: ChiSquare{
			Test: "Rao-Scott chi-square",
			X2:   x2, MeanDesignEffect: deff, X2Adjusted: x2 / deff,
			DF: float64(q), P: upperChiSquare(x2/deff, float64(q)),
		},
	}, ""
}

// solve returns X = A⁻¹·B for an n×n matrix A and an n×m matrix B, both
// stored by rows, by Gauss–Jordan elimination with partial pivoting; ok is
// false when A is singular to working precision.
func solve(a, b []float64, n, m int) (x []float64, ok bool) {
	a = append([]float64(nil), a...)
	x = append([]float64(nil), b...)
	var norm float64
	for _, v := range a {
		norm = math.Max(norm, math.Abs(v))
	}
	if norm == 0 {
		return nil, false
	}
	for col := 0; col < n; col++ {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r*n+col]) > math.Abs(a[piv*n+col]) {
				piv = r
			}
		}
		if math.Abs(a[piv*n+col]) <= 1e-12*norm {
			return nil, false
		}
		if piv != col {
			for c := 0; c < n; c++ {
				a[col*n+c], a[piv*n+c] = a[piv*n+c], a[col*n+c]
			}
			for c := 0; c < m; c++ {
				x[col*m+c], x[piv*m+c] = x[piv*m+c], x[col*m+c]
			}
		}
		for r := 0; r < n; r++ {
			if r == col {
				continue
			}
			f := a[r*n+col] / a[col*n+col]
			if f == 0 {
				continue
			}
			for c := col; c < n; c++ {
				a[r*n+c] -= f * a[col*n+c]
			}
			for c := 0; c < m; c++ {
				x[r*m+c] -= f * x[col*m+c]
			}
		}
	}
	for r := 0; r < n; r++ {
		d := a[r*n+r]
		for c := 0; c < m; c++ {
			x[r*m+c] /= d
		}
	}
	return x, true
}
