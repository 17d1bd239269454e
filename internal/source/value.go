package source

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"
)

// Normalize converts a value scanned from a database into one of the types
// [result.Table] allows: nil, bool, int64, float64 or string. typeName is the
// column's lower-case type name. Driver-specific types (decimals, intervals)
// are converted by the source before it calls Normalize; anything else left
// (arrays, maps, JSON documents) becomes its JSON text; it decides how times are written (a date
// column gives 2006-01-02, a timestamp RFC 3339).
func Normalize(v any, typeName string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case float64:
		return finite(x)
	case bool, int64, string:
		return x
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return finite(float64(x))
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case time.Time:
		if strings.HasPrefix(typeName, "date") {
			return x.Format("2006-01-02")
		}
		if strings.Contains(typeName, "with time zone") || strings.HasSuffix(typeName, "tz") {
			return x.Format(time.RFC3339Nano)
		}
		return x.Format("2006-01-02T15:04:05.999999999")
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return fmt.Sprintf("\\x%x", x)
	case [16]byte: // UUID
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// finite returns x, or for NaN and the infinities their names: JSON has no
// number for them, and one such value must not break a whole answer.
func finite(x float64) any {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	return x
}
