package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Number formats one result value the way tables show it:
//
//   - nil is NULL; bools are true and false; strings are returned unchanged.
//   - Integers get thousands separators: 1234 is 1,234 (years too: 2,024).
//   - A float64 that is an exact integer below 1e15 in magnitude prints like
//     an integer (1234.0 is 1,234), so counts that arrive as floats read as
//     counts.
//   - Other floats of magnitude at least 1 get two decimals (12,345.68).
//   - Floats of magnitude below 1 keep 4 significant digits and at least two
//     decimals (0.50, 0.1235, 0.000123), so small shares never collapse to
//     0.00; below 1e-6 they use scientific notation (1.23e-07), as do
//     magnitudes of 1e15 and above (1.235e+20).
//   - NaN, +Inf and -Inf print as NaN, Infinity and -Infinity; negative zero
//     prints as 0.
//
// Number does not escape Markdown; [Table] does that for every cell.
func Number(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	case int64:
		return groupDigits(strconv.FormatInt(x, 10))
	case int:
		return groupDigits(strconv.FormatInt(int64(x), 10))
	case int32:
		return groupDigits(strconv.FormatInt(int64(x), 10))
	case int16:
		return groupDigits(strconv.FormatInt(int64(x), 10))
	case int8:
		return groupDigits(strconv.FormatInt(int64(x), 10))
	case uint64:
		return groupDigits(strconv.FormatUint(x, 10))
	case uint:
		return groupDigits(strconv.FormatUint(uint64(x), 10))
	case uint32:
		return groupDigits(strconv.FormatUint(uint64(x), 10))
	case uint16:
		return groupDigits(strconv.FormatUint(uint64(x), 10))
	case uint8:
		return groupDigits(strconv.FormatUint(uint64(x), 10))
	case float64:
		return formatFloat(x)
	case float32:
		return formatFloat(float64(x))
	case []byte:
		return string(x)
	default:
		return fmt.Sprint(x)
	}
}

// formatFloat implements the float rules documented on [Number].
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0" // also negative zero
	}
	a := math.Abs(f)
	switch {
	case a >= 1e15 || a < 1e-6:
		return scientific(f)
	case f == math.Trunc(f):
		return groupDigits(strconv.FormatFloat(f, 'f', 0, 64))
	case a >= 1:
		return groupDigits(strconv.FormatFloat(f, 'f', 2, 64))
	}
	// Round to 4 significant digits, then print the shortest decimal form of
	// the rounded value, padded to at least two decimals.
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'e', 3, 64), 64)
	if err != nil {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	s := strconv.FormatFloat(r, 'f', -1, 64)
	dot := strings.IndexByte(s, '.')
	switch {
	case dot < 0: // rounded up to ±1
		s += ".00"
	case len(s)-dot-1 < 2:
		s += strings.Repeat("0", 2-(len(s)-dot-1))
	}
	return s
}

// scientific prints f with 4 significant digits in exponent form, dropping
// trailing zeros of the mantissa: 1.23e-07, 1.235e+20.
func scientific(f float64) string {
	s := strconv.FormatFloat(f, 'e', 3, 64)
	e := strings.IndexByte(s, 'e')
	if e < 0 {
		return s
	}
	mant := strings.TrimRight(s[:e], "0")
	mant = strings.TrimSuffix(mant, ".")
	return mant + s[e:]
}

// groupDigits inserts thousands separators into the integer part of a
// decimal number such as "-1234567.89", giving "-1,234,567.89".
func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	if len(intPart) <= 3 {
		return sign + intPart + frac
	}
	var b strings.Builder
	b.Grow(len(sign) + len(intPart) + len(intPart)/3 + len(frac))
	b.WriteString(sign)
	head := len(intPart) % 3
	if head > 0 {
		b.WriteString(intPart[:head])
	}
	for i := head; i < len(intPart); i += 3 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	b.WriteString(frac)
	return b.String()
}
