package demo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Random streams: each dataset draws its panelists from its own PCG
// stream, and each event table from another, so that a change to how
// events are drawn leaves the panelists (and their weights) as they are.
const (
	streamSmartphone = 1
	streamStreaming  = 2
	streamUsage      = 3
	streamOrders     = 4
	streamViewing    = 5
)

// smartphoneDesign is the sampling design of dataset 1: India's smartphone
// users aged 15-70, about 600 million people.
func smartphoneDesign() design {
	return design{
		universe: 600000,
		towns: []stratum{
			{"Metro", 40, 16},
			{"Tier 1", 25, 14},
			{"Tier 2", 20, 20},
			{"Rural", 15, 50},
		},
		nccs:    nccsByTown,
		ages:    ages,
		genders: genders,
		cities:  citiesByTown,
	}
}

// app is one smartphone app with how many panelists use it (reach, before
// the demographic adjustments), how often they open it and for how long.
type app struct {
	name      string
	reach     float64
	frequency float64
	minutes   float64 // median minutes of one day's use
}

var apps = []app{
	{"WhatsApp", 0.96, 5, 24},
	{"YouTube", 0.86, 4, 42},
	{"Instagram", 0.50, 3.5, 28},
	{"Facebook", 0.44, 2.5, 20},
	{"Truecaller", 0.50, 1, 3},
	{"Paytm", 0.40, 1, 4},
	{"Flipkart", 0.38, 0.9, 11},
	{"Amazon", 0.34, 0.8, 12},
	{"Hotstar", 0.30, 1.5, 48},
	{"ShareChat", 0.18, 2.5, 26},
	{"Snapchat", 0.14, 2, 16},
	{"Spotify", 0.16, 1.8, 34},
	{"Netflix", 0.11, 1.2, 62},
}

// appReach adjusts an app's reach to the panelist: young people use
// Instagram and Snapchat more, older ones Facebook, the affluent Netflix,
// Spotify and Amazon, small towns ShareChat.
func appReach(a app, p person) float64 {
	reach := a.reach
	young := p.ageGroup == "15-24"
	old := p.ageGroup == "45-54" || p.ageGroup == "55+"
	affluent := p.nccs == "A1" || p.nccs == "A"
	lower := p.nccs == "C" || p.nccs == "D" || p.nccs == "E"
	small := p.townClass == "Tier 2" || p.townClass == "Rural"
	switch a.name {
	case "Instagram", "Snapchat", "Spotify":
		if young {
			reach *= 1.5
		}
		if old {
			reach *= 0.45
		}
	case "Facebook":
		if young {
			reach *= 0.7
		}
		if old {
			reach *= 1.3
		}
	case "Netflix", "Amazon":
		if affluent {
			reach *= 1.8
		}
		if lower {
			reach *= 0.5
		}
	case "ShareChat":
		if small {
			reach *= 1.9
		}
		if affluent {
			reach *= 0.4
		}
	}
	return min(reach, 0.99)
}

var orderCategories = []struct {
	name   string
	weight float64
	median float64 // rupees
	sigma  float64
}{
	{"Grocery", 22, 640, 0.5},
	{"Fashion", 19, 899, 0.6},
	{"Mobile Recharge", 17, 299, 0.45},
	{"Electronics", 9, 7999, 0.8},
	{"Home & Kitchen", 11, 1199, 0.7},
	{"Beauty & Personal Care", 10, 449, 0.5},
	{"Food Delivery", 9, 380, 0.45},
	{"Books", 3, 349, 0.4},
}

// nccsFactor scales spend and ordering by socio-economic class.
func nccsFactor(nccs string) float64 {
	switch nccs {
	case "A1":
		return 1.5
	case "A":
		return 1.25
	case "B":
		return 1.0
	case "C":
		return 0.85
	case "D":
		return 0.72
	case "E":
		return 0.62
	}
	return 0.9
}

// smartphoneUser is one panelist of dataset 1 while it is being built.
type smartphoneUser struct {
	person
	device, platform, subscription string
	signup, lastActive             time.Time
	spendPaise                     int64
}

type usageEvent struct {
	user    int32
	app     string
	minutes int32
	date    time.Time
}

type order struct {
	user     int32
	seq      int
	paise    int64
	date     time.Time
	category string
}

