package bus

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// Message size limits of the streams (StreamConfig.MaxMsgSize).
//
// nats-server counts the headers in max_msg_size: a publish is refused
// ("message size exceeds maximum allowed", JetStream error 10054) when
// len(headers) + len(body) > MaxMsgSize (server/stream.go,
// processJetStreamMsg, v2.15.2). The headers are the wire block
// "NATS/1.0\r\n" + "Key: Value\r\n"... + "\r\n". So each limit is a body
// limit plus room for the headers that travel with it:
//
//	commands     65,536 body (messages.MaxCommandBytes)
//	           +  4,096 sender's headers (Nats-Msg-Id "<customer>:<id>" is at
//	                    most 13+64+1+128+2 = 208 bytes, Csp-Sim-Time 50,
//	                    the header line 12; the rest is room for tracing)
//	           = 69,632 = CommandMaxMsgBytes
//	dead letters 69,632 (a dead letter carries at most the command's headers
//	                    and body: bodies over MaxCommandBytes keep only a
//	                    DeadLetterBodyPrefix, see NewDeadLetter)
//	           +  8,192 headers the processor adds: Csp-Dlq-Reason (1,024),
//	                    Csp-Original-Subject (a subject, under NATS's 4,096
//	                    control line), Csp-Original-Msg-Id (256; the
//	                    sender's Nats-Msg-Id it replaces is not carried
//	                    over), the code (64), the subscriber's
//	                    Csp-Stream, -Stream-Seq, -Timestamp, -Partition,
//	                    -Num-Delivered, -Attempt, -Dlq-Attempts,
//	                    -Dlq-Body-Size and -Dlq-Body-Sha256 (under 600
//	                    with their names)
//	           = 77,824 = DeadLetterMaxMsgBytes
//
// so every command the stream accepted can be dead-lettered: a dead letter
// refused for its size could never be published and its command would be
// retried forever. A body the codec accepts with the headers the upstream
// sends always fits the command stream; a larger one is refused by
// JetStream at publish time, so the upstream sees the error and the
// processor never stores it.
//
// Events are not bounded by the command codec: an event is built from the
// customer's state (an order of many lines, a renewal of many
// subscriptions) and can be larger than the command that caused it. An event
// the stream refused would be retried forever, stalling its partition with
// its money already committed in Redis, so the event stream's limit is the
// NATS server's default max_payload (1 MiB), which no publish can exceed
// anyway; it is written down so that the stream states what it accepts.
const (
	// CommandHeaderBytes is the room left for a command's headers.
	CommandHeaderBytes = 4 << 10
	// CommandMaxMsgBytes is the command stream's MaxMsgSize.
	CommandMaxMsgBytes = messages.MaxCommandBytes + CommandHeaderBytes
	// DeadLetterHeaderBytes is the room for the headers a dead letter adds.
	DeadLetterHeaderBytes = 8 << 10
	// DeadLetterMaxMsgBytes is the dead-letter stream's MaxMsgSize.
	DeadLetterMaxMsgBytes = CommandMaxMsgBytes + DeadLetterHeaderBytes
	// EventMaxMsgBytes is the event stream's MaxMsgSize.
	EventMaxMsgBytes = 1 << 20
)

// DeadLetterBodyPrefix is how much of a body over messages.MaxCommandBytes
// a dead letter keeps. Such a body can never be applied, so the dead letter
// is evidence only: its first 4 KiB show what it was (the envelope's
// fields, unless a huge one comes first), its size and SHA-256 identify
// it against the sender's copy. Keeping it whole would let a flood of oversize
// commands (200,000 of them, 13 GiB) push every other dead letter out of
// the stream; kept to 4 KiB they take under 1 GiB, the stream's default
// size.
const DeadLetterBodyPrefix = 4 << 10

// Default byte limits of the streams (StreamsConfig.*MaxBytes). JetStream
// reserves them on the server's store at creation, so their sum (7 GiB)
// must fit the store's disk.
const (
	DefaultCommandMaxBytes    = 2 << 30
	DefaultEventMaxBytes      = 4 << 30
	DefaultDeadLetterMaxBytes = 1 << 30
)

// Discard policies: what a full stream does with a new message.
//
//   - Commands: DiscardNew. A full command stream refuses the publish and
//     the upstream gets JetStream's error ("maximum bytes exceeded") and
//     keeps the command; DiscardOld would silently delete the oldest stored
//     command, which the processor may not have applied yet: an order lost.
//   - Events: DiscardNew. A refused event stays in the customer's Redis
//     outbox: the handler's publish fails as transient, the command is
//     retried in place (its redelivery republishes from the outbox) and
//     the outbox relay retries too; nothing deletes an outbox entry before
//     JetStream acknowledged it. The partition waits until an operator
//     makes room; DiscardOld would delete billing events consumers have
//     not read yet.
//   - Dead letters: DiscardOld. A dead letter is evidence, not money: the
//     command changed nothing and its sender was answered (command.rejected
//     or, for undecodable input, nothing to answer), and internal_error ones
//     are also recorded in Redis. DiscardNew would make a full dead-letter
//     stream refuse the next dead letter, and since a command is acked only
//     after its dead letter is stored, a flood of bad input would stall its
//     partition for good.
const (
	CommandDiscard    = jetstream.DiscardNew
	EventDiscard      = jetstream.DiscardNew
	DeadLetterDiscard = jetstream.DiscardOld
)
