package messages

import (
	"fmt"
	"strings"
	"time"
)

// CloudEvents: every event is also a CloudEvent (specification 1.0) in
// binary content mode over NATS. The headers carry the context attributes,
// each named "ce-" and the attribute; the body stays the event JSON
// (datacontenttype application/json, in Content-Type). A consumer that
// speaks CloudEvents routes on the headers without reading the body.
//
//	ce-specversion  1.0
//	ce-id           the event's id (also Nats-Msg-Id)
//	ce-source       CloudEventsSource
//	ce-type         the event's type, e.g. subscription.renewed
//	ce-subject      the customer's ID
//	ce-time         the event's occurred_at (RFC 3339, UTC)
const (
	CloudEventsSpecVersion = "1.0"
	// CloudEventsSource names the producer: one processor site.
	CloudEventsSource = "urn:csp-processor"
)

// CloudEventsHeaders returns the headers of the event published as id on
// subject (EventSubject) that occurred at occurredAt.
func CloudEventsHeaders(id, subject string, occurredAt time.Time) (map[string]string, error) {
	_, customer, typ, err := ParseEventSubject(subject)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"ce-specversion": CloudEventsSpecVersion,
		"ce-id":          id,
		"ce-source":      CloudEventsSource,
		"ce-type":        string(typ),
		"ce-subject":     customer,
		"ce-time":        occurredAt.UTC().Format(time.RFC3339Nano),
		"Content-Type":   "application/json",
	}, nil
}

// ParseEventSubject splits an event subject (EventSubject) into the
// partner, the customer and the event type.
func ParseEventSubject(subject string) (partnerID, customerID string, t EventType, err error) {
	rest, ok := strings.CutPrefix(subject, EventSubjectPrefix+".")
	parts := strings.SplitN(rest, ".", 3)
	if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("%q is not an event subject (%s.<partner>.<customer>.<type>)", subject, EventSubjectPrefix)
	}
	return parts[0], parts[1], EventType(parts[2]), nil
}
