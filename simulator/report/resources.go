package report

import "time"

// ResourceSeries is one group of processes' CPU and memory over the run,
// sampled about every second (procstat.Watch): "processor", "Redis", the
// simulator with what runs inside it.
type ResourceSeries struct {
	Name string `json:"name"`
	// CPU is the CPU time the group used over Span, the wall time its
	// samples cover: CoresMean is their ratio.
	CPU       time.Duration    `json:"cpu_ns"`
	Span      time.Duration    `json:"span_ns"`
	CoresMean float64          `json:"cores_mean"`
	CoresPeak float64          `json:"cores_peak"` // of one sample
	RSSPeak   int64            `json:"rss_peak_bytes"`
	RSSLast   int64            `json:"rss_last_bytes"`
	Samples   []ResourceSample `json:"samples"`
}

// ResourceSample is a group's use over one interval of the sampling.
type ResourceSample struct {
	At   time.Duration `json:"at_ns"`   // the interval's end, since the start of the run
	Span time.Duration `json:"span_ns"` // its length
	CPU  time.Duration `json:"cpu_ns"`  // CPU time used in it
	RSS  int64         `json:"rss_bytes"`
}

// Cores is how many cores the sample's CPU time kept busy on average.
func (s ResourceSample) Cores() float64 {
	if s.Span <= 0 {
		return 0
	}
	return s.CPU.Seconds() / s.Span.Seconds()
}

// Resource records a group's use over the span of wall time ending at at:
// the CPU time its processes used in it and their resident memory at its
// end. The series keep at most maxSeconds samples each (a week of one a
// second); later ones still count in the totals.
func (r *Recorder) Resource(at time.Time, name string, cpu, span time.Duration, rss int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.resources[name]
	if s == nil {
		s = &ResourceSeries{Name: name}
		r.resources[name] = s
		r.resourceOrder = append(r.resourceOrder, name)
	}
	smp := ResourceSample{At: at.Sub(r.start), Span: span, CPU: cpu, RSS: rss}
	s.CPU += cpu
	s.Span += span
	s.CoresPeak = max(s.CoresPeak, smp.Cores())
	s.RSSPeak = max(s.RSSPeak, rss)
	s.RSSLast = rss
	if len(s.Samples) < maxSeconds {
		s.Samples = append(s.Samples, smp)
	}
}

// resourceSeries are the series in the order their groups were first
// recorded. Caller holds r.mu.
func (r *Recorder) resourceSeries() []ResourceSeries {
	var out []ResourceSeries
	for _, name := range r.resourceOrder {
		s := *r.resources[name]
		s.Samples = append([]ResourceSample(nil), s.Samples...)
		if s.Span > 0 {
			s.CoresMean = s.CPU.Seconds() / s.Span.Seconds()
		}
		out = append(out, s)
	}
	return out
}