func generateSmartphone(opts Options) Dataset {
	r := rand.New(rand.NewPCG(opts.Seed, streamSmartphone))
	anchor := opts.Anchor
	d := smartphoneDesign()

	users := make([]smartphoneUser, opts.Users)
	usage := make([]usageEvent, 0, opts.Users*11) // about 10 sessions and 2.5 orders a panelist
	orders := make([]order, 0, opts.Users*3)
	usageDays := newCalendar(periodStart(anchor, 89), anchor, usageWeek)
	orderDays := newCalendar(periodStart(anchor, 364), anchor, ordersWeek)
	ru := rand.New(rand.NewPCG(opts.Seed, streamUsage))
	ro := rand.New(rand.NewPCG(opts.Seed, streamOrders))
	for i := range users {
		id := int32(i + 1)
		u := &users[i]
		u.person = d.draw(r)
		affluent := u.nccs == "A1" || u.nccs == "A"

		u.device = pick(r, []weighted[string]{{"mobile", 87}, {"tablet", 5}, {"desktop", 8}})
		if affluent && r.Float64() < 0.12 {
			u.device = pick(r, []weighted[string]{{"tablet", 45}, {"desktop", 55}})
		}
		u.platform = smartphonePlatform(r, u.person, u.device)
		u.subscription = subscription(r, u.nccs)

		// Signed up between 4 months and 4 years ago, more of them recently.
		u.signup = day(anchor, 120+min(r.IntN(1340), r.IntN(1340)))

		usage = appendUsage(ru, usage, id, u, usageDays)
		orders = appendOrders(ro, orders, id, u, orderDays)
	}
	for _, o := range orders {
		users[o.user-1].spendPaise += o.paise
	}

	people := make([]person, len(users))
	for i := range users {
		people[i] = users[i].person
	}
	weights := d.cellWeights(people)
	quartiles := spendQuartiles(users)

	userRows := make([][]any, len(users))
	for i, u := range users {
		userRows[i] = []any{
			int32(i + 1), weights[i], u.gender, int32(u.age), u.ageGroup, u.nccsValue(),
			u.city, u.state, u.townClass, u.device, u.platform, u.subscription,
			float64(u.spendPaise) / 100, quartiles[i], u.lastActive, u.signup,
		}
	}
	usageRows := make([][]any, len(usage))
	for i, e := range usage {
		usageRows[i] = []any{e.user, e.app, e.minutes, e.date}
	}
	// Order ids follow time, as a shop's would.
	slices.SortFunc(orders, func(a, b order) int {
		return cmp.Or(a.date.Compare(b.date), cmp.Compare(a.user, b.user), cmp.Compare(a.seq, b.seq))
	})
	orderRows := make([][]any, len(orders))
	for i, o := range orders {
		orderRows[i] = []any{int32(i + 1), o.user, float64(o.paise) / 100, o.date, o.category}
	}

	return Dataset{
		Name: "Sample Dataset",
		Description: "Synthetic Indian smartphone panel: " + thousands(len(users)) + " panelists aged 15-70 with projection " +
			"weights (thousands of people, cell-weighted by age group × gender × NCCS × town class), their app usage " +
			"from " + usageDays.start.Format(time.DateOnly) + " and their online orders from " + orderDays.start.Format(time.DateOnly) +
			" up to " + anchor.Format(time.DateOnly) + " (whole months, but the last may be partial).",
		Tables: []Table{
			{
				Name:        "users",
				Description: "One row per panelist (user level). Carries the projection weight; count people with SUM(weight), not COUNT(*).",
				PrimaryKey:  "user_id",
				Columns: append(slices.Clone(demographicColumns),
					Column{Name: "device_type", Type: TypeText, Description: "Main device: mobile, tablet or desktop."},
					Column{Name: "platform", Type: TypeText, Description: "Platform of the main device: android, ios or web."},
					Column{Name: "subscription_type", Type: TypeText, Description: "Service plan: free, basic or premium."},
					Column{Name: "total_spend", Type: TypeMoney, Unit: "₹", Description: "Total of the panelist's orders in rupees (SUM of orders.amount; 0 when none)."},
					Column{Name: "spend_quartile", Type: TypeText, Description: "Quartile of total_spend among panelists, Q1 (lowest) to Q4 (highest); equal-sized, ties broken by user_id."},
					Column{Name: "last_active_date", Type: TypeDate, Description: "Date of the panelist's latest app session (the latest app_usage.event_date)."},
					Column{Name: "signup_date", Type: TypeDate, Description: "Date the panelist joined the panel."},
				),
				Rows: userRows,
			},
			{
				Name:        "app_usage",
				Description: "App sessions over the last three months or so, from the first of the month 90 days back (event level, no weight of its own): one row per session. Weight by joining users on user_id.",
				Columns: []Column{
					{Name: "user_id", Type: TypeInteger, Description: "Panelist (users.user_id)."},
					{Name: "app_name", Type: TypeText, Description: "App used: WhatsApp, YouTube, Instagram, Facebook, Truecaller, Paytm, Flipkart, Amazon, Hotstar, ShareChat, Snapchat, Spotify or Netflix."},
					{Name: "usage_minutes", Type: TypeInteger, Description: "Minutes the app was in the foreground during the session."},
					{Name: "event_date", Type: TypeDate, Description: "Day of the session."},
				},
				Rows: usageRows,
			},
			{
				Name:        "orders",
				Description: "Online orders over the last year, from the first of the month a year back (event level, no weight of its own), from the panelists' order histories, collected when they join: so also before their signup_date. Weight by joining users on user_id.",
				PrimaryKey:  "order_id",
				Columns: []Column{
					{Name: "order_id", Type: TypeInteger, Description: "Order identifier, in order of date."},
					{Name: "user_id", Type: TypeInteger, Description: "Panelist who ordered (users.user_id)."},
					{Name: "amount", Type: TypeAmount, Unit: "₹", Description: "Order value in rupees."},
					{Name: "order_date", Type: TypeDate, Description: "Date of the order."},
					{Name: "category", Type: TypeText, Description: "Product category: Grocery, Fashion, Mobile Recharge, Electronics, Home & Kitchen, Beauty & Personal Care, Food Delivery or Books."},
				},
				Rows: orderRows,
			},
		},
		Examples: []Example{
			{"Gender", "SELECT gender, COUNT(*) FROM users GROUP BY gender"},
			{"Age", "SELECT age_group, COUNT(*) FROM users GROUP BY age_group"},
			{"Top Cities", "SELECT city, COUNT(*) FROM users GROUP BY city ORDER BY COUNT(*) DESC LIMIT 10"},
			{"NCCS", "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"},
			{"Devices", "SELECT device_type, COUNT(*) FROM users GROUP BY device_type"},
			{"Top Apps", "SELECT app_name, SUM(usage_minutes) FROM app_usage GROUP BY app_name ORDER BY SUM(usage_minutes) DESC LIMIT 10"},
			{"Spend", "SELECT spend_quartile, AVG(total_spend) FROM users GROUP BY spend_quartile"},
			{"Active Users (30d)", "SELECT COUNT(*) FROM users WHERE last_active_date >= CURRENT_DATE - INTERVAL '30 days'"},
			{"Platform", "SELECT platform, COUNT(*) FROM users GROUP BY platform"},
			{"Subscriptions", "SELECT subscription_type, COUNT(*) FROM users GROUP BY subscription_type"},
			{"App reach", "SELECT app_name, COUNT(DISTINCT user_id) AS users FROM app_usage GROUP BY app_name ORDER BY users DESC"},
			{"Orders by category", "SELECT category, COUNT(*) AS orders, SUM(amount) AS revenue FROM orders GROUP BY category ORDER BY revenue DESC"},
		},
	}
}

