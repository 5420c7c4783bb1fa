package messages

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxCommandBytes caps a command body. Larger messages are dead-lettered
// without being parsed.
const MaxCommandBytes = 64 << 10

// Dead-letter codes: why a message could not be decoded into a command.
const (
	CodeOversize        = "oversize"
	CodeMalformed       = "malformed"
	CodeUnknownType     = "unknown_type"
	CodeSchemaVersion   = "unsupported_schema_version"
	CodeSubjectMismatch = "subject_mismatch"
	CodeInvalidID       = "invalid_id"
	CodeBadSubject      = "bad_subject"
	CodeClockNotAllowed = "clock_not_allowed"
)

// CodeInternalError is the dead-letter code, and the command.rejected code,
// of a command that decoded but could not be applied after the processor's
// bounded number of attempts (a commit that can never succeed, a panic in a
// rule, stored state that no longer decodes). It is not a DecodeError code:
// the processor, not the sender, is at fault.
const CodeInternalError = "internal_error"

// DecodeError says why bytes are not a command. Code is one of the Code*
// constants; it names the dead-letter subject.
type DecodeError struct {
	Code   string
	Detail string
}

func (e *DecodeError) Error() string { return e.Code + ": " + e.Detail }

func decodeErr(code, format string, args ...any) error {
	return &DecodeError{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// strict rejects what Go's encoding/json lets through: unknown fields,
// duplicate keys, keys that differ only in case, trailing data and invalid
// UTF-8 (the last three are json/v2 defaults, stated here so nobody turns
// them off by accident).
var strict = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// deterministic makes encoding byte-for-byte repeatable, which the outbox
// and the crash tests rely on: a redelivered command re-encodes identical
// events.
var deterministic = json.JoinOptions(json.Deterministic(true))

type rawCommand struct {
	ID            string         `json:"id"`
	Type          CommandType    `json:"type"`
	SchemaVersion int            `json:"schema_version"`
	CustomerID    string         `json:"customer_id"`
	IssuedAt      *time.Time     `json:"issued_at,omitempty"`
	Data          jsontext.Value `json:"data"`
}

// DecodeCommand decodes a stored command strictly and checks it against the
// route its subject gives. The returned Command's Data is a pointer to the
// type's *Data struct. Every failure is a *DecodeError.
func DecodeCommand(route Route, body []byte) (Command, error) {
	if len(body) > MaxCommandBytes {
		return Command{}, decodeErr(CodeOversize, "body is %d bytes, the limit is %d", len(body), MaxCommandBytes)
	}
	var raw rawCommand
	if err := json.Unmarshal(body, &raw, strict); err != nil {
		return Command{}, decodeErr(CodeMalformed, "%v", err)
	}
	if raw.SchemaVersion != SchemaVersion {
		return Command{}, decodeErr(CodeSchemaVersion, "schema_version %d is not supported (want %d)", raw.SchemaVersion, SchemaVersion)
	}
	if !ValidCommandID(raw.ID) {
		return Command{}, decodeErr(CodeInvalidID, "id %q must match %s", raw.ID, commandIDPattern)
	}
	data := newCommandData(raw.Type)
	if data == nil {
		return Command{}, decodeErr(CodeUnknownType, "command type %q is not known", raw.Type)
	}
	if raw.Type != route.Type {
		return Command{}, decodeErr(CodeSubjectMismatch, "body type %q was published on subject type %q", raw.Type, route.Type)
	}
	if raw.CustomerID != route.CustomerID {
		return Command{}, decodeErr(CodeSubjectMismatch, "body customer_id %q was published on subject customer %q", raw.CustomerID, route.CustomerID)
	}
	if len(raw.Data) == 0 || raw.Data.Kind() != '{' {
		return Command{}, decodeErr(CodeMalformed, "data must be a JSON object")
	}
	if err := json.Unmarshal(raw.Data, data, strict); err != nil {
		return Command{}, decodeErr(CodeMalformed, "data: %v", err)
	}
	return Command{
		ID: raw.ID, Type: raw.Type, SchemaVersion: raw.SchemaVersion,
		CustomerID: raw.CustomerID, IssuedAt: raw.IssuedAt, Data: data,
	}, nil
}

// EncodeCommand encodes a command for publishing. Data must be the type's
// *Data struct (pointer or value).
func EncodeCommand(c Command) ([]byte, error) {
	if c.SchemaVersion == 0 {
		c.SchemaVersion = SchemaVersion
	}
	return json.Marshal(c, deterministic)
}

// EncodeEvent encodes an event deterministically.
func EncodeEvent(e Event) ([]byte, error) {
	return json.Marshal(e, deterministic)
}

// ErrUnknownEventType is DecodeEvent's error (wrapped) for an event type
// this version does not know: a newer processor added it (additive, the
// schema version stays). A tolerant consumer skips such an event.
var ErrUnknownEventType = errors.New("event type not known to this version")

// tolerant reads what a newer processor may add to an event: unknown
// fields are ignored. Everything else stays as strict as for commands.
var tolerant = json.JoinOptions(
	json.RejectUnknownMembers(false),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// DecodeEvent decodes an event as a consumer should: fields this version
// does not know are ignored (a newer processor may have added them), and
// an unknown type is ErrUnknownEventType (wrapped), which a consumer can
// skip. Data becomes a pointer to the event type's struct.
func DecodeEvent(body []byte) (Event, error) { return decodeEvent(body, tolerant) }

// DecodeEventStrict decodes an event and refuses any field this version
// does not know: for tests and for the simulator, which must notice when
// the processor writes something its model does not expect.
func DecodeEventStrict(body []byte) (Event, error) { return decodeEvent(body, strict) }

func decodeEvent(body []byte, opts json.Options) (Event, error) {
	var raw struct {
		Event
		Data jsontext.Value `json:"data"`
	}
	if err := json.Unmarshal(body, &raw, opts); err != nil {
		return Event{}, err
	}
	ev := raw.Event
	if ev.SchemaVersion != SchemaVersion {
		return Event{}, fmt.Errorf("event %s has schema_version %d, this version reads %d", ev.ID, ev.SchemaVersion, SchemaVersion)
	}
	data := newEventData(ev.Type)
	if data == nil {
		return Event{}, fmt.Errorf("event %s: type %q: %w", ev.ID, ev.Type, ErrUnknownEventType)
	}
	if err := json.Unmarshal(raw.Data, data, opts); err != nil {
		return Event{}, fmt.Errorf("event %s data: %w", ev.ID, err)
	}
	ev.Data = data
	return ev, nil
}

// AsDecodeError unwraps a *DecodeError.
func AsDecodeError(err error) (*DecodeError, bool) {
	var de *DecodeError
	ok := errors.As(err, &de)
	return de, ok
}

// typeTable is the codec's list of command or event types, each with the
// constructor of its data struct, in the order the type lists give them.
type typeTable[T ~string] []struct {
	t       T
	newData func() any
}

// newData returns a pointer to the zero data value of type t, or nil for
// a type the table does not hold.
func (tt typeTable[T]) newData(t T) any {
	for _, row := range tt {
		if row.t == t {
			return row.newData()
		}
	}
	return nil
}

// types lists the table's types in order.
func (tt typeTable[T]) types() []T {
	out := make([]T, len(tt))
	for i, row := range tt {
		out[i] = row.t
	}
	return out
}
