package simulator

// reservationResult checks what a command's result says beyond its code
// and amounts: the facts its rejection must state (the refund cap's
// headroom, CAN-5), and it learns the subscription an exchange created
// (CAN-6) from reservation.exchanged. It reports false after a mismatch.
func (r *Runner) reservationResult(a Action, res *CommandResult) bool {
	for k, want := range a.Expected.RejectData {
		if got := res.RejectedData[k]; got != want {
			r.mismatch(a.Customer, "command %s (%s %s) rejected %s with %s %q, the model says %q",
				a.Command.ID, a.Kind, a.Command.Type, res.Rejected, k, got, want)
			return false
		}
	}
	if a.Created != nil && a.Created.ID == "" && res.Rejected == "" {
		if res.ExchangedTo == "" {
			r.mismatch(a.Customer, "command %s (%s %s) was accepted without naming the subscription it created",
				a.Command.ID, a.Kind, a.Command.Type)
			return false
		}
		a.Created.ID = res.ExchangedTo
	}
	return true
}
