package render

import (
	"math"
	"testing"
)

func TestNumber(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, "NULL"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"string unchanged", "Mumbai | 1,234", "Mumbai | 1,234"},
		{"empty string", "", ""},

		{"zero", int64(0), "0"},
		{"small int", int64(999), "999"},
		{"thousands", int64(1234), "1,234"},
		{"millions", int64(1234567), "1,234,567"},
		{"year is not special", int64(2024), "2,024"},
		{"negative int", int64(-1234567), "-1,234,567"},
		{"negative three digits", int64(-123), "-123"},
		{"min int64", int64(math.MinInt64), "-9,223,372,036,854,775,808"},
		{"max int64", int64(math.MaxInt64), "9,223,372,036,854,775,807"},
		{"int", 12345, "12,345"},
		{"int32", int32(-40000), "-40,000"},
		{"uint64", uint64(math.MaxUint64), "18,446,744,073,709,551,615"},

		{"integral float", 1234.0, "1,234"},
		{"float with decimals", 12345.678, "12,345.68"},
		{"float rounds up", 1.999, "2.00"},
		{"float keeps two decimals", 2.5, "2.50"},
		{"negative float", -1234.5, "-1,234.50"},
		{"negative zero", math.Copysign(0, -1), "0"},
		{"share below one", 0.5, "0.50"},
		{"four significant digits", 0.123456, "0.1235"},
		{"tiny keeps its digits", 0.000123, "0.000123"},
		{"tiny negative", -0.000123, "-0.000123"},
		{"tiny rounds to four digits", 0.00012345678, "0.0001235"},
		{"just below one rounds to one", 0.99996, "1.00"},
		{"below 1e-6 is scientific", 1.23e-7, "1.23e-07"},
		{"largest plain integer", 999999999999999.0, "999,999,999,999,999"},
		{"huge is scientific", 1.23456e20, "1.235e+20"},
		{"huge negative", -1e300, "-1e+300"},
		{"float32", float32(0.25), "0.25"},
		{"NaN", math.NaN(), "NaN"},
		{"+Inf", math.Inf(1), "Infinity"},
		{"-Inf", math.Inf(-1), "-Infinity"},

		{"bytes", []byte("raw"), "raw"},
		{"other types use fmt", struct{ A int }{7}, "{7}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Number(tt.in); got != tt.want {
				t.Errorf("Number(%#v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
