package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// Dead-letter metadata keys (NATS headers on the dead-letter stream).
const (
	// MetaDeadLetterCode is the reason code, also the last subject token.
	MetaDeadLetterCode = "Csp-Dlq-Code"
	// MetaDeadLetterReason is a human-readable reason (one line, at most
	// 1024 bytes).
	MetaDeadLetterReason = "Csp-Dlq-Reason"
	// MetaOriginalSubject is the subject the command was stored under.
	MetaOriginalSubject = "Csp-Original-Subject"
	// MetaOriginalMsgID is the command's Nats-Msg-Id as its sender
	// published it (at most 256 bytes): a replay publishes the command with
	// it again (the dead letter's own Nats-Msg-Id is the command's UUID).
	MetaOriginalMsgID = "Csp-Original-Msg-Id"
	// MetaDeadLetterAttempts is how many times the command was tried before
	// it was set aside (decimal; dead letters of code internal_error only,
	// see Attempts).
	MetaDeadLetterAttempts = "Csp-Dlq-Attempts"
	// MetaDeadLetterBodySize and MetaDeadLetterBodySHA256 are set when the
	// dead letter keeps only a prefix of a body over
	// messages.MaxCommandBytes: the original body's size in bytes
	// (decimal) and its SHA-256 (lower-case hex).
	MetaDeadLetterBodySize   = "Csp-Dlq-Body-Size"
	MetaDeadLetterBodySHA256 = "Csp-Dlq-Body-Sha256"
)

// NewDeadLetter builds the dead letter of a command received from the
// CommandSubscriber, to be published with Publisher.Publish (the topic is
// ignored: the message carries its subject, csp.dlq.<code>). The handler
// acks the command only after Publish returned nil.
//
// It keeps the command's payload, or for a body over
// messages.MaxCommandBytes its first DeadLetterBodyPrefix bytes with the
// original size and SHA-256 in headers (such a body can never be applied,
// so the dead letter is evidence only; limits.go says why), and its metadata (stream, sequence, broker
// timestamp, partition, the sender's headers), records the original
// subject and Nats-Msg-Id, the code and the reason, and keeps the command's UUID
// ("<stream>:<seq>") as its Nats-Msg-Id: dead-lettering a redelivered
// command again within DuplicateWindow stores it once.
//
// code must be a single subject token ([A-Za-z0-9_-]{1,64}).
func NewDeadLetter(cmd *message.Message, code, reason string) (*message.Message, error) {
	if cmd == nil {
		return nil, fmt.Errorf("bus: dead letter: nil command")
	}
	if !messages.ValidToken(code) {
		return nil, fmt.Errorf("bus: dead letter of %s: code %q is not a single subject token", cmd.UUID, code)
	}
	dl := freshCopy(cmd)
	// The sender's headers are copied: these two must come from us only.
	delete(dl.Metadata, MetaDeadLetterBodySize)
	delete(dl.Metadata, MetaDeadLetterBodySHA256)
	if body := cmd.Payload; len(body) > messages.MaxCommandBytes {
		sum := sha256.Sum256(body)
		dl.Payload = slices.Clone(body[:DeadLetterBodyPrefix])
		dl.Metadata.Set(MetaDeadLetterBodySize, strconv.Itoa(len(body)))
		dl.Metadata.Set(MetaDeadLetterBodySHA256, hex.EncodeToString(sum[:]))
	}
	if orig := cmd.Metadata.Get(MetaSubject); orig != "" {
		dl.Metadata.Set(MetaOriginalSubject, orig)
	}
	delete(dl.Metadata, MetaOriginalMsgID)
	if id := cmd.Metadata.Get(jetstream.MsgIDHeader); id != "" {
		dl.Metadata.Set(MetaOriginalMsgID, oneLine(id, 256))
	}
	dl.Metadata.Set(MetaSubject, messages.DeadLetterSubject(code))
	dl.Metadata.Set(MetaDeadLetterCode, code)
	dl.Metadata.Set(MetaDeadLetterReason, oneLine(reason, 1024))
	return dl, nil
}

// oneLine makes s a valid header value of at most max bytes.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}
