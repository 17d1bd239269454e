package analysis

import (
	"fmt"
	"strings"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/dataset"
	"github.com/mcp-analytics/mcp-analytics/internal/result"
	"github.com/mcp-analytics/mcp-analytics/internal/sqlguard"
)

// display sets the Kind and Unit of r's columns, so the Markdown shows
// people as whole numbers, percentages with fixed decimals, means with
// sensible precision, money with its currency and identifiers without
// separators (see package render). It reads what the rewrite added (its
// column names are documented in the README), what the query's text says
// each column is (plan.Lineage: COUNT, SUM(amount), a CTE's AVG) and the
// data dictionary's units. structuredContent does not carry Kind or Unit,
// so it is unchanged. It also says, under rows of per-panelist aggregates,
// that they are not weighted: the only raw result where that helps.
func display(h *dataset.Handle, plan QueryPlan, r *result.Result) {
	d := newDisplayer(h, plan.Lineage, r.Weighting.AddedColumns)
	// The base columns by the names the rewrite chose (n_2 beside an
	// analyst's own n).
	for _, c := range []string{plan.Added.Base, plan.Added.EffectiveBase, plan.Added.ZeroWeight} {
		if c != "" {
			d.counts[strings.ToLower(c)] = true
		}
	}
	outputs := plan.Lineage.Outputs
	for i := range r.Columns {
		name := strings.ToLower(r.Columns[i].Name)
		var kind result.Kind
		var unit string
		if d.added[name] {
			kind, unit = d.addedColumn(name)
		} else {
			var out *sqlguard.Output
			if i < len(outputs) && (outputs[i].Name == "" || outputs[i].Name == name) {
				out = &outputs[i]
			}
			kind, unit = d.queryColumn(name, out)
		}
		r.Columns[i].Kind, r.Columns[i].Unit = kind, unit
	}
	partialMonths(h, plan.Lineage, r)
	if !r.Aggregated && h.Roles.WeightColumn != "" && h.Roles.RespondentKey != "" && len(r.Rows) > 0 {
		for _, o := range outputs {
			if o.Func != "" && !o.Window {
				r.Notes = append(r.Notes, fmt.Sprintf("One row per panelist (grouped by %s): these figures are not weighted. "+
					"To weight them, aggregate these rows over panelists, e.g. wrap the query in a CTE and GROUP BY a panelist attribute.", h.Roles.RespondentKey))
				break
			}
		}
	}
}

// displayer holds what display needs to know about the dataset and query.
type displayer struct {
	added   map[string]bool
	counts  map[string]bool   // added columns known to be counts
	units   map[string]string // column name → unit, where every table agrees
	key     string            // the respondent key, lower case
	lineage sqlguard.Lineage
}

func newDisplayer(h *dataset.Handle, l sqlguard.Lineage, added []string) displayer {
	d := displayer{added: map[string]bool{}, counts: map[string]bool{}, units: map[string]string{}, key: strings.ToLower(h.Roles.RespondentKey), lineage: l}
	for _, a := range added {
		d.added[strings.ToLower(a)] = true
	}
	// A column name gets a unit when every table that has a column of
	// that name gives it the same one: orders.amount in ₹ beside a
	// refunds.amount in paise would leave "amount" without.
	if len(h.Units) == 0 {
		return d
	}
	all, mixed := map[string]string{}, map[string]bool{}
	for _, t := range h.Tables {
		for _, c := range t.Columns {
			name, u := strings.ToLower(c.Name), h.Units[t.Name+"."+c.Name]
			if prev, ok := all[name]; ok && prev != u {
				mixed[name] = true
			}
			all[name] = u
		}
	}
	for name, u := range all {
		if u != "" && !mixed[name] {
			d.units[name] = u
		}
	}
	return d
}

