package lease

import (
	"strings"
	"testing"
	"time"
)

// The settings reach the config, and a config out of range is refused
// before anything touches NATS.
func TestSettingsFromTheEnvironmentAndTheirLimits(t *testing.T) {
	env := map[string]string{EnvReplicaID: "proc-1", EnvTTL: "4s", EnvBucket: "LEASES_B"}
	c, err := Config{Partitions: 32}.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if c.ReplicaID != "proc-1" || c.TTL != 4*time.Second || c.Bucket != "LEASES_B" || c.SafetyMargin != 4*time.Second/6 {
		t.Errorf("config from env: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if _, err := (Config{}).FromEnv(func(k string) string { return map[string]string{EnvTTL: "3"}[k] }); err == nil {
		t.Error("LEASE_TTL=3 (no unit) accepted")
	}
	d := Config{Partitions: 32}.WithDefaults()
	if d.Bucket != DefaultBucket || d.TTL != DefaultTTL || !replicaIDPattern.MatchString(d.ReplicaID) {
		t.Errorf("defaults: %+v", d)
	}
	if a, b := DefaultReplicaID(), DefaultReplicaID(); a == b {
		t.Errorf("two processes would share the replica ID %s", a)
	}
	for name, bad := range map[string]Config{
		"replica ID with a dot": {ReplicaID: "a.b", Partitions: 32},
		"no partitions":         {Partitions: 0},
		"TTL below a second":    {Partitions: 32, TTL: 500 * time.Millisecond},
		"margin of a third":     {Partitions: 32, TTL: 3 * time.Second, SafetyMargin: time.Second},
	} {
		if err := bad.WithDefaults().Validate(); err == nil || !strings.HasPrefix(err.Error(), "lease: config") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
