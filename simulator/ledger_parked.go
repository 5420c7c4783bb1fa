package simulator

// A command parked during a renewal (REN-4) is answered twice: at once
// with command.deferred, and when the renewal completes — during a later
// clock move — with what it does, its events carrying its own command ID
// and type. The ledger keeps booking a deferred command's events after
// its deferral was reconciled, until the model says it settled.

// keepDeferred opens, for a deferred command whose deferral is being
// reconciled, the result that books its later events.
func (l *Ledger) keepDeferred(id string, res *CommandResult) {
	if res != nil && res.Deferred && !res.settling {
		l.results[id] = &CommandResult{settling: true}
	}
}

// takeSettled hands over, and forgets, what the given deferred commands
// did once their renewal completed.
func (l *Ledger) takeSettled(ids []string) map[string]*CommandResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]*CommandResult, len(ids))
	for _, id := range ids {
		out[id] = l.results[id]
		delete(l.results, id)
	}
	return out
}