func smartphonePlatform(r *rand.Rand, p person, device string) string {
	if device == "desktop" {
		return "web"
	}
	var ios float64
	switch p.nccs {
	case "A1":
		ios = 0.30
	case "A":
		ios = 0.17
	case "B":
		ios = 0.07
	case "C":
		ios = 0.03
	case "D":
		ios = 0.02
	case "E":
		ios = 0.01
	default:
		ios = 0.05
	}
	if p.townClass == "Metro" {
		ios += 0.04
	}
	if device == "tablet" {
		ios += 0.25
	}
	switch x := r.Float64(); {
	case x < ios:
		return "ios"
	case x < ios+0.02:
		return "web" // browses on the phone, no app
	}
	return "android"
}

func subscription(r *rand.Rand, nccs string) string {
	f := nccsFactor(nccs)
	return pick(r, []weighted[string]{
		{"free", 70 / f},
		{"basic", 22 * f},
		{"premium", 8 * f * f * f},
	})
}

// appendUsage adds the panelist's app sessions over the days of cal and
// sets the last active date to the latest of them.
//
// Most panelists use their apps throughout the period; some lapse (their
// sessions stop on a day of the period) and as many come back (their
// sessions start on one), with lapse and return days spread evenly, so that
// people drift in and out while the day-by-day volume stays flat, following
// only the weekly rhythm of cal.
func appendUsage(r *rand.Rand, usage []usageEvent, id int32, u *smartphoneUser, cal calendar) []usageEvent {
	var mine []app
	for _, a := range apps {
		if r.Float64() < appReach(a, u.person) {
			mine = append(mine, a)
		}
	}
	if len(mine) == 0 {
		mine = append(mine, apps[0])
	}
	opts := make([]weighted[app], len(mine))
	for i, a := range mine {
		opts[i] = weighted[app]{a, a.frequency}
	}

	// The days the panelist is active: all, up to a lapse, or from a return.
	lo, hi := cal.index(u.signup), cal.days()-1
	switch x := r.Float64(); {
	case x < 0.2:
		hi = lo + r.IntN(hi-lo+1)
	case x < 0.4:
		lo += r.IntN(hi - lo + 1)
	}
	// Sessions in proportion to the active days (about 9 in 90 days for an
	// average panelist), and at least one for every app the panelist uses.
	activity := ageFactor(u.ageGroup, 1.3, 1.15, 0.95, 0.75, 0.55)
	n := int(math.Round((1 + r.ExpFloat64()*8.8*activity) * float64(hi-lo+1) / 90))
	n = min(max(n, len(mine), 1), 2*(hi-lo+1))

	start := len(usage)
	for k := range n {
		a := mine[k%len(mine)]
		if k >= len(mine) {
			a = pick(r, opts)
		}
		minutes := int32(math.Round(min(lognormal(r, a.minutes, 0.7), 600)))
		usage = append(usage, usageEvent{user: id, app: a.name, minutes: max(minutes, 1), date: cal.draw(r, lo, hi)})
	}
	mineEvents := usage[start:]
	slices.SortStableFunc(mineEvents, func(a, b usageEvent) int {
		return a.date.Compare(b.date)
	})
	u.lastActive = mineEvents[len(mineEvents)-1].date
	return usage
}

