package render

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// A columnFormat is how the cells of one column are written. It is decided
// once per table from the column's kind, unit and type and from all of its
// values, so a column reads the same from top to bottom (fixed decimals, a
// date column that is all dates).
type columnFormat struct {
	kind result.Kind
	unit string
	// percentDecimals is the fixed number of decimals of a percent column.
	percentDecimals int
	// whole prints a total (or an amount) without decimals.
	whole bool
	// temporal is a date or timestamp column; dateOnly when every value
	// is at midnight, which then prints as a date (2026-03-01).
	temporal, dateOnly bool
	// decimals: a plain column where some float has a fractional part
	// prints integral floats with two decimals too (100.00 beside 2,499.50).
	decimals bool
	// label: every value is text (a category, a date): the column names
	// groups, and a Total row's NULL in it reads "Total".
	label bool
}

// columnFormats decides the format of every column from its description
// and its values.
func columnFormats(cols []result.Column, rows [][]any) []columnFormat {
	out := make([]columnFormat, len(cols))
	for i, c := range cols {
		f := columnFormat{kind: c.Kind, unit: strings.TrimSpace(c.Unit), temporal: isTemporalType(c.Type)}
		f.dateOnly = f.temporal
		f.label = c.Kind == ""
		var (
			fractional, small bool
			largest           float64
		)
		for _, row := range rows {
			if i >= len(row) || row[i] == nil {
				continue
			}
			if _, text := row[i].(string); !text {
				f.label = false
			}
			if f.temporal {
				s, ok := row[i].(string)
				if !ok || !atMidnight(s) {
					f.dateOnly = false
				}
				continue
			}
			x, ok := result.Float(row[i])
			if !ok || math.IsInf(x, 0) {
				continue
			}
			if x != math.Trunc(x) {
				fractional = true
			}
			if a := math.Abs(x); a != 0 && a < 1 {
				small = true
			}
			largest = max(largest, math.Abs(x))
		}
		f.decimals = fractional
		switch f.kind {
		case result.KindPercent:
			// One decimal (41.2); two when the column holds shares below
			// 1 %, which one decimal would flatten to 0.0 or 0.5.
			f.percentDecimals = 1
			if small {
				f.percentDecimals = 2
			}
		case result.KindTotal:
			// A total in the hundreds or more reads as a whole amount:
			// the decimals of a projected sum are noise.
			f.whole = largest >= 100
		case "":
			// A raw amount: whole when every value is whole (prices in
			// rupees), else with its paise.
			f.whole = !fractional
		}
		out[i] = f
	}
	return out
}

// format writes one value of the column; strings other than dates, NULL
// and booleans are left to [Number].
func (f columnFormat) format(v any) any {
	if v == nil {
		return v
	}
	if f.temporal {
		if s, ok := v.(string); ok {
			return formatTime(s, f.dateOnly)
		}
		return v
	}
	x, ok := result.Float(v)
	if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
		return v
	}
	_, isInt := v.(int64)
	switch f.kind {
	case result.KindID:
		if isInt || (x == math.Trunc(x) && math.Abs(x) < 1e15) {
			return strconv.FormatFloat(x, 'f', 0, 64)
		}
		return v
	case result.KindCount:
		return withUnit(fixed(x, 0), f.unit)
	case result.KindPercent:
		return withUnit(fixed(x, f.percentDecimals), f.unit)
	case result.KindMean:
		if f.unit != "" && isMoney(f.unit) {
			return withUnit(fixed(x, 2), f.unit)
		}
		return withUnit(mean(x), f.unit)
	case result.KindTotal:
		if f.whole {
			return withUnit(fixed(x, 0), f.unit)
		}
		if f.unit != "" && isMoney(f.unit) {
			return withUnit(fixed(x, 2), f.unit)
		}
		return withUnit(mean(x), f.unit)
	}
	if f.unit != "" && isMoney(f.unit) {
		if f.whole {
			return withUnit(fixed(x, 0), f.unit)
		}
		return withUnit(fixed(x, 2), f.unit)
	}
	s := Number(v)
	if fl, ok := v.(float64); ok && f.decimals && isPlainInteger(fl) {
		s = fixed(fl, 2)
	}
	return withUnit(s, f.unit)
}

