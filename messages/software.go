package messages

import "time"

// Software purchases (CAN-4, SW-1, SW-2, SW-3), as Partner Center sells
// them. Perpetual software and software subscriptions are bought with
// order.placed like any offer; these commands manage their activation keys,
// download links and cancellation. ROL-1: an Admin agent only.
const (
	// CmdSoftwareCancel cancels every software item of one order (CAN-4:
	// cancellation is per order ID).
	CmdSoftwareCancel CommandType = "software.cancel"
	// CmdSoftwareDownloadLinkRequest issues a new download link for a
	// software subscription, replacing the previous one (SW-1).
	CmdSoftwareDownloadLinkRequest CommandType = "software.download_link.request"
	// CmdSoftwareKeyAccess records that a user looked at a subscription's
	// activation keys (SW-2).
	CmdSoftwareKeyAccess CommandType = "software.key.access"
	// CmdSoftwareDownload records one download through the current link;
	// it counts against the link's downloads (SW-1, SW-2).
	CmdSoftwareDownload CommandType = "software.download"
)

// Software events.
const (
	// EvtSoftwareKeysIssued follows subscription.created for a software
	// purchase that comes with activation keys.
	EvtSoftwareKeysIssued EventType = "software.keys.issued"
	// EvtSoftwareDownloadLinkIssued answers a download link request (SW-1).
	EvtSoftwareDownloadLinkIssued EventType = "software.download_link.issued"
	// EvtSoftwareCancelled sums up the cancellation of an order's software
	// (CAN-4, SW-3); each item also gets its billing.credit and
	// subscription.cancelled (CAN-7).
	EvtSoftwareCancelled EventType = "software.cancelled"
	// EvtSoftwareActivityRecorded answers a key access or a download with
	// the activity log entry it added (SW-2).
	EvtSoftwareActivityRecorded EventType = "software.activity.recorded"
)

// BillingReasonSoftwareCancellation is the reason of the credit for a
// cancelled software purchase (CAN-4).
const BillingReasonSoftwareCancellation = "software_cancellation"

// Software activity kinds (SW-2).
const (
	SoftwareActivityKeyAccess = "key_access"
	SoftwareActivityDownload  = "download"
)

// SoftwareCancelData cancels the software of an order (CAN-4).
type SoftwareCancelData struct {
	OrderID string `json:"order_id"`
}

// SoftwareDownloadLinkRequestData asks for a new download link (SW-1).
type SoftwareDownloadLinkRequestData struct {
	SubscriptionID string `json:"subscription_id"`
	// User is the partner user asking (their sign-in name), 1-256
	// characters without control characters.
	User string `json:"user"`
}

// SoftwareKeyAccessData records a key access (SW-2).
type SoftwareKeyAccessData struct {
	SubscriptionID string `json:"subscription_id"`
	// User is who looked at the keys, as for SoftwareDownloadLinkRequestData.
	User string `json:"user"`
}

// SoftwareDownloadData records a download (SW-1, SW-2). The download
// service sends it as the partner's Admin agent, for the user who
// downloaded (a partner user, or the customer's user a link was sent to).
type SoftwareDownloadData struct {
	SubscriptionID string `json:"subscription_id"`
	User           string `json:"user"`
	// LinkID is optional: the link the download came through. A link
	// that has been replaced by a newer one is refused
	// (download_link_expired).
	LinkID string `json:"link_id,omitempty"`
}

// SoftwareKey is an activation key's reference. It is an opaque ID for the
// key service to resolve; the key itself never travels through the
// processor.
type SoftwareKey struct {
	KeyID    string    `json:"key_id"`
	IssuedAt time.Time `json:"issued_at"`
}

// SoftwareKeysIssuedEvent lists the activation keys of a software purchase.
type SoftwareKeysIssuedEvent struct {
	SubscriptionID string        `json:"subscription_id"`
	OrderID        string        `json:"order_id"`
	OfferID        string        `json:"offer_id"`
	Perpetual      bool          `json:"perpetual"`
	Quantity       int           `json:"quantity"`
	Keys           []SoftwareKey `json:"keys"`
	// DownloadsAvailable tells whether download links can be asked for
	// (SW-1); none exists until one is.
	DownloadsAvailable bool `json:"downloads_available"`
}

