package render

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mcp-analytics/mcp-analytics/internal/result"
)

// defaultRawLimit is the raw-query row cap named in the multi-query tips
// when no result says which cap applied (SPEC §3).
const defaultRawLimit = 5

// Single renders the answer to one query (query_dataset,
// get_dataset_sample): the header line, the table and the notes, or the
// error and the query that caused it. The answer is at most opts.MaxBytes
// long.
func Single(r result.Result, opts Options) string {
	opts = opts.normalized()
	return fit(opts, func(textCap int) layout {
		l := layout{sections: []section{resultSection(r, opts, textCap, " ms")}}
		if r.OK {
			l.tail = legend([]result.Result{r}, textCap)
		}
		return l
	})
}

// rowCount is the header's count of rows: the groups, and the Total rows
// apart ("12 (+ 3 Total)").
func rowCount(r result.Result) string {
	totals := 0
	for _, row := range r.Rows {
		if isTotal(r.Columns, row) {
			totals++
		}
	}
	s := Number(int64(len(r.Rows) - totals))
	switch {
	case totals == 1:
		s += " (+ Total)"
	case totals > 1:
		s += " (+ " + Number(int64(totals)) + " Total)"
	}
	return s
}

// legend explains, once per answer, the added columns the answer shows (n,
// n_eff, margins of error, low_base…): a batch of thirty weighted questions
// gets one explanation, not thirty, and a column that is not shown is not
// explained.
func legend(results []result.Result, textCap int) string {
	var terms []string
	seen := map[string]bool{}
	for _, r := range results {
		if !r.OK {
			continue
		}
		shown := map[string]bool{}
		for _, c := range r.Columns {
			shown[c.Name] = true
		}
		for _, t := range r.Weighting.Legend {
			if !shown[t.Column] || seen[t.Column+"\x00"+t.Meaning] {
				continue
			}
			seen[t.Column+"\x00"+t.Meaning] = true
			terms = append(terms, codeSpan(t.Column)+" "+t.Meaning)
		}
	}
	if len(terms) == 0 {
		return ""
	}
	return "\n" + noteLine(clip("Columns: "+strings.Join(terms, "; ")+".", textCap)) + "\n"
}

// Multi renders the answer to execute_multi_query in the seed's layout: a
// summary, one section per result in request order, separated by
// horizontal rules, and the tips. The answer is at most opts.MaxBytes long;
// when it would be longer, the summary, every section's heading, errors and
// notes are kept, and rows are cut from the largest results first.
func Multi(m result.Multi, opts Options) string {
	opts = opts.normalized()
	return fit(opts, func(textCap int) layout {
		l := layout{head: multiHead(m), sep: "\n---\n\n", multi: true}
		for i, r := range m.Results {
			s := resultSection(r, opts, textCap, "ms")
			label := r.Label
			if strings.TrimSpace(label) == "" {
				label = "Query " + strconv.Itoa(i+1)
			}
			s.pre = "## " + strconv.Itoa(i+1) + ". " + clip(cutRunes(oneLine(label), EchoChars), textCap) + "\n\n" + s.pre
			l.sections = append(l.sections, s)
		}
		if len(l.sections) > 0 {
			l.tail = "\n---\n"
			if lg := legend(m.Results, textCap); lg != "" {
				l.tail += lg + "\n---\n"
			}
			l.tail += "\n"
		}
		l.tail += tips(m.Results)
		return l
	})
}

// multiHead is the summary at the top of a multi-query answer.
func multiHead(m result.Multi) string {
	total, ok, failed := m.Total, m.Succeeded, m.Failed
	if total == 0 {
		total = len(m.Results)
	}
	if ok+failed == 0 {
		for _, r := range m.Results {
			if r.OK {
				ok++
			} else {
				failed++
			}
		}
	}
	var b strings.Builder
	b.WriteString("# Multi-Query Results\n\n")
	b.WriteString("**Total Queries**: " + strconv.Itoa(total) + "\n")
	b.WriteString("**Successful**: " + strconv.Itoa(ok))
	if ok > 0 {
		b.WriteString(" ✅")
	}
	b.WriteString("\n**Failed**: " + strconv.Itoa(failed))
	if failed > 0 {
		b.WriteString(" ❌")
	}
	b.WriteString("\n**Total Execution Time**: " + msText(m.TotalMS, "ms") + "\n\n")
	if m.Parallel && total > 1 {
		b.WriteString("_⚡ Executed in parallel - " + strconv.Itoa(total) + " queries in " + msText(m.TotalMS, "ms") + "!_\n\n")
	}
	b.WriteString("---\n\n")
	return b.String()
}