// appendOrders adds the panelist's orders over the days of cal. Orders come
// from the panelist's order history, which the panel collects when they
// join, so a year of orders is there whenever they signed up: the
// day-by-day volume follows only the weekly rhythm of cal, and a monthly
// trend does not mistake the panel's recruitment for growth in shopping.
func appendOrders(r *rand.Rand, orders []order, id int32, u *smartphoneUser, cal calendar) []order {
	f := nccsFactor(u.nccs)
	buys := 0.82 * f
	switch u.townClass {
	case "Metro":
		buys *= 1.1
	case "Rural":
		buys *= 0.75
	}
	if r.Float64() >= min(buys, 0.97) {
		return orders
	}
	lo, hi := 0, cal.days()-1
	n := 1 + poisson(r, 2.2*f*float64(hi-lo+1)/365)
	for k := range n {
		c := orderCategories[0]
		x := r.Float64() * 100
		for _, oc := range orderCategories {
			if x < oc.weight {
				c = oc
				break
			}
			x -= oc.weight
		}
		rupees := max(lognormal(r, c.median*f, c.sigma), 29)
		orders = append(orders, order{
			user:     id,
			seq:      k,
			paise:    int64(math.Round(rupees)) * 100, // prices in whole rupees
			date:     cal.draw(r, lo, hi),
			category: c.name,
		})
	}
	return orders
}

// spendQuartiles ranks panelists by total spend (ties by user_id) and cuts
// the ranking into four equal parts, Q1 lowest.
func spendQuartiles(users []smartphoneUser) []string {
	idx := make([]int, len(users))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(users[a].spendPaise, users[b].spendPaise), cmp.Compare(a, b))
	})
	out := make([]string, len(users))
	for rank, i := range idx {
		out[i] = [...]string{"Q1", "Q2", "Q3", "Q4"}[rank*4/len(users)]
	}
	return out
}

// thousands formats n with comma separators: 20000 → "20,000".
func thousands(n int) string {
	s := []byte{}
	for k := 0; n > 0 || k == 0; k++ {
		if k > 0 && k%3 == 0 {
			s = append(s, ',')
		}
		s = append(s, byte('0'+n%10))
		n /= 10
	}
	slices.Reverse(s)
	return string(s)
}
