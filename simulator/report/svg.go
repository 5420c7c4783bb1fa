package report

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// A small line-chart renderer: enough for the report's three plots, in
// plain SVG so the HTML page needs no script, stylesheet or font.

const (
	chartW      = 1000
	chartH      = 340
	marginLeft  = 80
	marginRight = 32
	marginTop   = 56 // title and legend
	marginBot   = 52 // tick labels and axis label
	plotW       = chartW - marginLeft - marginRight
	plotH       = chartH - marginTop - marginBot
)

type tick struct {
	v     float64
	label string
}

type axis struct {
	min, max float64
	log      bool // log10 scale; min must be > 0
	ticks    []tick
	label    string
}

// pos maps v to [0,1] along the axis, clamped.
func (a axis) pos(v float64) float64 {
	lo, hi := a.min, a.max
	if a.log {
		if v <= 0 {
			return 0
		}
		v, lo, hi = math.Log10(v), math.Log10(lo), math.Log10(hi)
	}
	if hi <= lo {
		return 0
	}
	return math.Max(0, math.Min(1, (v-lo)/(hi-lo)))
}

// line is one data series; a NaN y leaves a gap.
type line struct {
	name, color string
	xs, ys      []float64
}

type band struct{ from, to float64 }

type chart struct {
	title     string
	x, y      axis
	lines     []line
	bands     []band // shaded x ranges
	bandName  string // legend entry for the bands
	emptyText string // shown instead of data when there are no lines
}

func (c chart) px(v float64) float64 { return marginLeft + c.x.pos(v)*plotW }
func (c chart) py(v float64) float64 { return marginTop + plotH - c.y.pos(v)*plotH }

// esc escapes text for SVG/XML content and attribute values.
func esc(s string) string { return template.HTMLEscapeString(s) }

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// svg renders the chart. All text passes through esc.
func (c chart) svg() template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-family="sans-serif" font-size="12">`,
		chartW, chartH, chartW, chartH, esc(c.title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`, chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="15" font-weight="bold">%s</text>`, marginLeft, esc(c.title))

	// Shaded bands under everything else.
	for _, bd := range c.bands {
		x0, x1 := c.px(bd.from), c.px(bd.to)
		if x1-x0 < 1 {
			x1 = x0 + 1 // a short pause stays visible
		}
		fmt.Fprintf(&b, `<rect x="%s" y="%d" width="%s" height="%d" fill="#d8d8d8" fill-opacity="0.6"/>`,
			num(x0), marginTop, num(x1-x0), plotH)
	}

	// Grid and tick labels.
	for _, t := range c.y.ticks {
		y := c.py(t.v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#e6e6e6"/>`, marginLeft, num(y), marginLeft+plotW, num(y))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, marginLeft-6, num(y), esc(t.label))
	}
	for _, t := range c.x.ticks {
		x := c.px(t.v)
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#e6e6e6"/>`, num(x), marginTop, num(x), marginTop+plotH)
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, num(x), marginTop+plotH+18, esc(t.label))
	}
	// Axes.
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`, marginLeft, marginTop+plotH, marginLeft+plotW, marginTop+plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`, marginLeft, marginTop, marginLeft, marginTop+plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, marginLeft+plotW/2, chartH-8, esc(c.x.label))
	ly := marginTop + plotH/2
	fmt.Fprintf(&b, `<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">%s</text>`, ly, ly, esc(c.y.label))

	// Data.
	for _, l := range c.lines {
		if d := c.path(l); d != "" {
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-linejoin="round"/>`, d, esc(l.color))
		}
	}
	if len(c.lines) == 0 && c.emptyText != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#888888">%s</text>`, marginLeft+plotW/2, marginTop+plotH/2, esc(c.emptyText))
	}

	// Legend, one row under the title.
	x := float64(marginLeft)
	for _, l := range c.lines {
		fmt.Fprintf(&b, `<line x1="%s" y1="38" x2="%s" y2="38" stroke="%s" stroke-width="3"/>`, num(x), num(x+22), esc(l.color))
		fmt.Fprintf(&b, `<text x="%s" y="42">%s</text>`, num(x+28), esc(l.name))
		x += 40 + 7*float64(len(l.name))
	}
	if len(c.bands) > 0 && c.bandName != "" {
		fmt.Fprintf(&b, `<rect x="%s" y="32" width="22" height="12" fill="#d8d8d8"/>`, num(x))
		fmt.Fprintf(&b, `<text x="%s" y="42">%s</text>`, num(x+28), esc(c.bandName))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every piece of text above went through esc
}

// path draws a series as one path, starting a new segment after a gap.
func (c chart) path(l line) string {
	var b strings.Builder
	pen := false
	for i := range l.xs {
		y := l.ys[i]
		if math.IsNaN(y) {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
			pen = true
		}
		fmt.Fprintf(&b, "%s%s %s ", cmd, num(c.px(l.xs[i])), num(c.py(y)))
	}
	return strings.TrimSpace(b.String())
}

// linearTicks returns 0..top in "nice" steps (1, 2 or 5 times a power of
// ten) with about target ticks, and top itself rounded up to a step.
func linearTicks(maxV float64, target int) (top float64, ticks []tick) {
	if maxV <= 0 {
		maxV = 1
	}
	step := niceStep(maxV / float64(target))
	top = math.Ceil(maxV/step) * step
	for v := 0.0; v <= top+step/2; v += step {
		ticks = append(ticks, tick{v: v, label: groupNumber(v)})
	}
	return top, ticks
}

func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// groupNumber labels a tick: integers grouped, fractions as short as possible.
func groupNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return groupInt(int64(v))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// logTicks covers [lo, hi] (both > 0) with whole decades and labels 1, 2
// and 5 times each power of ten (fewer when the range is wide).
func logTicks(lo, hi float64) (minV, maxV float64, ticks []tick) {
	minV = math.Pow(10, math.Floor(math.Log10(lo)))
	maxV = math.Pow(10, math.Ceil(math.Log10(hi)))
	if maxV <= minV {
		maxV = minV * 10
	}
	decades := int(math.Round(math.Log10(maxV / minV)))
	// About four to eight labelled ticks, whatever the range.
	mults := []float64{1, 2, 5}
	switch {
	case decades > 3:
		mults = []float64{1}
	case decades == 3:
		mults = []float64{1, 3}
	}
	for d := 0; d <= decades; d++ {
		p := minV * math.Pow(10, float64(d))
		for _, m := range mults {
			v := p * m
			if v > maxV*1.0001 {
				break
			}
			ticks = append(ticks, tick{v: v, label: groupNumber(roundSig(v))})
		}
	}
	return minV, maxV, ticks
}

// roundSig removes float noise such as 0.30000000000000004.
func roundSig(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return f
}

// timeTicks labels a time axis of total seconds in steps a reader can
// add up (1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1 h, ...).
func timeTicks(total float64, target int) []tick {
	steps := []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if total/s <= float64(target) {
			step = s
			break
		}
	}
	var ticks []tick
	for v := 0.0; v <= total+1e-9; v += step {
		ticks = append(ticks, tick{v: v, label: formatSpan(secondsToDuration(v))})
	}
	return ticks
}