// SoftwareDownloadLinkIssuedEvent is a new download link (SW-1): valid
// until ExpiresAt (exclusive) or MaxDownloads downloads, whichever comes
// first.
type SoftwareDownloadLinkIssuedEvent struct {
	SubscriptionID string    `json:"subscription_id"`
	LinkID         string    `json:"link_id"`
	User           string    `json:"user"`
	IssuedAt       time.Time `json:"issued_at"`
	ExpiresAt      time.Time `json:"expires_at"`
	MaxDownloads   int       `json:"max_downloads"`
	// ReplacedLinkID is the link this one replaces, which no longer works.
	ReplacedLinkID string `json:"replaced_link_id,omitempty"`
}

// SoftwareCancelledEvent confirms the cancellation of an order's software
// (CAN-4). CancelledAt is the instant it took effect (SW-3: Partner
// Center may take 15 minutes to show it; our views show it at once).
type SoftwareCancelledEvent struct {
	OrderID     string    `json:"order_id"`
	CancelledAt time.Time `json:"cancelled_at"`
	// Subscriptions are the cancelled items, in order line order; they
	// stay listed, cancelled, without their keys.
	Subscriptions []SoftwareCancelledItem `json:"subscriptions"`
	// Credits are the billing.credit events emitted with the
	// cancellation, one per item (CAN-7), and TotalCreditMinor their sum,
	// in Currency. A credit appears on the partner's next monthly invoice.
	Credits          []SoftwareCredit `json:"credits"`
	TotalCreditMinor int64            `json:"total_credit_minor"`
	Currency         string           `json:"currency"`
}

// SoftwareCancelledItem is one cancelled software subscription and what
// its cancellation revoked (CAN-4).
type SoftwareCancelledItem struct {
	SubscriptionID string   `json:"subscription_id"`
	OfferID        string   `json:"offer_id"`
	Perpetual      bool     `json:"perpetual"`
	RevokedKeyIDs  []string `json:"revoked_key_ids"`
	RevokedLinkID  string   `json:"revoked_link_id,omitempty"`
}

// SoftwareCredit names one credit of a software cancellation. Basis is
// full (perpetual software: 100%) or prorated (software subscriptions,
// GEN-2, GEN-3).
type SoftwareCredit struct {
	SubscriptionID string `json:"subscription_id"`
	CreditEventID  string `json:"credit_event_id"`
	AmountMinor    int64  `json:"amount_minor"`
	Basis          string `json:"basis"`
}

// Credit bases of a software cancellation (CAN-4).
const (
	SoftwareCreditFull     = "full"
	SoftwareCreditProrated = "prorated"
)

// SoftwareActivityRecordedEvent is one activity log entry (SW-2).
type SoftwareActivityRecordedEvent struct {
	SubscriptionID string    `json:"subscription_id"`
	OfferID        string    `json:"offer_id"`
	Kind           string    `json:"kind"`
	User           string    `json:"user"`
	At             time.Time `json:"at"`
	// KeyIDs are the keys a key access showed.
	KeyIDs []string `json:"key_ids,omitempty"`
	// Link is the link a download went through, after it (SW-1).
	Link *SoftwareLinkUse `json:"link,omitempty"`
}

// SoftwareLinkUse is a download link's state after a download (SW-1).
type SoftwareLinkUse struct {
	LinkID        string    `json:"link_id"`
	DownloadsUsed int       `json:"downloads_used"`
	DownloadsLeft int       `json:"downloads_left"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// QuerySoftwareActivity is the name of the software activity log query
// (SW-2): csp.query.<partner>.<role>.<customer>.software_activity.
const QuerySoftwareActivity = "software_activity"

// SoftwareActivityRequest is the body of a software_activity request: the
// entries with From <= at < To (RFC 3339 instants).
type SoftwareActivityRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// SoftwareActivity is the activity log of a date range (SW-2), oldest
// first.
type SoftwareActivity struct {
	From    time.Time               `json:"from"`
	To      time.Time               `json:"to"`
	Entries []SoftwareActivityEntry `json:"entries"`
	// DroppedThrough is set once the log has dropped old entries (it
	// keeps the policy's most recent ones): entries at or before it may
	// be missing. The software.activity.recorded events are the complete
	// record.
	DroppedThrough *time.Time `json:"dropped_through,omitempty"`
}

// SoftwareActivityEntry is one key access or download (SW-2).
type SoftwareActivityEntry struct {
	At             time.Time `json:"at"`
	User           string    `json:"user"`
	Kind           string    `json:"kind"`
	SubscriptionID string    `json:"subscription_id"`
	OfferID        string    `json:"offer_id"`
	LinkID         string    `json:"link_id,omitempty"`
}
