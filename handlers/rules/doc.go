// Package rules is the programme's business rules as pure functions:
// (customer state, command, effective time, catalog) -> new state and
// events, or a rejection naming the rule that fired. Nothing here touches
// NATS, Redis or a clock; the handlers package does that around it.
//
// Every rule lives in a file named after what it governs, and every check
// carries the ID of the rule it implements (CATALOGUE.md, the rule
// catalogue), so `grep -rn 'CAN-1' handlers/rules` finds the code of a rule
// and its tests (TestRule_CAN_1_...).
package rules
