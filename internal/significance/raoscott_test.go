package significance

import (
	"math"
	"testing"
)

// matrix is a dense row-major matrix for the test's independent Rao–Scott.
type matrix struct {
	r, c int
	v    []float64
}

func newMatrix(r, c int) matrix          { return matrix{r, c, make([]float64, r*c)} }
func (m matrix) at(i, j int) float64     { return m.v[i*m.c+j] }
func (m matrix) set(i, j int, x float64) { m.v[i*m.c+j] = x }
func (m matrix) add(i, j int, x float64) { m.v[i*m.c+j] += x }
func diagonal(d []float64) matrix {
	m := newMatrix(len(d), len(d))
	for i, x := range d {
		m.set(i, i, x)
	}
	return m
}
func (m matrix) scale(f float64) matrix {
	out := newMatrix(m.r, m.c)
	for i, x := range m.v {
		out.v[i] = f * x
	}
	return out
}
func (m matrix) sub(o matrix) matrix {
	out := newMatrix(m.r, m.c)
	for i := range m.v {
		out.v[i] = m.v[i] - o.v[i]
	}
	return out
}

func (m matrix) t() matrix {
	out := newMatrix(m.c, m.r)
	for i := 0; i < m.r; i++ {
		for j := 0; j < m.c; j++ {
			out.set(j, i, m.at(i, j))
		}
	}
	return out
}

func (m matrix) mul(o matrix) matrix {
	out := newMatrix(m.r, o.c)
	for i := 0; i < m.r; i++ {
		for k := 0; k < m.c; k++ {
			a := m.at(i, k)
			for j := 0; j < o.c; j++ {
				out.add(i, j, a*o.at(k, j))
			}
		}
	}
	return out
}

// solveM returns A⁻¹B with the package's solver (checked on its own below).
func solveM(t *testing.T, a, b matrix) matrix {
	t.Helper()
	if a.r != a.c || a.r != b.r {
		t.Fatalf("solve %dx%d by %dx%d", a.r, a.c, b.r, b.c)
	}
	n := a.r
	x, ok := solve(a.v, b.v, n, b.c)
	if !ok {
		t.Fatal("singular")
	}
	out := newMatrix(n, b.c)
	for i := 0; i < n; i++ {
		for j := 0; j < b.c; j++ {
			out.set(i, j, x[i*b.c+j])
		}
	}
	return out
}

