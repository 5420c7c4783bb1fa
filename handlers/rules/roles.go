package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cspreseller/csp-processor/messages"
)

// ROL-1: the roles that may manage customer subscriptions (Partner Center:
// Admin agent, Billing admin, Helpdesk agent, Sales agent). Every command
// of this version manages customers or their subscriptions; software and
// Azure reservation commands name their own roles (softwareRoles,
// reservationRoles). Timer commands act as the system role only.
var subscriptionRoles = []messages.Role{
	messages.RoleAdminAgent, messages.RoleBillingAdmin, messages.RoleHelpdeskAgent, messages.RoleSalesAgent,
}

// systemRoles send timer commands; customerRoles are the customer's own
// (TRF-1: the customer accepts a partner relationship).
var (
	systemRoles   = []messages.Role{messages.RoleSystem}
	customerRoles = []messages.Role{messages.RoleCustomerAdmin}
)

// RolesFor is the roles that may send a command type (ROL-1), from
// commandRules; nil for a type without rules.
func RolesFor(t messages.CommandType) []messages.Role {
	return commandRules[t].roles
}

// roleAllowed is ROL-1 (Decision): a command from a role that may not send
// it is rejected with forbidden and changes nothing. Commands always carry
// the subject's role; an empty one only comes from rules tests that do not
// care about roles.
func (d *decision) roleAllowed() bool {
	if d.in.Role == "" {
		return true
	}
	r, ok := commandRules[d.in.Command.Type]
	if !ok {
		return true // no rules at all: decide answers GEN-6
	}
	allowed := r.roles
	if slices.Contains(allowed, d.in.Role) {
		return true
	}
	names := make([]string, len(allowed))
	for i, r := range allowed {
		names[i] = string(r)
	}
	d.reject(reject(CodeForbidden, "ROL-1",
		fmt.Sprintf("role %s may not send %s; it needs one of %s", d.in.Role, d.in.Command.Type, strings.Join(names, ", ")),
		map[string]string{"role": string(d.in.Role), "command_type": string(d.in.Command.Type), "allowed_roles": strings.Join(names, ",")}))
	return false
}
