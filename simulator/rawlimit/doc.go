// Package rawlimit measures the raw limit of the processor's parts on this
// machine, the "raw limit" half of make bench: what JetStream and Redis can
// do with the processor's traffic shape when no business logic runs.
//
// MeasureJetStream drives the same JetStream traffic per command as the
// processor (one command publish with Nats-Msg-Id into the partitioned
// command stream, one durable pull consumer per partition with MaxAckPending
// bus.DefaultMaxInFlight through bus.CommandSubscriber and a Watermill router, K event publishes
// through bus.Publisher awaited before the ack, an ordered consumer reading
// the events). MeasureRedis runs the real commit script (state.Store.Commit)
// from as many concurrent lanes as the processor has partitions.
//
// The processor's end-to-end rate divided by these numbers says how much of
// the parts' capacity the processor's own logic leaves unused.
package rawlimit
