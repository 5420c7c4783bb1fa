package report

import (
	"html/template"
	"math"
	"time"
)

// The report's three plots, built from a Summary.

const (
	colorSent      = "#1f77b4"
	colorCompleted = "#ff7f0e"
	colorP50       = "#2ca02c"
	colorP99       = "#ff7f0e"
	colorMax       = "#d62728"
	colorDist      = "#1f77b4"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runSeconds is the length of the time axis: the series, or the run if longer.
func (s Summary) runSeconds() float64 {
	total := float64(len(s.Series))
	if d := s.End.Sub(s.Start).Seconds(); d > total {
		total = d
	}
	return math.Max(total, 1)
}

func (s Summary) pauseBands() []band {
	bands := make([]band, 0, len(s.Pauses))
	for _, p := range s.Pauses {
		bands = append(bands, band{from: p.From.Seconds(), to: p.To.Seconds()})
	}
	return bands
}

// throughputLines are the plot's two lines. Points sit in the middle of
// their second. The last second, which the run's end cuts short, is a
// rate over the part the run covered, or left out when that part is too
// short to say anything: its raw count would plunge and look like a crash.
func (s Summary) throughputLines() (sent, done line, peak float64) {
	sent = line{name: "sent/s", color: colorSent}
	done = line{name: "completed/s", color: colorCompleted}
	for _, smp := range s.Series {
		covered := smp.Covered
		if covered == 0 {
			covered = time.Second // a summary written before Covered existed
		}
		if covered < minCovered {
			continue
		}
		x := smp.At.Seconds() + 0.5
		perSecond := func(count int64) float64 { return float64(count) / covered.Seconds() }
		sent.xs, sent.ys = append(sent.xs, x), append(sent.ys, perSecond(smp.Sent))
		done.xs, done.ys = append(done.xs, x), append(done.ys, perSecond(smp.Completed))
		peak = math.Max(peak, math.Max(perSecond(smp.Sent), perSecond(smp.Completed)))
	}
	return sent, done, peak
}

// minCovered is the least part of a second whose counts are plotted as a
// rate: a shorter last second would say little but noise.
const minCovered = 200 * time.Millisecond

// throughputPlot: sent/s and completed/s per second, pauses shaded.
func (s Summary) throughputPlot() template.HTML {
	total := s.runSeconds()
	n := len(s.Series)
	sent, done, peak := s.throughputLines()
	top, yt := linearTicks(peak, 6)
	c := chart{
		title:     "Throughput per second",
		x:         axis{min: 0, max: total, ticks: timeTicks(total, 12), label: "time since start"},
		y:         axis{min: 0, max: top, ticks: yt, label: "commands per second"},
		bands:     s.pauseBands(),
		bandName:  "paused on purpose",
		emptyText: "no data",
	}
	if n > 0 {
		c.lines = []line{sent, done}
	}
	return c.svg()
}

// latencyPlot: p50, p99 and max of each second on a log axis in ms;
// seconds without a completion leave a gap.
func (s Summary) latencyPlot() template.HTML {
	total := s.runSeconds()
	mk := func(name, color string, get func(SecondSample) time.Duration) line {
		l := line{name: name, color: color}
		for _, smp := range s.Series {
			y := math.NaN()
			if smp.Completed > 0 {
				y = math.Max(ms(get(smp)), 0.001) // 1µs floor keeps log scale finite
			}
			l.xs = append(l.xs, smp.At.Seconds()+0.5)
			l.ys = append(l.ys, y)
		}
		return l
	}
	lines := []line{
		mk("p50", colorP50, func(x SecondSample) time.Duration { return x.P50 }),
		mk("p99", colorP99, func(x SecondSample) time.Duration { return x.P99 }),
		mk("max", colorMax, func(x SecondSample) time.Duration { return x.Max }),
	}
	lo, hi := dataRange(lines)
	c := chart{
		title:     "Latency per second (publish to first event)",
		x:         axis{min: 0, max: total, ticks: timeTicks(total, 12), label: "time since start"},
		bands:     s.pauseBands(),
		bandName:  "paused on purpose",
		emptyText: "no completed commands",
	}
	if hi > 0 {
		ymin, ymax, yt := logTicks(lo, hi)
		c.y = axis{min: ymin, max: ymax, log: true, ticks: yt, label: "latency (ms, log scale)"}
		c.lines = lines
	} else {
		c.y.min, c.y.max, c.y.ticks = logTicks(1, 10)
		c.y.log, c.y.label = true, "latency (ms, log scale)"
	}
	return c.svg()
}

// distributionPlot: the whole run's latency by percentile, x on the
// "nines" scale so the tail gets as much room as the median.
func (s Summary) distributionPlot() template.HTML {
	l := line{name: "latency at percentile", color: colorDist}
	for _, p := range s.Percentiles {
		l.xs = append(l.xs, nines(p.Percentile))
		l.ys = append(l.ys, math.Max(ms(p.Latency), 0.001))
	}
	xt := []tick{{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}}
	c := chart{
		title:     "Latency distribution (whole run)",
		x:         axis{min: 0, max: distributionMaxNines, ticks: xt, label: "percentile"},
		emptyText: "no completed commands",
	}
	lo, hi := dataRange([]line{l})
	if hi > 0 {
		ymin, ymax, yt := logTicks(lo, hi)
		c.y = axis{min: ymin, max: ymax, log: true, ticks: yt, label: "latency (ms, log scale)"}
		c.lines = []line{l}
	} else {
		c.y.min, c.y.max, c.y.ticks = logTicks(1, 10)
		c.y.log, c.y.label = true, "latency (ms, log scale)"
	}
	return c.svg()
}

// nines maps a percentile to -log10(1 - p/100): 90% -> 1, 99% -> 2, ...
func nines(p float64) float64 {
	rest := 1 - p/100
	if rest <= 0 {
		return distributionMaxNines
	}
	return math.Min(-math.Log10(rest), distributionMaxNines)
}

// dataRange is the smallest and largest y over all lines, NaNs skipped;
// hi is 0 when there is no data.
func dataRange(lines []line) (lo, hi float64) {
	lo = math.Inf(1)
	for _, l := range lines {
		for _, y := range l.ys {
			if !math.IsNaN(y) {
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
	}
	return lo, hi
}
