package analysis

import (
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

func TestShapeOf(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		key  string // placeholders shown as ?s, ?i, ?d; "" = no shape
	}{
		{"primary-key lookup", "SELECT * FROM users WHERE user_id = 4242", "SELECT * FROM users WHERE user_id = ?i"},
		{"strings with quotes", "SELECT COUNT(*) FROM users WHERE city = 'Mumbai' OR name = 'O''Brien'", "SELECT COUNT(*) FROM users WHERE city = ?s OR name = ?s"},
		{"decimals", "SELECT COUNT(*) FROM users WHERE spend > 250.75", "SELECT COUNT(*) FROM users WHERE spend > ?d"},
		{"0 and 1 stay: a CASE of them is a proportion", "SELECT AVG(CASE WHEN gender = 'F' THEN 1 ELSE 0 END) FROM users WHERE age > 30", "SELECT AVG(CASE WHEN gender = ?s THEN 1 ELSE 0 END) FROM users WHERE age > ?i"},
		{"1.0 and 0.00 stay too", "SELECT AVG(CASE WHEN x THEN 1.0 ELSE 0.00 END) FROM t WHERE y > 2.5 AND z < 10.0", "SELECT AVG(CASE WHEN x THEN 1.0 ELSE 0.00 END) FROM t WHERE y > ?d AND z < ?d"},
		{"ordinals stay", "SELECT city, gender, COUNT(*) FROM users WHERE age > 18 GROUP BY 1, 2 ORDER BY 3 DESC, (1)", "SELECT city, gender, COUNT(*) FROM users WHERE age > ?i GROUP BY 1, 2 ORDER BY 3 DESC, (1)"},
		{"LIMIT and OFFSET stay", "SELECT * FROM users WHERE age > 41 LIMIT 20 OFFSET 40", "SELECT * FROM users WHERE age > ?i LIMIT 20 OFFSET 40"},
		{"FETCH FIRST stays", "SELECT * FROM users FETCH FIRST 25 ROWS ONLY", ""},
		{"an expression in ORDER BY is not an ordinal", "SELECT a FROM t ORDER BY a + 25", "SELECT a FROM t ORDER BY a + ?i"},
		{"the BY list ends at the next clause", "SELECT a, COUNT(*) FROM t GROUP BY 1 HAVING COUNT(*) > 50", "SELECT a, COUNT(*) FROM t GROUP BY 1 HAVING COUNT(*) > ?i"},
		{"BY inside a window does not leak out", "SELECT a, SUM(b) OVER (PARTITION BY a) FROM t WHERE c = 42", "SELECT a, SUM(b) OVER (PARTITION BY a) FROM t WHERE c = ?i"},
		{"comments and quoted identifiers are kept", "SELECT \"weird 'name'\" -- 12 'x'\nFROM t /* 'y' /* 7 */ */ WHERE z = 33", "SELECT \"weird 'name'\" -- 12 'x'\nFROM t /* 'y' /* 7 */ */ WHERE z = ?i"},
		{"identifiers with digits are not numbers", "SELECT col2 FROM t2 WHERE a = 10", "SELECT col2 FROM t2 WHERE a = ?i"},
		{"large integers stay", "SELECT * FROM t WHERE id = 12345678901", ""},
		{"exponents and leading dots stay", "SELECT * FROM t WHERE a = 1e5 AND b = .5", ""},
		{"no literal: no shape", "SELECT gender, COUNT(*) FROM users GROUP BY gender", ""},
		{"escape strings: no shape", "SELECT * FROM t WHERE a = E'\\n' AND b = 10", ""},
		{"bit strings: no shape", "SELECT * FROM t WHERE a = B'101' AND b = 10", ""},
		{"dollar quotes: no shape", "SELECT $$x$$, 10", ""},
		{"parameters: no shape", "SELECT * FROM t WHERE a = $1 AND b = 10", ""},
		{"hexadecimal: no shape", "SELECT 0x1F + 10", ""},
		{"underscores: no shape", "SELECT 1_000 + 10", ""},
		{"strings continued on the next line: no shape", "SELECT 'a'\n'b', 10", ""},
		{"unterminated string: no shape", "SELECT 'abc, 10", ""},
		{"unterminated comment: no shape", "SELECT 10 /* x", ""},
		{"NUL: no shape", "SELECT 10\x00", ""},
		{"invalid UTF-8: no shape", "SELECT 10, \xff", ""},
		{"non-ASCII identifiers are fine", "SELECT ville FROM t WHERE région = 'Île' AND n = 12", "SELECT ville FROM t WHERE région = ?s AND n = ?i"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := shapeOf(tt.sql)
			got := ""
			if ok {
				got = strings.NewReplacer("\x00s", "?s", "\x00i", "?i", "\x00d", "?d").Replace(s.key)
			}
			if got != tt.key {
				t.Errorf("shapeOf(%q)\n got %q\nwant %q", tt.sql, got, tt.key)
			}
			if !ok {
				return
			}
			for _, l := range s.literals {
				if text := tt.sql[l.start:l.end]; strings.Contains(tt.key, text) && l.kind != litString {
					t.Errorf("literal %q was replaced but also kept", text)
				}
			}
		})
	}
}

