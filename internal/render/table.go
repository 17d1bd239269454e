package render

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// totalColumn marks the Total rows of a grouped weighted answer.
const totalColumn = "is_total"

// maxPad is the widest a column is padded to. Columns are padded to their
// widest cell as in the seed layout, but one long text cell must not add
// hundreds of spaces to every other row of its column.
const maxPad = 32

// Table renders a Markdown table of rows under cols, in the seed's layout:
// a header row, a plain separator row (|------|), one line per row, cells
// padded to the column's width (at most 32 characters). Cells are escaped
// with the rules of [Cell] and formatted by their column (see the package
// documentation, "Tables and values"): by its Kind and Unit when set
// (people as whole numbers, percentages with fixed decimals, ₹ amounts,
// identifiers without separators), dates at midnight as dates, and
// otherwise with [Number], except that in a column where some float has a
// fractional part, integral floats get two decimals as well (100.00 beside
// 2,499.50). In a row marked is_total, a NULL in a column of labels that
// every Total row leaves NULL (the column the totals roll up) reads
// "Total". A row shorter than cols is padded
// with empty cells; values beyond len(cols) are not shown.
//
// The result is capped at opts.MaxBytes like every answer: when the rows do
// not fit, the table is cut at a row boundary and followed by a truncation
// note. With no columns Table returns "_No columns._".
func Table(cols []result.Column, rows [][]any, opts Options) string {
	opts = opts.normalized()
	if len(cols) == 0 {
		return "_No columns._\n"
	}
	head, body, more := tableParts(cols, rows, opts, display{})
	return fit(opts, func(int) layout {
		return layout{sections: []section{{pre: head, rows: body, more: more}}}
	})
}

// Cell turns one value into the text of a Markdown table cell: formatted
// with [Number]; invalid UTF-8 replaced by U+FFFD; line breaks (\r\n, \n,
// \r, U+0085, U+2028, U+2029), tabs and other control characters replaced by
// one space each (a line break would end the table row); cut to maxCell
// runes with a final "…" (never inside a UTF-8 sequence; maxCell <= 0 means
// 200); and "|" escaped as "\|", with any backslashes right before it
// doubled so that the pipe stays escaped.
func Cell(v any, maxCell int) string {
	if maxCell <= 0 {
		maxCell = defaultMaxCell
	}
	s := Number(v)
	// A rune takes at most 4 bytes, so this prefix still holds more than
	// maxCell runes after flatten: the cut is the same, and a 100 KB value
	// costs no more than a short one.
	if n := 4*maxCell + 16; len(s) > n {
		s = s[:n]
	}
	return escapePipes(cutRunes(flatten(s), maxCell))
}

