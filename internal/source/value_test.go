package source

import (
	"math"
	"math/big"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	day := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   any
		typ  string
		want any
	}{
		{"nil", nil, "text", nil},
		{"int32", int32(7), "integer", int64(7)},
		{"float32", float32(1.5), "real", 1.5},
		{"NaN becomes its name", math.NaN(), "double precision", "NaN"},
		{"infinity becomes its name", math.Inf(1), "double precision", "Infinity"},
		{"minus infinity", math.Inf(-1), "double", "-Infinity"},
		{"date", day, "date", "2026-01-02"},
		{"timestamp", day, "timestamp without time zone", "2026-01-02T15:04:05"},
		{"huge integer", new(big.Int).Lsh(big.NewInt(1), 70), "hugeint", 1180591620717411303424.0},
		{"bytes", []byte("abc"), "bytea", "abc"},
		{"json document", map[string]any{"a": 1}, "jsonb", `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in, tt.typ); got != tt.want {
				t.Errorf("Normalize(%v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}
