package bus

import "testing"

// The embedded server fsyncs every JetStream write before acknowledging it,
// as the shipped nats-server configs do (sync_interval: always): a command
// or event it acked survives an OS crash. NoSync is the explicit opt-out.
func TestEmbeddedServerSyncsBeforeAcknowledging(t *testing.T) {
	for _, c := range []struct {
		opt  EmbeddedOptions
		want bool
	}{
		{EmbeddedOptions{StoreDir: t.TempDir()}, true},
		{EmbeddedOptions{StoreDir: t.TempDir(), NoSync: true}, false},
	} {
		s, err := StartEmbedded(c.opt)
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.JetStreamConfig()
		s.Shutdown()
		s.WaitForShutdown()
		if cfg == nil || cfg.SyncAlways != c.want {
			t.Fatalf("NoSync %v: JetStream config %+v, want SyncAlways %v", c.opt.NoSync, cfg, c.want)
		}
	}
}
