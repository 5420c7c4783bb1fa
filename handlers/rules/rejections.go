package rules

import "github.com/cspreseller/csp-processor/messages"

// Rejection codes (GEN-6). They are part of the wire contract: stable,
// machine-readable, one per distinct reason.
const (
	CodeInvalidCommand          = "invalid_command"
	CodeInvalidField            = "invalid_field"
	CodeNoRelationship          = "no_relationship"
	CodeNotPartnerOfRecord      = "not_partner_of_record"
	CodeCustomerExists          = "customer_exists"
	CodeUnknownCurrency         = "unknown_currency"
	CodeSubscriptionNotFound    = "subscription_not_found"
	CodeOfferNotFound           = "offer_not_found"
	CodePlanNotAvailable        = "plan_not_available"
	CodePriceNotAvailable       = "price_not_available"
	CodeSegmentNotEligible      = "offer_not_available_for_segment"
	CodeOnePerCustomer          = "offer_limited_to_one_subscription"
	CodeOnePerCustomerSuspended = "offer_limited_to_one_subscription_reactivate_existing"
	CodeQuantityRequired        = "quantity_required"
	CodeQuantityNotAllowed      = "quantity_not_allowed"
	CodeQuantityOutOfRange      = "quantity_out_of_range"
	CodeDuplicateOrder          = "duplicate_order_id"
	CodeAlreadySuspended        = "already_suspended"
	CodeNotSuspended            = "not_suspended"
	CodeSubscriptionCancelled   = "subscription_cancelled"
	CodeSubscriptionExpired     = "subscription_expired"
	CodeTermEnded               = "term_ended"
	CodeCancelWindowClosed      = "cancellation_window_closed"
	CodeSubscriptionSuspended   = "subscription_suspended"
	CodeForbidden               = "forbidden"
	CodeCommandIDReused         = "command_id_reused"
)

// Source is the component named in every rejection (Partner Center's error
// shape, GEN-6).
const Source = "processor"

func reject(code, rule, description string, data map[string]string) *messages.Rejection {
	return &messages.Rejection{Code: code, Description: description, Rule: rule, Data: data, Source: Source}
}

// invalidField rejects a command whose field is missing or out of its
// allowed set (GEN-6).
func invalidField(field, problem string) *messages.Rejection {
	return reject(CodeInvalidField, "GEN-6", field+": "+problem, map[string]string{"field": field})
}
