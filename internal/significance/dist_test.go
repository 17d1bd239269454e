package significance

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// relDiff is |a − b| relative to the larger magnitude (0 when both are 0).
func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
}

// TestTails compares the normal, F and chi-square tails with R's pnorm, pf
// and pchisq (testdata/distributions.json, made by distributions.R) down to
// p = 1e-100.
func TestTails(t *testing.T) {
	var ref struct {
		Normal []struct{ Z, P float64 }
		F      []struct{ F, D1, D2, P float64 }
		Chisq  []struct{ X, DF, P float64 }
	}
	data, err := os.ReadFile(filepath.Join("testdata", "distributions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Normal) < 20 || len(ref.F) < 1000 || len(ref.Chisq) < 100 {
		t.Fatalf("reference too small: %d normal, %d F, %d chi-square points", len(ref.Normal), len(ref.F), len(ref.Chisq))
	}
	// R prints 15 significant digits; a p-value's relative sensitivity to
	// its rounded argument stays below 1e-12 over this grid.
	const tol = 1e-10
	for _, c := range ref.Normal {
		if got := twoSidedNormal(c.Z); relDiff(got, c.P) > tol {
			t.Errorf("twoSidedNormal(%v) = %v, R %v (rel %.2g)", c.Z, got, c.P, relDiff(got, c.P))
		}
		if got := twoSidedNormal(-c.Z); relDiff(got, c.P) > tol {
			t.Errorf("twoSidedNormal(%v) = %v, R %v", -c.Z, got, c.P)
		}
	}
	worst := 0.0
	for _, c := range ref.F {
		got := upperF(c.F, c.D1, c.D2)
		// Up to ddf = 1e8 (a panel of a million with d0 = 100) every tail
		// is within 1e-8. Beyond, the continued fraction loses about
		// 6e-18·d2/min(1, d1) and the χ² limit used past maxDenominatorDF
		// is off by about (d1·f)²/d2: 1e-6 still holds down to p = 1e-15,
		// and the far tails are within 1e-5.
		lim := 1e-8
		if c.D2 > 1e8 {
			lim = 1e-6
			if c.P < 1e-15 {
				lim = 1e-5
			}
		} else {
			worst = math.Max(worst, relDiff(got, c.P))
		}
		if relDiff(got, c.P) > lim {
			t.Errorf("upperF(%v, %v, %v) = %v, R %v (rel %.2g)", c.F, c.D1, c.D2, got, c.P, relDiff(got, c.P))
		}
	}
	for _, c := range ref.Chisq {
		got := upperChiSquare(c.X, c.DF)
		worst = math.Max(worst, relDiff(got, c.P))
		if relDiff(got, c.P) > tol {
			t.Errorf("upperChiSquare(%v, %v) = %v, R %v (rel %.2g)", c.X, c.DF, got, c.P, relDiff(got, c.P))
		}
	}
	t.Logf("largest relative difference from R over %d F (ddf up to 1e8) and %d chi-square points: %.2g", len(ref.F), len(ref.Chisq), worst)
}

func TestTails_edges(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"F at 0", upperF(0, 3, 10), 1},
		{"F below 0", upperF(-1, 3, 10), 1},
		{"F at +Inf", upperF(math.Inf(1), 3, 10), 0},
		{"F with infinite ddf is chi-square/df", upperF(2, 4, math.Inf(1)), upperChiSquare(8, 4)},
		{"chi-square at 0", upperChiSquare(0, 4), 1},
		{"chi-square at +Inf", upperChiSquare(math.Inf(1), 4), 0},
		{"chi-square with 2 df is exp(-x/2)", upperChiSquare(30, 2), math.Exp(-15)},
		{"F(1, 1e12) as R has it", upperF(4, 1, 1e12), 0.04550026389662837},
	} {
		if relDiff(c.got, c.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		got  float64
	}{
		{"F with NaN", upperF(math.NaN(), 1, 1)},
		{"F with zero df", upperF(1, 0, 1)},
		{"chi-square with negative df", upperChiSquare(1, -1)},
	} {
		if !math.IsNaN(c.got) {
			t.Errorf("%s: %v, want NaN", c.name, c.got)
		}
	}
}
