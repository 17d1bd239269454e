package demo

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// weighted is one outcome of a categorical draw with its relative weight.
type weighted[T any] struct {
	value  T
	weight float64
}

// pick draws one value from opts with probability proportional to weight.
func pick[T any](r *rand.Rand, opts []weighted[T]) T {
	total := 0.0
	for _, o := range opts {
		total += o.weight
	}
	x := r.Float64() * total
	for _, o := range opts {
		if x < o.weight {
			return o.value
		}
		x -= o.weight
	}
	return opts[len(opts)-1].value
}

// stratum is one level of a panel dimension: how often the panel recruits it
// (sample) and how common it is in the population it stands for.
type stratum struct {
	label      string
	sample     float64
	population float64
}

func drawStratum(r *rand.Rand, levels []stratum) stratum {
	total := 0.0
	for _, l := range levels {
		total += l.sample
	}
	x := r.Float64() * total
	for _, l := range levels {
		if x < l.sample {
			return l
		}
		x -= l.sample
	}
	return levels[len(levels)-1]
}

func share(levels []stratum, label string) float64 {
	total := 0.0
	for _, l := range levels {
		total += l.population
	}
	for _, l := range levels {
		if l.label == label {
			return l.population / total
		}
	}
	return 0
}

// nullNCCS marks a panelist whose NCCS is unknown (NULL in the tables).
const nullNCCS = ""

// design is the sampling design of a panel: the cell dimensions with their
// sample and population shares, the cities, and the universe the weights
// project to.
type design struct {
	// universe is the population (in thousands) the weights sum to.
	universe float64
	towns    []stratum
	nccs     map[string][]stratum // by town class; label nullNCCS is NULL
	ages     []stratum
	genders  []stratum
	cities   map[string][]weighted[place] // by town class
}

// place is a city (or a rural part of a state) with its state.
type place struct {
	city, state string
}

// person is the demographic part of a panelist, shared by both panels.
type person struct {
	gender    string
	age       int
	ageGroup  string
	nccs      string // nullNCCS for NULL
	city      string
	state     string
	townClass string
}

func (p person) cell() string {
	return p.ageGroup + "|" + p.gender + "|" + p.nccs + "|" + p.townClass
}

// nccsValue returns the NCCS as a table value: nil for NULL.
func (p person) nccsValue() any {
	if p.nccs == nullNCCS {
		return nil
	}
	return p.nccs
}

// draw recruits one panelist.
func (d design) draw(r *rand.Rand) person {
	town := drawStratum(r, d.towns)
	p := person{
		townClass: town.label,
		nccs:      drawStratum(r, d.nccs[town.label]).label,
		ageGroup:  drawStratum(r, d.ages).label,
		gender:    drawStratum(r, d.genders).label,
	}
	p.age = drawAge(r, p.ageGroup)
	pl := pick(r, d.cities[town.label])
	p.city, p.state = pl.city, pl.state
	return p
}

// margin is one dimension the weights are raked to: the level a panelist
// belongs to and that level's population share.
type margin struct {
	level func(person) string
	share func(person) float64
	// group, when set, is a coarser level whose share (groupShare) the
	// margin keeps whole: the share of a level that has no panelist is
	// spread over the present levels of its own group (another NCCS class
	// of the same town class), so the group's total stays right.
	group      func(person) string
	groupShare func(person) float64
}

// margins are the population margins the weights reproduce: town class ×
// NCCS jointly (NCCS differs by town class), age group and gender.
func (d design) margins() []margin {
	return []margin{
		{
			level:      func(p person) string { return p.townClass + "|" + p.nccs },
			share:      func(p person) float64 { return share(d.towns, p.townClass) * share(d.nccs[p.townClass], p.nccs) },
			group:      func(p person) string { return p.townClass },
			groupShare: func(p person) float64 { return share(d.towns, p.townClass) },
		},
		{
			level: func(p person) string { return p.ageGroup },
			share: func(p person) float64 { return share(d.ages, p.ageGroup) },
		},
		{
			level: func(p person) string { return p.gender },
			share: func(p person) float64 { return share(d.genders, p.gender) },
		},
	}
}

