package demo

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var fixedAnchor = time.Date(2026, time.June, 30, 0, 0, 0, 0, time.UTC)

func TestGenerate_Deterministic(t *testing.T) {
	opts := Options{Users: 2000, Anchor: fixedAnchor}
	a, b := Generate(opts), Generate(opts)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two Generate calls with the same options differ")
	}
	// The checksum pins the values across versions of the generator too: a
	// change in it is a change of the demo data (and of the golden file).
	if got, want := a[0].Checksum(), goldenChecksum(t, "Sample Dataset"); got != want && !*update {
		t.Errorf("Sample Dataset checksum = %s, want %s from testdata/summary.golden.md", got, want)
	}

	tests := []struct {
		name  string
		other Options
		same  bool
	}{
		{"the anchor's time of day and zone do not matter", Options{Users: 2000,
			Anchor: time.Date(2026, time.June, 30, 23, 59, 0, 0, time.FixedZone("IST", 5*3600+1800))}, true},
		{"seed 0 is the default seed", Options{Users: 2000, Seed: DefaultSeed, Anchor: fixedAnchor}, true},
		{"the zero anchor is the default anchor", Options{Users: 2000}, true},
		{"another seed gives other data", Options{Users: 2000, Seed: 7, Anchor: fixedAnchor}, false},
		{"another anchor gives other data", Options{Users: 2000, Anchor: fixedAnchor.AddDate(0, 0, 1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := Generate(tt.other)
			for i := range a {
				if got := a[i].Checksum() == other[i].Checksum(); got != tt.same {
					t.Errorf("%s: same checksum = %v, want %v", a[i].Name, got, tt.same)
				}
			}
		})
	}
}

