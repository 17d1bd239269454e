package demo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// streamingDesign is the sampling design of dataset 2: people aged 15-70 in
// India's connected-TV homes, about 120 million, recruited mostly in cities.
func streamingDesign() design {
	return design{
		universe: 120000,
		towns: []stratum{
			{"Metro", 45, 30},
			{"Tier 1", 27, 25},
			{"Tier 2", 18, 25},
			{"Rural", 10, 20},
		},
		nccs:    nccsByTown,
		ages:    ages,
		genders: genders,
		cities:  citiesByTown,
	}
}

var genres = []struct {
	name   string
	weight float64
	median float64 // minutes of one play
}{
	{"Drama", 20, 38},
	{"Movies", 18, 95},
	{"Cricket", 12, 110},
	{"News", 9, 22},
	{"Kids", 8, 30},
	{"Reality", 7, 45},
	{"Comedy", 7, 25},
	{"Music", 6, 18},
	{"Devotional", 5, 20},
	{"Sports", 5, 60},
	{"Documentary", 3, 48},
}

var eventTypes = []weighted[string]{
	{"play", 40},
	{"pause", 16},
	{"resume", 12},
	{"search", 12},
	{"browse", 14},
	{"ad_impression", 5},
	{"purchase", 1},
}

// viewingHours weights the hour of day of an event: evening prime time, a
// morning news bump, little at night.
var viewingHours = []weighted[int]{
	{0, 2}, {1, 1}, {2, 0.5}, {3, 0.3}, {4, 0.3}, {5, 0.6}, {6, 1.5}, {7, 2.5},
	{8, 3}, {9, 2.5}, {10, 2}, {11, 2}, {12, 2.5}, {13, 3}, {14, 3}, {15, 3},
	{16, 3.5}, {17, 4.5}, {18, 6}, {19, 8}, {20, 10}, {21, 11}, {22, 8}, {23, 4.5},
}

type viewingEvent struct {
	user    int32
	kind    string
	genre   string
	minutes int32
	at      time.Time
}

func generateStreaming(opts Options) Dataset {
	r := rand.New(rand.NewPCG(opts.Seed, streamStreaming))
	anchor := opts.Anchor
	d := streamingDesign()
	n := max(opts.Users/4, 1)

	people := make([]person, n)
	userRows := make([][]any, n)
	events := make([]viewingEvent, 0, n*11) // about 10 a panelist
	days := newCalendar(periodStart(anchor, 89), anchor, viewingWeek)
	rv := rand.New(rand.NewPCG(opts.Seed, streamViewing))
	for i := range people {
		id := int32(i + 1)
		p := d.draw(r)
		people[i] = p
		device := pick(r, []weighted[string]{{"smart_tv", 55}, {"streaming_stick", 20}, {"set_top_box", 25}})
		userRows[i] = []any{
			id, nil, p.gender, int32(p.age), p.ageGroup, p.nccsValue(), p.city, p.state, p.townClass,
			device, streamingPlatform(r, device), subscription(r, p.nccs),
		}
		events = appendViewing(rv, events, id, p, days)
	}
	for i, w := range d.cellWeights(people) {
		userRows[i][1] = w
	}

	slices.SortFunc(events, func(a, b viewingEvent) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.user, b.user))
	})
	eventRows := make([][]any, len(events))
	for i, e := range events {
		eventRows[i] = []any{int32(i + 1), e.user, e.kind, e.genre, e.minutes, e.at}
	}

	return Dataset{
		Name: "Streaming Panel",
		Description: "Synthetic Indian connected-TV panel: " + thousands(n) + " viewers aged 15-70 in connected-TV homes with " +
			"projection weights (thousands of people, cell-weighted by age group × gender × NCCS × town class) and their " +
			"viewing events from " + days.start.Format(time.DateOnly) + " up to " + anchor.Format(time.DateOnly) + " (whole months, but the last may be partial).",
		Tables: []Table{
			{
				Name:        "users",
				Description: "One row per panelist (user level). Carries the projection weight; count people with SUM(weight), not COUNT(*).",
				PrimaryKey:  "user_id",
				Columns: append(slices.Clone(demographicColumns),
					Column{Name: "device_type", Type: TypeText, Description: "Viewing device: smart_tv, streaming_stick or set_top_box."},
					Column{Name: "platform", Type: TypeText, Description: "Device platform: android_tv, tizen, webos, fire_tv, chromecast, tata_play, airtel_xstream or jio_stb."},
					Column{Name: "subscription_type", Type: TypeText, Description: "Streaming plan: free, basic or premium."},
				),
				Rows: userRows,
			},
			{
				Name:        "events",
				Description: "Viewing events over the last three months or so, from the first of the month 90 days back (event level, no weight of its own): plays, pauses, searches, purchases. Weight by joining users on user_id.",
				PrimaryKey:  "event_id",
				Columns: []Column{
					{Name: "event_id", Type: TypeInteger, Description: "Event identifier, in order of event_time."},
					{Name: "user_id", Type: TypeInteger, Description: "Panelist (users.user_id)."},
					{Name: "event_type", Type: TypeText, Description: "What happened: play, pause, resume, search, browse, ad_impression or purchase."},
					{Name: "content_genre", Type: TypeText, Description: "Genre of the content involved: Drama, Movies, Cricket, News, Kids, Reality, Comedy, Music, Devotional, Sports or Documentary."},
					{Name: "watch_minutes", Type: TypeInteger, Description: "Minutes watched after a play or resume; 0 for other events."},
					{Name: "event_time", Type: TypeTimestamp, Description: "Local date and time (IST) of the event."},
				},
				Rows: eventRows,
			},
		},
		Examples: []Example{
			{"Total users", "SELECT COUNT(*) AS user_count FROM users"},
			{"Events", "SELECT COUNT(*) FROM events"},
			{"Devices", "SELECT device_type, COUNT(*) FROM users GROUP BY device_type"},
			{"Minutes by genre", "SELECT content_genre, SUM(watch_minutes) AS minutes FROM events GROUP BY content_genre ORDER BY minutes DESC"},
			{"Event types", "SELECT event_type, COUNT(*) FROM events GROUP BY event_type ORDER BY COUNT(*) DESC"},
		},
	}
}

