package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/messages"
)

// command is one of cspctl's commands: parse reads its flags and arguments
// and returns what runs it against the service.
type command struct {
	name, args, help string
	parse            func(fs *flag.FlagSet, args []string) (func(c *ctl) error, error)
}

// ctl is a connection to the operator service and where answers go.
type ctl struct {
	ctx    context.Context
	nc     *nats.Conn
	out    io.Writer
	asJSON bool
}

// ask calls an endpoint. With -json it prints the answer as it came and
// reports printed; else it decodes the answer into reply.
func (c *ctl) ask(subject string, req, reply any) (printed bool, err error) {
	var raw []byte
	if err := messages.OperatorCall(c.ctx, c.nc, subject, req, &raw); err != nil {
		return false, err
	}
	if c.asJSON {
		return true, printJSON(c.out, raw)
	}
	if err := json.Unmarshal(raw, reply); err != nil {
		return false, fmt.Errorf("%s: the answer is not what was expected: %w", subject, err)
	}
	return false, nil
}

// show asks an endpoint and prints its answer with print (or as JSON).
func show[T any](c *ctl, subject string, req any, print func(io.Writer, T) error) error {
	var reply T
	printed, err := c.ask(subject, req, &reply)
	if err != nil || printed {
		return err
	}
	return print(c.out, reply)
}

// positional parses flags and exactly the named positional arguments, the
// flags before, between or after them.
func positional(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	pos, err := arguments(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != len(names) {
		want := "no arguments"
		if len(names) > 0 {
			want = "<" + strings.Join(names, "> <") + ">"
		}
		return nil, fmt.Errorf("want %s, got %d argument(s)", want, len(pos))
	}
	return pos, nil
}

// arguments parses flags anywhere among the arguments and returns the
// positional ones.
func arguments(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// seqArg reads a dead letter's sequence.
func seqArg(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a dead letter's sequence (a whole number from 1)", s)
	}
	return n, nil
}

// instant reads a time as RFC 3339, or as a duration before now ("72h",
// "30d").
func instant(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor an age such as 72h or 30d", s)
}

var commands = []command{
	customerCommand("customer", "The customer's decoded stored state as JSON: customer, subscriptions, orders,\ntimers, transfers, parked commands, and the commands set aside (dead-lettered).",
		messages.OpsSubjectCustomer, func(w io.Writer, raw json.RawMessage) error { return printJSON(w, raw) }),
	customerCommand("subscriptions", "The customer's subscriptions, every partner's, one line each.", messages.OpsSubjectSubscriptions, printSubscriptions),
	{name: "reducible", args: "[-at T] <customer> <subscription>", help: "How many licenses of a subscription can be removed now, lot by lot (QTY-3),\nas its partner of record sees it.",
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			at := fs.String("at", "", "RFC 3339 instant to answer for (a processor in simulation mode only)")
			pos, err := positional(fs, args, "customer", "subscription")
			if err != nil {
				return nil, err
			}
			return func(c *ctl) error {
				req := messages.OpsReducibleRequest{CustomerID: pos[0], SubscriptionID: pos[1], At: *at}
				return show(c, messages.OpsSubjectReducible, req, printReducible)
			}, nil
		}},
	{name: "orders", args: "[-from T] [-to T] <customer>", help: "The customer's order history (EXP-2), every partner's orders, newest first.",
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			from := fs.String("from", "", "only orders placed at or after this RFC 3339 time")
			to := fs.String("to", "", "only orders placed before this RFC 3339 time")
			pos, err := positional(fs, args, "customer")
			if err != nil {
				return nil, err
			}
			return func(c *ctl) error {
				return show(c, messages.OpsSubjectOrders, messages.OpsOrdersRequest{CustomerID: pos[0], From: *from, To: *to}, printOrders)
			}, nil
		}},
	customerCommand("export", "The customer's subscriptions as CSV (EXP-1's columns), every partner's, to stdout.", messages.OpsSubjectExport,
		func(w io.Writer, v messages.SubscriptionsCSV) error { _, err := io.WriteString(w, v.CSV); return err }),
	{name: "timers", args: "[-customer C] [-before T] [-limit N]", help: "Pending timers, earliest first: every customer's from the timer index, or one\ncustomer's from its state.",
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			customer := fs.String("customer", "", "only this customer's timers (from its state)")
			before := fs.String("before", "", "only timers due before this RFC 3339 time")
			limit := fs.Int("limit", 0, "at most this many (default 50, at most 1000)")
			if _, err := positional(fs, args); err != nil {
				return nil, err
			}
			return func(c *ctl) error {
				return show(c, messages.OpsSubjectTimers, messages.OpsTimersRequest{CustomerID: *customer, Before: *before, Limit: *limit}, printTimers)
			}, nil
		}},
	{name: "outbox", args: "[-customer C] [-limit N]", help: "Events committed but not yet confirmed published, oldest first. In normal\noperation only those being published now; old ones mean publishing is stuck.",
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			customer := fs.String("customer", "", "only this customer's outbox")
			limit := fs.Int("limit", 0, "at most this many entries (default 100, at most 1000)")
			if _, err := positional(fs, args); err != nil {
				return nil, err
			}
			return func(c *ctl) error {
				return show(c, messages.OpsSubjectOutbox, messages.OpsOutboxRequest{CustomerID: *customer, Limit: *limit}, printOutbox)
			}, nil
		}},
	plainCommand("partitions", "Each command partition's consumer (pending, unacked, redelivered, waiting pulls)\nand the replica holding its lease.",
		messages.OpsSubjectPartitions, printPartitions),
	plainCommand("clock", "The simulated clock (a processor in simulation mode only).", messages.OpsSubjectClock, printClock),
	{name: "dlq list", args: "[-after SEQ] [-limit N] [-code CODE]", help: "Dead letters in stream order, a page at a time: sequence, time, code, customer,\ncommand, whether it has been applied since, and the reason.",
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			after := fs.Uint64("after", 0, "start after this sequence (the previous page's next)")
			limit := fs.Int("limit", 0, "at most this many (default 50, at most 200)")
			code := fs.String("code", "", "only this code (internal_error, malformed, ...)")
			if _, err := positional(fs, args); err != nil {
				return nil, err
			}
			return func(c *ctl) error {
				return show(c, messages.OpsSubjectDLQList, messages.DeadLetterListRequest{After: *after, Limit: *limit, Code: *code}, printDeadLetters)
			}, nil
		}},
	seqCommand("dlq show", "One dead letter whole: its headers, its body, whether it can be replayed.", messages.OpsSubjectDLQShow, printDeadLetter),
	seqCommand("dlq replay", "Publish the dead letter's command again, as sent, to its original subject with\nits original Nats-Msg-Id: it is applied once, however often it is replayed.\nFix what made it fail first.",
		messages.OpsSubjectDLQReplay, printReplay),
	{name: "dlq purge", args: "[-yes] <seq> | [-yes] -older-than T", help: "Remove one dead letter, or every one stored before a time (RFC 3339, or an age\nsuch as 72h or 30d). Without -yes nothing is removed and the answer says what would be.",
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			yes := fs.Bool("yes", false, "really remove")
			olderThan := fs.String("older-than", "", "remove every dead letter stored before this time or age")
			pos, err := arguments(fs, args)
			if err != nil {
				return nil, err
			}
			req := messages.DeadLetterPurgeRequest{Confirm: *yes}
			switch {
			case *olderThan != "" && len(pos) > 0:
				return nil, errors.New("give a sequence or -older-than, not both")
			case *olderThan != "":
				t, err := instant(*olderThan, time.Now())
				if err != nil {
					return nil, fmt.Errorf("-older-than: %w", err)
				}
				req.OlderThan = t.Format(time.RFC3339Nano)
			case len(pos) == 1:
				if req.Seq, err = seqArg(pos[0]); err != nil {
					return nil, err
				}
			default:
				return nil, errors.New("want <seq> or -older-than T")
			}
			return func(c *ctl) error { return show(c, messages.OpsSubjectDLQPurge, req, printPurge) }, nil
		}},
}

