package simulator

import (
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Action is one command the simulator sends, with the model's prediction
// for it.
type Action struct {
	Customer *model.Customer
	// Partner and Role send the command; empty: the customer's partner as
	// admin_agent.
	Partner string
	Role    messages.Role
	Command messages.Command
	// Kind names the mix entry that chose it (buy, increase, ...).
	Kind     string
	Expected model.Outcome
	// Sub is the subscription the action bought (its ID is learned from
	// the order's result) or acts on.
	Sub *model.Sub
	// Created is a subscription the command creates besides an order
	// line: a trial converted now, a partial upgrade (their IDs learned
	// from the command's events, ledger_changes.go), an exchange's new
	// reservation (CAN-6, learned from reservation.exchanged).
	Created *model.Sub
	// Expect, from a scenario file, is the rejection code the story
	// expects ("" = accepted); checked on top of the model.
	Expect *string
}
