package demo

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"time"
)

// Default values used for the zero fields of [Options].
const (
	DefaultUsers = 20000
	DefaultSeed  = uint64(0x6d637061_6e616c79) // "mcpanaly"
)

// MaxUsers bounds [Options].Users: larger values are cut to it, so a typo
// cannot exhaust memory: all rows are held in memory, about 4 KB a panelist.
const MaxUsers = 1000000

// DefaultAnchor returns the anchor date used when [Options].Anchor is zero,
// 2026-06-30.
func DefaultAnchor() time.Time {
	return time.Date(2026, time.June, 30, 0, 0, 0, 0, time.UTC)
}

// Options control the generated panel. The same Options always give the
// same data, value for value.
type Options struct {
	Users  int       // panelists in dataset 1; 0 means 20000 (dataset 2 gets a quarter); at most MaxUsers
	Seed   uint64    // 0 means a fixed default seed
	Anchor time.Time // last day of the data period (date part used); zero means 2026-06-30
}

// withDefaults returns o with its zero fields filled in and the anchor
// truncated to a UTC midnight carrying the anchor's own calendar date.
func (o Options) withDefaults() Options {
	if o.Users <= 0 {
		o.Users = DefaultUsers
	}
	o.Users = min(o.Users, MaxUsers)
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Anchor.IsZero() {
		o.Anchor = DefaultAnchor()
	}
	y, m, d := o.Anchor.Date()
	o.Anchor = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return o
}

// Dataset is one generated demo dataset.
type Dataset struct {
	Name        string // "Sample Dataset", "Streaming Panel"
	Description string
	Tables      []Table
	// Examples are questions with SQL that runs on this dataset as written,
	// suitable for documentation and for the progressive context.
	Examples []Example
}

// Example is a labelled SQL query that runs on its dataset as written.
type Example struct {
	Label string
	SQL   string
}

// Table is one table of a dataset with all of its rows.
type Table struct {
	Name        string
	Description string
	Columns     []Column // Name, SQL type (portable to PostgreSQL and DuckDB), Description
	// PrimaryKey names the primary-key column, or is empty for a table
	// without one (app_usage).
	PrimaryKey string
	Rows       [][]any // values: int32, float64, string, time.Time (dates and timestamps), nil
}

// Column describes one column of a [Table].
type Column struct {
	Name string
	// Type is an SQL type name both PostgreSQL and DuckDB accept, one of the
	// Type* constants.
	Type        string
	Description string
	// Unit is the unit of the column's values for the data dictionary: "₹"
	// for the money columns.
	Unit string
	// Nullable reports whether the column may hold NULL; all others are
	// declared NOT NULL.
	Nullable bool
}

// SQL types used by the demo tables. Each is spelled so that PostgreSQL and
// DuckDB both accept it.
const (
	TypeInteger   = "integer"          // Go int32
	TypeDouble    = "double precision" // Go float64
	TypeText      = "text"             // Go string
	TypeMoney     = "numeric(12,2)"    // Go float64 holding a whole number of paise
	TypeAmount    = "numeric(10,2)"    // Go float64 holding a whole number of paise
	TypeDate      = "date"             // Go time.Time at UTC midnight
	TypeTimestamp = "timestamp"        // Go time.Time in UTC, read as wall-clock time
)

// Table returns the table of d named name, and whether it exists.
func (d Dataset) Table(name string) (Table, bool) {
	for _, t := range d.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// RowCount returns the number of rows across all tables of d.
func (d Dataset) RowCount() int {
	n := 0
	for _, t := range d.Tables {
		n += len(t.Rows)
	}
	return n
}

// Checksum returns a hex SHA-256 digest of every table, column and value of
// d. Equal checksums mean byte-identical data, so a caller can tell whether
// a stored copy of the demo data is still the one Generate would produce.
func (d Dataset) Checksum() string {
	h := sha256.New()
	writeString(h, d.Name)
	for _, t := range d.Tables {
		writeString(h, t.Name)
		for _, c := range t.Columns {
			writeString(h, c.Name)
			writeString(h, c.Type)
		}
		for _, row := range t.Rows {
			for _, v := range row {
				writeValue(h, v)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeString(h hash.Hash, s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

func writeValue(h hash.Hash, v any) {
	var b [9]byte
	switch v := v.(type) {
	case nil:
		b[0] = 0
		h.Write(b[:1])
	case int32:
		b[0] = 1
		binary.LittleEndian.PutUint64(b[1:], uint64(v))
		h.Write(b[:])
	case float64:
		b[0] = 2
		binary.LittleEndian.PutUint64(b[1:], math.Float64bits(v))
		h.Write(b[:])
	case string:
		b[0] = 3
		h.Write(b[:1])
		writeString(h, v)
	case time.Time:
		b[0] = 4
		binary.LittleEndian.PutUint64(b[1:], uint64(v.UnixNano()))
		h.Write(b[:])
	default:
		b[0] = 5
		h.Write(b[:1])
		writeString(h, fmt.Sprintf("%T:%v", v, v))
	}
}

// Generate returns both demo datasets, dataset 1 ("Sample Dataset") first.
// Each dataset draws from its own random stream, so changing one never
// changes the other.
func Generate(opts Options) []Dataset {
	opts = opts.withDefaults()
	return []Dataset{
		generateSmartphone(opts),
		generateStreaming(opts),
	}
}
