package cluster

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Counters are processor counters (the csp_* series of a replica's
// /metrics, OPS_ADDR), or their sums over replicas.
type Counters struct {
	Commands, StateLoads, CacheHits               uint64
	Committed, Duplicate, VersionConflict, Fenced uint64
	TimersFired, TimerCommandsApplied             uint64
}

// LoadsPerCommand is the state loads from Redis per command handled.
func (c Counters) LoadsPerCommand() float64 { return ratio(c.StateLoads, c.Commands) }

// ConflictsPerCommand is the commits refused with a version conflict per
// command handled.
func (c Counters) ConflictsPerCommand() float64 { return ratio(c.VersionConflict, c.Commands) }

// FiredPerTimer is the timer commands fired per timer applied: 1 when no
// replica fired a timer another one fired too.
func (c Counters) FiredPerTimer() float64 { return ratio(c.TimersFired, c.TimerCommandsApplied) }

// ratio is n/d, NaN when d is 0 (nothing to divide by).
func ratio(n, d uint64) float64 {
	if d == 0 {
		return math.NaN()
	}
	return float64(n) / float64(d)
}

func (c *Counters) add(o Counters) {
	c.Commands += o.Commands
	c.StateLoads += o.StateLoads
	c.CacheHits += o.CacheHits
	c.Committed += o.Committed
	c.Duplicate += o.Duplicate
	c.VersionConflict += o.VersionConflict
	c.Fenced += o.Fenced
	c.TimersFired += o.TimersFired
	c.TimerCommandsApplied += o.TimerCommandsApplied
}

// Counters scrapes every running replica's /metrics and returns the sums.
// A replica killed during the run took its counts with it: read them
// before stopping any.
func (c *Cluster) Counters(ctx context.Context) (Counters, error) {
	c.mu.Lock()
	replicas := append([]*replica(nil), c.replicas...)
	c.mu.Unlock()
	var sum Counters
	for _, r := range replicas {
		if !r.running() {
			continue
		}
		got, err := ReadCounters(ctx, r.opsAddr)
		if err != nil {
			return Counters{}, fmt.Errorf("cluster: counters of %s: %w", r.id, err)
		}
		sum.add(got)
	}
	return sum, nil
}

// ReadCounters reads one processor's counters from its ops server at addr
// (host:port).
func ReadCounters(ctx context.Context, addr string) (Counters, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return Counters{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Counters{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Counters{}, fmt.Errorf("GET %s: HTTP %d", req.URL, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return Counters{}, fmt.Errorf("GET %s: %w", req.URL, err)
	}
	var out Counters
	series := map[string]*uint64{
		"csp_commands_total":                 &out.Commands,
		"csp_state_loads_total":              &out.StateLoads,
		"csp_state_cache_hits_total":         &out.CacheHits,
		"csp_commits_total/committed":        &out.Committed,
		"csp_commits_total/duplicate":        &out.Duplicate,
		"csp_commits_total/version_conflict": &out.VersionConflict,
		"csp_commits_total/fenced":           &out.Fenced,
		"csp_timers_fired_total":             &out.TimersFired,
		"csp_timer_commands_applied_total":   &out.TimerCommandsApplied,
	}
	found := 0
	for name, f := range families {
		for _, m := range f.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" {
					key += "/" + l.GetValue()
				}
			}
			if dst, ok := series[key]; ok {
				*dst = uint64(m.GetCounter().GetValue())
				found++
			}
		}
	}
	// A processor without these series (an older binary) would read as
	// all zeros: a table of zeros is worse than no table.
	if found != len(series) {
		return Counters{}, fmt.Errorf("GET %s: %d of the %d csp_* series", req.URL, found, len(series))
	}
	return out, nil
}

// freeAddr is a loopback address with a port free now, for a replica's
// OPS_ADDR. Another process may take the port before the replica binds
// it; the replica then exits at start, naming the address, and
// JoinProcessor starts it again on a new one.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cluster: pick an ops port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
