package messages

import "slices"

// Role is the Partner Center role of the user a command acts for (ROL-1).
// It is the subject's role token: NATS authorization gives each user's
// credentials only its own role's subjects, so it cannot be forged.
type Role string

// Roles named by Partner Center.
const (
	RoleAdminAgent            Role = "admin_agent"
	RoleBillingAdmin          Role = "billing_admin"
	RoleHelpdeskAgent         Role = "helpdesk_agent"
	RoleSalesAgent            Role = "sales_agent"
	RoleGlobalAdmin           Role = "global_admin"
	RoleAccountAdmin          Role = "account_admin"
	RoleReferralAdmin         Role = "referral_admin"
	RoleMarketingContentAdmin Role = "marketing_content_admin"
	RoleUserManagementAdmin   Role = "user_management_admin"
	// RoleCustomerAdmin is the customer's own administrator, acting
	// through the customer portal as CustomerActor: it accepts a
	// partner's relationship request (TRF-1, see transfers.go) and may
	// send nothing else.
	RoleCustomerAdmin Role = "customer_admin"
	// RoleSystem is the processor acting on its own (timers), only with
	// SystemPartner.
	RoleSystem Role = "system"
)

// Roles lists every role token.
func Roles() []Role {
	return []Role{RoleAdminAgent, RoleBillingAdmin, RoleHelpdeskAgent, RoleSalesAgent, RoleGlobalAdmin,
		RoleAccountAdmin, RoleReferralAdmin, RoleMarketingContentAdmin, RoleUserManagementAdmin, RoleCustomerAdmin, RoleSystem}
}

// Known reports whether r is a role token.
func (r Role) Known() bool { return slices.Contains(Roles(), r) }
