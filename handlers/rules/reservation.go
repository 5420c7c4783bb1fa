package rules

// ReservationState is what a reservation subscription holds beyond the common fields.
type ReservationState struct{}

// RefundEntry is one reservation refund, for CAN-5's yearly cap.
type RefundEntry struct{}