// unitOf is the unit of a column, a CTE's column, or a name made of a
// column with an aggregate's prefix (avg_amount, total_amount).
func (d displayer) unitOf(col string) string {
	col = strings.ToLower(col)
	if u, ok := d.units[col]; ok {
		return u
	}
	if o, ok := d.lineage.Inner[col]; ok && o.Func != "count" && o.Column != "" && o.Column != col {
		if u, ok := d.units[o.Column]; ok {
			return u
		}
	}
	for _, p := range []string{"sum_", "avg_", "total_", "mean_", "median_", "min_", "max_"} {
		if rest, ok := strings.CutPrefix(col, p); ok {
			if u, ok := d.units[rest]; ok {
				return u
			}
		}
	}
	return ""
}

// addedColumn describes a column the weighting rewrite added, by the
// names it gives them (README, "What weighting adds").
func (d displayer) addedColumn(name string) (result.Kind, string) {
	switch {
	case d.counts[name], name == "n" || name == "n_eff" || name == "n_zero_weight" || isNumbered(name, "n"),
		name == "weighted_count" || name == "weighted_reach" || strings.HasPrefix(name, "weighted_count_"),
		name == "se_weighted_count" || name == "se_weighted_reach" || strings.HasPrefix(name, "se_weighted_count_"):
		return result.KindCount, ""
	case isPercentName(name):
		return result.KindPercent, ""
	}
	base := strings.TrimPrefix(strings.TrimPrefix(name, "se_"), "moe_")
	switch {
	case strings.HasPrefix(base, "weighted_avg_"):
		return result.KindMean, d.unitOf(strings.TrimPrefix(base, "weighted_avg_"))
	case strings.HasPrefix(base, "weighted_sum_"):
		return result.KindTotal, d.unitOf(strings.TrimPrefix(base, "weighted_sum_"))
	case strings.HasPrefix(base, "weighted_"):
		// The weighted twin of a column the query named (weighted_revenue
		// for SUM(amount * 1.18) AS revenue): what that column is.
		alias := strings.TrimPrefix(base, "weighted_")
		for _, o := range d.lineage.Outputs {
			if o.Name == alias {
				kind, unit := d.fromLineage(o)
				if kind == "" {
					kind = result.KindTotal // a weighted figure is a projected total
				}
				return kind, unit
			}
		}
	}
	return "", ""
}

// queryColumn describes a column the query asked for: by what its text
// says when known (out), else by its name as the database gave it.
func (d displayer) queryColumn(name string, out *sqlguard.Output) (result.Kind, string) {
	if out != nil && (out.Func != "" || out.Column != "") {
		// An identifier as it is, or the smallest or largest one.
		if (out.Func == "" || out.Func == "min" || out.Func == "max") && d.isID(out.Column) {
			return result.KindID, ""
		}
		kind, unit := d.fromLineage(*out)
		if kind == "" && isPercentName(name) {
			kind = result.KindPercent
		}
		return kind, unit
	}
	// The engines' own names for unnamed aggregates: count, count_star(),
	// count(x), sum, sum(o.amount), avg(amount)...
	fn, arg := name, ""
	if i := strings.IndexByte(name, '('); i > 0 && strings.HasSuffix(name, ")") {
		fn, arg = name[:i], strings.TrimSpace(name[i+1:len(name)-1])
		if j := strings.LastIndexByte(arg, '.'); j >= 0 {
			arg = arg[j+1:]
		}
		arg = strings.Trim(arg, `"`)
	}
	switch {
	case d.isID(name):
		return result.KindID, ""
	case fn == "count" || fn == "count_star":
		return result.KindCount, ""
	case fn == "sum":
		return result.KindTotal, d.unitOf(arg)
	case fn == "avg" || fn == "mean":
		return result.KindMean, d.unitOf(arg)
	case isPercentName(name):
		return result.KindPercent, ""
	}
	return "", d.unitOf(name)
}

// fromLineage describes a column from what the text says it is.
func (d displayer) fromLineage(o sqlguard.Output) (result.Kind, string) {
	var kind result.Kind
	switch o.Func {
	case "count":
		return result.KindCount, ""
	case "sum", "fsum":
		kind = result.KindTotal
	case "avg", "mean", "median", "stddev", "stddev_pop", "stddev_samp",
		"percentile_cont", "percentile_disc", "quantile_cont", "quantile_disc":
		kind = result.KindMean
	}
	if o.Column == "" {
		return kind, ""
	}
	return kind, d.unitOf(o.Column)
}

