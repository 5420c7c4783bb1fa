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
	stageAnswerAsk    transferStage = iota + 1 // the customer answers the target's relationship request
	stageRequest                               // the target requests the transfer
	stageAnswer                                // the source submits or rejects, or the target withdraws
	stageProbeRequest                          // the declined target tries to request a transfer anyway
	stageProbeSubmit                           // the source submits a transfer that no longer waits
)

// transferPlan is how a customer's transfer of the run is to end (TRF-3).
type transferPlan string

// The plans are also the kinds that start them (the mix's names).
const (
	planComplete            transferPlan = "transfer"
	planRelationshipDecline transferPlan = "relationship_declined"
	planRelationshipExpire  transferPlan = "relationship_expired"
	planWithdraw            transferPlan = "transfer_withdrawn"
	planReject              transferPlan = "transfer_rejected"
	planExpire              transferPlan = "transfer_expired"
)

// rejectReason is the source's reason in the load's rejections: not ASCII,
// so that the processor's 500-character bound is exercised in characters.
const rejectReason = "le client reste chez nous — contrat renouvelé"

// transferSaga is one customer's transfer in progress (TRF-1, TRF-3): the
// target partner asks for a relationship, the customer answers or lets it
// expire, the target requests the transfer, the source submits or rejects
// it, the target withdraws it, or nobody answers until it expired. A
// request that was declined, withdrawn, rejected or has expired is then
// tried once more, and must be refused without moving or billing
// anything. One step of the load each, since a customer gets one command
// per step.
type transferSaga struct {
	plan transferPlan
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
func (g *Generator) startTransfer(c *model.Customer, s *model.Sub, plan transferPlan, now time.Time) Action {
	t := &transferSaga{plan: plan, next: stageAnswerAsk, sub: s}
	g.transfers[c.ID] = t
	cmd := g.command(c, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{})
	t.id = "TR-" + cmd.ID
	return Action{Customer: c, Partner: g.Target, Kind: string(plan), Command: cmd, Expected: g.Model.AskRelationship(c, g.Target, now)}
}

// continueTransfer sends the next command of a transfer in progress, or
// none while the plan waits for an expiry. When the subscription can no
// longer move (a timer expired it, or its renewal is pending) before it
// was requested or submitted, the transfer is given up: a request already
// made expires on its own, without money.
func (g *Generator) continueTransfer(c *model.Customer, now time.Time) (Action, bool, error) {
	t := g.transfers[c.ID]
	if t == nil || t.done {
		return Action{}, false, nil
	}
	kind := string(t.plan)
	asTarget := func(typ messages.CommandType, data any, out model.Outcome) (Action, bool, error) {
		return Action{Customer: c, Partner: g.Target, Kind: kind, Expected: out, Command: g.command(c, typ, data)}, true, nil
	}
	asSource := func(typ messages.CommandType, data any, out model.Outcome) (Action, bool, error) {
		return Action{Customer: c, Partner: c.Partner, Kind: kind, Expected: out, Command: g.command(c, typ, data)}, true, nil
	}
	asCustomer := func(typ messages.CommandType, data any, out model.Outcome) (Action, bool, error) {
		return Action{Customer: c, Partner: messages.CustomerActor, Role: messages.RoleCustomerAdmin, Kind: kind, Expected: out,
			Command: g.command(c, typ, data)}, true, nil
	}
	submitClosed := func() (Action, bool, error) {
		t.done = true
		out, err := g.Model.SubmitClosed(c, t.id, now)
		if err != nil {
			return Action{}, false, err
		}
		return asSource(messages.CmdTransferSubmit, &messages.TransferSubmitData{TransferID: t.id, SubscriptionIDs: []string{t.sub.ID}}, out)
	}

	switch t.next {
	case stageAnswerAsk:
		switch t.plan {
		case planRelationshipExpire:
			if dl := c.AskDeadline(g.Target); dl.IsZero() || now.Before(dl) {
				return Action{}, false, nil // the customer leaves it unanswered until it expired
			}
			t.done = true // accepting it now is too late
			return asCustomer(messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: g.Target},
				g.Model.AnswerRelationship(c, g.Target, true, now))
		case planRelationshipDecline:
			t.next = stageProbeRequest
			return asCustomer(messages.CmdRelationshipDecline, &messages.RelationshipDeclineData{PartnerID: g.Target},
				g.Model.AnswerRelationship(c, g.Target, false, now))
		}
		t.next = stageRequest
		return asCustomer(messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: g.Target},
			g.Model.AnswerRelationship(c, g.Target, true, now))
	case stageProbeRequest:
		t.done = true
		return asTarget(messages.CmdTransferRequest, &messages.TransferRequestData{
			TransferID: t.id, SourcePartnerID: c.Partner, NoticeEmail: "billing@" + c.ID + ".example"},
			g.Model.RequestTransfer(c, t.id, g.Target, now))
	case stageRequest:
		if !transferable(c, t.sub, now) {
			t.done = true
			return Action{}, false, nil
		}
		t.next = stageAnswer
		return asTarget(messages.CmdTransferRequest, &messages.TransferRequestData{
			TransferID: t.id, SourcePartnerID: c.Partner, NoticeEmail: "billing@" + c.ID + ".example"},
			g.Model.RequestTransfer(c, t.id, g.Target, now))
	case stageProbeSubmit:
		return submitClosed()
	}

	// stageAnswer
	if !g.Model.TransferOpen(c, t.id, now) {
		if c.Requests[t.id] != nil {
			return submitClosed() // expired unanswered: refused
		}
		t.done = true // never requested (the relationship was answered too late)
		return Action{}, false, nil
	}
	switch t.plan {
	case planExpire:
		return Action{}, false, nil // nobody answers until it expired
	case planWithdraw:
		t.next = stageProbeSubmit
		return asTarget(messages.CmdTransferWithdraw, &messages.TransferWithdrawData{TransferID: t.id},
			g.Model.CloseTransfer(c, t.id, model.StateWithdrawn, now))
	case planReject:
		t.next = stageProbeSubmit
		return asSource(messages.CmdTransferReject, &messages.TransferRejectData{TransferID: t.id, Reason: rejectReason},
			g.Model.CloseTransfer(c, t.id, model.StateRejected, now))
	}
	if !transferable(c, t.sub, now) {
		t.done = true
		return Action{}, false, nil
	}
	t.done = true
	moved, out, err := g.Model.Transfer(c, t.sub, now, g.Target)
	if err != nil {
		return Action{}, false, err
	}
	c.Completed(t.id)
	return Action{Customer: c, Partner: c.Partner, Kind: kind, Sub: moved, Expected: out,
		Command: g.command(c, messages.CmdTransferSubmit, &messages.TransferSubmitData{TransferID: t.id, SubscriptionIDs: []string{t.sub.ID}})}, true, nil
}

// tryTransfer starts the customer's one transfer of the run, planned to
// end as the kind k says (the transfer kinds; their later commands come
// from continueTransfer).
func (g *Generator) tryTransfer(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	if g.transfers[c.ID] != nil {
		return Action{}, false, nil
	}
	plan := transferPlan(k)
	expires := map[transferPlan]int{planRelationshipExpire: g.Catalog.Policy.RelationshipRequestExpiryDays,
		planExpire: g.Catalog.Policy.TransferRequestExpiryDays}
	if days, ok := expires[plan]; ok && days <= 0 {
		return Action{}, false, nil // the catalog lets requests wait for ever
	}
	if s := g.pick(c, now, func(s *model.Sub) bool { return transferable(c, s, now) }); s != nil {
		return g.startTransfer(c, s, plan, now), true, nil
	}
	return Action{}, false, nil
}
