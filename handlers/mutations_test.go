package handlers

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// mutate changes a control customer's command message in place by one
// randomly chosen mutation, and names it. Bodies are the envelope as
// planMutations writes it: id, type, schema_version, customer_id, data.
func mutate(rng *rand.Rand, msg *nats.Msg, c *controlCustomer) string {
	body := msg.Data
	if len(body) == 0 { // truncated to nothing by a first mutation
		return "empty body"
	}
	switch rng.IntN(14) {
	case 0, 1, 2: // bit flips
		n := 1 + rng.IntN(3)
		body = bytes.Clone(body)
		for range n {
			body[rng.IntN(len(body))] ^= 1 << rng.IntN(8)
		}
		msg.Data = body
		return fmt.Sprintf("flip %d bits", n)
	case 3:
		msg.Data = body[:rng.IntN(len(body))]
		return "truncate"
	case 4: // a field twice
		field := [...]string{`"id":"g5-dup",`, `"type":"subscription.cancel",`, `"schema_version":1,`, `"customer_id":"` + c.id + `",`}[rng.IntN(4)]
		msg.Data = append([]byte("{"+field), body[1:]...)
		return "duplicate " + field
	case 5: // a field removed
		f := [...]string{`"schema_version":1,`, `"type":"[^"]*",`, `"customer_id":"[^"]*",`, `"id":"[^"]*",`, `,"data":`}[rng.IntN(5)]
		msg.Data = compiled(f).ReplaceAll(body, nil)
		return "remove " + f
	case 6: // wrong JSON types
		swaps := [][2]string{{`"schema_version":1`, `"schema_version":"1"`}, {`"data":{`, `"data":[{`}, {`"subscription_id":"`, `"subscription_id":["`},
			{`"quantity":`, `"quantity":"`}, {`"customer_id":"` + c.id + `"`, `"customer_id":7`}, {`"data":{`, `"data":{"enabled":"yes",`}}
		s := swaps[rng.IntN(len(swaps))]
		msg.Data = bytes.Replace(body, []byte(s[0]), []byte(s[1]), 1)
		return "wrong type " + s[1]
	case 7: // oversize, rarely: each is 64 KiB on the wire
		if rng.IntN(10) == 0 {
			msg.Data = append(bytes.Clone(body), bytes.Repeat([]byte(" "), messages.MaxCommandBytes)...)
			return "oversize"
		}
		msg.Data = append(bytes.Clone(body), `{}`...)
		return "trailing data"
	case 8: // wrong subject tokens: csp cmd <partner> <role> <customer> <type...>
		tok := strings.Split(msg.Subject, ".")
		switch rng.IntN(6) {
		case 0:
			tok[3] = "root"
		case 1:
			tok[4] = "C-G5-OTHER"
		case 2:
			tok[2] = partnerB
		case 3:
			tok = append(tok, "extra")
		case 4:
			tok = append(tok[:5], "subscription", "delete")
		case 5:
			tok = tok[:5] // no type: outside the command stream
		}
		msg.Subject = strings.Join(tok, ".")
		return "subject " + msg.Subject
	case 9: // wrong headers
		switch rng.IntN(3) {
		case 0:
			msg.Header.Set(messages.HeaderSimulatedTime, "2030-01-01T00:00:00Z")
			return "simulated time header"
		case 1:
			msg.Header.Set(messages.HeaderSimulatedTime, "yesterday")
			return "bad simulated time header"
		default: // a history command's Nats-Msg-Id: the broker drops it
			msg.Header.Set(jetstream.MsgIDHeader, messages.CommandMsgID(c.id, c.historyID[rng.IntN(len(c.historyID))]))
			return "Nats-Msg-Id of the history"
		}
	case 10: // unicode, null bytes, invalid UTF-8 and a lone surrogate inside a string
		ins := [...]string{`\u0000`, "\x00", "☃\u202e", "\xff\xfe", `\ud800`}[rng.IntN(5)]
		at := [...]string{`"data":{"`, `"id":"`, `"customer_id":"`}[rng.IntN(3)]
		msg.Data = bytes.Replace(body, []byte(at), []byte(at+ins), 1)
		return fmt.Sprintf("insert %q after %s", ins, at)
	case 11: // deep nesting
		depth := 100 + rng.IntN(3000)
		msg.Data = bytes.Replace(body, []byte(`"data":{`), []byte(`"data":{"n":`+strings.Repeat("[", depth)+strings.Repeat("]", depth)+`,`), 1)
		return fmt.Sprintf("nesting %d", depth)
	case 12: // huge, fractional and negative numbers
		n := [...]string{"99999999999999999999", "1e400", "-9223372036854775808", "9223372036854775807", "0.5", "-0", "1e2"}[rng.IntN(7)]
		if rng.IntN(2) == 0 {
			msg.Data = bytes.Replace(body, []byte(`"schema_version":1`), []byte(`"schema_version":`+n), 1)
		} else {
			msg.Data = compiled(`"quantity":-?[0-9]+`).ReplaceAll(body, []byte(`"quantity":`+n))
		}
		return "number " + n
	default: // the control customer's IDs with another command's data
		ts := c.templates()
		other := ts[rng.IntN(len(ts))]
		if i := bytes.Index(body, []byte(`"data":`)); i >= 0 {
			msg.Data = append(append(bytes.Clone(body[:i]), `"data":`+other.data...), '}')
		}
		return "data of " + string(other.typ)
	}
}

// compiledPatterns holds each mutation pattern compiled once (plans are
// built on one goroutine).
var compiledPatterns = map[string]*regexp.Regexp{}

func compiled(pattern string) *regexp.Regexp {
	re, ok := compiledPatterns[pattern]
	if !ok {
		re = regexp.MustCompile(pattern)
		compiledPatterns[pattern] = re
	}
	return re
}