func TestShapeOf_SentinelsKeepTheShape(t *testing.T) {
	sql := "SELECT city, COUNT(*) FROM users WHERE age BETWEEN 25 AND 34 AND city <> 'Pune' AND spend > 12.5 GROUP BY 1 LIMIT 10"
	s, ok := shapeOf(sql)
	if !ok || len(s.literals) != 4 {
		t.Fatalf("shape = %+v, %v; want 4 literals", s, ok)
	}
	for probe := range 2 {
		text := s.withSentinels(sql, probe)
		p, ok := shapeOf(text)
		if !ok || p.key != s.key {
			t.Fatalf("probe %d %q has another shape: %q", probe, text, p.key)
		}
		if got := s.withProbe(probe).literals; !equalLiterals(got, p.literals) {
			t.Errorf("probe %d: offsets %+v, lexed %+v", probe, got, p.literals)
		}
	}
}

func equalLiterals(a, b []literal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTemplate_Fill(t *testing.T) {
	sql := "SELECT * FROM users WHERE user_id = 17 AND city = 'Pune'"
	s, _ := shapeOf(sql)
	probe := QueryPlan{SQL: "SELECT * FROM users WHERE user_id = " + sentinel(0, 0, litInteger) + " AND city = " + sentinel(0, 1, litString) +
		" AND city IS NOT DISTINCT FROM " + sentinel(0, 1, litString) + " LIMIT 1001", Cap: 1000}
	tmpl, ok := makeTemplate(probe, s)
	if !ok {
		t.Fatal("no template")
	}
	other := "SELECT * FROM users WHERE user_id = 9999 AND city = 'Navi Mumbai'"
	os, _ := shapeOf(other)
	got := tmpl.fill(other, os)
	want := "SELECT * FROM users WHERE user_id = 9999 AND city = 'Navi Mumbai' AND city IS NOT DISTINCT FROM 'Navi Mumbai' LIMIT 1001"
	if got.SQL != want || got.Cap != 1000 {
		t.Errorf("fill = %+v\nwant SQL %q", got, want)
	}
	// A sentinel inside a longer number is not a sentinel.
	probe.SQL = "SELECT 1" + sentinel(0, 0, litInteger) + ", " + sentinel(0, 0, litInteger) + "5"
	if tmpl, ok := makeTemplate(probe, s); ok {
		t.Errorf("a template was cut inside numbers: %+v", tmpl)
	}
}

func BenchmarkShapeOf(b *testing.B) {
	sql := "SELECT user_id, gender, age_group, nccs, state, spend FROM users WHERE user_id = 4242"
	for b.Loop() {
		shapeOf(sql)
	}
}

// checkAgainstScanner fails when a literal shapeOf found is not exactly a
// constant token of PostgreSQL's own scanner: a span the lexer misjudged
// (inside a comment, a longer string, an escape) would let a template put
// text where the guard never looked.
func checkAgainstScanner(t *testing.T, sql string) {
	t.Helper()
	s, ok := shapeOf(sql)
	if !ok {
		return
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return // the guard refuses it too: no plan, so no template, is made from it
	}
	tokens := map[[2]int]pg_query.Token{}
	for _, tok := range res.Tokens {
		tokens[[2]int{int(tok.Start), int(tok.End)}] = tok.Token
	}
	want := map[byte]pg_query.Token{litString: pg_query.Token_SCONST, litInteger: pg_query.Token_ICONST, litDecimal: pg_query.Token_FCONST}
	for _, l := range s.literals {
		if got, ok := tokens[[2]int{l.start, l.end}]; !ok || got != want[l.kind] {
			t.Fatalf("in %q, shapeOf took %q as a %c literal; the scanner has token %v there", sql, sql[l.start:l.end], l.kind, got)
		}
	}
}

func TestShapeOf_MatchesPostgresScanner(t *testing.T) {
	for _, sql := range []string{
		"SELECT * FROM users WHERE city = 'x'' OR 1=1 --' AND age > 30",
		`SELECT * FROM users WHERE city = '\' AND age > 30`,
		"SELECT * FROM users WHERE city = 'a' /* 'b' */ AND note = '*/' AND age > 30",
		"SELECT * FROM users -- 'c'\nWHERE city = '--' AND age > 30",
		`SELECT "a""b'c" FROM users WHERE city = 'd' AND age > 30`,
		"SELECT 12.5, 300, 'x', $$y$$",
		"SELECT ARRAY[2, 3][2], x::numeric(10, 2) FROM t WHERE y = 'z'",
		"SELECT 'a' 'b', 10",
		"SELECT 'a'\n'b', 10",
		"SELECT -5, - 7.25, 1e3, .5, 5., 0.5, 10.0 FROM t",
		"SELECT 'a' \v\n 'b', 10",
		"SELECT 'a' -- note\n 'b', 10",
		"SELECT 'a'\r'b', 10",
		"SELECT 'a' \v 'b'",
	} {
		checkAgainstScanner(t, sql)
	}
}

func FuzzShapeOf(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM users WHERE user_id = 4242",
		"SELECT city, COUNT(*) FROM users WHERE age BETWEEN 25 AND 34 AND city <> 'Pune' GROUP BY 1 LIMIT 10",
		"SELECT 'it''s', \"q\"\"x\", 1.25 /* c */ -- d\n FROM t",
		"SELECT E'\\n', U&'x', B'1', X'1F', 0x1F, 1_000, $1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		checkAgainstScanner(t, sql)
	})
}
