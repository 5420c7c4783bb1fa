package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// The text forms of the answers: tables for lists, a line a fact for one
// thing. -json prints the answers as the service sent them instead.

// printJSON prints a JSON document indented.
func printJSON(w io.Writer, raw []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("the answer is not JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// table writes rows under a header, columns aligned.
func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func date(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// count is "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// clip shortens s to n runes for a table cell.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func printSubscriptions(w io.Writer, v messages.OpsSubscriptions) error {
	if len(v.Subscriptions) == 0 {
		_, err := fmt.Fprintf(w, "customer %s has no subscriptions\n", v.CustomerID)
		return err
	}
	rows := make([][]string, 0, len(v.Subscriptions))
	for _, s := range v.Subscriptions {
		renew := "off"
		if s.AutoRenew {
			renew = "on"
		}
		rows = append(rows, []string{s.ID, s.PartnerID, s.OfferID, strconv.Itoa(s.Quantity), s.Status, renew,
			s.Term + "/" + s.BillingFrequency, date(s.TermEnd), stamp(s.CancellableUntil), s.OfferName})
	}
	return table(w, "ID\tPARTNER\tOFFER\tQTY\tSTATUS\tAUTO-RENEW\tTERM/BILLING\tTERM-END\tCANCELLABLE-UNTIL\tNAME", rows)
}

func printReducible(w io.Writer, v messages.ReducibleQuantity) error {
	fmt.Fprintf(w, "subscription %s: %d licenses, %d reducible now (as of %s)\n", v.SubscriptionID, v.Quantity, v.Total, stamp(v.AsOf))
	for _, l := range v.Lots {
		b, _ := json.Marshal(l)
		fmt.Fprintf(w, "  lot %s\n", b)
	}
	if v.Message != "" {
		fmt.Fprintln(w, v.Message)
	}
	return nil
}

func printOrders(w io.Writer, v messages.OrderHistory) error {
	if len(v.Orders) == 0 {
		_, err := fmt.Fprintf(w, "customer %s has no orders\n", v.CustomerID)
		return err
	}
	for _, o := range v.Orders {
		fmt.Fprintf(w, "%s  placed %s  %s\n", o.OrderID, stamp(o.PlacedAt), o.Status)
		for _, l := range o.Lines {
			fmt.Fprintf(w, "  line %s  %s  %s  subscription %s  %s\n", l.LineID, l.OfferID, l.Status, orDash(l.SubscriptionID), l.Code)
		}
	}
	return nil
}

func printTimers(w io.Writer, v messages.OpsTimers) error {
	rows := make([][]string, 0, len(v.Timers))
	for _, t := range v.Timers {
		rows = append(rows, []string{stamp(t.DueAt), t.CustomerID, t.Kind, orDash(t.SubscriptionID), strconv.Itoa(t.Partition), t.TimerID})
	}
	if err := table(w, "DUE\tCUSTOMER\tKIND\tSUBSCRIPTION\tPARTITION\tTIMER", rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s (from the %s)", count(len(v.Timers), "timer"), v.Source)
	if v.Truncated {
		fmt.Fprint(w, "; more are pending: raise -limit or narrow with -before")
	}
	_, err := fmt.Fprintln(w)
	return err
}

func printOutbox(w io.Writer, v messages.OpsOutbox) error {
	now := time.Now()
	rows := make([][]string, 0, len(v.Entries))
	for _, e := range v.Entries {
		rows = append(rows, []string{stamp(e.WrittenAt), now.Sub(e.WrittenAt).Round(time.Second).String(), e.CustomerID, e.EventID,
			e.Subject, strconv.Itoa(e.Bytes)})
	}
	if err := table(w, "WRITTEN\tAGE\tCUSTOMER\tEVENT\tSUBJECT\tBYTES", rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s of %s waiting", count(len(v.Entries), "event"), count(v.Customers, "customer"))
	if v.Truncated {
		fmt.Fprint(w, "; more are waiting: raise -limit")
	}
	_, err := fmt.Fprintln(w)
	return err
}

func printPartitions(w io.Writer, v messages.OpsPartitions) error {
	rows := make([][]string, 0, len(v.Consumers))
	for _, p := range v.Consumers {
		holder, since := orDash(p.LeaseHolder), "-"
		if p.LeaseSince != nil {
			since = stamp(*p.LeaseSince)
		}
		if v.Ownership == "static" {
			holder = "(every replica)"
		}
		row := []string{strconv.Itoa(p.Partition), p.Consumer, fmt.Sprintf("%d-%d", p.FirstSlot, p.LastSlot),
			strconv.FormatUint(p.Pending, 10), strconv.Itoa(p.Unacked), strconv.Itoa(p.Redelivered), strconv.Itoa(p.Waiting),
			holder, strconv.FormatUint(p.LeaseFence, 10), since}
		if p.Error != "" {
			row = append(row[:3], "error: "+p.Error)
		}
		rows = append(rows, row)
	}
	fmt.Fprintf(w, "stream %s, %d partitions, ownership: %s\n", v.Stream, v.Partitions, v.Ownership)
	return table(w, "P\tCONSUMER\tSLOTS\tPENDING\tUNACKED\tREDELIVERED\tWAITING\tLEASE-HOLDER\tFENCE\tSINCE", rows)
}

func printClock(w io.Writer, v messages.OpsClock) error {
	if !v.Set {
		_, err := fmt.Fprintln(w, "simulated clock: not set yet (no clock move since the processor's store was new)")
		return err
	}
	_, err := fmt.Fprintf(w, "simulated clock: %s\n", v.Now.UTC().Format(time.RFC3339Nano))
	return err
}

func printDeadLetters(w io.Writer, v messages.DeadLetterList) error {
	rows := make([][]string, 0, len(v.DeadLetters))
	for _, d := range v.DeadLetters {
		rows = append(rows, []string{strconv.FormatUint(d.Seq, 10), stamp(d.StoredAt), d.Code, orDash(d.CustomerID),
			orDash(d.CommandType), orDash(d.CommandID), orDash(d.CommandStatus), clip(d.Reason, 80)})
	}
	if err := table(w, "SEQ\tSTORED\tCODE\tCUSTOMER\tTYPE\tCOMMAND\tSTATUS\tREASON", rows); err != nil {
		return err
	}
	if v.Next != 0 {
		_, err := fmt.Fprintf(w, "more: cspctl dlq list -after %d\n", v.Next)
		return err
	}
	_, err := fmt.Fprintf(w, "%s; that is all\n", count(len(v.DeadLetters), "dead letter"))
	return err
}

func printDeadLetter(w io.Writer, v messages.DeadLetterDetail) error {
	for _, f := range [][2]string{
		{"seq", strconv.FormatUint(v.Seq, 10)},
		{"stored", stamp(v.StoredAt)},
		{"code", v.Code},
		{"reason", v.Reason},
		{"original subject", v.OriginalSubject},
		{"command stored", stamp(v.CommandStoredAt)},
		{"partner", orDash(v.PartnerID)},
		{"role", orDash(v.Role)},
		{"customer", orDash(v.CustomerID)},
		{"command", orDash(v.CommandType) + " " + orDash(v.CommandID)},
		{"attempts", strconv.Itoa(v.Attempts)},
		{"command status", orDash(v.CommandStatus)},
	} {
		fmt.Fprintf(w, "%-17s %s\n", f[0]+":", f[1])
	}
	if v.Replayable {
		fmt.Fprintf(w, "%-17s yes: cspctl dlq replay %d\n", "replayable:", v.Seq)
	} else {
		fmt.Fprintf(w, "%-17s no: %s\n", "replayable:", v.NotReplayable)
	}
	fmt.Fprintln(w, "headers:")
	for _, k := range slices.Sorted(maps.Keys(v.Headers)) {
		fmt.Fprintf(w, "  %s: %s\n", k, strings.Join(v.Headers[k], ", "))
	}
	fmt.Fprintln(w, "body:")
	switch {
	case v.BodyBase64 != "":
		_, err := fmt.Fprintf(w, "  (not UTF-8, base64) %s\n", v.BodyBase64)
		return err
	case json.Valid([]byte(v.Body)):
		return printJSON(w, []byte(v.Body))
	}
	_, err := fmt.Fprintf(w, "%s\n", v.Body)
	return err
}

func printReplay(w io.Writer, v messages.DeadLetterReplay) error {
	var what string
	switch v.Outcome {
	case messages.ReplayPublished:
		what = fmt.Sprintf("published: stored as command stream sequence %d; it is applied in its customer's order", v.StreamSeq)
	case messages.ReplayAlreadyApplied:
		what = "already applied: the command is in its customer's inbox; nothing was published"
	case messages.ReplayDuplicate:
		what = "duplicate: JetStream kept an earlier replay of it (same Nats-Msg-Id within its duplicate window); nothing new was stored"
	default:
		what = v.Outcome
	}
	_, err := fmt.Fprintf(w, "dead letter %d: command %s of customer %s to %s (Nats-Msg-Id %s)\n%s\n",
		v.Seq, v.CommandID, v.CustomerID, v.Subject, v.MsgID, what)
	return err
}

func printPurge(w io.Writer, v messages.DeadLetterPurge) error {
	_, err := fmt.Fprintf(w, "removed %s\n", count(int(v.Purged), "dead letter"))
	return err
}