func streamingPlatform(r *rand.Rand, device string) string {
	switch device {
	case "smart_tv":
		return pick(r, []weighted[string]{{"android_tv", 50}, {"tizen", 26}, {"webos", 24}})
	case "streaming_stick":
		return pick(r, []weighted[string]{{"fire_tv", 62}, {"chromecast", 20}, {"android_tv", 18}})
	}
	return pick(r, []weighted[string]{{"tata_play", 45}, {"airtel_xstream", 30}, {"jio_stb", 25}})
}

// appendViewing adds the panelist's viewing events over the days of cal,
// which follow its weekly rhythm (weekend evenings are busiest). Each
// panelist has favourite genres; older viewers lean to news and devotional
// content, younger ones to movies and cricket.
func appendViewing(r *rand.Rand, events []viewingEvent, id int32, p person, cal calendar) []viewingEvent {
	old := p.ageGroup == "45-54" || p.ageGroup == "55+"
	young := p.ageGroup == "15-24"
	taste := make([]weighted[int], len(genres))
	for i, g := range genres {
		w := g.weight * (0.3 + 1.4*r.Float64())
		switch g.name {
		case "News", "Devotional":
			if old {
				w *= 2.5
			}
		case "Movies", "Cricket":
			if young {
				w *= 1.5
			}
		}
		taste[i] = weighted[int]{i, w}
	}
	activity := ageFactor(p.ageGroup, 1.2, 1.1, 1.0, 0.9, 0.8)
	// About 10 events in 90 days, in proportion to the period's days.
	n := min(int(math.Round((1+r.ExpFloat64()*9*activity)*float64(cal.days())/90)), 120*cal.days()/90)
	n = max(n, 1)
	for range n {
		g := genres[pick(r, taste)]
		kind := pick(r, eventTypes)
		var minutes int32
		if kind == "play" || kind == "resume" {
			m := lognormal(r, g.median, 0.6)
			if kind == "resume" {
				m /= 2
			}
			minutes = max(int32(math.Round(min(m, 240))), 1)
		}
		at := cal.draw(r, 0, cal.days()-1).
			Add(time.Duration(pick(r, viewingHours)) * time.Hour).
			Add(time.Duration(r.IntN(3600)) * time.Second)
		events = append(events, viewingEvent{user: id, kind: kind, genre: g.name, minutes: minutes, at: at})
	}
	return events
}
