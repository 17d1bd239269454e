package analysis

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A query's shape is its text with the literals that cannot change how it
// is guarded, classified or rewritten replaced by placeholders, so that
// `... WHERE user_id = 17` and `... WHERE user_id = 4242` share one plan
// template and the second costs a string substitution instead of a parse,
// a rewrite and a deparse.
//
// Whether a literal can change the plan is decided conservatively, twice:
//
//  1. Lexically, only plain string constants ('...'), integers of 2 to 9
//     digits and plain decimals other than 0 and 1 become placeholders.
//     0 and 1 stay (a CASE of 0 and 1 is a proportion to the rewrite), as
//     do integers right after BY, a comma or a parenthesis inside a
//     GROUP/ORDER/PARTITION BY list (ordinals) and after LIMIT, OFFSET,
//     FIRST or NEXT (the row cap). Anything unusual (E”, dollar quotes,
//     parameters, hexadecimal or underscored numbers, invalid UTF-8, NUL)
//     makes the text have no shape at all.
//  2. By probing: a template is made only after the planner has been run
//     on the query and on two copies with every placeholder's literal
//     replaced by different sentinels, and all three plans agree once the
//     sentinels are put back. A literal that matters to the plan (or one
//     the deparser rewrites) makes them disagree, and the shape is then
//     remembered as not templatable.
type shape struct {
	key      string    // the text with literals replaced by placeholders
	literals []literal // the replaced literals, in order
}

type literal struct {
	start, end int // byte offsets in the text
	kind       byte
}

// Kinds of literals that become placeholders.
const (
	litString  = 's'
	litInteger = 'i'
	litDecimal = 'd'
)

// placeholder marks a literal in a shape's key. NUL never occurs in a
// query (the guard refuses it), so a key cannot be forged from text.
const placeholder = '\x00'

// shapeOf returns the shape of sql, or false when sql has no literal to
// replace or contains anything the lexer does not fully understand.
func shapeOf(sql string) (shape, bool) {
	// The guard refuses a NUL anywhere (the C parser stops reading at it),
	// also inside a comment, so such text gets no shape either.
	if strings.IndexByte(sql, 0) >= 0 {
		return shape{}, false
	}
	var (
		key      strings.Builder
		lits     []literal
		prev     string // the previous significant token, lower-cased for words
		depth    int    // parenthesis depth
		byDepth  = -1   // depth of the BY list being read, -1 outside one
		copiedTo int    // sql[:copiedTo] is in key
	)
	if !utf8.ValidString(sql) {
		return shape{}, false
	}
	key.Grow(len(sql))
	// replace puts a placeholder for sql[start:end] into the key.
	replace := func(start, end int, kind byte) {
		key.WriteString(sql[copiedTo:start])
		key.WriteByte(placeholder)
		key.WriteByte(kind)
		copiedTo = end
		lits = append(lits, literal{start: start, end: end, kind: kind})
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == 0 || c == '$':
			return shape{}, false
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				i = len(sql)
			} else {
				i += end
			}
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end, ok := blockCommentEnd(sql, i)
			if !ok {
				return shape{}, false
			}
			i = end
			continue
		case c == '\'':
			end, ok := stringEnd(sql, i)
			if !ok {
				return shape{}, false
			}
			replace(i, end, litString)
			i, prev = end, "'"
			continue
		case c == '"':
			end, ok := quotedEnd(sql, i)
			if !ok {
				return shape{}, false
			}
			i, prev = end, `"`
			continue
		case isDigit(c) || c == '.' && i+1 < len(sql) && isDigit(sql[i+1]):
			end, kind, ok := numberEnd(sql, i)
			if !ok {
				return shape{}, false
			}
			position := byDepth >= 0 && (prev == "by" || prev == "," || prev == "(")
			limit := prev == "limit" || prev == "offset" || prev == "first" || prev == "next"
			if kind != 0 && !(kind == litInteger && (position || limit)) {
				replace(i, end, kind)
			}
			i, prev = end, "0"
			continue
		case isIdentStart(c):
			end := i + 1
			for end < len(sql) && isIdentPart(sql[end]) {
				end++
			}
			if end < len(sql) && (sql[end] == '\'' || sql[end] == '&') {
				return shape{}, false // E'..', B'..', X'..', U&'..'
			}
			word := strings.ToLower(sql[i:end])
			switch {
			case word == "by":
				byDepth = depth
			case byDepth == depth && !byListWord[word]:
				byDepth = -1
			}
			i, prev = end, word
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < byDepth {
				byDepth = -1
			}
		case c == ';':
			byDepth = -1
		}
		prev = string(c)
		i++
	}
	if len(lits) == 0 {
		return shape{}, false
	}
	key.WriteString(sql[copiedTo:])
	return shape{key: key.String(), literals: lits}, true
}

