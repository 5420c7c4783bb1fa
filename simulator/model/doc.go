// Package model is the billing system's own model of the money rules: what
// every command and every renewal, billing period and trial end must charge
// or credit. It is written apart from the processor's rules
// (handlers/rules) on purpose and shares no code with them — only the
// catalog's data (prices, windows, policy) — so that a wrong amount in
// either shows up as a ledger mismatch instead of being reproduced.
//
// It covers what the load generator does: new-commerce license
// subscriptions bought, increased, decreased (per lot, QTY-2), suspended,
// reactivated, auto-renew turned back on, cancelled in and out of the
// window (CAN-1), upgraded in full at once (UPG-3), in part or into an
// existing subscription (UPG-4, UPG-5; upgrades.go), changes scheduled for
// the renewal (SCH-1..SCH-4; schedule.go), trials converted now or at
// their end (TRI-1..TRI-6; trials.go), renewed (REN-2) or expired (REN-3),
// and billed period by period (GEN-4); Azure reservations bought (ORD-5,
// ROL-1), billed monthly, cancelled (CAN-5, with the refund cap) and
// exchanged (CAN-6, chains of exchanges), in reservations.go; and commands
// that land inside a renewal's processing window, parked until it
// completes or refused (REN-4, renewal.go); and the other commerce types
// (types.go and a file each): add-ons bought on a base (ORD-7, ORD-8
// limits, also when base licences go; ORD-9's co-terminous first period,
// and the co-terminous add-on renewing, expiring and cancelled with its
// base, addon_follow.go) and suspended with it (SUS-5), legacy subscriptions not billed while suspended and charged the
// rest of the period when reactivated (SUS-2, REN-1), marketplace SaaS
// with CAN-3's full refund and ORD-4's refusals, software cancelled per
// order (CAN-4). The model predicts each
// command's outcome (accepted or the rejection code) as well as its
// amounts; a command the model does not know how to predict is never
// generated.
//
// Every amount comes from the day book (daybook.go): a licence-day ledger
// of the current billing period, where each day is worth price ÷ days
// exactly and each lot of licences records the days it paid for. The
// model never restates the processor's proration formulas, so a wrong
// reading of a rule in one of them shows up. Each bill names the rule its
// amount follows (rules.go), compared with the processor's.
//
// Adding a rule: its commands in a file of their own (like commands.go),
// its day-book operations as book methods when the existing ones (open a
// period, licences that come with it, licences bought during it, remove
// newest first, refund all, re-price, move, next period) do not express
// it, and its rule IDs in rules.go.
package model
