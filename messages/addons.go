package messages

// Expiry reasons of a co-terminous add-on that follows its base (ORD-9).
const (
	// ExpiredWithBase: the add-on's base expired at their shared term end.
	ExpiredWithBase = "base_ended"
	// ExpiredBasePlanNotOffered: the base renewed on a term or billing
	// frequency the add-on's offer is not sold on.
	ExpiredBasePlanNotOffered = "base_plan_not_offered"
)