// byListWord are the words that may follow an item of a GROUP/ORDER BY list
// without ending it.
var byListWord = map[string]bool{"asc": true, "desc": true, "nulls": true, "first": true, "last": true, "using": true}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isIdentStart is PostgreSQL's ident_start: letters, underscore and any
// byte of a non-ASCII character (so "Յ2" is one identifier, not a number).
func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= utf8.RuneSelf
}
func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// stringEnd returns the end of the string constant starting at sql[i].
// Adjacent constants separated by whitespace holding a line break are one
// constant in SQL; such text gets no shape. PostgreSQL's scanner counts
// space, \t, \f and \v as whitespace, \n and \r as line breaks, and a
// "--" comment as whitespace too ('a' -- note⏎ 'b' is 'ab').
func stringEnd(sql string, i int) (int, bool) {
	end, ok := quotedEnd(sql, i)
	if !ok {
		return 0, false
	}
	broke := false
	for j := end; j < len(sql); {
		switch c := sql[j]; {
		case c == ' ' || c == '\t' || c == '\f' || c == '\v':
			j++
		case c == '\n' || c == '\r':
			broke = true
			j++
		case c == '-' && j+1 < len(sql) && sql[j+1] == '-':
			k := strings.IndexAny(sql[j:], "\n\r")
			if k < 0 {
				return end, true
			}
			j += k
		case c == '\'':
			if broke {
				return 0, false
			}
			return end, true
		default:
			return end, true
		}
	}
	return end, true
}

// quotedEnd returns the end of the text quoted by sql[i] (' or "), where
// the quote doubled stands for itself.
func quotedEnd(sql string, i int) (int, bool) {
	q := sql[i]
	end := i + 1
	for {
		j := strings.IndexByte(sql[end:], q)
		if j < 0 {
			return 0, false
		}
		end += j + 1
		if end < len(sql) && sql[end] == q {
			end++
			continue
		}
		return end, true
	}
}