func TestOptions_withDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want Options
	}{
		{"zero options", Options{}, Options{Users: 20000, Seed: DefaultSeed, Anchor: DefaultAnchor()}},
		{"negative users", Options{Users: -5, Seed: 3, Anchor: fixedAnchor}, Options{Users: 20000, Seed: 3, Anchor: fixedAnchor}},
		{"too many users", Options{Users: 1 << 40, Seed: 3, Anchor: fixedAnchor}, Options{Users: MaxUsers, Seed: 3, Anchor: fixedAnchor}},
		{"anchor keeps its own calendar date", Options{Users: 10, Seed: 1,
			Anchor: time.Date(2026, time.March, 1, 1, 30, 0, 0, time.FixedZone("IST", 5*3600+1800))},
			Options{Users: 10, Seed: 1, Anchor: time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.in.withDefaults()); diff != "" {
				t.Errorf("withDefaults() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerate_Sizes(t *testing.T) {
	for _, users := range []int{1, 7, 2000} {
		t.Run(fmt.Sprint(users, " users"), func(t *testing.T) {
			ds := Generate(Options{Users: users, Anchor: fixedAnchor})
			if len(ds) != 2 || ds[0].Name != "Sample Dataset" || ds[1].Name != "Streaming Panel" {
				t.Fatalf("Generate returned %d datasets, want Sample Dataset then Streaming Panel", len(ds))
			}
			sizes := map[string]int{}
			for _, d := range ds {
				for _, tb := range d.Tables {
					sizes[d.Name+"."+tb.Name] = len(tb.Rows)
				}
			}
			want := map[string][2]float64{ // inclusive bounds per table
				"Sample Dataset.users":     {float64(users), float64(users)},
				"Sample Dataset.app_usage": {float64(users), 90 * float64(users)},
				"Sample Dataset.orders":    {0, 20 * float64(users)},
				"Streaming Panel.users":    {float64(max(users/4, 1)), float64(max(users/4, 1))},
				"Streaming Panel.events":   {float64(max(users/4, 1)), 120 * float64(max(users/4, 1))},
			}
			if users >= 2000 { // large enough for the averages to hold
				want["Sample Dataset.app_usage"] = [2]float64{10 * float64(users) * 0.85, 10 * float64(users) * 1.15}
				want["Sample Dataset.orders"] = [2]float64{2.5 * float64(users) * 0.85, 2.5 * float64(users) * 1.15}
				want["Streaming Panel.events"] = [2]float64{10 * float64(users/4) * 0.85, 10 * float64(users/4) * 1.15}
			}
			for name, bounds := range want {
				if n := float64(sizes[name]); n < bounds[0] || n > bounds[1] {
					t.Errorf("%s has %v rows, want %v to %v", name, n, bounds[0], bounds[1])
				}
			}
		})
	}
}

// TestGenerate_Consistency checks the rules the panel promises, on the
// default-size-like 2,000-user panel.
func TestGenerate_Consistency(t *testing.T) {
	ds := Generate(Options{Users: 2000, Anchor: fixedAnchor})
	smartphone, streaming := ds[0], ds[1]

	for _, d := range ds {
		for _, tb := range d.Tables {
			t.Run(d.Name+"."+tb.Name+": values match the column types", func(t *testing.T) {
				checkTypes(t, tb)
			})
		}
	}
	for _, d := range []Dataset{smartphone, streaming} {
		users := tableRows(t, d, "users")
		t.Run(d.Name+": age_group is consistent with age", func(t *testing.T) {
			for _, u := range users {
				age := int(u.int("age"))
				if age < 15 || age > 70 || u.str("age_group") != AgeGroup(age) {
					t.Fatalf("user %d: age %d in age_group %q", u.int("user_id"), age, u.str("age_group"))
				}
			}
		})
		t.Run(d.Name+": NCCS labels are A1, A, B, C, D, E or a handful of NULLs", func(t *testing.T) {
			nulls := 0
			for _, u := range users {
				switch v := u.get("nccs"); v {
				case nil:
					nulls++
				case "A1", "A", "B", "C", "D", "E":
				default:
					t.Fatalf("user %d: nccs %v", u.int("user_id"), v)
				}
			}
			if d.Name == smartphone.Name && (nulls == 0 || nulls > len(users)/100) {
				t.Errorf("%d NULL nccs among %d users, want a handful", nulls, len(users))
			}
		})
		t.Run(d.Name+": weights are constant within cells and project to the universe", func(t *testing.T) {
			cells := map[string]float64{}
			total := 0.0
			for _, u := range users {
				w := u.float("weight")
				if w <= 0 {
					t.Fatalf("user %d: weight %v", u.int("user_id"), w)
				}
				total += w
				cell := fmt.Sprint(u.get("age_group"), "|", u.get("gender"), "|", u.get("nccs"), "|", u.get("town_class"))
				if prev, ok := cells[cell]; ok && prev != w {
					t.Fatalf("cell %s has weights %v and %v", cell, prev, w)
				}
				cells[cell] = w
			}
			universe := map[string]float64{"Sample Dataset": 600000, "Streaming Panel": 120000}[d.Name]
			if math.Abs(total-universe) > universe*1e-4 {
				t.Errorf("weights sum to %v, want %v", total, universe)
			}
		})
		t.Run(d.Name+": weighted margins match the population", func(t *testing.T) {
			design := map[string]design{"Sample Dataset": smartphoneDesign(), "Streaming Panel": streamingDesign()}[d.Name]
			weighted := map[string]float64{}
			total := 0.0
			for _, u := range users {
				w := u.float("weight")
				weighted["town_class="+u.str("town_class")] += w
				weighted["gender="+u.str("gender")] += w
				weighted["age_group="+u.str("age_group")] += w
				total += w
			}
			want := map[string]float64{}
			for _, l := range design.towns {
				want["town_class="+l.label] = share(design.towns, l.label)
			}
			for _, l := range design.genders {
				want["gender="+l.label] = share(design.genders, l.label)
			}
			for _, l := range design.ages {
				want["age_group="+l.label] = share(design.ages, l.label)
			}
			for level, share := range want {
				if got := weighted[level] / total; math.Abs(got-share) > 0.0005 {
					t.Errorf("weighted share of %s = %.4f, want %.4f", level, got, share)
				}
			}
		})
		t.Run(d.Name+": weights correct the over-sampling of metros and NCCS A", func(t *testing.T) {
			mean := func(keep func(row) bool) float64 {
				sum, n := 0.0, 0
				for _, u := range users {
					if keep(u) {
						sum += u.float("weight")
						n++
					}
				}
				return sum / float64(n)
			}
			metroA := mean(func(u row) bool { return u.str("town_class") == "Metro" && u.get("nccs") == "A" })
			ruralE := mean(func(u row) bool { return u.str("town_class") == "Rural" && u.get("nccs") == "E" })
			// The smartphone panel recruits metros 2.5 times and villages 0.3
			// times as often as their population share; the connected-TV panel
			// less unevenly.
			ratio := map[string]float64{"Sample Dataset": 5, "Streaming Panel": 2}[d.Name]
			if ruralE < ratio*metroA {
				t.Errorf("mean weight rural NCCS E = %.1f, metro NCCS A = %.1f; want rural at least %v× metro", ruralE, metroA, ratio)
			}
		})
		t.Run(d.Name+": each city has one state and one town class", func(t *testing.T) {
			seen := map[string]string{}
			for _, u := range users {
				where := u.str("state") + "|" + u.str("town_class")
				if prev, ok := seen[u.str("city")]; ok && prev != where {
					t.Fatalf("city %s is in %s and %s", u.str("city"), prev, where)
				}
				seen[u.str("city")] = where
				if c := u.str("city"); strings.HasPrefix(c, "Rural ") != (u.str("town_class") == "Rural") ||
					(strings.HasPrefix(c, "Rural ") && c != "Rural "+u.str("state")) {
					t.Fatalf("city %q, state %q, town class %q", c, u.str("state"), u.str("town_class"))
				}
			}
		})
	}

	users := tableRows(t, smartphone, "users")
	orders := tableRows(t, smartphone, "orders")
	usage := tableRows(t, smartphone, "app_usage")
	byID := map[int32]row{}
	for _, u := range users {
		byID[u.int("user_id")] = u
	}

	t.Run("total_spend is the sum of the panelist's orders", func(t *testing.T) {
		paise := map[int32]int64{}
		for _, o := range orders {
			a := o.float("amount")
			if a <= 0 || a != math.Round(a*100)/100 {
				t.Fatalf("order %d: amount %v", o.int("order_id"), a)
			}
			paise[o.int("user_id")] += int64(math.Round(a * 100))
		}
		zero := 0
		for _, u := range users {
			got := int64(math.Round(u.float("total_spend") * 100))
			if want := paise[u.int("user_id")]; got != want {
				t.Fatalf("user %d: total_spend %d paise, orders sum to %d", u.int("user_id"), got, want)
			}
			if got == 0 {
				zero++
			}
		}
		if share := float64(zero) / float64(len(users)); share < 0.1 || share > 0.3 {
			t.Errorf("%.0f%% of panelists never order, want 10-30%%", 100*share)
		}
	})
	t.Run("spend quartiles are equal-sized and ordered by total_spend", func(t *testing.T) {
		size := map[string]int{}
		lo := map[string]float64{}
		hi := map[string]float64{}
		for _, u := range users {
			q, s := u.str("spend_quartile"), u.float("total_spend")
			if size[q] == 0 || s < lo[q] {
				lo[q] = s
			}
			hi[q] = max(hi[q], s)
			size[q]++
		}
		quartiles := []string{"Q1", "Q2", "Q3", "Q4"}
		for i, q := range quartiles {
			if size[q] != len(users)/4 {
				t.Errorf("%s has %d panelists, want %d", q, size[q], len(users)/4)
			}
			if i > 0 && lo[q] < hi[quartiles[i-1]] {
				t.Errorf("%s starts at %v, below the top of %s (%v)", q, lo[q], quartiles[i-1], hi[quartiles[i-1]])
			}
		}
	})
	t.Run("dates fall in the period and in order", func(t *testing.T) {
		latest := map[int32]time.Time{}
		// The periods start on the first of the month that holds the day
		// 89 (364) days back: 2026-04-01 (2025-07-01) for 2026-06-30.
		usageStart, orderStart := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
		for _, e := range usage {
			id, date := e.int("user_id"), e.date("event_date")
			u := byID[id]
			if date.After(fixedAnchor) || date.Before(usageStart) || date.Before(u.date("signup_date")) {
				t.Fatalf("user %d: session on %s outside the period or before signup", id, date.Format(time.DateOnly))
			}
			if date.After(latest[id]) {
				latest[id] = date
			}
			if m := e.int("usage_minutes"); m < 1 || m > 600 {
				t.Fatalf("user %d: session of %d minutes", id, m)
			}
		}
		recent := 0
		for _, u := range users {
			last := u.date("last_active_date")
			if !last.Equal(latest[u.int("user_id")]) {
				t.Fatalf("user %d: last_active_date %s, latest session %s", u.int("user_id"),
					last.Format(time.DateOnly), latest[u.int("user_id")].Format(time.DateOnly))
			}
			if !last.Before(fixedAnchor.AddDate(0, 0, -29)) {
				recent++
			}
		}
		if share := float64(recent) / float64(len(users)); share < 0.5 || share > 0.8 {
			t.Errorf("%.0f%% active in the last 30 days, want most but not all", 100*share)
		}
		prev := time.Time{}
		for _, o := range orders {
			// Orders come from order histories: also before signup.
			date := o.date("order_date")
			if date.After(fixedAnchor) || date.Before(orderStart) {
				t.Fatalf("order %d on %s outside the year", o.int("order_id"), date.Format(time.DateOnly))
			}
			if date.Before(prev) {
				t.Fatalf("order %d on %s comes after an order of %s", o.int("order_id"), date.Format(time.DateOnly), prev.Format(time.DateOnly))
			}
			prev = date
		}
	})
	t.Run("platform follows the device", func(t *testing.T) {
		webApps := 0
		for _, u := range users {
			device, platform := u.str("device_type"), u.str("platform")
			switch {
			case device == "desktop" && platform != "web":
				t.Fatalf("user %d: desktop on %s", u.int("user_id"), platform)
			case device != "desktop" && platform == "web":
				webApps++
			}
		}
		if webApps > len(users)/20 {
			t.Errorf("%d of %d phone and tablet users are on the web platform, want a few", webApps, len(users))
		}
		for _, u := range tableRows(t, streaming, "users") {
			allowed := map[string][]string{
				"smart_tv":        {"android_tv", "tizen", "webos"},
				"streaming_stick": {"fire_tv", "chromecast", "android_tv"},
				"set_top_box":     {"tata_play", "airtel_xstream", "jio_stb"},
			}[u.str("device_type")]
			if !slices.Contains(allowed, u.str("platform")) {
				t.Fatalf("streaming user %d: %s on %s", u.int("user_id"), u.str("device_type"), u.str("platform"))
			}
		}
	})
	t.Run("app reach differs realistically", func(t *testing.T) {
		reach := map[string]map[int32]bool{}
		for _, e := range usage {
			if reach[e.str("app_name")] == nil {
				reach[e.str("app_name")] = map[int32]bool{}
			}
			reach[e.str("app_name")][e.int("user_id")] = true
		}
		share := func(app string) float64 { return float64(len(reach[app])) / float64(len(users)) }
		if share("WhatsApp") < 0.8 || share("Netflix") > 0.25 || share("YouTube") < 2*share("ShareChat") {
			t.Errorf("reach WhatsApp %.2f, YouTube %.2f, ShareChat %.2f, Netflix %.2f: not realistic",
				share("WhatsApp"), share("YouTube"), share("ShareChat"), share("Netflix"))
		}
	})
	t.Run("viewing events are in the period and only plays carry minutes", func(t *testing.T) {
		start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		end := fixedAnchor.AddDate(0, 0, 1)
		for _, e := range tableRows(t, streaming, "events") {
			at := e.date("event_time")
			if at.Before(start) || !at.Before(end) {
				t.Fatalf("event %d at %s is outside the 90 days", e.int("event_id"), at)
			}
			m := e.int("watch_minutes")
			if plays := e.str("event_type") == "play" || e.str("event_type") == "resume"; plays != (m > 0) {
				t.Fatalf("event %d: %s with %d minutes", e.int("event_id"), e.str("event_type"), m)
			}
		}
	})
}

// TestGenerate_MonthlyVolume checks that the event tables behave like a
// panel's: every whole month carries about the same volume, raw and
// weighted, so that a month-on-month trend moves by the calendar (28
// against 31 days, four or five weekends), within ±15 %, never as a
// collapse; the first month of each period is whole, and only the
// anchor's own month may be partial. It also checks the weekly rhythm.
func TestGenerate_MonthlyVolume(t *testing.T) {
	anchors := []time.Time{
		fixedAnchor, // a month's last day: every month is whole
		time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), // February in the middle
		time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), // a partial month of two days
	}
	for _, anchor := range anchors {
		ds := Generate(Options{Users: 20000, Anchor: anchor})
		for _, d := range ds {
			weights := map[int32]float64{}
			for _, u := range tableRows(t, d, "users") {
				weights[u.int("user_id")] = u.float("weight")
			}
			for _, tb := range d.Tables {
				if tb.Name == "users" {
					continue
				}
				dateCol := map[string]string{"app_usage": "event_date", "orders": "order_date", "events": "event_time"}[tb.Name]
				t.Run(fmt.Sprintf("%s %s.%s", anchor.Format(time.DateOnly), d.Name, tb.Name), func(t *testing.T) {
					rows, weighted := map[string]float64{}, map[string]float64{}
					var weekday [7]float64
					first := time.Time{}
					for _, e := range tableRows(t, d, tb.Name) {
						at := e.date(dateCol)
						if first.IsZero() || at.Before(first) {
							first = at
						}
						month := at.Format("2006-01")
						rows[month]++
						weighted[month] += weights[e.int("user_id")]
						weekday[at.Weekday()]++
					}
					if first.Day() != 1 {
						t.Errorf("the period starts on %s, not on the first of a month", first.Format(time.DateOnly))
					}
					var months []string
					for m := range rows {
						months = append(months, m)
					}
					slices.Sort(months)
					whole := months
					if anchor.AddDate(0, 0, 1).Day() != 1 { // the anchor's month is partial
						whole = months[:len(months)-1]
					}
					for _, series := range []map[string]float64{rows, weighted} {
						for i := 1; i < len(whole); i++ {
							change := series[whole[i]]/series[whole[i-1]] - 1
							if math.Abs(change) > 0.15 {
								t.Errorf("%s → %s: %+.1f%% (%v → %v), want within ±15%%", whole[i-1], whole[i], 100*change, series[whole[i-1]], series[whole[i]])
							}
						}
					}
					// Weekends are busier than weekdays, by a little.
					weekdays := (weekday[1] + weekday[2] + weekday[3] + weekday[4]) / 4
					weekend := (weekday[0] + weekday[6]) / 2
					if ratio := weekend / weekdays; ratio < 1.1 || ratio > 1.45 {
						t.Errorf("weekend / weekday volume = %.2f, want a weekly rhythm of about 1.2-1.3", ratio)
					}
				})
			}
		}
	}
}

// TestGenerate_Golden pins the generated data: checksums, sizes, the first
// rows of each table and the marginals of the users tables. A change to the
// generator shows here as a readable diff; run with -update to accept it.
func TestGenerate_Golden(t *testing.T) {
	ds := Generate(Options{Users: 2000, Anchor: fixedAnchor})
	var b strings.Builder
	b.WriteString("# Demo data, 2,000 users, default seed, anchor 2026-06-30\n")
	for _, d := range ds {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\nchecksum `%s`\n", d.Name, d.Description, d.Checksum())
		for _, tb := range d.Tables {
			fmt.Fprintf(&b, "\n### %s (%d rows)\n\n", tb.Name, len(tb.Rows))
			var names []string
			for _, c := range tb.Columns {
				names = append(names, c.Name)
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(names, " | "))
			for _, r := range tb.Rows[:min(3, len(tb.Rows))] {
				var cells []string
				for _, v := range r {
					cells = append(cells, formatValue(v))
				}
				fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
			}
		}
		users, _ := d.Table("users")
		fmt.Fprintf(&b, "\n### users: panelists and weighted thousands\n\n")
		for _, col := range []string{"gender", "age_group", "nccs", "town_class", "device_type", "platform", "subscription_type"} {
			fmt.Fprintf(&b, "- %s: %s\n", col, marginal(t, users, col))
		}
	}
	golden(t, "summary.golden.md", b.String())
}

// goldenChecksum reads the checksum of the named dataset from the golden
// summary (written by TestGenerate_Golden with -update).
func goldenChecksum(t *testing.T, dataset string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "summary.golden.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## "+dataset+"\n")
	_, rest, ok2 := strings.Cut(rest, "checksum `")
	sum, _, ok3 := strings.Cut(rest, "`")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("no checksum of %s in the golden summary", dataset)
	}
	return sum
}