// flatten makes s valid UTF-8 on one line: line breaks and control
// characters become spaces, "\r\n" counting as one break.
func flatten(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || isBreakOrControl(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			b.WriteByte(' ')
			n = 2
		case isBreakOrControl(r):
			b.WriteByte(' ')
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isBreakOrControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
}

// cutRunes shortens s to at most max runes, the last being "…", when it is
// longer than max runes.
func cutRunes(s string, max int) string {
	if len(s) <= max { // fewer bytes than max means fewer runes too
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			if utf8.RuneCountInString(s[i:]) <= 1 {
				return s // exactly max runes
			}
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// escapePipes escapes every "|" as "\|". Backslashes directly before a pipe
// are doubled first, so the pipe is preceded by an odd number of backslashes
// and no Markdown reader takes it for a column separator.
func escapePipes(s string) string {
	if !strings.Contains(s, "|") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	run := 0 // backslashes written just before the current position
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			run++
		case '|':
			b.WriteString(strings.Repeat(`\`, run)) // double the run
			b.WriteString(`\|`)
			run = 0
			continue
		default:
			run = 0
		}
		b.WriteByte(c)
	}
	return b.String()
}

// tableParts renders the header and separator rows as one string and each
// body row as its own line, so that the byte cap can cut between rows. It
// stops once the rows exceed opts.MaxBytes, since later rows cannot be
// shown, and returns how many rows it left out. Columns are padded to the
// rows it renders.
func tableParts(cols []result.Column, rows [][]any, opts Options, d display) (head string, body []string, more int) {
	shown := make([]int, 0, len(cols)) // the columns shown, in order
	for i := range cols {
		if !d.hide[i] {
			shown = append(shown, i)
		}
	}
	header := make([]string, len(shown))
	width := make([]int, len(shown))
	for k, i := range shown {
		header[k] = Cell(cols[i].Name, opts.MaxCell)
		width[k] = max(1, min(maxPad, utf8.RuneCountInString(header[k])))
	}
	formats := columnFormats(cols, rows)
	rolled := totalColumns(cols, rows, formats, d.groups)
	cells := make([][]string, 0, len(rows))
	size := 0 // bytes of the rows so far, without padding
	for r, row := range rows {
		if size > opts.MaxBytes {
			break // no answer can show this row
		}
		line := make([]string, len(shown))
		for k, i := range shown {
			if i < len(row) {
				v := row[i]
				switch {
				case v == nil && rolled[i] && isTotal(cols, row):
					v = "Total"
				case v == nil && d.blank != nil:
					if text := d.blank(r, i); text != "" {
						v = text
					}
				}
				line[k] = Cell(formats[i].format(v), opts.MaxCell)
				if d.suffix != nil {
					if text := d.suffix(r, i); text != "" {
						line[k] = Cell(Number(formats[i].format(v))+" "+text, opts.MaxCell)
					}
				}
			}
			if w := utf8.RuneCountInString(line[k]); w > width[k] {
				width[k] = min(maxPad, w)
			}
			size += len(line[k]) + 3
		}
		cells = append(cells, line)
	}

	var b strings.Builder
	writeRow(&b, header, width)
	b.WriteByte('|')
	for _, w := range width {
		b.WriteString(strings.Repeat("-", w+2))
		b.WriteByte('|')
	}
	b.WriteByte('\n')
	head = b.String()

	body = make([]string, len(cells))
	for r, line := range cells {
		b.Reset()
		writeRow(&b, line, width)
		body[r] = b.String()
	}
	return head, body, len(rows) - len(cells)
}

// totalColumns reports, per column, whether the Total rows (is_total,
// the totals of a grouped weighted answer) roll it up: a column of labels
// that is NULL in every Total row. Its NULL there reads "Total"; a NULL
// that is a group of its own (the NCCS class of panelists who declined)
// stays NULL, in a Total row too, since some other Total row has a label
// in that column.
//
// When the grouping columns are known (groups), they are the candidates, text
// or not (a Total of ages rolls up a number); otherwise the text columns are.
func totalColumns(cols []result.Column, rows [][]any, formats []columnFormat, groups map[int]bool) []bool {
	rolled := make([]bool, len(cols))
	found := false
	for i := range cols {
		rolled[i] = formats[i].label
		if len(groups) > 0 {
			rolled[i] = groups[i]
		}
	}
	for _, row := range rows {
		if !isTotal(cols, row) {
			continue
		}
		found = true
		for i := range cols {
			if i < len(row) && row[i] != nil {
				rolled[i] = false
			}
		}
	}
	if !found {
		return make([]bool, len(cols))
	}
	return rolled
}

// isTotal reports whether row is marked as a Total row.
func isTotal(cols []result.Column, row []any) bool {
	for i, c := range cols {
		if c.Name == totalColumn && i < len(row) {
			return row[i] == true
		}
	}
	return false
}

// isPlainInteger reports whether [Number] prints f like an integer.
func isPlainInteger(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) < 1e15
}

func writeRow(b *strings.Builder, cells []string, width []int) {
	b.WriteByte('|')
	for i, c := range cells {
		b.WriteByte(' ')
		b.WriteString(c)
		if pad := width[i] - utf8.RuneCountInString(c); pad > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteString(" |")
	}
	b.WriteByte('\n')
}

// Cells formats every cell of r as the Markdown table does: by the
// column's kind, unit and decimals, "Total" in the grouping columns of a
// Total row, each cut to maxCell runes. Other views of the same answer (the
// admin console's table) use it, so a figure reads the same everywhere.
func Cells(r result.Result, maxCell int) [][]string {
	formats := columnFormats(r.Columns, r.Rows)
	rolled := totalColumns(r.Columns, r.Rows, formats, displayOf(r).groups)
	out := make([][]string, len(r.Rows))
	for j, row := range r.Rows {
		line := make([]string, len(r.Columns))
		for i := range r.Columns {
			if i >= len(row) {
				continue
			}
			v := row[i]
			if v == nil && rolled[i] && isTotal(r.Columns, row) {
				v = "Total"
			}
			line[i] = Cell(formats[i].format(v), maxCell)
		}
		out[j] = line
	}
	return out
}