// blockCommentEnd returns the end of the (possibly nested) comment
// starting at sql[i].
func blockCommentEnd(sql string, i int) (int, bool) {
	nest := 0
	for j := i; j+1 < len(sql); j++ {
		switch {
		case sql[j] == '/' && sql[j+1] == '*':
			nest++
			j++
		case sql[j] == '*' && sql[j+1] == '/':
			nest--
			j++
			if nest == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}

// numberEnd returns the end of the number starting at sql[i] and the kind
// of placeholder it may become (0 when it must stay as written).
func numberEnd(sql string, i int) (end int, kind byte, ok bool) {
	end = i
	for end < len(sql) && isDigit(sql[end]) {
		end++
	}
	whole := end
	fraction := false
	if end < len(sql) && sql[end] == '.' {
		fraction = true
		end++
		for end < len(sql) && isDigit(sql[end]) {
			end++
		}
	}
	exponent := false
	if end < len(sql) && (sql[end] == 'e' || sql[end] == 'E') {
		exponent = true
		end++
		if end < len(sql) && (sql[end] == '+' || sql[end] == '-') {
			end++
		}
		digits := end
		for end < len(sql) && isDigit(sql[end]) {
			end++
		}
		if end == digits {
			return 0, 0, false
		}
	}
	if end < len(sql) && (isIdentPart(sql[end]) || sql[end] == '.') {
		return 0, 0, false // 0x1F, 1_000, 12abc, 1.2.3
	}
	text := sql[i:end]
	switch {
	case exponent || whole == i || text[0] == '0':
		return end, 0, true // 1e5, .5, 007, 0.5: as written
	case !fraction:
		if len(text) < 10 && text != "1" {
			return end, litInteger, true
		}
	case whole < end-1:
		if v, err := strconv.ParseFloat(text, 64); err == nil && v != 0 && v != 1 {
			return end, litDecimal, true
		}
	}
	return end, 0, true
}

// sentinel returns the stand-in for the n-th literal of a probe (probe 0
// or 1): distinct from each other, from the other probe's and from any
// figure the rewrite writes, and of the same kind as the literal.
func sentinel(probe, n int, kind byte) string {
	base := strconv.Itoa(812_345_001 + probe*11_111_000 + n)
	switch kind {
	case litString:
		return "'mcpa_sentinel_" + strconv.Itoa(probe) + "_" + strconv.Itoa(n) + "'"
	case litDecimal:
		return base + ".25"
	}
	return base
}

// withSentinels returns sql with its shape's literals replaced by the
// sentinels of probe.
func (s shape) withSentinels(sql string, probe int) string {
	var b strings.Builder
	last := 0
	for n, l := range s.literals {
		b.WriteString(sql[last:l.start])
		b.WriteString(sentinel(probe, n, l.kind))
		last = l.end
	}
	b.WriteString(sql[last:])
	return b.String()
}

// template is a plan with its SQL cut where the shape's literals go.
type template struct {
	plan  QueryPlan // SQL empty
	parts []string  // len(slots)+1 pieces of SQL
	slots []int     // the literal that goes after parts[i]
}

// fill returns the plan of a query of this shape whose text is sql.
func (t *template) fill(sql string, s shape) QueryPlan {
	var b strings.Builder
	b.Grow(len(t.parts[0]) * 2)
	for i, part := range t.parts[:len(t.slots)] {
		b.WriteString(part)
		l := s.literals[t.slots[i]]
		b.WriteString(sql[l.start:l.end])
	}
	b.WriteString(t.parts[len(t.slots)])
	p := t.plan
	p.SQL = b.String()
	return p
}

// makeTemplate cuts probe's SQL (planned from the text with probe 0's
// sentinels) at the sentinels. It returns false when a sentinel is not
// found, or a literal's value shows elsewhere than where a sentinel was.
func makeTemplate(probe QueryPlan, s shape) (*template, bool) {
	t := &template{plan: probe}
	t.plan.SQL = ""
	sql := probe.SQL
	last := 0
	for i := 0; i < len(sql); {
		n, width := sentinelAt(sql, i, s)
		if n < 0 {
			i++
			continue
		}
		t.parts = append(t.parts, sql[last:i])
		t.slots = append(t.slots, n)
		i += width
		last = i
	}
	t.parts = append(t.parts, sql[last:])
	return t, len(t.slots) > 0
}

// sentinelAt returns which literal's probe-0 sentinel starts at sql[i]
// (-1 if none) and its width. A number counts only as a whole token.
func sentinelAt(sql string, i int, s shape) (int, int) {
	if i > 0 && (isIdentPart(sql[i-1]) || sql[i-1] == '.') {
		return -1, 0
	}
	for n, l := range s.literals {
		w := sentinel(0, n, l.kind)
		if !strings.HasPrefix(sql[i:], w) {
			continue
		}
		if end := i + len(w); l.kind != litString && end < len(sql) && (isIdentPart(sql[end]) || sql[end] == '.') {
			continue
		}
		return n, len(w)
	}
	return -1, 0
}

// verify reports whether t gives exactly want for the text sql (the
// original query) and probe for the text with probe 1's sentinels.
func (t *template) verify(s shape, sql string, want QueryPlan, probeSQL string, probe QueryPlan) bool {
	return samePlan(t.fill(sql, s), want) && samePlan(t.fill(probeSQL, s.withProbe(1)), probe)
}

// withProbe returns s with the literals' offsets moved to where they are
// in the text with probe's sentinels.
func (s shape) withProbe(probe int) shape {
	out := shape{key: s.key, literals: make([]literal, len(s.literals))}
	delta := 0
	for n, l := range s.literals {
		w := len(sentinel(probe, n, l.kind))
		out.literals[n] = literal{start: l.start + delta, end: l.start + delta + w, kind: l.kind}
		delta += w - (l.end - l.start)
	}
	return out
}

func samePlan(a, b QueryPlan) bool { return reflect.DeepEqual(a, b) }