func marginal(t *testing.T, users Table, col string) string {
	i, w := columnIndex(t, users, col), columnIndex(t, users, "weight")
	count := map[string]int{}
	weight := map[string]float64{}
	for _, r := range users.Rows {
		k := formatValue(r[i])
		count[k]++
		weight[k] += r[w].(float64)
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d (%.0f)", k, count[k], weight[k]))
	}
	return strings.Join(parts, ", ")
}

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 {
			return v.Format(time.DateOnly)
		}
		return v.Format(time.DateTime)
	case float64:
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprint(v)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run go test -update if the change is intended:\n%s", path, diff)
	}
}

// checkTypes checks that every value has the Go type of its column's SQL
// type and that only nullable columns hold nil.
func checkTypes(t *testing.T, tb Table) {
	t.Helper()
	for ri, r := range tb.Rows {
		if len(r) != len(tb.Columns) {
			t.Fatalf("row %d has %d values for %d columns", ri, len(r), len(tb.Columns))
		}
		for ci, v := range r {
			c := tb.Columns[ci]
			ok := false
			switch v.(type) {
			case nil:
				ok = c.Nullable
			case int32:
				ok = c.Type == TypeInteger
			case float64:
				ok = c.Type == TypeDouble || c.Type == TypeMoney || c.Type == TypeAmount
			case string:
				ok = c.Type == TypeText
			case time.Time:
				ok = c.Type == TypeDate || c.Type == TypeTimestamp
			}
			if !ok {
				t.Fatalf("row %d column %s (%s) holds %v (%T)", ri, c.Name, c.Type, v, v)
			}
		}
	}
}

