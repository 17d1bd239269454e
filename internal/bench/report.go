package bench

import (
	"fmt"
	"slices"
	"strings"
)

// Report is everything one run measured. Its JSON form is what
// `mcp-analytics bench --json` writes; times are in milliseconds.
type Report struct {
	Machine Machine `json:"machine"`
	Users   int     `json:"users"`
	// RTTMS is the round-trip time SPEC §10's multi-query goals are
	// judged at; each multi-query and throughput row has its own.
	RTTMS      float64         `json:"rtt_ms"`
	Rewrite    []RewriteRow    `json:"rewrite"`
	Overhead   []OverheadRow   `json:"overhead"`
	Multi      []MultiRow      `json:"multi"`
	Throughput []ThroughputRow `json:"throughput"`
	Load       *LoadRow        `json:"load,omitempty"`
	FairShare  *FairShareRow   `json:"fair_share,omitempty"`
	Soak       *SoakReport     `json:"soak,omitempty"`
	Against    []AgainstReport `json:"against,omitempty"`
	Import     *ImportReport   `json:"import,omitempty"`
	Weighted   *WeightedReport `json:"weighted,omitempty"`
	Goals      []Goal          `json:"goals"`
}

// Machine describes where a report was measured.
type Machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	CPU        string `json:"cpu,omitempty"`
	Go         string `json:"go"`
	PostgreSQL string `json:"postgresql,omitempty"`
}

// RewriteRow is the cost of the rewrite path (parse, guard, classify,
// weight, cap, deparse) for one query shape.
type RewriteRow struct {
	Case           string  `json:"case"`
	SQL            string  `json:"sql"`
	MicrosPerQuery float64 `json:"us_per_query"`
	AllocsPerQuery int     `json:"allocs_per_query"`
	// RepeatedMicrosPerQuery is the cost through the server's caches once
	// the shape is known: questions differing only in literals (or the
	// same text again) get their plan filled in from a template.
	RepeatedMicrosPerQuery float64 `json:"repeated_us_per_query"`
}

// OverheadRow compares query_dataset over Streamable HTTP with raw pgx.
// Raw is the SQL as the server runs it (weighted, merged, capped), so the
// ratio is the cost of everything we add around the database; the raw
// time of the SQL as written shows what the weighting costs the database.
type OverheadRow struct {
	Case            string  `json:"case"`
	SQL             string  `json:"sql"`
	Samples         int     `json:"samples"`
	RawP50          float64 `json:"raw_p50_ms"`
	RawP95          float64 `json:"raw_p95_ms"`
	OursP50         float64 `json:"ours_p50_ms"`
	OursP95         float64 `json:"ours_p95_ms"`
	RawAsWrittenP50 float64 `json:"raw_as_written_p50_ms"`
	RatioP50        float64 `json:"ratio_p50"`
	RatioP95        float64 `json:"ratio_p95"`
}

// MultiRow compares n queries as one execute_multi_query with the same
// queries as sequential query_dataset calls, through the latency proxy.
//
// The lower bound is one round trip (every query sent at once, pipelined
// where connections are fewer than queries) plus the database's own time
// for the queries, measured with raw pgx next to the database with the
// server's concurrency. WavesAtLimit and LowerBoundAtLimit are the bound
// when at most Limits.MaxConcurrent queries may be in flight and each
// needs its own round trip.
type MultiRow struct {
	RTTMS        float64 `json:"rtt_ms"`
	Queries      int     `json:"queries"`
	SequentialMS float64 `json:"sequential_ms"`
	MultiMS      float64 `json:"multi_ms"`
	Speedup      float64 `json:"speedup"`
	DatabaseMS   float64 `json:"database_ms"`
	// DatabaseSequentialMS is the database's time for the queries one
	// after the other (raw pgx next to the database): the sum of their
	// own times.
	DatabaseSequentialMS float64 `json:"database_sequential_ms"`
	LowerBoundMS         float64 `json:"lower_bound_ms"`
	RatioToLowerBound    float64 `json:"ratio_to_lower_bound"`
	WavesAtLimit         int     `json:"waves_at_limit"`
	LowerBoundAtLimit    float64 `json:"lower_bound_at_limit_ms"`
	RawPgxRemoteMS       float64 `json:"raw_pgx_remote_ms"`
}

// ThroughputRow compares concurrent MCP clients with raw pgx goroutines
// over the same pool settings, RTTMS away from the database.
type ThroughputRow struct {
	RTTMS           float64 `json:"rtt_ms"`
	Clients         int     `json:"clients"`
	Calls           int     `json:"calls"`
	OursPerSec      float64 `json:"ours_per_sec"`
	RawPerSec       float64 `json:"raw_per_sec"`
	OursP50         float64 `json:"ours_p50_ms"`
	OursP99         float64 `json:"ours_p99_ms"`
	RawP50          float64 `json:"raw_p50_ms"`
	RawP99          float64 `json:"raw_p99_ms"`
	ThroughputRatio float64 `json:"throughput_ratio"`
	P99Ratio        float64 `json:"p99_ratio"`
	Errors          int     `json:"errors"`
}