// customerCommand is a command whose one argument is a customer.
func customerCommand[T any](name, help, subject string, print func(io.Writer, T) error) command {
	return command{name: name, args: "<customer>", help: help,
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			pos, err := positional(fs, args, "customer")
			if err != nil {
				return nil, err
			}
			return func(c *ctl) error { return show(c, subject, messages.OpsCustomerRequest{CustomerID: pos[0]}, print) }, nil
		}}
}

// seqCommand is a command whose one argument is a dead letter's sequence.
func seqCommand[T any](name, help, subject string, print func(io.Writer, T) error) command {
	return command{name: name, args: "<seq>", help: help,
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			pos, err := positional(fs, args, "seq")
			if err != nil {
				return nil, err
			}
			seq, err := seqArg(pos[0])
			if err != nil {
				return nil, err
			}
			return func(c *ctl) error { return show(c, subject, messages.DeadLetterRequest{Seq: seq}, print) }, nil
		}}
}

// plainCommand is a command without arguments.
func plainCommand[T any](name, help, subject string, print func(io.Writer, T) error) command {
	return command{name: name, help: help,
		parse: func(fs *flag.FlagSet, args []string) (func(*ctl) error, error) {
			if _, err := positional(fs, args); err != nil {
				return nil, err
			}
			return func(c *ctl) error { return show(c, subject, struct{}{}, print) }, nil
		}}
}
