package bench

import (
	"bufio"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// samples is a set of measured durations.
type samples []time.Duration

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) in
// milliseconds, or 0 for no samples.
func (s samples) percentile(p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return millis(sorted[rank-1])
}

// median returns the median in milliseconds.
func (s samples) median() float64 { return s.percentile(50) }

func millis(d time.Duration) float64 {
	return round(float64(d.Nanoseconds())/1e6, 3)
}

func round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

// ratio returns a / b rounded to two decimals, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(a/b, 2)
}

// rssBytes returns the process's resident set size, read from
// /proc/self/status, or 0 where that file does not exist.
func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

func mib(b int64) float64 { return round(float64(b)/(1<<20), 1) }