// defaultAggregatedLimit is SPEC §3's cap on aggregated rows, used in the
// tips when no result of the call states its own.
const defaultAggregatedLimit = 1000

// tips ends a multi-query answer with advice that is true of this call.
// The raw row cap comes from the first raw result that states it, the
// aggregated cap likewise (else SPEC §3's 5 and 1,000 rows). Weighting is
// automatic, so the tips never ask for weight columns: they say which
// columns carry the weighted figures when some result was weighted, point
// to the notes when an aggregated result was not, and say how to retry
// when some query failed.
func tips(results []result.Result) string {
	raw, agg := 0, 0
	var weighted, unweighted, failed bool
	for _, r := range results {
		switch {
		case !r.OK:
			failed = true
		case r.Weighting.Applied:
			weighted = true
		case r.Aggregated && r.Weighting.ReasonIfNot != "":
			unweighted = true
		}
		switch {
		case r.RowLimit <= 0:
		case r.Aggregated && agg == 0:
			agg = r.RowLimit
		case !r.Aggregated && raw == 0:
			raw = r.RowLimit
		}
	}
	if raw == 0 {
		raw = defaultRawLimit
	}
	if agg == 0 {
		agg = defaultAggregatedLimit
	}
	var b strings.Builder
	b.WriteString("**Tips**:\n")
	b.WriteString("- Raw queries are limited to " + rowsText(raw) + "\n")
	b.WriteString("- Use GROUP BY for aggregated data (up to " + rowsText(agg) + ")\n")
	if weighted {
		b.WriteString("- Weights were applied for you: quote the weighted figures (weighted_*, reach_pct), not the raw counts; n is the unweighted base\n")
	}
	if unweighted {
		b.WriteString("- Some aggregated results are not weighted: their notes say why\n")
	}
	if failed {
		b.WriteString("- Fix the failed queries as their errors say and send only those again\n")
	}
	return b.String()
}

// resultSection lays out one result; unit is " ms" in a single answer and
// "ms" in the multi-query layout, as in the seed.
func resultSection(r result.Result, opts Options, textCap int, unit string) section {
	if !r.OK {
		msg := strings.TrimSpace(oneLine(r.Error))
		if msg == "" {
			msg = "the query failed"
		}
		pre := "**Error**: " + clip(cutRunes(msg, maxErrorChars), textCap) + "\n"
		if strings.TrimSpace(r.Query) != "" {
			// A rejected query is echoed as its first EchoChars
			// characters: enough to recognise it.
			pre += "\n" + queryText(clip(cutRunes(strings.TrimSpace(r.Query), EchoChars), textCap))
		}
		// With show_sql, what was sent to the database: an error's
		// position or name often refers to it rather than to the query.
		if strings.TrimSpace(r.SQL) != "" {
			pre += "\n**SQL sent**:\n\n" + fenced(clip(r.SQL, textCap), "sql")
		}
		return section{pre: pre}
	}

	var s section
	header := "**Rows**: " + rowCount(r) + " | **Time**: " + msText(r.TimeMS, unit)
	if name := strings.TrimSpace(oneLine(r.Dataset)); name != "" {
		header += " | **Dataset**: " + clip(name, textCap)
	}
	header += "\n\n"
	switch {
	case len(r.Rows) == 0:
		s.pre = header + "_No rows._\n"
	case len(r.Columns) == 0:
		s.pre = header + "_No columns._\n"
	default:
		head, body, more := tableParts(r.Columns, r.Rows, opts, displayOf(r))
		s.pre, s.rows, s.more = header+head, body, more
	}

	var post strings.Builder
	for _, n := range notes(r) {
		post.WriteString("\n" + noteLine(clip(n, textCap)) + "\n")
	}
	if strings.TrimSpace(r.SQL) != "" {
		post.WriteString("\n" + fenced(clip(r.SQL, textCap), "sql"))
	}
	s.post = post.String()
	return s
}

