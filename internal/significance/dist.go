package significance

import "math"

// The tails below are what R's pnorm, pf and pchisq give with
// lower.tail = FALSE. They are computed for the p-values of the tests, where
// small values matter: each tail is evaluated directly (never as 1 − a value
// close to 1), so a p of 1e-12 keeps about ten significant digits. The
// reference values in testdata/distributions.json come from R.

// twoSidedNormal returns 2·P(Z > |z|) for a standard normal Z: R's
// 2 * pnorm(-abs(z)).
func twoSidedNormal(z float64) float64 {
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// upperF returns P(X > f) for X ~ F(d1, d2): R's pf(f, d1, d2,
// lower.tail = FALSE). d1 and d2 need not be whole numbers (the Rao–Scott
// test's are not). It is NaN when the continued fraction does not converge.
func upperF(f, d1, d2 float64) float64 {
	switch {
	case math.IsNaN(f) || math.IsNaN(d1) || math.IsNaN(d2) || d1 <= 0 || d2 <= 0:
		return math.NaN()
	case f <= 0:
		return 1
	case math.IsInf(f, 1):
		return 0
	case d2 > maxDenominatorDF:
		return upperChiSquare(d1*f, d1)
	}
	// P(X > f) = I_x(d2/2, d1/2) with x = d2/(d2 + d1·f); 1 − x is formed
	// directly so that neither end loses digits to cancellation.
	den := d2 + d1*f
	return regBeta(d2/2, d1/2, d2/den, d1*f/den)
}

// maxDenominatorDF is where upperF switches to the limit F(d1, ∞) = χ²(d1)/d1.
// The continued fraction's relative error grows with d2 (about 6e-18·d2, more
// when d1 < 2: its partial numerators approach −1 and carry their rounding),
// while the limit's shrinks as (d1·f)²/d2: around 1e10 both are near 1e-7 for
// p-values down to 1e-10. A Rao–Scott ddf is d0·(n−1), far below for any
// panel we serve (testdata/distributions.json checks both sides).
const maxDenominatorDF = 1e10

// upperChiSquare returns P(X > x) for X ~ χ²(df): R's pchisq(x, df,
// lower.tail = FALSE).
func upperChiSquare(x, df float64) float64 {
	switch {
	case math.IsNaN(x) || math.IsNaN(df) || df <= 0:
		return math.NaN()
	case x <= 0:
		return 1
	case math.IsInf(x, 1):
		return 0
	}
	return upperGamma(df/2, x/2)
}

const (
	// epsCF stops a series or continued fraction once a term changes the
	// result by less than this relative amount.
	epsCF = 1e-15
	// tinyCF keeps the modified Lentz recurrences away from division by zero.
	tinyCF = 1e-300
	// maxIterCF bounds the iterations; the beta continued fraction needs
	// about √max(a, b) of them, so this covers a and b up to 1e12.
	maxIterCF = 2_000_000
)

// regBeta returns the regularized incomplete beta function I_x(a, b), with
// y = 1 − x passed separately (computed by the caller without cancellation).
// The continued fraction converges fast only for x < (a+1)/(a+b+2); above
// that, I_x(a, b) = 1 − I_y(b, a) is used, whose value is then not small, so
// the subtraction costs no relative precision.
func regBeta(a, b, x, y float64) float64 {
	switch {
	case x <= 0:
		return 0
	case y <= 0:
		return 1
	}
	if x > (a+1)/(a+b+2) {
		return 1 - regBeta(b, a, y, x)
	}
	cf := betaCF(a, b, x, y)
	if math.IsNaN(cf) {
		return math.NaN()
	}
	// x^a·y^b / (a·B(a, b)), in logarithms: the powers alone underflow for
	// the degrees of freedom of a large panel.
	return math.Exp(a*logOf(x, y)+b*logOf(y, x)-logBeta(a, b)) / a * cf
}

// logOf returns log x given also y = 1 − x. Near 1, log x is tiny and the
// rounding of x itself would dominate it (multiplied by a = ddf/2, which is
// millions, that is a relative error of 1e-9 in the p-value), so it is taken
// as log1p(−y) from the small, accurately known y.
func logOf(x, y float64) float64 {
	if x > 0.5 {
		return math.Log1p(-y)
	}
	return math.Log(x)
}

// betaCF evaluates the continued fraction of the incomplete beta function,
//
//	I_x(a, b) = x^a·(1−x)^b / (a·B(a, b)) · 1/(1+ d₁/(1+ d₂/(1+ …)))
//	d_{2m+1} = −(a+m)(a+b+m)·x / ((a+2m)(a+2m+1))
//	d_{2m}   = m(b−m)·x / ((a+2m−1)(a+2m))
//
// by the modified Lentz method. It returns NaN when it does not converge.
func betaCF(a, b, x, y float64) float64 {
	// Start from the first convergent 1/(1 + d₁). With a in the millions
	// and x close to 1, 1 + d₁ = 1 − (a+b)x/(a+1) is a small difference of
	// two numbers near 1; written as ((1−b)x + (a+1)y)/(a+1) it keeps its
	// digits.
	c := 1.0
	d := ((1-b)*x + (a+1)*y) / (a + 1)
	if math.Abs(d) < tinyCF {
		d = tinyCF
	}
	d = 1 / d
	f := d
	for m := 1; m <= maxIterCF; m++ {
		fm := float64(m)
		// Even step d_{2m}.
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d = 1 + num*d
		if math.Abs(d) < tinyCF {
			d = tinyCF
		}
		c = 1 + num/c
		if math.Abs(c) < tinyCF {
			c = tinyCF
		}
		d = 1 / d
		f *= d * c
		// Odd step d_{2m+1}.
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d = 1 + num*d
		if math.Abs(d) < tinyCF {
			d = tinyCF
		}
		c = 1 + num/c
		if math.Abs(c) < tinyCF {
			c = tinyCF
		}
		d = 1 / d
		delta := d * c
		f *= delta
		if math.Abs(delta-1) < epsCF {
			return f
		}
	}
	return math.NaN()
}

// logBeta returns log B(a, b) = lgamma(a) + lgamma(b) − lgamma(a+b). When the
// arguments are large, those three terms are huge and nearly cancel (with
// 5 million denominator degrees of freedom each is about 7e7), so the
// Stirling form is used instead: only the small remainders of Stirling's
// series are subtracted.
func logBeta(a, b float64) float64 {
	p, q := math.Min(a, b), math.Max(a, b)
	switch {
	case p >= 10:
		// Both large: log B = ½log(2π) − ½log q + (p−½)·log(p/(p+q)) +
		// q·log(1 − p/(p+q)) + ω(p) + ω(q) − ω(p+q).
		r := p / (p + q)
		return 0.5*math.Log(2*math.Pi) - 0.5*math.Log(q) + (p-0.5)*math.Log(r) + q*math.Log1p(-r) +
			stirlingRemainder(p) + stirlingRemainder(q) - stirlingRemainder(p+q)
	case q >= 10:
		// Only q large: lgamma(q) − lgamma(p+q) in Stirling form.
		lp, _ := math.Lgamma(p)
		return lp + stirlingRemainder(q) - stirlingRemainder(p+q) + p - p*math.Log(p+q) +
			(q-0.5)*math.Log1p(-p/(p+q))
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

// stirlingRemainder returns ω(x) = lgamma(x) − ((x−½)·log x − x + ½·log(2π))
// for x ≥ 10, from Stirling's series; the first omitted term is below 2e-14.
func stirlingRemainder(x float64) float64 {
	x2 := 1 / (x * x)
	return (1.0/12 - x2*(1.0/360-x2*(1.0/1260-x2*(1.0/1680-x2*(1.0/1188))))) / x
}

// upperGamma returns the regularized upper incomplete gamma function
// Q(a, x) = Γ(a, x)/Γ(a). Below x = a+1 the series of P = 1 − Q converges
// fast and P is at most about ½, so Q = 1 − P keeps its digits; above it the
// continued fraction gives Q directly, however small.
func upperGamma(a, x float64) float64 {
	lga, _ := math.Lgamma(a)
	front := math.Exp(-x + a*math.Log(x) - lga)
	if x < a+1 {
		// P(a, x) = front · Σ_{n≥0} x^n / (a(a+1)…(a+n)).
		term := 1 / a
		sum := term
		for n := 1; n <= maxIterCF; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*epsCF {
				return 1 - front*sum
			}
		}
		return math.NaN()
	}
	// Q(a, x) = front · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))),
	// by the modified Lentz method.
	bn := x + 1 - a
	c := 1 / tinyCF
	d := 1 / bn
	f := d
	for i := 1; i <= maxIterCF; i++ {
		an := -float64(i) * (float64(i) - a)
		bn += 2
		d = an*d + bn
		if math.Abs(d) < tinyCF {
			d = tinyCF
		}
		c = bn + an/c
		if math.Abs(c) < tinyCF {
			c = tinyCF
		}
		d = 1 / d
		delta := d * c
		f *= delta
		if math.Abs(delta-1) < epsCF {
			return front * f
		}
	}
	return math.NaN()
}
