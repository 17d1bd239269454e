package render

import (
	"fmt"
	"sort"
	"strings"
)

const (
	defaultMaxCell  = 200
	defaultMaxBytes = 256 << 10
	// minMaxBytes is the smallest byte cap honoured: below it even the
	// truncation note would not fit.
	minMaxBytes = 512
	// shortText is how many bytes of each free text (query, SQL, error,
	// note, label) are kept when an answer does not fit its byte cap even
	// without rows.
	shortText = 1024
)

// Options controls rendering. The zero value gives the defaults.
type Options struct {
	// MaxCell is how many characters (runes) a cell may have before it is
	// cut with "…"; 0 means 200.
	MaxCell int
	// MaxBytes caps the size of one answer in bytes; 0 means 256 KiB
	// (262144). Values below 512 are raised to 512. When an answer would be
	// larger, it is cut at a row boundary and ends with a note saying how
	// many rows are shown.
	MaxBytes int
}

func (o Options) normalized() Options {
	if o.MaxCell <= 0 {
		o.MaxCell = defaultMaxCell
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	o.MaxBytes = max(o.MaxBytes, minMaxBytes)
	return o
}

// A layout is an answer split into the parts the byte cap may drop: the
// rows of each section. Everything else is kept.
type layout struct {
	head     string // before the first section
	sections []section
	sep      string // between sections
	tail     string // after the last section
	// multi selects the wording of the truncation notes and adds a note to
	// each section whose rows were cut.
	multi bool
}

// A section is one result: the text before its table rows (headings, the
// header line, the table header), its rows, each a line of its own, and the
// text after them (notes, SQL).
type section struct {
	pre  string
	rows []string
	more int // rows left out before rendering: they could never fit
	post string
}

func (s section) total() int { return len(s.rows) + s.more }

// text renders the layout with the first shown[i] rows of section i; a nil
// shown means all rows.
func (l layout) text(shown []int, note string) string {
	var b strings.Builder
	b.WriteString(l.head)
	for i, s := range l.sections {
		if i > 0 {
			b.WriteString(l.sep)
		}
		b.WriteString(s.pre)
		k := len(s.rows)
		if shown != nil {
			k = shown[i]
		}
		for _, r := range s.rows[:k] {
			b.WriteString(r)
		}
		if k < s.total() && l.multi {
			b.WriteString(sectionNote(k, s.total()))
		}
		b.WriteString(s.post)
	}
	b.WriteString(l.tail)
	b.WriteString(note)
	return b.String()
}

func (l layout) totalRows() int {
	n := 0
	for _, s := range l.sections {
		n += s.total()
	}
	return n
}

// complete reports whether every row was rendered.
func (l layout) complete() bool {
	for _, s := range l.sections {
		if s.more > 0 {
			return false
		}
	}
	return true
}

// fit renders build(0) when it fits opts.MaxBytes. Otherwise it cuts rows,
// sharing the room among sections so that small results stay whole and the
// large ones are cut (water-filling), and appends the truncation note. When
// even the text without rows is too large, it tries build(shortText), whose
// free texts are shortened, and as a last resort cuts that text at a line
// boundary. The result is never longer than opts.MaxBytes.
func fit(opts Options, build func(textCap int) layout) string {
	l := build(0)
	if l.complete() {
		if full := l.text(nil, ""); len(full) <= opts.MaxBytes {
			return full
		}
	}
	if s, ok := cutRows(l, opts.MaxBytes); ok {
		return s
	}
	l = build(shortText)
	if s, ok := cutRows(l, opts.MaxBytes); ok {
		return s
	}
	return hardCut(l.text(nil, ""), opts.MaxBytes)
}

// cutRows fits l into limit bytes by dropping rows, or reports false when
// the text without any rows is already too large.
func cutRows(l layout, limit int) (string, bool) {
	total := l.totalRows()
	fixed := len(l.text(make([]int, len(l.sections)), "")) + len(finalNote(limit, total, total, l.multi))
	costs := make([]int, len(l.sections))
	for i, s := range l.sections {
		if l.multi && s.total() > 0 {
			// text above wrote this section's note as "0 of n"; the
			// real count may need as many digits as n.
			fixed += len(Number(int64(s.total())))
		}
		for _, r := range s.rows {
			costs[i] += len(r)
		}
	}
	room := limit - fixed
	if room < 0 {
		return "", false
	}
	level := waterLevel(costs, room)
	shown := make([]int, len(l.sections))
	n := 0
	for i, s := range l.sections {
		used := 0
		for _, r := range s.rows {
			if used+len(r) > level {
				break
			}
			used += len(r)
			shown[i]++
		}
		n += shown[i]
	}
	return l.text(shown, finalNote(limit, n, total, l.multi)), true
}

// waterLevel returns the largest per-section allowance L such that the sum
// over sections of min(cost, L) is at most room.
func waterLevel(costs []int, room int) int {
	sorted := append([]int(nil), costs...)
	sort.Ints(sorted)
	for i, c := range sorted {
		left := len(sorted) - i
		if c*left > room {
			return room / left
		}
		room -= c
	}
	return room + max(0, lastOf(sorted)) // everything fits
}

func lastOf(s []int) int {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

// hardCut cuts s at the last line break that leaves room for the note,
// closes a code fence left open, and appends the note.
func hardCut(s string, limit int) string {
	note := "\n_Output truncated at " + sizeText(limit) + ". Narrow the query (fewer columns, GROUP BY, LIMIT) to see the rest._\n"
	room := limit - len(note)
	if room <= 0 {
		return note[1:]
	}
	cut := s[:min(len(s), room)]
	if i := strings.LastIndexByte(cut, '\n'); i >= 0 {
		cut = cut[:i+1]
	} else {
		cut = ""
	}
	if fence := openFence(cut); fence != "" {
		// Drop the opening line of a fence that would close empty.
		body := strings.TrimSuffix(cut, "\n")
		if last := body[strings.LastIndexByte(body, '\n')+1:]; strings.HasPrefix(last, fence) {
			cut = body[:len(body)-len(last)]
		}
		for openFence(cut) != "" && len(cut)+len(fence)+1 > room {
			i := strings.LastIndexByte(cut[:len(cut)-1], '\n')
			if i < 0 {
				cut = ""
				break
			}
			cut = cut[:i+1]
		}
		if fence = openFence(cut); fence != "" {
			cut += fence + "\n"
		}
	}
	return cut + note
}

// openFence returns the backtick fence opened and not closed in s, or "".
func openFence(s string) string {
	open := ""
	for _, line := range strings.Split(s, "\n") {
		ticks := len(line) - len(strings.TrimLeft(line, "`"))
		switch {
		case open == "" && ticks >= 3:
			open = line[:ticks]
		case open != "" && ticks >= len(open) && strings.TrimSpace(line[ticks:]) == "":
			open = ""
		}
	}
	return open
}

// finalNote is the note that ends an answer whose rows were cut.
func finalNote(limit, shown, total int, multi bool) string {
	if multi {
		return fmt.Sprintf("\n_Output truncated at %s: %s of %s rows shown. Narrow the queries (fewer columns, GROUP BY, LIMIT) to see the rest._\n",
			sizeText(limit), Number(int64(shown)), Number(int64(total)))
	}
	return fmt.Sprintf("\n_Output truncated at %s: %s of %s rows shown. Narrow the query (fewer columns, GROUP BY, LIMIT) to see the rest._\n",
		sizeText(limit), Number(int64(shown)), Number(int64(total)))
}

// sectionNote marks a section of a multi-query answer whose rows were cut.
func sectionNote(shown, total int) string {
	return fmt.Sprintf("\n_Output cap: %s of %s rows shown._\n", Number(int64(shown)), Number(int64(total)))
}

// sizeText writes a byte cap as "256 KB" when it is a whole number of
// KiB, else as "1,000 bytes".
func sizeText(n int) string {
	if n%1024 == 0 {
		return Number(int64(n/1024)) + " KB"
	}
	return Number(int64(n)) + " bytes"
}