// isID reports an identifier column: the respondent key, id or *_id.
func (d displayer) isID(name string) bool {
	name = strings.ToLower(name)
	return name != "" && (name == d.key || name == "id" || strings.HasSuffix(name, "_id"))
}

// isPercentName reports a name that says percent: weighted_pct, moe_pct,
// reach_pct, pct, pct_female, share_percent.
func isPercentName(name string) bool {
	return name == "pct" || name == "percent" || name == "percentage" ||
		strings.HasSuffix(name, "_pct") || strings.HasPrefix(name, "pct_") ||
		strings.HasSuffix(name, "_percent") || strings.HasSuffix(name, "_percentage")
}

// isNumbered reports name == base_2, base_3...: the rewrite's name for
// its column when the query already has one of that name.
func isNumbered(name, base string) bool {
	rest, ok := strings.CutPrefix(name, base+"_")
	return ok && rest != "" && strings.Trim(rest, "0123456789") == ""
}

// partialMonths notes a month series whose first or last month the data
// cover only in part: the dataset's event tables end on the day it was
// last loaded (the demo's on the day it was made), and a month of 2 days
// beside months of 30 reads as a collapse. A month series is a column of
// dates that are all the first of a month (date_trunc('month', d) on
// either engine) or of YYYY-MM text; the period is that of the tables the
// query reads.
func partialMonths(h *dataset.Handle, l sqlguard.Lineage, r *result.Result) {
	if !r.Aggregated || len(r.Rows) == 0 || len(l.Tables) == 0 {
		return
	}
	var from, to string
	for _, t := range l.Tables {
		for _, dr := range h.DateRanges {
			if !strings.EqualFold(dr.Table, t) || dr.From == "" {
				continue
			}
			if from == "" || dr.From < from {
				from = dr.From
			}
			to = max(to, dr.To)
		}
	}
	start, err1 := time.Parse(time.DateOnly, from)
	end, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return
	}
	for i := range r.Columns {
		first, last, ok := monthSeries(r.Rows, i)
		if !ok {
			continue
		}
		var notes []string
		if first.Year() == start.Year() && first.Month() == start.Month() && start.Day() > 1 {
			days := time.Date(start.Year(), start.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
			notes = append(notes, fmt.Sprintf("%s holds data from %s on only (%d of %d days)", first.Format("2006-01"), from, days-start.Day()+1, days))
		}
		if last.Year() == end.Year() && last.Month() == end.Month() {
			days := time.Date(end.Year(), end.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if end.Day() < days {
				notes = append(notes, fmt.Sprintf("%s holds data up to %s only (%d of %d days)", last.Format("2006-01"), to, end.Day(), days))
			}
		}
		if len(notes) > 0 {
			r.Notes = append(r.Notes, "Partial month: "+strings.Join(notes, "; ")+
				". Its totals are not comparable with whole months: compare daily averages, or leave it out.")
		}
		return
	}
}

// monthSeries reports whether column i holds months (the first of a month
// at midnight, or YYYY-MM text) and returns the first and last of them.
func monthSeries(rows [][]any, i int) (first, last time.Time, ok bool) {
	for _, row := range rows {
		if i >= len(row) || row[i] == nil {
			continue
		}
		s, isText := row[i].(string)
		if !isText {
			return first, last, false
		}
		m, good := parseMonth(s)
		if !good {
			return first, last, false
		}
		if !ok || m.Before(first) {
			first = m
		}
		if !ok || m.After(last) {
			last = m
		}
		ok = true
	}
	return first, last, ok
}

// parseMonth reads 2026-03, 2026-03-01, 2026-03-01T00:00:00 and
// 2026-03-01T00:00:00Z (or with an offset) as the month of March 2026.
func parseMonth(s string) (time.Time, bool) {
	if t, err := time.Parse("2006-01", s); err == nil {
		return t, true
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Day() == 1 && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
				return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), true
			}
			return time.Time{}, false
		}
	}
	return time.Time{}, false
}
