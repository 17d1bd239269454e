package sqlguard

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Suggest returns the names among candidates closest to name, best first,
// at most three: those within an edit distance of a third of name's length
// (at least 1; insertions, deletions, substitutions and swaps of adjacent
// letters, case ignored), and those that contain name or are contained in
// it ("gender" for "gend", "age_group" for "group"). It is how an unknown
// table or column gets "did you mean ...?".
func Suggest(name string, candidates []string) []string {
	want := strings.ToLower(name)
	if want == "" {
		return nil
	}
	limit := max(1, utf8.RuneCountInString(want)/3)
	type hit struct {
		name string
		dist int
	}
	var hits []hit
	seen := map[string]bool{}
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == want || seen[lc] {
			continue
		}
		d := distance(want, lc)
		switch {
		case d <= limit:
		case len(want) >= 3 && (strings.Contains(lc, want) || strings.Contains(want, lc) && len(lc) >= 3):
			d = limit + 1 + abs(len(lc)-len(want))
		default:
			continue
		}
		seen[lc] = true
		hits = append(hits, hit{c, d})
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].dist < hits[j].dist })
	out := make([]string, 0, min(3, len(hits)))
	for _, h := range hits[:min(3, len(hits))] {
		out = append(out, h.name)
	}
	return out
}

// distance is the optimal string alignment distance between a and b, in
// runes: Levenshtein plus swaps of adjacent runes ("gedner" is one swap
// from "gender").
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// DidYouMean is Suggest's answer as a clause for a message: " (did you
// mean users?)", or "" when nothing is close.
func DidYouMean(name string, candidates []string) string {
	s := Suggest(name, candidates)
	if len(s) == 0 {
		return ""
	}
	return " (did you mean " + strings.Join(s, " or ") + "?)"
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
