package admin

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Charts are drawn here as coordinates that the templates turn into inline
// SVG (no script, no style attributes: the CSP forbids both). Every chart
// also carries the numbers it was drawn from, shown as a table beside it.

// palette colours the series of stacked charts (colour-blind safe,
// Okabe–Ito); the legend names them.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"}

// hbar is one bar of a horizontal bar chart.
type hbar struct {
	Label string
	Value float64
	Text  string // the value as shown
	Y     int
	W     float64 // bar width in px
}

// hbarChart is a horizontal bar chart: one bar per label.
type hbarChart struct {
	Title  string
	Unit   string // header of the value column of the table
	Bars   []hbar
	Height int
	Width  int
	LabelW int
}

const (
	barH   = 22
	barGap = 6
)

func newHBar(title, unit string, labels []string, values []float64, format func(float64) string) hbarChart {
	c := hbarChart{Title: title, Unit: unit, Width: 560, LabelW: 190}
	maxV := 0.0
	for _, v := range values {
		maxV = math.Max(maxV, v)
	}
	span := float64(c.Width - c.LabelW - 70)
	for i, l := range labels {
		b := hbar{Label: clip(l, 28), Value: values[i], Text: format(values[i]), Y: i * (barH + barGap)}
		if maxV > 0 {
			b.W = math.Max(1, values[i]/maxV*span)
		}
		c.Bars = append(c.Bars, b)
	}
	c.Height = len(labels)*(barH+barGap) + 2
	return c
}

// ValueX is where a bar's value label starts.
func (b hbar) ValueX(labelW int) float64 { return float64(labelW) + b.W + 6 }

// column is one time bucket of a stacked column chart.
type column struct {
	Start time.Time
	Label string // the bucket as shown in the table
	Total int64
	X     float64
	Segs  []segment
	Tick  string // axis label, every few columns
}

type segment struct {
	Series string
	Count  int64
	Y, H   float64
	Color  string
}

// series is one legend entry.
type series struct {
	Name  string
	Color string
	Total int64
}

// columnChart is calls over time, stacked by a dimension (tool, client).
type columnChart struct {
	Title   string
	By      string
	Columns []column // only buckets with calls are drawn
	Buckets int      // buckets in the range, drawn or not
	Series  []series
	Width   int
	Height  int
	PlotH   int
	ColW    float64
	MaxY    int64
	Ticks   []tick
	YTicks  []ytick
}

type tick struct {
	X     float64
	Label string
}

type ytick struct {
	Y     float64
	Label string
}

// counted is one (bucket, key, count) triple.
type counted struct {
	Start time.Time
	Key   string
	Count int64
}

// newColumnChart lays out counts over [since, since+n*bucket).
func newColumnChart(title, by string, since time.Time, bucket time.Duration, n int, rows []counted, tickFormat string) columnChart {
	c := columnChart{Title: title, By: by, Buckets: n, Width: 1100, Height: 230, PlotH: 180}
	const left, right = 40, 10
	c.ColW = float64(c.Width-left-right) / float64(n)
	// Series by total, largest first; beyond 7 they are lumped as "other".
	totals := map[string]int64{}
	for _, r := range rows {
		totals[r.Key] += r.Count
	}
	names := make([]string, 0, len(totals))
	for k := range totals {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if totals[a] != totals[b] {
			if totals[a] > totals[b] {
				return -1
			}
			return 1
		}
		if a < b {
			return -1
		}
		return 1
	})
	color := map[string]string{}
	for i, k := range names {
		name := k
		if i >= len(palette)-1 {
			name = "other"
		}
		color[k] = palette[min(i, len(palette)-1)]
		if i < len(palette)-1 {
			c.Series = append(c.Series, series{Name: orNone(k), Color: color[k], Total: totals[k]})
		} else if i == len(palette)-1 {
			c.Series = append(c.Series, series{Name: name, Color: color[k]})
		}
		if i >= len(palette)-1 {
			c.Series[len(c.Series)-1].Total += totals[k]
		}
	}
	byBucket := map[int]map[string]int64{}
	for _, r := range rows {
		i := int(r.Start.Sub(since) / bucket)
		if i < 0 || i >= n {
			continue
		}
		if byBucket[i] == nil {
			byBucket[i] = map[string]int64{}
		}
		byBucket[i][r.Key] += r.Count
	}
	for _, m := range byBucket {
		var t int64
		for _, v := range m {
			t += v
		}
		c.MaxY = max(c.MaxY, t)
	}
	scale := 0.0
	if c.MaxY > 0 {
		scale = float64(c.PlotH) / float64(niceCeil(c.MaxY))
	}
	for i := range n {
		start := since.Add(time.Duration(i) * bucket)
		if i%max(1, n/6) == 0 {
			c.Ticks = append(c.Ticks, tick{X: left + float64(i)*c.ColW, Label: start.Format(tickFormat)})
		}
		m := byBucket[i]
		if len(m) == 0 {
			continue
		}
		col := column{Start: start, Label: start.Format("2006-01-02 15:04"), X: left + float64(i)*c.ColW + 1}
		y := float64(c.PlotH)
		for _, k := range names {
			if m[k] == 0 {
				continue
			}
			h := float64(m[k]) * scale
			y -= h
			col.Segs = append(col.Segs, segment{Series: orNone(k), Count: m[k], Y: y, H: h, Color: color[k]})
			col.Total += m[k]
		}
		c.Columns = append(c.Columns, col)
	}
	if c.MaxY > 0 {
		top := niceCeil(c.MaxY)
		vs := []int64{0, top}
		if top%2 == 0 {
			vs = []int64{0, top / 2, top}
		}
		for _, v := range vs {
			c.YTicks = append(c.YTicks, ytick{Y: float64(c.PlotH) - float64(v)*scale, Label: fmt.Sprint(v)})
		}
	}
	return c
}

// BarW is the drawn width of one column.
func (c columnChart) BarW() float64 { return math.Max(1, c.ColW-2) }

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 2, so
// the middle tick is a whole number).
func niceCeil(n int64) int64 {
	if n <= 2 {
		return 2
	}
	p := int64(1)
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