// cellWeights returns each panelist's projection weight in thousands. The
// weights are cell weights: every panelist of one cell (age group × gender ×
// NCCS × town class) gets the same value. They are raked (iterative
// proportional fitting, as panel providers do) so that the weighted panel
// matches the population on each of [design.margins], with the shares of
// levels that have no panelist spread over the others; so the weights sum to
// the universe. Over-recruited cells (metros, NCCS A) get small weights and
// under-recruited ones (rural, NCCS C-E) large ones. Raking rather than
// dividing each cell's population by its panelists keeps sparse cells (few
// panelists of gender Other) from distorting the totals.
func (d design) cellWeights(people []person) []float64 {
	type cell struct {
		p      person
		n      float64
		weight float64
	}
	index := map[string]int{}
	var cells []cell // in order of first appearance, so float sums are deterministic
	for _, p := range people {
		k := p.cell()
		if _, ok := index[k]; !ok {
			index[k] = len(cells)
			cells = append(cells, cell{p: p, weight: d.universe / float64(len(people))})
		}
		cells[index[k]].n++
	}

	for range 200 {
		change := 0.0
		for _, m := range d.margins() {
			sum := map[string]float64{}
			target := map[string]float64{}
			var levels []string
			for _, c := range cells {
				l := m.level(c.p)
				if _, ok := target[l]; !ok {
					levels = append(levels, l)
					target[l] = m.share(c.p)
				}
				sum[l] += c.weight * c.n
			}
			if m.group != nil {
				// Spread the shares of absent levels within their group.
				present := map[string]float64{}
				whole := map[string]float64{}
				groupOf := map[string]string{}
				for _, c := range cells {
					l, g := m.level(c.p), m.group(c.p)
					if _, ok := groupOf[l]; !ok {
						groupOf[l] = g
						present[g] += target[l]
					}
					whole[g] = m.groupShare(c.p)
				}
				for _, l := range levels {
					g := groupOf[l]
					target[l] *= whole[g] / present[g]
				}
			}
			total := 0.0
			for _, l := range levels {
				total += target[l]
			}
			for i := range cells {
				l := m.level(cells[i].p)
				f := d.universe * target[l] / total / sum[l]
				cells[i].weight *= f
				change = max(change, math.Abs(f-1))
			}
		}
		if change < 1e-12 {
			break
		}
	}

	out := make([]float64, len(people))
	for i, p := range people {
		w := cells[index[p.cell()]].weight
		out[i] = math.Round(w*10000) / 10000
	}
	return out
}

var ageGroups = []struct {
	label    string
	min, max int
}{
	{"15-24", 15, 24},
	{"25-34", 25, 34},
	{"35-44", 35, 44},
	{"45-54", 45, 54},
	{"55+", 55, 70},
}

// AgeGroup returns the age_group label of age, as the demo tables use it.
func AgeGroup(age int) string {
	for _, g := range ageGroups {
		if age <= g.max {
			return g.label
		}
	}
	return ageGroups[len(ageGroups)-1].label
}

// ageFactor returns the factor of the panelist's age group, youngest first.
func ageFactor(group string, factors ...float64) float64 {
	for i, g := range ageGroups {
		if g.label == group && i < len(factors) {
			return factors[i]
		}
	}
	return 1
}

func drawAge(r *rand.Rand, group string) int {
	for _, g := range ageGroups {
		if g.label != group {
			continue
		}
		if g.label == "55+" {
			// Fewer panelists the older they are: triangular towards 55.
			span := g.max - g.min + 1
			a, b := r.IntN(span), r.IntN(span)
			return g.min + min(a, b)
		}
		return g.min + r.IntN(g.max-g.min+1)
	}
	return 30
}

// lognormal draws a positive value with the given median and spread (the
// standard deviation of its logarithm).
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(r.NormFloat64()*sigma)
}

// poisson draws a Poisson-distributed count with mean lambda (Knuth's
// method; lambda stays small here).
func poisson(r *rand.Rand, lambda float64) int {
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l || k > 200 {
			return k
		}
		k++
	}
}

// A calendar is the days of an event table's period with the relative
// volume of each day: a weekly rhythm (weekends busier), nothing else, so
// that every full month carries about the same volume and a month-on-month
// trend shows the calendar (31 against 28 days, four or five weekends), not
// an artefact of how the panel was generated.
type calendar struct {
	start time.Time
	cum   []float64 // cum[i] is the weight of days 0..i-1; len = days+1
}

