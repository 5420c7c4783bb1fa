package report

import (
	"html/template"
	"math"
)

// The resource plots: each sampled process group's CPU (cores) and
// resident memory (MiB) over the run, pauses shaded.

// resourceColors are the series' colours, in order (a run has a handful
// of groups; more reuse them).
var resourceColors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"}

// resourcePlots are the CPU and memory plots, none without samples.
func (s Summary) resourcePlots() []template.HTML {
	if len(s.Resources) == 0 {
		return nil
	}
	cpu := s.resourcePlot("CPU per second", "cores", func(x ResourceSample) float64 { return x.Cores() })
	mem := s.resourcePlot("Resident memory", "MiB", func(x ResourceSample) float64 { return float64(x.RSS) / (1 << 20) })
	return []template.HTML{cpu, mem}
}

// resourcePlot draws get of every group's samples, each at its interval's
// middle.
func (s Summary) resourcePlot(title, unit string, get func(ResourceSample) float64) template.HTML {
	total := s.runSeconds()
	var lines []line
	peak := 0.0
	for i, r := range s.Resources {
		l := line{name: r.Name, color: resourceColors[i%len(resourceColors)]}
		for _, smp := range r.Samples {
			y := get(smp)
			l.xs = append(l.xs, (smp.At - smp.Span/2).Seconds())
			l.ys = append(l.ys, y)
			peak = math.Max(peak, y)
		}
		lines = append(lines, l)
	}
	top, yt := linearTicks(peak, 6)
	return chart{
		title:     title + " (" + unit + ")",
		x:         axis{min: 0, max: total, ticks: timeTicks(total, 12), label: "time since start"},
		y:         axis{min: 0, max: top, ticks: yt, label: unit},
		lines:     lines,
		bands:     s.pauseBands(),
		bandName:  "paused on purpose",
		emptyText: "no samples",
	}.svg()
}