// LoadRow is the many-sessions load. RSS is the whole bench process:
// server, clients and pools.
type LoadRow struct {
	Sessions         int     `json:"sessions"`
	Calls            int     `json:"calls"`
	PerSec           float64 `json:"per_sec"`
	P50              float64 `json:"p50_ms"`
	P99              float64 `json:"p99_ms"`
	Errors           int     `json:"errors"`
	IdleRSSMiB       float64 `json:"idle_rss_mib"`
	PeakRSSMiB       float64 `json:"peak_rss_mib"`
	AfterRSSMiB      float64 `json:"after_rss_mib"`
	GoroutinesBefore int     `json:"goroutines_before"`
	GoroutinesAfter  int     `json:"goroutines_after"`
}

// Goal is one SPEC §10 target and whether this run met it.
type Goal struct {
	Goal     string `json:"goal"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

func goals(r *Report) []Goal {
	var out []Goal
	add := func(goal, target, measured string, met bool) {
		out = append(out, Goal{Goal: goal, Target: target, Measured: measured, Met: met})
	}
	for _, o := range r.Overhead {
		switch o.Case {
		case "primary-key lookup":
			add("per call, primary-key lookup", "≤ 3× raw pgx (p50)", fmt.Sprintf("%.2f×", o.RatioP50), o.RatioP50 <= 3)
		case "~5 ms aggregate":
			add("per call, ~5 ms aggregate", "≤ 1.15× raw pgx (p50)", fmt.Sprintf("%.2f×", o.RatioP50), o.RatioP50 <= 1.15)
		}
	}
	if len(r.Rewrite) > 0 {
		worst, repeated := 0.0, 0.0
		for _, w := range r.Rewrite {
			worst, repeated = max(worst, w.MicrosPerQuery), max(repeated, w.RepeatedMicrosPerQuery)
		}
		add("parse + guard + rewrite, first time a shape is seen", "well under 1 ms", fmt.Sprintf("≤ %.0f µs", worst), worst < 500)
		add("parse + guard + rewrite, a known shape", "well under 1 ms", fmt.Sprintf("≤ %s µs", num(repeated)), repeated < 500)
	}
	for _, t := range r.Throughput {
		add(fmt.Sprintf("throughput, %d clients, %s ms RTT", t.Clients, num(t.RTTMS)), "≥ 0.5× raw pgx", fmt.Sprintf("%.2f×", t.ThroughputRatio), t.ThroughputRatio >= 0.5)
		add(fmt.Sprintf("p99, %d clients, %s ms RTT", t.Clients, num(t.RTTMS)), "< 3× raw pgx", fmt.Sprintf("%.2f×", t.P99Ratio), t.P99Ratio < 3)
	}
	for _, m := range r.Multi {
		if m.Queries < 10 || m.RTTMS != r.RTTMS {
			continue
		}
		add(fmt.Sprintf("%d queries at %.0f ms RTT vs sequential", m.Queries, r.RTTMS), "≥ 8× faster", fmt.Sprintf("%.1f×", m.Speedup), m.Speedup >= 8)
		add(fmt.Sprintf("%d queries vs lower bound", m.Queries), "≤ 1.3×", fmt.Sprintf("%.2f×", m.RatioToLowerBound), m.RatioToLowerBound <= 1.3)
	}
	if l := r.Load; l != nil {
		add(fmt.Sprintf("load, %d sessions", l.Sessions), "0 errors", fmt.Sprint(l.Errors), l.Errors == 0)
		if l.IdleRSSMiB > 0 {
			add("RSS after the load", "≤ 2× idle", fmt.Sprintf("%.1f MiB vs %.1f MiB idle (%.2f×)", l.AfterRSSMiB, l.IdleRSSMiB, ratio(l.AfterRSSMiB, l.IdleRSSMiB)), l.AfterRSSMiB <= 2*l.IdleRSSMiB)
		}
		add("goroutines after the load", "back to baseline", fmt.Sprintf("%d → %d", l.GoroutinesBefore, l.GoroutinesAfter), l.GoroutinesAfter <= l.GoroutinesBefore)
	}
	if f := r.FairShare; f != nil {
		add("fair share: a single query while another client floods", "≤ 2× idle (p50)", fmt.Sprintf("%.2f× (%s ms vs %s ms idle)", f.RatioP50, num(f.FloodP50), num(f.IdleP50)), f.RatioP50 <= 2 && f.Errors == 0)
	}
	if w := r.Weighted; w != nil {
		for _, x := range w.Rows {
			add(fmt.Sprintf("weighted, %s events: %s", thousands(w.Events), x.Question), "≤ 1.25× expert SQL", fmt.Sprintf("%.2f×", x.OursToExpert), x.OursToExpert <= 1.25)
		}
		worst := 0.0
		for _, x := range w.Rows {
			worst = max(worst, x.OursMaxMS)
		}
		add(fmt.Sprintf("weighted, %s events: slowest answer", thousands(w.Events)), "< 60 s", fmt.Sprintf("%s s", num(worst/1000)), worst < 60_000)
	}
	if s := r.Soak; s != nil {
		add("soak: wrong answers", "0", fmt.Sprint(s.Wrong), s.Wrong == 0)
		add("soak: errors outside outages", "0", fmt.Sprint(s.ErrorsOutsideOutages), s.ErrorsOutsideOutages == 0)
	}
	return out
}

// Markdown renders the report as the tables BENCHMARKS.md shows.
func (r *Report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "# mcp-analytics bench\n\n%d CPUs (%s), %s/%s, %s, PostgreSQL %s; panel of %s users; simulated RTT %s ms.\n\n",
		m.CPUs, or(m.CPU, "unknown CPU"), m.GOOS, m.GOARCH, m.Go, or(m.PostgreSQL, "?"), thousands(r.Users), rtts(r))

	b.WriteString("## SPEC §10 goals\n\n| goal | target | measured | met |\n|---|---|---|---|\n")
	for _, g := range r.Goals {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g.Goal, g.Target, g.Measured, yes(g.Met))
	}

	if len(r.Overhead) > 0 {
		b.WriteString("\n## Per call: query_dataset over Streamable HTTP vs raw pgx (ms)\n\n")
		b.WriteString("| case | samples | raw p50 | raw p95 | ours p50 | ours p95 | ratio p50 | ratio p95 | raw, SQL as written, p50 |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, o := range r.Overhead {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %.2f× | %.2f× | %s |\n", o.Case, o.Samples,
				num(o.RawP50), num(o.RawP95), num(o.OursP50), num(o.OursP95), o.RatioP50, o.RatioP95, num(o.RawAsWrittenP50))
		}
	}

	for i, x := range r.Multi {
		if i == 0 || x.RTTMS != r.Multi[i-1].RTTMS {
			fmt.Fprintf(&b, "\n## execute_multi_query vs sequential query_dataset, database %s ms away (ms, median)\n\n", num(x.RTTMS))
			b.WriteString("| queries | sequential | one call | speedup | database time (parallel / one by one) | lower bound | ours / bound | bound at 10 in flight | raw pgx, same pool, through the proxy |\n|---|---|---|---|---|---|---|---|---|\n")
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %.1f× | %s / %s | %s | %.2f× | %s (%d round trips) | %s |\n", x.Queries, num(x.SequentialMS), num(x.MultiMS),
			x.Speedup, num(x.DatabaseMS), num(x.DatabaseSequentialMS), num(x.LowerBoundMS), x.RatioToLowerBound, num(x.LowerBoundAtLimit), x.WavesAtLimit, num(x.RawPgxRemoteMS))
	}

	for _, t := range r.Throughput {
		fmt.Fprintf(&b, "\n## Throughput: %d concurrent clients, primary-key lookups (%s calls), database %s ms away\n\n", t.Clients, thousands(t.Calls), num(t.RTTMS))
		b.WriteString("| | calls/s | p50 ms | p99 ms |\n|---|---|---|---|\n")
		fmt.Fprintf(&b, "| MCP sessions (ours) | %s | %s | %s |\n", num(t.OursPerSec), num(t.OursP50), num(t.OursP99))
		fmt.Fprintf(&b, "| raw pgx, same pool | %s | %s | %s |\n", num(t.RawPerSec), num(t.RawP50), num(t.RawP99))
		fmt.Fprintf(&b, "| ratio | %.2f× | | %.2f× |\n", t.ThroughputRatio, t.P99Ratio)
	}

	if l := r.Load; l != nil {
		fmt.Fprintf(&b, "\n## Load: %d concurrent MCP sessions, %s calls\n\n", l.Sessions, thousands(l.Calls))
		b.WriteString("| calls/s | p50 ms | p99 ms | errors | RSS idle | RSS peak | RSS after | goroutines before → after |\n|---|---|---|---|---|---|---|---|\n")
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s MiB | %s MiB | %s MiB | %d → %d |\n", num(l.PerSec), num(l.P50), num(l.P99), l.Errors,
			num(l.IdleRSSMiB), num(l.PeakRSSMiB), num(l.AfterRSSMiB), l.GoroutinesBefore, l.GoroutinesAfter)
	}

	if f := r.FairShare; f != nil {
		fmt.Fprintf(&b, "\n## Fair share: one client floods (%d batches of 30 queries in flight), another asks single lookups, database %s ms away\n\n", f.FloodBatches, num(f.RTTMS))
		b.WriteString("| | p50 ms | p95 ms | queued p50 / p95 ms |\n|---|---|---|---|\n")
		fmt.Fprintf(&b, "| second client, idle server | %s | %s | |\n", num(f.IdleP50), num(f.IdleP95))
		fmt.Fprintf(&b, "| second client, under the flood | %s | %s | %s / %s |\n", num(f.FloodP50), num(f.FloodP95), num(f.QueueP50), num(f.QueueP95))
		fmt.Fprintf(&b, "| ratio | %.2f× | %.2f× | |\n", f.RatioP50, f.RatioP95)
		fmt.Fprintf(&b, "\nThe flood completed %s queries (%s/s) while the second client was measured (%d samples, %d errors).\n", thousands(f.FloodQueries), num(f.FloodPerSec), f.Samples, f.Errors)
	}

	if s := r.Soak; s != nil {
		b.WriteString(s.markdown())
	}

	for _, a := range r.Against {
		fmt.Fprintf(&b, "\n## Against %s (its SQL tool, questions as written; raw pgx runs the same SQL)\n\n", a.Name)
		b.WriteString("| case | samples | raw p50 | theirs p50 | theirs p95 | theirs / raw (p50) | ours / raw (p50, weighted SQL as run) |\n|---|---|---|---|---|---|---|\n")
		for _, x := range a.PerCall {
			ours := "—"
			if x.OursRatio > 0 {
				ours = fmt.Sprintf("%.2f×", x.OursRatio)
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %.2f× | %s |\n", x.Case, x.Samples, num(x.RawP50), num(x.TheirP50), num(x.TheirP95), x.RatioP50, ours)
		}
		t := a.Throughput
		fmt.Fprintf(&b, "\n%d clients, primary-key lookups: %s calls/s (raw pgx %s, %.2f×), p99 %s ms (raw %s, %.2f×), %d errors.\n",
			t.Clients, num(t.OursPerSec), num(t.RawPerSec), t.ThroughputRatio, num(t.OursP99), num(t.RawP99), t.P99Ratio, t.Errors)
	}

	if w := r.Weighted; w != nil {
		b.WriteString(w.markdown())
	}

	if im := r.Import; im != nil {
		b.WriteString("\n## datasets import (the command as a child process; peak RSS is its own)\n\n")
		b.WriteString("| file | rows | columns | size MiB | seconds | CPU seconds | rows/s | MiB/s | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, x := range im.Rows {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", x.File, thousands(x.Rows), x.Columns, num(x.FileMiB), num(x.Seconds),
				num(x.CPUSeconds), num(x.RowsPerS), num(x.MiBPerS), num(x.PeakRSSMi))
		}
		fmt.Fprintf(&b, "\nPeak RSS of the full .sav over that of a tenth of it: %.2f× (DuckDB's memory_limit, 1 GB by default, caps the growth).\n", im.RSSRatio)
	}

	if len(r.Rewrite) > 0 {
		b.WriteString("\n## Rewrite path alone (parse + guard + weighting + deparse)\n\n| query shape | µs per query, first time | allocations | µs per query, known shape |\n|---|---|---|---|\n")
		for _, w := range r.Rewrite {
			fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", w.Case, num(w.MicrosPerQuery), w.AllocsPerQuery, num(w.RepeatedMicrosPerQuery))
		}
	}
	return b.String()
}

// rtts lists the simulated round-trip times of a report, in ms.
func rtts(r *Report) string {
	var out []string
	for _, t := range r.Throughput {
		if t.RTTMS > 0 {
			out = append(out, num(t.RTTMS))
		}
	}
	for _, m := range r.Multi {
		if !slices.Contains(out, num(m.RTTMS)) {
			out = append(out, num(m.RTTMS))
		}
	}
	if len(out) == 0 {
		return num(r.RTTMS)
	}
	return strings.Join(out, ", ")
}

func yes(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// num writes a figure with three significant decimals at most.
func num(f float64) string {
	switch {
	case f == 0:
		return "0"
	case f >= 100:
		return thousands(int(f + 0.5))
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	case f >= 1:
		return fmt.Sprintf("%.2f", f)
	}
	return fmt.Sprintf("%.3f", f)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func cpuModel(cpuinfo string) string {
	for line := range strings.SplitSeq(cpuinfo, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