// notes lists the remarks under a successful result, in order: why
// weights were not applied, what the weighting did, the result's own notes
// (blank ones skipped), and the row cap. A raw result says nothing about
// weights unless a note of its own does: raw rows are never weighted, and
// naming the weight column under them would suggest they were.
func notes(r result.Result) []string {
	var out []string
	w := r.Weighting
	if w.ReasonIfNot != "" {
		out = append(out, "Weights not applied: "+w.ReasonIfNot)
	}
	for _, n := range append(append([]string(nil), w.Notes...), r.Notes...) {
		if strings.TrimSpace(n) != "" {
			out = append(out, n)
		}
	}
	// The row cap's note, unless reading stopped before the cap for
	// another reason (too many bytes), which has its own note.
	if r.Truncated && len(r.Rows) > 0 && (r.RowLimit <= 0 || len(r.Rows) >= r.RowLimit) {
		out = append(out, capNote(r))
	}
	return out
}

// capNote says that the row cap cut the result ("showing 5 of more than 5
// rows", SPEC §3) and what to do about it.
func capNote(r result.Result) string {
	shown := rowsText(len(r.Rows))
	limit := r.RowLimit
	if limit <= 0 {
		limit = len(r.Rows)
	}
	head := "Showing " + Number(int64(len(r.Rows))) + " of more than " + shown
	if r.Aggregated {
		return head + " (aggregated queries are limited to " + rowsText(limit) + "; filter or group more coarsely to see the rest)."
	}
	return head + " (raw queries are limited to " + rowsText(limit) + "; use GROUP BY to aggregate)."
}

func rowsText(n int) string {
	if n == 1 {
		return "1 row"
	}
	return Number(int64(n)) + " rows"
}

// noteLine writes a note as one italic line. A note already written in
// italics is not wrapped twice.
func noteLine(s string) string {
	s = strings.TrimSpace(oneLine(s))
	if len(s) >= 2 && strings.HasPrefix(s, "_") && strings.HasSuffix(s, "_") {
		return s
	}
	return "_" + s + "_"
}

// msText formats a duration in milliseconds: whole milliseconds from 10 ms
// up (1,234 ms), one decimal below (0.4 ms).
func msText(ms float64, unit string) string {
	if !(ms > 0) { // also NaN
		return "0" + unit
	}
	if ms < 9.95 {
		return strconv.FormatFloat(ms, 'f', 1, 64) + unit
	}
	return groupDigits(strconv.FormatFloat(ms, 'f', 0, 64)) + unit
}

// oneLine makes s valid UTF-8 on a single line, as cells are.
func oneLine(s string) string {
	return flatten(s)
}

// clip shortens s to at most n bytes plus "…", at a rune boundary; n <= 0
// means no limit.
func clip(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// queryText echoes the query a failed result ran: inline in backticks as
// the seed does, or in a fenced block when it spans lines.
func queryText(q string) string {
	q = strings.ToValidUTF8(strings.TrimSpace(q), "\uFFFD")
	if strings.ContainsAny(q, "\r\n") {
		return "**Query**:\n\n" + fenced(q, "sql")
	}
	return "**Query**: " + codeSpan(q) + "\n"
}

// codeSpan writes s as inline code, with a backtick fence longer than any
// run of backticks in s (CommonMark code spans).
func codeSpan(s string) string {
	s = oneLine(s)
	n := longestRun(s, '`')
	if n == 0 {
		return "`" + s + "`"
	}
	fence := strings.Repeat("`", n+1)
	return fence + " " + s + " " + fence
}

// fenced writes s as a fenced code block whose fence is longer than any run
// of backticks in s.
func fenced(s, lang string) string {
	s = strings.ToValidUTF8(strings.TrimRight(s, " \t\r\n"), "\uFFFD")
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + lang + "\n" + s + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}
