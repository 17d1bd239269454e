package sqlguard

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// corpusCase is one query of testdata/hostile.sql or testdata/legit.sql.
type corpusCase struct {
	Name     string
	SQL      string
	Dialects []Dialect         // dialects the case targets
	Code     string            // expected Error.Code (hostile cases)
	Class    string            // expected class (legitimate cases)
	Skip     map[string]string // engine -> why the case cannot run there
}

// readCorpus parses a corpus file: cases start at "-- name: NAME", followed
// by "-- key: value" headers, then the SQL up to the next "-- name:" line.
func readCorpus(tb testing.TB, file string) []corpusCase {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []corpusCase
	var cur *corpusCase
	var body []string
	quoted := false
	flush := func() {
		if cur == nil {
			return
		}
		cur.SQL = strings.TrimSpace(strings.Join(body, "\n"))
		if quoted {
			s, err := strconv.Unquote(cur.SQL)
			if err != nil {
				tb.Fatalf("%s: case %s: unquote: %v", file, cur.Name, err)
			}
			cur.SQL = s
		}
		if cur.Dialects == nil {
			cur.Dialects = []Dialect{Postgres, DuckDB}
		}
		cases = append(cases, *cur)
	}
	inHeader := false
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "-- name: "); ok {
			flush()
			cur = &corpusCase{Name: strings.TrimSpace(name), Skip: map[string]string{}}
			body, quoted, inHeader = nil, false, true
			continue
		}
		if cur == nil {
			continue
		}
		if inHeader {
			if kv, ok := strings.CutPrefix(line, "-- "); ok {
				key, value, ok := strings.Cut(kv, ": ")
				if ok && parseHeader(tb, cur, key, value, &quoted) {
					continue
				}
			}
			inHeader = false
		}
		body = append(body, line)
	}
	flush()
	return cases
}

func parseHeader(tb testing.TB, c *corpusCase, key, value string, quoted *bool) bool {
	switch key {
	case "dialects":
		for _, d := range strings.Fields(value) {
			switch d {
			case "postgres":
				c.Dialects = append(c.Dialects, Postgres)
			case "duckdb":
				c.Dialects = append(c.Dialects, DuckDB)
			default:
				tb.Fatalf("case %s: unknown dialect %q", c.Name, d)
			}
		}
	case "code":
		c.Code = value
	case "class":
		c.Class = value
	case "quoted":
		*quoted = value == "true"
	case "skip":
		engine, why, _ := strings.Cut(value, ": ")
		c.Skip[engine] = why
	default:
		return false
	}
	return true
}

// corpusRelations are the tables the corpus queries run against.
var corpusRelations = map[string]bool{"users": true, "app_usage": true, "orders": true, "events": true}

func TestCheck_HostileCorpus(t *testing.T) {
	cases := append(readCorpus(t, "hostile.sql"), corpusCase{
		Name:     "text_over_100_kb",
		SQL:      "SELECT 1 " + strings.Repeat("-- padding\n", 20000),
		Dialects: []Dialect{Postgres, DuckDB},
		Code:     CodeTooLong,
	})
	if len(cases) < 100 {
		t.Fatalf("hostile corpus has %d cases, want at least 100", len(cases))
	}
	var golden strings.Builder
	for _, c := range cases {
		for _, d := range c.Dialects {
			t.Run(c.Name+"/"+d.String(), func(t *testing.T) {
				q, err := Check(c.SQL, Options{Dialect: d, Relations: corpusRelations})
				if err == nil {
					sql, _ := Deparse(q.Tree, 0)
					t.Fatalf("accepted hostile query %q (deparsed %q)", c.SQL, sql)
				}
				var gerr *Error
				if !errors.As(err, &gerr) {
					t.Fatalf("error %v is a %T, want *sqlguard.Error", err, err)
				}
				if gerr.Code != c.Code {
					t.Errorf("code = %q, want %q (error: %v)", gerr.Code, c.Code, err)
				}
				if gerr.Message == "" || gerr.Hint == "" {
					t.Errorf("error %+v lacks a message or a hint", gerr)
				}
				if d == c.Dialects[0] {
					fmt.Fprintf(&golden, "%s: %s: %v\n", c.Name, gerr.Code, err)
				}
			})
		}
	}
	checkGolden(t, "hostile.golden", golden.String())
}

func TestCheck_LegitimateCorpus(t *testing.T) {
	cases := readCorpus(t, "legit.sql")
	if len(cases) < 25 {
		t.Fatalf("legitimate corpus has %d cases, want at least 25", len(cases))
	}
	for _, c := range cases {
		for _, d := range []Dialect{Postgres, DuckDB} {
			t.Run(c.Name+"/"+d.String(), func(t *testing.T) {
				if _, err := Check(c.SQL, Options{Dialect: d, Relations: corpusRelations}); err != nil {
					t.Fatalf("refused legitimate query %q: %v", c.SQL, err)
				}
			})
		}
	}
}

func TestClassify_LegitimateCorpus(t *testing.T) {
	for _, c := range readCorpus(t, "legit.sql") {
		t.Run(c.Name, func(t *testing.T) {
			q, err := Check(c.SQL, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := Classify(q.Tree, []string{"user_id"}).String(); got != c.Class {
				t.Errorf("Classify(%q) = %s, want %s", c.SQL, got, c.Class)
			}
		})
	}
}

// checkGolden compares got with testdata/name, or rewrites it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got), rerun with -update if intended:\n%s", name, diff)
	}
}
