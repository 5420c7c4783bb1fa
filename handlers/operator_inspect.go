package handlers

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/lease"
)

// The operator's views of the processor's machinery: pending timers,
// outboxes, the partitions' consumers and leases, the simulated clock.

// farFuture bounds a timer index read that wants every entry.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// outboxScanLimit bounds how many customers' outboxes one request reads:
// in normal operation only the customers whose events are being published
// have entries, so more means the events are stuck, which the first
// thousands show as well as all of them.
const outboxScanLimit = 10000

func (o *OperatorService) timers(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	var req messages.OpsTimersRequest
	if oe := decodeOps(body, &req, `{"customer_id": "...", "before": "<RFC 3339>", "limit": n}`); oe != nil {
		return nil, oe
	}
	limit, oe := pageLimit(req.Limit, 50, 1000)
	if oe != nil {
		return nil, oe
	}
	before := farFuture
	if req.Before != "" {
		t, err := time.Parse(time.RFC3339Nano, req.Before)
		if err != nil {
			return nil, opsErr(opsBadRequest, "invalid_request", "before: %q is not an RFC 3339 time", req.Before)
		}
		before = t.UTC()
	}
	partitions := o.Streams.WithDefaults().Partitions
	out := messages.OpsTimers{Timers: []messages.OpsTimer{}}
	if req.CustomerID != "" {
		_, st, oe := o.loadCustomer(ctx, req.CustomerID)
		if oe != nil {
			return nil, oe
		}
		out.Source = "state"
		for _, t := range st.Timers {
			out.Timers = append(out.Timers, messages.OpsTimer{CustomerID: req.CustomerID, TimerID: t.ID, Kind: t.Kind,
				SubscriptionID: t.SubscriptionID, DueAt: t.DueAt.UTC(), Partition: bus.PartitionOf(req.CustomerID, partitions)})
		}
	} else {
		out.Source = "index"
		due, err := o.Queries.Store.DueTimersOf(ctx, allSlots, before, limit+1)
		if err != nil {
			return nil, o.opsFailed("reading the timer index", err)
		}
		for _, slot := range due {
			for _, t := range slot {
				out.Timers = append(out.Timers, messages.OpsTimer{CustomerID: t.CustomerID, TimerID: t.TimerID, Kind: t.Kind,
					SubscriptionID: t.SubscriptionID, DueAt: t.DueAt.UTC(), Partition: bus.PartitionOf(t.CustomerID, partitions)})
			}
		}
	}
	out.Timers = slices.DeleteFunc(out.Timers, func(t messages.OpsTimer) bool { return !t.DueAt.Before(before) })
	slices.SortFunc(out.Timers, func(a, b messages.OpsTimer) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.CustomerID, b.CustomerID), cmp.Compare(a.TimerID, b.TimerID))
	})
	if len(out.Timers) > limit {
		out.Timers, out.Truncated = out.Timers[:limit], true
	}
	return out, nil
}

func (o *OperatorService) outbox(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	var req messages.OpsOutboxRequest
	if oe := decodeOps(body, &req, `{"customer_id": "...", "limit": n}`); oe != nil {
		return nil, oe
	}
	limit, oe := pageLimit(req.Limit, 100, 1000)
	if oe != nil {
		return nil, oe
	}
	if req.CustomerID != "" && !messages.ValidToken(req.CustomerID) {
		return nil, opsErr(opsBadRequest, "invalid_request", "customer_id: %q is not a customer ID", req.CustomerID)
	}
	entries, customers, truncated, err := o.Queries.Store.PendingEvents(ctx, req.CustomerID, limit, outboxScanLimit)
	if err != nil {
		return nil, o.opsFailed("reading the outboxes", err)
	}
	out := messages.OpsOutbox{Entries: []messages.OpsOutboxEntry{}, Customers: customers, Truncated: truncated}
	for _, e := range entries {
		out.Entries = append(out.Entries, messages.OpsOutboxEntry{CustomerID: e.CustomerID, EventID: e.EventID,
			Subject: e.Subject, WrittenAt: e.WrittenAt, Bytes: e.Bytes})
	}
	return out, nil
}

// partitions reads each partition's durable consumer and lease. A consumer
// that cannot be read is reported in its line; the others still are.
func (o *OperatorService) partitions(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	var req struct{}
	if oe := decodeOps(body, &req, "empty or {}"); oe != nil {
		return nil, oe
	}
	sc := o.Streams.WithDefaults()
	out := messages.OpsPartitions{Stream: sc.CommandStream, Partitions: sc.Partitions, Ownership: "static",
		Consumers: make([]messages.OpsPartition, 0, sc.Partitions)}
	var holders map[int]lease.Holder
	if o.LeaseBucket != "" {
		out.Ownership = "leases"
		var err error
		if holders, err = lease.Holders(ctx, o.JS, o.LeaseBucket, sc.Partitions); err != nil {
			return nil, o.opsFailed("reading the partition leases", err)
		}
	}
	prefix := cmp.Or(o.ConsumerPrefix, bus.DefaultConsumerPrefix)
	for p := range sc.Partitions {
		first, end := bus.PartitionSlots(p, sc.Partitions)
		line := messages.OpsPartition{Partition: p, Consumer: bus.ConsumerName(prefix, p, sc.Partitions), FirstSlot: first, LastSlot: end - 1}
		if h, ok := holders[p]; ok {
			since := h.AcquiredAt.UTC()
			line.LeaseHolder, line.LeaseFence, line.LeaseSince = h.Replica, h.Fence, &since
		}
		c, err := o.JS.Consumer(ctx, sc.CommandStream, line.Consumer)
		if err != nil {
			line.Error = err.Error()
		} else {
			info := c.CachedInfo()
			line.Pending, line.Unacked, line.Redelivered, line.Waiting = info.NumPending, info.NumAckPending, info.NumRedelivered, info.NumWaiting
			line.AckFloor = info.AckFloor.Stream
		}
		out.Consumers = append(out.Consumers, line)
	}
	return out, nil
}

// clock answers the simulated clock; a processor on the broker's clock has
// none to show.
func (o *OperatorService) clock(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	var req struct{}
	if oe := decodeOps(body, &req, "empty or {}"); oe != nil {
		return nil, oe
	}
	if !o.Queries.Simulated {
		return nil, opsErr(opsConflict, "not_simulated",
			"the processor runs on the broker's clock (SIMULATION is not 1): there is no simulated clock")
	}
	now, err := o.Queries.Store.SimClock(ctx)
	if err != nil {
		return nil, o.opsFailed("reading the simulated clock", err)
	}
	return messages.OpsClock{Now: now.UTC(), Set: !now.IsZero()}, nil
}
