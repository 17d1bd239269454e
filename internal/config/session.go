package config

import (
	"fmt"
	"regexp"
	"strconv"
)

// Session settings are PostgreSQL runtime parameters the server sets on
// each of its pooled connections to a dataset (limits.work_mem and
// limits.max_parallel_workers_per_gather, per dataset or server-wide).
// Unset, the database's own defaults apply: a shared database's operator
// chose them for every user of it, and raising them for one client's
// sessions is a decision to make knowingly (README, "Database settings").

// MaxParallelWorkersPerGather is PostgreSQL's upper bound of
// max_parallel_workers_per_gather.
const MaxParallelWorkersPerGather = 1024

var workMemRE = regexp.MustCompile(`^([0-9]{1,10})\s*(kB|MB|GB|TB)?$`)

// WorkMemKB checks a work_mem setting as PostgreSQL reads it (a whole
// number of kB, MB, GB or TB, with PostgreSQL's case: "64MB", not "64mb";
// a bare number is kB) and returns it in kB. The range is PostgreSQL's:
// 64kB to 2147483647kB.
func WorkMemKB(s string) (int64, error) {
	m := workMemRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: give a whole number and kB, MB, GB or TB, such as 64MB (PostgreSQL's spelling; a bare number is kB)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	shift := map[string]uint{"": 0, "kB": 0, "MB": 10, "GB": 20, "TB": 30}[m[2]]
	const maxKB = 2147483647
	if n > maxKB>>shift {
		return 0, fmt.Errorf("%s is more than PostgreSQL allows (2147483647kB, about 2TB)", s)
	}
	kb := n << shift
	if kb < 64 {
		return 0, fmt.Errorf("%s is less than PostgreSQL's minimum of 64kB", s)
	}
	return kb, nil
}

// CheckParallelWorkers checks a max_parallel_workers_per_gather setting:
// 0 (no parallel plans) to PostgreSQL's 1024.
func CheckParallelWorkers(n int) error {
	if n < 0 || n > MaxParallelWorkersPerGather {
		return fmt.Errorf("must be between 0 (no parallel query) and %d, not %d", MaxParallelWorkersPerGather, n)
	}
	return nil
}
