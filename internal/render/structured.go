package render

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// EchoChars is how many characters of a rejected query an answer repeats:
// enough to recognise it, never the whole of a 3 MB mistake.
const EchoChars = 200

// maxErrorChars bounds an error message in an answer. Errors can quote
// values (a database error citing a huge literal).
const maxErrorChars = 1000

// CapStructured applies the answer's caps to a result carried as
// structured content, as Single does to its Markdown: text cells longer
// than MaxCell characters are cut with "…", a rejected query is echoed as
// its first EchoChars characters, errors and labels are shortened, and the
// whole JSON stays within MaxBytes: rows are dropped (the result is then
// marked truncated, with a note) and, if that is not enough, the echoed
// texts (query, SQL, notes) are shortened too. Without it, a string_agg
// over the whole panel would leave in structuredContent what the Markdown
// cut.
func CapStructured(r *result.Result, opts Options) {
	o := opts.normalized()
	capResult(r, o, o.MaxBytes)
}

// CapStructuredMulti caps every result of m, sharing MaxBytes between
// them, so that the whole of m's JSON stays within MaxBytes.
func CapStructuredMulti(m *result.Multi, opts Options) {
	o := opts.normalized()
	if len(m.Results) == 0 {
		return
	}
	// The envelope (totals, brackets, commas) takes a few dozen bytes.
	share := (o.MaxBytes - 128) / len(m.Results)
	for i := range m.Results {
		capResult(&m.Results[i], o, share)
	}
}

// capResult makes r's JSON at most budget bytes when that is possible at
// all (a result with no rows and every text shortened is about 1 KB).
func capResult(r *result.Result, o Options, budget int) {
	total := len(r.Rows)
	clipTexts(r, maxErrorChars, 0)
	capRows(r, o, budget, total)
	if size(r) <= budget {
		return
	}
	// Too large even with the rows that fit: the echoed texts go first,
	// then rows.
	clipTexts(r, shortText/4, shortText)
	if size(r) <= budget {
		return
	}
	clipTexts(r, EchoChars, EchoChars)
	if size(r) <= budget {
		return
	}
	// The most rows that fit, found by bisection: fits(lo), !fits(hi).
	rows := r.Rows
	fits := func(k int) bool {
		r.Rows = rows[:k]
		return size(r) <= budget
	}
	lo, hi := 0, len(rows)
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	r.Rows = rows
	dropRows(r, lo, total, budget)
}

// clipTexts shortens r's free texts: errors to errorChars, and with
// textChars > 0 the query, SQL and notes to textChars characters. A
// rejected query and the label are always kept to EchoChars.
func clipTexts(r *result.Result, errorChars, textChars int) {
	r.Error = cutRunes(r.Error, errorChars)
	r.Label = cutRunes(r.Label, EchoChars)
	if !r.OK {
		r.Query = cutRunes(r.Query, EchoChars)
	}
	if textChars <= 0 {
		return
	}
	r.Query = cutRunes(r.Query, textChars)
	r.SQL = cutRunes(r.SQL, textChars)
	for i, n := range r.Notes {
		r.Notes[i] = cutRunes(n, textChars)
	}
	for i, n := range r.Weighting.Notes {
		r.Weighting.Notes[i] = cutRunes(n, textChars)
	}
	if len(r.Notes) > 20 {
		r.Notes = append(r.Notes[:19:19], fmt.Sprintf("… and %d more notes.", len(r.Notes)-19))
	}
}

func size(r *result.Result) int {
	b, err := json.Marshal(r)
	if err != nil {
		return 0
	}
	return len(b)
}

func capRows(r *result.Result, o Options, budget, total int) {
	used := 0
	for i, row := range r.Rows {
		for j, v := range row {
			if s, ok := v.(string); ok {
				row[j] = cutRunes(s, o.MaxCell)
			}
		}
		b, err := json.Marshal(row)
		if err != nil {
			b = nil
		}
		used += len(b) + 1
		if used > budget && i > 0 {
			dropRows(r, i, total, budget)
			return
		}
	}
}

// dropRows keeps the first keep rows of r, which had total rows, and says
// so in a note.
func dropRows(r *result.Result, keep, total, budget int) {
	if keep >= len(r.Rows) {
		return
	}
	r.Rows = r.Rows[:keep]
	r.RowCount = keep
	r.Truncated = true
	note := fmt.Sprintf("Structured rows cut at %d KB: %d of %d rows included.", budget>>10, keep, total)
	for i, n := range r.Notes {
		if strings.HasPrefix(n, "Structured rows cut at ") {
			r.Notes[i] = note
			return
		}
	}
	r.Notes = append(r.Notes, note)
}
