package render

import (
	"math"
	"testing"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

func TestColumnFormat_format(t *testing.T) {
	tests := []struct {
		name   string
		col    result.Column
		values []any // the whole column; every value is checked against want
		want   []string
	}{
		{"people are whole", result.Column{Kind: result.KindCount}, []any{125023984.4, 0.4, int64(1796), -0.4},
			[]string{"125,023,984", "0", "1,796", "0"}},
		{"percent: one decimal", result.Column{Kind: result.KindPercent}, []any{33.8123, 100.0, int64(5)},
			[]string{"33.8", "100.0", "5.0"}},
		{"percent: two decimals when a share is below 1", result.Column{Kind: result.KindPercent}, []any{33.8123, 0.0912, 0.0},
			[]string{"33.81", "0.09", "0.00"}},
		{"means", result.Column{Kind: result.KindMean}, []any{1774.4512, 0.28123, 0.0213, 0.0, -2.5, 1e-9},
			[]string{"1,774.45", "0.281", "0.0213", "0", "-2.50", "1e-09"}},
		{"money means have two decimals", result.Column{Kind: result.KindMean, Unit: "₹"}, []any{1774.4512, 0.4567, -12.0},
			[]string{"₹1,774.45", "₹0.46", "-₹12.00"}},
		{"large totals are whole", result.Column{Kind: result.KindTotal, Unit: "₹"}, []any{7.0912345678e10, 99.5},
			[]string{"₹70,912,345,678", "₹100"}},
		{"small totals keep decimals", result.Column{Kind: result.KindTotal}, []any{12.345, 0.5},
			[]string{"12.35", "0.500"}},
		{"ids have no separators", result.Column{Kind: result.KindID}, []any{int64(1796), 20000.0, 1.5, "A-17"},
			[]string{"1796", "20000", "1.50", "A-17"}},
		{"whole amounts", result.Column{Unit: "₹"}, []any{1299.0, 54999.0},
			[]string{"₹1,299", "₹54,999"}},
		{"amounts with paise", result.Column{Unit: "₹"}, []any{1299.0, 0.5},
			[]string{"₹1,299.00", "₹0.50"}},
		{"a currency code goes before", result.Column{Kind: result.KindTotal, Unit: "INR"}, []any{1234.0},
			[]string{"INR 1,234"}},
		{"another unit goes after", result.Column{Kind: result.KindTotal, Unit: "min"}, []any{123456.0},
			[]string{"123,456 min"}},
		{"NULL and NaN are left alone", result.Column{Kind: result.KindCount, Unit: "₹"}, []any{nil, math.NaN(), "n/a"},
			[]string{"NULL", "NaN", "n/a"}},
		{"dates at midnight on PostgreSQL", result.Column{Type: "timestamp with time zone"},
			[]any{"2026-03-01T00:00:00Z", "2026-04-01T00:00:00+05:30", nil},
			[]string{"2026-03-01", "2026-04-01", "NULL"}},
		{"dates at midnight on DuckDB", result.Column{Type: "timestamp"}, []any{"2026-03-01T00:00:00", "2026-04-01T00:00:00"},
			[]string{"2026-03-01", "2026-04-01"}},
		{"dates", result.Column{Type: "date"}, []any{"2026-03-01"}, []string{"2026-03-01"}},
		{"a timestamp column with one time keeps its times", result.Column{Type: "timestamp"},
			[]any{"2026-03-01T00:00:00", "2026-03-01T21:10:00.5"},
			[]string{"2026-03-01 00:00:00", "2026-03-01 21:10:00.5"}},
		{"timestamps with time zone keep their zone", result.Column{Type: "timestamptz"},
			[]any{"2026-03-01T18:30:00Z", "2026-03-01T18:30:00+05:30"},
			[]string{"2026-03-01 18:30:00 UTC", "2026-03-01 18:30:00+05:30"}},
		{"a plain column as before", result.Column{Type: "double precision"}, []any{100.0, 2499.5, int64(3)},
			[]string{"100.00", "2,499.50", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := make([][]any, len(tt.values))
			for i, v := range tt.values {
				rows[i] = []any{v}
			}
			f := columnFormats([]result.Column{tt.col}, rows)[0]
			for i, v := range tt.values {
				if got := Number(f.format(v)); got != tt.want[i] {
					t.Errorf("format(%v) = %q, want %q", v, got, tt.want[i])
				}
			}
		})
	}
}

func TestWithUnit(t *testing.T) {
	tests := []struct{ num, unit, want string }{
		{"1,234", "₹", "₹1,234"},
		{"-1,234", "₹", "-₹1,234"},
		{"1,234", "$", "$1,234"},
		{"1,234", "Rs.", "Rs. 1,234"},
		{"1,234", "USD", "USD 1,234"},
		{"1,234", "kg", "1,234 kg"},
		{"1,234", "", "1,234"},
	}
	for _, tt := range tests {
		if got := withUnit(tt.num, tt.unit); got != tt.want {
			t.Errorf("withUnit(%q, %q) = %q, want %q", tt.num, tt.unit, got, tt.want)
		}
	}
}
