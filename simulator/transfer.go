package simulator

import (
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// TransferTarget is the partner the load's transfers move subscriptions to.
func TransferTarget(partner string) string { return partner + "-T" }

// transferStage is the next command of a transfer in progress.
type transferStage int

const (
	stageAccept  transferStage = iota + 1 // the customer accepts the target's relationship request
	stageRequest                          // the target requests the transfer
	stageSubmit                           // the source submits the subscription
)

// transferSaga is one customer's transfer in progress (TRF-1): the target
// partner asks for a relationship, the customer accepts it, the target
// requests the transfer, the source submits the subscription. One step of
// the load each, since a customer gets one command per step.
type transferSaga struct {
	next transferStage
	id   string
	sub  *model.Sub
	done bool // the customer's one transfer of the run is over
}

// transferable: an active, changeable subscription of the customer's own
// partner, not a trial (TRF-2: only active license-based new-commerce
// subscriptions move; the generator buys nothing else), and not renewing:
// a submission during a pending renewal is refused (REN-4,
// renewal_pending) and the transfer would end without moving anything.
func transferable(c *model.Customer, s *model.Sub, now time.Time) bool {
	return s.Status == model.Active && !s.Trial && s.Partner == c.Partner && s.Changeable(now) && !s.Renewing() &&
		s.Ext == nil // not another commerce type, an add-on or a base with add-ons (TRF-2)
}

// startTransfer begins the customer's one transfer of the run with the
// target's relationship request.
func (g *Generator) startTransfer(c *model.Customer, s *model.Sub) Action {
	t := &transferSaga{next: stageAccept, sub: s}
	g.transfers[c.ID] = t
	cmd := g.command(c, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{})
	t.id = "TR-" + cmd.ID
	return Action{Customer: c, Partner: g.Target, Kind: "transfer", Command: cmd}
}

// continueTransfer sends the next command of a transfer in progress. When
// the subscription can no longer move (a timer expired it, or its renewal
// is pending) the transfer is given up: a request already made expires on
// its own, without money.
func (g *Generator) continueTransfer(c *model.Customer, now time.Time) (Action, bool, error) {
	t := g.transfers[c.ID]
	if t == nil || t.done {
		return Action{}, false, nil
	}
	if t.next != stageAccept && !transferable(c, t.sub, now) {
		t.done = true
		return Action{}, false, nil
	}
	switch t.next {
	case stageAccept:
		t.next = stageRequest
		return Action{Customer: c, Partner: messages.CustomerActor, Role: messages.RoleCustomerAdmin, Kind: "transfer",
			Command: g.command(c, messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: g.Target})}, true, nil
	case stageRequest:
		t.next = stageSubmit
		return Action{Customer: c, Partner: g.Target, Kind: "transfer",
			Command: g.command(c, messages.CmdTransferRequest, &messages.TransferRequestData{
				TransferID: t.id, SourcePartnerID: c.Partner, NoticeEmail: "billing@" + c.ID + ".example"})}, true, nil
	}
	t.done = true
	moved, out, err := g.Model.Transfer(c, t.sub, now, g.Target)
	if err != nil {
		return Action{}, false, err
	}
	return Action{Customer: c, Partner: c.Partner, Kind: "transfer", Sub: moved, Expected: out,
		Command: g.command(c, messages.CmdTransferSubmit, &messages.TransferSubmitData{TransferID: t.id, SubscriptionIDs: []string{t.sub.ID}})}, true, nil
}

// tryTransfer starts the customer's one transfer of the run (the transfer
// kind; its later commands come from continueTransfer).
func (g *Generator) tryTransfer(_ string, c *model.Customer, now time.Time) (Action, bool, error) {
	if s := g.pick(c, now, func(s *model.Sub) bool { return transferable(c, s, now) }); s != nil && g.transfers[c.ID] == nil {
		return g.startTransfer(c, s), true, nil
	}
	return Action{}, false, nil
}
