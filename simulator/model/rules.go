package model

// Rule IDs the model's bills carry. A bill's Rule is the processor's
// billing event's own Rule for that amount (compared on every event); its
// Also are the rules the amount shows besides (counted, not compared). The
// model spells the IDs out itself, as it does the billing reasons.
const (
	RulePurchase     = "ORD-14" // a purchase's first period, in full
	RuleTrialFree    = "ORD-10" // a trial bills nothing
	RuleIncrease     = "QTY-1"
	RuleDecrease     = "QTY-2"
	RuleCancel       = "CAN-1"
	RuleRenewal      = "REN-2"
	RulePeriod       = "GEN-4" // a billing period inside a term
	RuleUpgrade      = "UPG-3" // an upgrade of every license
	RuleTransfer     = "TRF-3"
	RuleConversion   = "TRI-1" // a trial converted at its end
	RuleUsedDays     = "GEN-2"
	RuleRounding     = "GEN-3"
	RuleSuspendedPay = "SUS-3" // new commerce bills while suspended
)

// MoneyRules are the rules an amount can follow. A run reports those no
// checked billing event reached, so a rule the load never exercises is
// visible. How a checked event reaches a rule:
//
//   - its Rule, the rule the processor's event names (ORD-9, ORD-14, QTY-1,
//     QTY-2, CAN-1, CAN-3..CAN-6, UPG-3, UPG-4, REN-2, GEN-4, TRI-1, TRI-2,
//     TRF-3, SUS-2 as the processor names them);
//   - GEN-2 and GEN-3: every prorated amount (a part of a billing period's
//     days: QTY-1, QTY-2, CAN-1, UPG-3, TRF-3), whatever its fraction;
//   - SUS-3: a GEN-4 billing period charged while the subscription is
//     suspended;
//   - ORD-10: a trial order the processor answers with no billing event
//     (Outcome.Free; the one money rule reached by the absence of an
//     event);
//   - REN-4: an amount of a command parked during a renewal and applied at
//     its completion (a bill's Also, renewal.go);
//   - SCH-1, SCH-2, SCH-4: a renewal charge that applies a scheduled change
//     (stored because the subscription was active with auto-renew on; an
//     upgrade whose quantity changes too), SCH-3: a renewal charge of a
//     term whose scheduled changes a command deleted (schedule.go);
//   - TRI-2 (what a trial converts to), TRI-4 (into an existing
//     subscription), ORD-10 (a conversion at the trial's end): a
//     conversion's charge, whose Rule is TRI-1, TRI-5 or TRI-6 (trials.go);
//   - UPG-5: an upgrade's charge on an existing subscription (upgrades.go).
var MoneyRules = []string{
	"GEN-2", "GEN-3", "GEN-4", "ORD-9", "ORD-10", "ORD-14", "QTY-1", "QTY-2", "CAN-1", "CAN-3", "CAN-4",
	"CAN-5", "CAN-6", "UPG-3", "UPG-4", "UPG-5", "SCH-1", "SCH-2", "SCH-3", "SCH-4", "REN-2", "REN-4",
	"TRI-1", "TRI-2", "TRI-4", "TRI-5", "TRI-6", "SUS-2", "SUS-3", "TRF-3",
}