// fixed writes x with d decimals and thousands separators, never "-0".
func fixed(x float64, d int) string {
	s := strconv.FormatFloat(x, 'f', d, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return groupDigits(s)
}

// mean writes a mean or a standard error: two decimals from 1 up
// (1,774.45), three significant digits below (0.534, 0.0213), so a small
// mean or standard error keeps its precision.
func mean(x float64) string {
	a := math.Abs(x)
	switch {
	case a == 0:
		return "0"
	case a >= 1:
		return fixed(x, 2)
	case a < 1e-6:
		return scientific(x)
	}
	return strconv.FormatFloat(x, 'f', 2-int(math.Floor(math.Log10(a))), 64)
}

// withUnit puts a unit beside a number: a currency symbol before it
// (₹1,234, -₹1,234), a currency code or "Rs." before it with a space (INR
// 1,234), any other unit after it (1,234 min).
func withUnit(num, unit string) string {
	if unit == "" {
		return num
	}
	switch {
	case isSymbol(unit):
		if rest, neg := strings.CutPrefix(num, "-"); neg {
			return "-" + unit + rest
		}
		return unit + num
	case isMoney(unit):
		return unit + " " + num
	}
	return num + " " + unit
}

// isMoney reports whether unit names a currency: a currency symbol, a
// three-letter code (INR, USD) or Rs./Rs.
func isMoney(unit string) bool {
	if isSymbol(unit) {
		return true
	}
	switch strings.TrimSuffix(unit, ".") {
	case "Rs", "rs":
		return true
	}
	if len(unit) == 3 {
		for _, r := range unit {
			if r < 'A' || r > 'Z' {
				return false
			}
		}
		return true
	}
	return false
}

// isSymbol reports whether unit is made of currency symbols (₹, $, €, US$
// is not: it holds letters).
func isSymbol(unit string) bool {
	if unit == "" {
		return false
	}
	for _, r := range unit {
		if !unicode.Is(unicode.Sc, r) {
			return false
		}
	}
	return true
}

// isTemporalType reports a date or timestamp type name as PostgreSQL and
// DuckDB spell them (date, timestamp, timestamp with time zone,
// timestamptz, timestamp_ns...).
func isTemporalType(t string) bool {
	t = strings.ToLower(t)
	return t == "date" || strings.HasPrefix(t, "timestamp")
}

// Layouts in which the source layer writes times (source.Normalize).
var timeLayouts = []string{"2006-01-02", "2006-01-02T15:04:05.999999999", time.RFC3339Nano}

func parseTime(s string) (time.Time, string, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, l, true
		}
	}
	return time.Time{}, "", false
}

// atMidnight reports whether s is a date, or a time at 00:00:00 in its own
// zone (date_trunc('month', d) is a date on DuckDB and a timestamp with time
// zone on PostgreSQL; both are the first day of a month).
func atMidnight(s string) bool {
	t, _, ok := parseTime(s)
	return ok && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// formatTime writes a date as 2026-03-01 and a timestamp as
// 2026-03-01 14:05:09 (fractions when present; the offset of a timestamp
// with time zone, or UTC). Text that is no time is returned unchanged.
func formatTime(s string, dateOnly bool) string {
	t, layout, ok := parseTime(s)
	if !ok {
		return s
	}
	if dateOnly || layout == "2006-01-02" {
		return t.Format("2006-01-02")
	}
	out := t.Format("2006-01-02 15:04:05.999999999")
	if layout == time.RFC3339Nano {
		if _, off := t.Zone(); off == 0 {
			out += " UTC"
		} else {
			out += t.Format("-07:00")
		}
	}
	return out
}
