// Package surveyfile reads SPSS .sav files through ReadStat: the variables
// with their codebook (variable labels, value labels, user-missing codes,
// measurement levels) and the rows, streamed in batches so that memory
// does not grow with the file.
//
// ReadStat is a C library, used through cgo but loaded with dlopen when the
// first file is read rather than linked: `go build ./...` works on a
// machine without it, and only reading a .sav file needs it installed
// (Debian: libreadstat1). Binding the library, rather than running
// Debian's readstat command, is what gives the measurement levels and
// missing-value ranges (the command prints neither), the byte offset and
// row where a corrupt file broke, and values handed over in batches
// without a text round trip.
package surveyfile

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Options configure Read.
type Options struct {
	// Encoding overrides the character encoding the file declares (an
	// iconv name such as "WINDOWS-1252"); values are returned as UTF-8.
	Encoding string
}

// Header is what a .sav file says about itself.
type Header struct {
	Path string
	// Rows is the number of rows the header announces, -1 when unknown.
	Rows      int64
	Encoding  string
	Label     string
	Variables []Variable
}

// Measure is a variable's SPSS measurement level.
type Measure string

// The measurement levels; MeasureUnknown when the file does not say.
const (
	MeasureUnknown Measure = ""
	Nominal        Measure = "nominal"
	Ordinal        Measure = "ordinal"
	Scale          Measure = "scale"
)

var measures = []Measure{MeasureUnknown, Nominal, Ordinal, Scale}

// Variable is one variable (column) of a .sav file and its codebook.
type Variable struct {
	Index int
	Name  string
	// Label is the variable label, e.g. "Gender of respondent".
	Label string
	// Format is the SPSS print format, e.g. F8.2, A20, DATE11.
	Format  string
	String  bool
	Measure Measure
	Width   int
	// ValueLabels map codes to labels, e.g. 1 → "Male".
	ValueLabels []ValueLabel
	// Missing are the user-missing codes: ranges, with Lo == Hi for a
	// single code.
	Missing  []MissingRange
	labelSet string
}

// Value is a code: a number, or text for string variables.
type Value struct {
	Num   float64
	Str   string
	IsStr bool
}

// String formats a code as SPSS shows it: 2, 2.5, or the text.
func (v Value) String() string {
	if v.IsStr {
		return v.Str
	}
	return strconv.FormatFloat(v.Num, 'f', -1, 64)
}

// ValueLabel is one code of a value-label set.
type ValueLabel struct {
	Value Value
	Label string
}

// MissingRange is a user-missing code (Lo == Hi) or range of codes.
type MissingRange struct {
	Lo, Hi Value
}

// String formats the range: "99" or "997 thru 999".
func (m MissingRange) String() string {
	if m.Lo == m.Hi {
		return m.Lo.String()
	}
	return m.Lo.String() + " thru " + m.Hi.String()
}

// IsMissingNum reports whether x is one of the variable's user-missing
// codes.
func (v *Variable) IsMissingNum(x float64) bool {
	for _, m := range v.Missing {
		if !m.Lo.IsStr && x >= m.Lo.Num && x <= m.Hi.Num {
			return true
		}
	}
	return false
}

// IsMissingStr reports whether s is one of the variable's user-missing
// codes (SPSS compares strings without their trailing blanks).
func (v *Variable) IsMissingStr(s string) bool {
	s = strings.TrimRight(s, " ")
	for _, m := range v.Missing {
		if m.Lo.IsStr && s >= strings.TrimRight(m.Lo.Str, " ") && s <= strings.TrimRight(m.Hi.Str, " ") {
			return true
		}
	}
	return false
}

// Kind is what a variable's values are, from its type and format.
type Kind int

// The kinds of variables.
const (
	KindNumber   Kind = iota
	KindInteger       // a number printed without decimals (F8.0)
	KindDate          // DATE, ADATE, EDATE, SDATE, JDATE, ... formats
	KindDateTime      // DATETIME, YMDHMS
	KindString
)

// Kind returns what the variable's values are.
func (v *Variable) Kind() Kind {
	if v.String {
		return KindString
	}
	name := strings.ToUpper(strings.TrimRightFunc(v.Format, func(r rune) bool { return unicode.IsDigit(r) || r == '.' }))
	switch name {
	case "DATE", "ADATE", "EDATE", "SDATE", "JDATE", "QYR", "MOYR", "WKYR":
		return KindDate
	case "DATETIME", "YMDHMS":
		return KindDateTime
	case "F", "N", "COMMA", "DOT", "DOLLAR", "PCT", "E":
		if _, dec, ok := strings.Cut(v.Format, "."); !ok || dec == "0" {
			return KindInteger
		}
	}
	return KindNumber
}

// Error is a .sav file that could not be read, and where it broke.
type Error struct {
	Path string
	// Reason is ReadStat's reason ("Unable to read from file", ...).
	Reason string
	// Details are ReadStat's own messages, when it gave any.
	Details []string
	// Offset is how far into the file reading got, of Size bytes.
	Offset, Size int64
	// RowsRead is the number of complete rows read; Rows the number the
	// header announced (-1 when unknown).
	RowsRead, Rows int64
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Path, strings.TrimSuffix(e.Reason, "."))
	if len(e.Details) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.TrimSpace(strings.Join(e.Details, "; ")))
	}
	if e.Size == 0 && e.Offset == 0 && e.RowsRead == 0 && e.Rows < 0 {
		return b.String()
	}
	fmt.Fprintf(&b, " at byte %d of %d", e.Offset, e.Size)
	switch {
	case e.Rows >= 0:
		fmt.Fprintf(&b, ", after %d of the %d rows its header announces", e.RowsRead, e.Rows)
	default:
		fmt.Fprintf(&b, ", after %d rows", e.RowsRead)
	}
	b.WriteString(": the file is truncated or corrupt")
	return b.String()
}