// row is one table row with access by column name, for readable checks.
type row struct {
	t      *testing.T
	index  map[string]int
	values []any
}

func tableRows(t *testing.T, ds Dataset, name string) []row {
	t.Helper()
	tb, ok := ds.Table(name)
	if !ok {
		t.Fatalf("%s has no table %s", ds.Name, name)
	}
	index := map[string]int{}
	for i, c := range tb.Columns {
		index[c.Name] = i
	}
	rows := make([]row, len(tb.Rows))
	for i, r := range tb.Rows {
		rows[i] = row{t: t, index: index, values: r}
	}
	return rows
}

func (r row) get(col string) any {
	i, ok := r.index[col]
	if !ok {
		r.t.Fatalf("no column %s", col)
	}
	return r.values[i]
}

func (r row) int(col string) int32      { return r.get(col).(int32) }
func (r row) float(col string) float64  { return r.get(col).(float64) }
func (r row) str(col string) string     { return r.get(col).(string) }
func (r row) date(col string) time.Time { return r.get(col).(time.Time) }

func columnIndex(t *testing.T, tb Table, name string) int {
	t.Helper()
	for i, c := range tb.Columns {
		if c.Name == name {
			return i
		}
	}
	t.Fatalf("table %s has no column %s", tb.Name, name)
	return -1
}