// newCalendar covers the days from start to end inclusive, each weighted
// by its weekday (indexed by time.Weekday, Sunday first).
func newCalendar(start, end time.Time, weekday [7]float64) calendar {
	c := calendar{start: start, cum: []float64{0}}
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		c.cum = append(c.cum, c.cum[len(c.cum)-1]+weekday[d.Weekday()])
	}
	return c
}

// days is the number of days the calendar covers.
func (c calendar) days() int { return len(c.cum) - 1 }

// draw returns a day from lo to hi (indexes, inclusive), drawn in
// proportion to the days' weights.
func (c calendar) draw(r *rand.Rand, lo, hi int) time.Time {
	x := c.cum[lo] + r.Float64()*(c.cum[hi+1]-c.cum[lo])
	i := sort.SearchFloat64s(c.cum[lo+1:hi+2], x)
	return c.start.AddDate(0, 0, lo+min(i, hi-lo))
}

// index returns the day index of t, clamped to the calendar.
func (c calendar) index(t time.Time) int {
	return min(max(daysBetween(c.start, t), 0), c.days()-1)
}

// periodStart returns the first day of the month that holds the day n days
// before anchor: an event table's period starts on the first of a month,
// so its first month is whole, not a partial month that would read as a
// jump in a monthly trend.
func periodStart(anchor time.Time, n int) time.Time {
	d := day(anchor, n)
	return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Weekly rhythms (Sunday first) of the event tables.
var (
	usageWeek   = [7]float64{1.15, 0.95, 0.95, 0.96, 0.97, 1.0, 1.12}
	ordersWeek  = [7]float64{1.22, 0.92, 0.9, 0.93, 0.95, 1.05, 1.2}
	viewingWeek = [7]float64{1.22, 0.92, 0.92, 0.93, 0.95, 1.08, 1.25}
)

// day returns the date n days before anchor.
func day(anchor time.Time, n int) time.Time {
	return anchor.AddDate(0, 0, -n)
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// daysBetween returns the whole days from a to b.
func daysBetween(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}

// The demographics both panels share. Shares are percentages; only their
// ratios matter.
var (
	genders = []stratum{
		{"Male", 55.5, 57.5},
		{"Female", 43, 41},
		{"Other", 1.5, 1.5},
	}
	ages = []stratum{
		{"15-24", 30, 26},
		{"25-34", 31, 27},
		{"35-44", 20, 21},
		{"45-54", 12, 15},
		{"55+", 7, 11},
	}
	// nccsByTown is recruited over-sampling the affluent classes; the
	// handful of NULLs are panelists who declined the questions.
	nccsByTown = map[string][]stratum{
		"Metro": {
			{"A1", 14, 8}, {"A", 28, 20}, {"B", 26, 27}, {"C", 16, 22}, {"D", 9, 13}, {"E", 6.7, 9.7}, {nullNCCS, 0.3, 0.3},
		},
		"Tier 1": {
			{"A1", 8, 5}, {"A", 22, 15}, {"B", 30, 27}, {"C", 20, 25}, {"D", 12, 16}, {"E", 7.7, 11.7}, {nullNCCS, 0.3, 0.3},
		},
		"Tier 2": {
			{"A1", 5, 3}, {"A", 16, 10}, {"B", 28, 24}, {"C", 25, 28}, {"D", 15, 20}, {"E", 10.7, 14.7}, {nullNCCS, 0.3, 0.3},
		},
		"Rural": {
			{"A1", 2, 1}, {"A", 8, 4}, {"B", 20, 15}, {"C", 28, 30}, {"D", 23, 27}, {"E", 18.7, 22.7}, {nullNCCS, 0.3, 0.3},
		},
	}
	citiesByTown = map[string][]weighted[place]{
		"Metro": {
			{place{"Mumbai", "Maharashtra"}, 20},
			{place{"Delhi", "Delhi"}, 19},
			{place{"Bengaluru", "Karnataka"}, 15},
			{place{"Hyderabad", "Telangana"}, 12},
			{place{"Chennai", "Tamil Nadu"}, 11},
			{place{"Kolkata", "West Bengal"}, 10},
			{place{"Pune", "Maharashtra"}, 7},
			{place{"Ahmedabad", "Gujarat"}, 6},
		},
		"Tier 1": {
			{place{"Jaipur", "Rajasthan"}, 11},
			{place{"Lucknow", "Uttar Pradesh"}, 10},
			{place{"Surat", "Gujarat"}, 9},
			{place{"Kanpur", "Uttar Pradesh"}, 7},
			{place{"Nagpur", "Maharashtra"}, 7},
			{place{"Indore", "Madhya Pradesh"}, 7},
			{place{"Patna", "Bihar"}, 7},
			{place{"Bhopal", "Madhya Pradesh"}, 6},
			{place{"Vadodara", "Gujarat"}, 6},
			{place{"Ludhiana", "Punjab"}, 5},
			{place{"Coimbatore", "Tamil Nadu"}, 5},
			{place{"Kochi", "Kerala"}, 5},
			{place{"Visakhapatnam", "Andhra Pradesh"}, 5},
			{place{"Chandigarh", "Chandigarh"}, 4},
		},
		"Tier 2": {
			{place{"Agra", "Uttar Pradesh"}, 8},
			{place{"Nashik", "Maharashtra"}, 7},
			{place{"Varanasi", "Uttar Pradesh"}, 7},
			{place{"Madurai", "Tamil Nadu"}, 7},
			{place{"Meerut", "Uttar Pradesh"}, 6},
			{place{"Rajkot", "Gujarat"}, 6},
			{place{"Ranchi", "Jharkhand"}, 6},
			{place{"Guwahati", "Assam"}, 6},
			{place{"Raipur", "Chhattisgarh"}, 6},
			{place{"Bhubaneswar", "Odisha"}, 6},
			{place{"Mysuru", "Karnataka"}, 5},
			{place{"Dehradun", "Uttarakhand"}, 5},
			{place{"Amritsar", "Punjab"}, 5},
			{place{"Jodhpur", "Rajasthan"}, 5},
			{place{"Vijayawada", "Andhra Pradesh"}, 5},
			{place{"Thiruvananthapuram", "Kerala"}, 5},
		},
		"Rural": {
			{place{"Rural Uttar Pradesh", "Uttar Pradesh"}, 17},
			{place{"Rural Bihar", "Bihar"}, 11},
			{place{"Rural Maharashtra", "Maharashtra"}, 9},
			{place{"Rural West Bengal", "West Bengal"}, 9},
			{place{"Rural Madhya Pradesh", "Madhya Pradesh"}, 8},
			{place{"Rural Rajasthan", "Rajasthan"}, 8},
			{place{"Rural Andhra Pradesh", "Andhra Pradesh"}, 6},
			{place{"Rural Tamil Nadu", "Tamil Nadu"}, 6},
			{place{"Rural Karnataka", "Karnataka"}, 6},
			{place{"Rural Gujarat", "Gujarat"}, 6},
			{place{"Rural Odisha", "Odisha"}, 5},
			{place{"Rural Jharkhand", "Jharkhand"}, 4},
			{place{"Rural Assam", "Assam"}, 3},
			{place{"Rural Punjab", "Punjab"}, 2},
		},
	}
)

// Column descriptions shared by the users tables of both panels.
var demographicColumns = []Column{
	{Name: "user_id", Type: TypeInteger, Description: "Panelist identifier (respondent key); joins to the event tables."},
	{Name: "weight", Type: TypeDouble, Description: "Projection weight in thousands of people: the panelist stands for weight × 1,000 people. Cell weight, equal for every panelist of one age_group × gender × nccs × town_class cell, raked to the population by town_class × nccs, age_group and gender; the weights sum to the panel's universe."},
	{Name: "gender", Type: TypeText, Description: "Gender: Male, Female or Other."},
	{Name: "age", Type: TypeInteger, Description: "Age in completed years, 15 to 70."},
	{Name: "age_group", Type: TypeText, Description: "Age band derived from age: 15-24, 25-34, 35-44, 45-54, 55+."},
	{Name: "nccs", Type: TypeText, Nullable: true, Description: "Socio-economic class (New Consumer Classification System): A1, A, B, C, D or E; NULL when the panelist declined. Report A1 with A, and C, D, E together as C/D/E."},
	{Name: "city", Type: TypeText, Description: "City of residence, or \"Rural <state>\" for villages."},
	{Name: "state", Type: TypeText, Description: "State or union territory of residence."},
	{Name: "town_class", Type: TypeText, Description: "Town class: Metro, Tier 1, Tier 2 or Rural."},
}
