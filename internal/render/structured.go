package render

import (
	"encoding/json"
	"fmt"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// CapStructured applies the answer's caps to the rows a result carries as
// structured content, as Single does to its Markdown: text cells longer
// than MaxCell characters are cut with "…", and rows beyond MaxBytes of JSON
// are dropped (the result is then marked truncated, with a note). Without
// it, a string_agg over the whole panel would leave in structuredContent
// what the Markdown cut.
func CapStructured(r *result.Result, opts Options) {
	capRows(r, opts.normalized(), opts.normalized().MaxBytes)
}

// CapStructuredMulti caps every result of m, sharing MaxBytes between them.
func CapStructuredMulti(m *result.Multi, opts Options) {
	o := opts.normalized()
	if len(m.Results) == 0 {
		return
	}
	share := o.MaxBytes / len(m.Results)
	for i := range m.Results {
		capRows(&m.Results[i], o, share)
	}
}

func capRows(r *result.Result, o Options, budget int) {
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
			total := len(r.Rows)
			r.Rows = r.Rows[:i]
			r.RowCount = i
			r.Truncated = true
			r.Notes = append(r.Notes, fmt.Sprintf("Structured rows cut at %d KB: %d of %d rows included.", budget>>10, i, total))
			return
		}
	}
}
