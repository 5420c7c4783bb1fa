package rules

// ReservationState is what a reservation subscription holds beyond the common fields.
type ReservationState struct{}

// RefundEntry is one reservation refund, for the yearly refund cap.
type RefundEntry struct{}