// TestRaoScott_fromRespondents recomputes svychisq the long way, as the R
// script checks it: the covariance of the cell proportions from every
// respondent's influence values z_i = w_i·(e_k(i) − p)/W, and Cmat as the
// least-squares residual of the interaction columns on the main effects
// (qr.resid(qr(X1), X12)). It shows the package's closed form from per-cell
// Σw and Σw² gives the same covariance and the same F, ndf and ddf: no
// respondent-level data is needed.
func TestRaoScott_fromRespondents(t *testing.T) {
	users := loadUsers(t)
	const nDesign = 2000
	for _, c := range []struct {
		name, rowVar, groupVar string
		keep                   keep
	}{
		{"subscription by town class", "subscription_type", "town_class", nil},
		{"merged NCCS by gender, NULL NCCS left out", "nccs_merged", "gender", func(u user) bool { return u["nccs"] != nil }},
		{"subscription by age group in Tier 1", "subscription_type", "age_group", func(u user) bool { return u["town_class"] == "Tier 1" }},
		{"device by platform, empty cells", "device_type", "platform", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := filter(users, c.keep)
			x := crosstabOf(base, c.rowVar, c.groupVar, Options{NDesign: nDesign})
			r, err := x.Compare()
			if err != nil {
				t.Fatal(err)
			}
			if r.Overall == nil {
				t.Fatal(r.OverallNote)
			}
			nr, nc := len(x.Rows), len(x.Groups)
			k := nr * nc
			rowIdx, groupIdx := map[any]int{}, map[any]int{}
			for i, v := range x.Rows {
				rowIdx[v] = i
			}
			for j, v := range x.Groups {
				groupIdx[v] = j
			}
			// Cell proportions and, per respondent, the influence values.
			var w float64
			pc := make([]float64, k)
			for _, u := range base {
				wt := u["weight"].(float64)
				w += wt
				pc[rowIdx[u[c.rowVar]]*nc+groupIdx[u[c.groupVar]]] += wt
			}
			for i := range pc {
				pc[i] /= w
			}
			v := newMatrix(k, k)
			z := make([]float64, k)
			for _, u := range base {
				wt := u["weight"].(float64)
				cell := rowIdx[u[c.rowVar]]*nc + groupIdx[u[c.groupVar]]
				for a := range z {
					z[a] = -wt * pc[a] / w
				}
				z[cell] += wt / w
				for a := 0; a < k; a++ {
					for b := 0; b < k; b++ {
						v.add(a, b, z[a]*z[b])
					}
				}
			}
			v = v.scale(float64(nDesign) / float64(nDesign-1))

			// The same covariance from the cells' Σw and Σw² alone.
			s2 := make([]float64, k)
			var t2 float64
			for i := 0; i < nr; i++ {
				for j := 0; j < nc; j++ {
					s2[i*nc+j] = x.Cells[i][j].SumW2
					t2 += x.Cells[i][j].SumW2
				}
			}
			scale := float64(nDesign) / float64(nDesign-1) / (w * w)
			var worstV, largest float64
			for a := 0; a < k; a++ {
				for b := 0; b < k; b++ {
					closed := -s2[a]*pc[b] - pc[a]*s2[b] + t2*pc[a]*pc[b]
					if a == b {
						closed += s2[a]
					}
					closed *= scale
					worstV = math.Max(worstV, math.Abs(closed-v.at(a, b)))
					largest = math.Max(largest, math.Abs(v.at(a, b)))
				}
			}
			if worstV > 1e-12*largest {
				t.Errorf("covariance from cell sums differs from the respondent-level one by %.3g (largest entry %.3g)", worstV, largest)
			}

			// Cmat = qr.resid(qr(X1), X12): main effects X1 (intercept,
			// row and column dummies), interaction columns X12.
			x1 := newMatrix(k, 1+(nr-1)+(nc-1))
			q := (nr - 1) * (nc - 1)
			x12 := newMatrix(k, q)
			for i := 0; i < nr; i++ {
				for j := 0; j < nc; j++ {
					cell := i*nc + j
					x1.set(cell, 0, 1)
					if i > 0 {
						x1.set(cell, i, 1)
					}
					if j > 0 {
						x1.set(cell, nr-1+j, 1)
					}
					if i > 0 && j > 0 {
						x12.set(cell, (i-1)*(nc-1)+j-1, 1)
					}
				}
			}
			beta := solveM(t, x1.t().mul(x1), x1.t().mul(x12))
			cm := x12.sub(x1.mul(beta))
			inv := make([]float64, k)
			for i, p := range pc {
				if p > 0 {
					inv[i] = 1 / p
				}
			}
			id := diagonal(inv)
			nn := float64(len(base))
			denom := cm.t().mul(id.scale(1 / nn)).mul(cm)
			numr := cm.t().mul(id).mul(v).mul(id).mul(cm)
			delta := solveM(t, denom, numr)
			var tr, tr2 float64
			for a := 0; a < q; a++ {
				tr += delta.at(a, a)
				for b := 0; b < q; b++ {
					tr2 += delta.at(a, b) * delta.at(b, a)
				}
			}
			d0 := tr * tr / tr2
			o := r.Overall
			for _, f := range []struct {
				what      string
				got, want float64
			}{
				{"ndf", o.DF1, d0},
				{"ddf", o.DF2, d0 * (nn - 1)},
				{"F", o.F, o.ChiSquare.X2 / tr},
				{"mean design effect", o.ChiSquare.MeanDesignEffect, tr / float64(q)},
			} {
				if relDiff(f.got, f.want) > 1e-10 {
					t.Errorf("%s: %.15g, from respondents %.15g", f.what, f.got, f.want)
				}
			}
		})
	}
}

func TestSolve(t *testing.T) {
	a := []float64{4, -2, 1, -2, 4, -2, 1, -2, 4}
	b := []float64{11, 3, 1, -16, 2, 0, 17, 1, 5}
	x, ok := solve(a, b, 3, 3)
	if !ok {
		t.Fatal("singular")
	}
	// A·X must give B back.
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			var s float64
			for k := 0; k < 3; k++ {
				s += a[i*3+k] * x[k*3+j]
			}
			if math.Abs(s-b[i*3+j]) > 1e-12 {
				t.Errorf("(A·X)[%d][%d] = %v, B has %v", i, j, s, b[i*3+j])
			}
		}
	}
	if _, ok := solve([]float64{1, 2, 2, 4}, []float64{1, 0, 0, 1}, 2, 2); ok {
		t.Error("a singular matrix was solved")
	}
	if _, ok := solve([]float64{0, 0, 0, 0}, []float64{1, 0}, 2, 1); ok {
		t.Error("the zero matrix was solved")
	}
}
