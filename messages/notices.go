package messages

import "time"

// Window notices: a partner learns that a refund window is about to close,
// and that it has closed, from a notification rather than from a rejected
// command. They carry no money and change nothing; they come from durable
// timers (timer.fired) and go to the subscription's partner.
const (
	// EvtRefundWindowClosing is published the catalog policy's
	// refund_window_notice_lead_hours before a window closes.
	EvtRefundWindowClosing EventType = "subscription.refund_window_closing"
	// EvtRefundWindowClosed is published when the window closes.
	EvtRefundWindowClosed EventType = "subscription.refund_window_closed"
)

// Window kinds a notice names: the rule whose window it is.
const (
	// WindowCancel is the cancellation window with a prorated refund
	// (CAN-1) of a license-based subscription.
	WindowCancel = "CAN-1"
	// WindowMarketplaceCancel is a marketplace subscription's full-refund
	// cancellation window (CAN-3).
	WindowMarketplaceCancel = "CAN-3"
	// WindowSoftwareCancel is a software purchase's cancellation window
	// (CAN-4), counted from the purchase (a renewal opens none). Software
	// is cancelled per order: the notice names the order.
	WindowSoftwareCancel = "CAN-4"
	// WindowReservationFullRefund is an Azure reservation's full-refund
	// window (CAN-5): after it the reservation can still be cancelled, but
	// the credit is prorated less the early termination fee. The days
	// count from the first purchase of an exchange chain, and include
	// the last day's final instant: closes_at is a nanosecond later.
	WindowReservationFullRefund = "CAN-5"
	// WindowLotReduction is the window in which one lot of licenses may be
	// removed with a refund (QTY-2).
	WindowLotReduction = "QTY-2"
)

// RefundWindowNoticeEvent is the data of subscription.refund_window_closing
// and subscription.refund_window_closed. Quantity is, at the notice's
// instant, how many licenses the window covers: the subscription's whole
// count for a cancellation window, the lot's remaining licenses for a
// QTY-2 lot (LotAddedAt names the lot). OrderID is set for a software
// window (CAN-4), the order software.cancel names. A closing notice's licenses can
// still be refunded until ClosesAt (exclusive); a closed notice's no
// longer can.
type RefundWindowNoticeEvent struct {
	SubscriptionID string     `json:"subscription_id"`
	Window         string     `json:"window"`
	ClosesAt       time.Time  `json:"closes_at"`
	Quantity       int        `json:"quantity"`
	LotAddedAt     *time.Time `json:"lot_added_at,omitempty"`
	OrderID        string     `json:"order_id,omitempty"`
}
