package rules

import (
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Software purchases (as Partner Center sells them): perpetual software and
// software subscriptions (GEN-5), their activation keys and download links
// (SW-1), the activity log of key accesses and downloads (SW-2), and
// cancellation per order (CAN-4, SW-3).
//
// Decisions (the rule catalogue is silent):
//   - Perpetual software is a subscription record with term "perpetual",
//     billing one_time, no term end (the zero date; subscription.created
//     says term_end ""), no timers and auto-renew off; its charge's period
//     is the purchase date. Software subscriptions (P1Y, P3Y) are ordinary
//     terms that renew by default (REN-1).
//   - Each software purchase line gets one activation key for all its
//     licenses, issued at purchase when the product has keys. Keys are
//     opaque references derived from the order command (never key
//     material); no download link exists until one is asked for (SW-1).
//   - The generic CAN-1 window of a software subscription is empty (the
//     offer has no cancel_window_hours), so subscription.cancel and QTY-2
//     decreases refuse it; software is cancelled with software.cancel,
//     whose window is policy.software.cancel_window_days from the purchase
//     instant (renewal does not reopen it), half-open like CAN-1.
//   - software.cancel takes the whole order or nothing: an exception
//     (Windows 7 ESU: support_request_required; SUSE, Red Hat:
//     not_cancellable) rejects it before the window is looked at, since
//     those products were never cancellable here.
//   - Every cancelled item gets one billing.credit (reason
//     software_cancellation, rule CAN-4) and one subscription.cancelled
//     (CAN-7), then one software.cancelled sums up the order. The credit
//     is emitted now; billing systems put it on the next monthly invoice.
//   - SW-3: the state shows the cancellation at once; software.cancelled
//     carries cancelled_at, the instant it took effect.
//   - A cancelled item stays listed with status cancelled; its keys and
//     link are kept, revoked, for the record (key access: key_revoked;
//     link request and download: download_link_revoked).
//   - SW-1: a link works while now < issued_at + validity and fewer than
//     the policy's downloads were made (the 50th download succeeds, the
//     51st is refused); a new link replaces the old one at once.
//   - SW-2: key accesses and downloads are recorded (user, time) in the
//     customer's activity log and announced with
//     software.activity.recorded; link requests are not "activity" in
//     Partner Center's sense and are not logged. The log keeps the policy's
//     most recent entries and the time of the newest dropped one, so the
//     query can say from when it is complete (activity_log.go).
//   - Keys, links and downloads need an active subscription: suspended
//     (SUS-1) or expired (SUS-3) software is refused.

// Rejection codes of software commands (GEN-6).
const (
	CodeSoftwareOrderNotFound    = "order_not_found"
	CodeSoftwareNotInOrder       = "no_software_in_order"
	CodeSoftwareNotSoftware      = "not_software"
	CodeSoftwareNotSupported     = "not_supported_for_software"
	CodeSoftwareKeysNotAvailable = "keys_not_available"
	CodeSoftwareNoDownloads      = "downloads_not_available"
	CodeSoftwareNoDownloadLink   = "no_download_link"
	CodeSoftwareLinkExpired      = "download_link_expired"
	CodeSoftwareKeyRevoked       = "key_revoked"
	CodeSoftwareLinkRevoked      = "download_link_revoked"
	// CodeSoftwareSupportRequestRequired and CodeSoftwareNotCancellable
	// are the catalog's cancel exceptions (CAN-4).
	CodeSoftwareSupportRequestRequired = catalog.SoftwareSupportRequestRequired
	CodeSoftwareNotCancellable         = catalog.SoftwareNotCancellable
)

// ActivityTrimmed is the kind of the marker entry that headed a trimmed
// activity log kept in the state by earlier versions (activity_log.go).
const ActivityTrimmed = "log_trimmed"

// maxUserLength bounds the user named in a software command.
const maxUserLength = 256

// SoftwareState is what a software subscription holds beyond the common
// fields. It is replaced, never changed in place.
type SoftwareState struct {
	Perpetual bool `json:"perpetual"`
	// PurchasedAt is the instant of purchase; CancellableUntil is
	// PurchasedAt + the policy's window at purchase, exclusive (CAN-4).
	PurchasedAt      time.Time `json:"purchased_at"`
	CancellableUntil time.Time `json:"cancellable_until"`
	// CancelException is the offer's reason it cannot be cancelled, at
	// purchase (CAN-4); empty when it can.
	CancelException string `json:"cancel_exception,omitempty"`
	// Downloads tells whether the product has download links (SW-1).
	Downloads bool          `json:"downloads"`
	Keys      []SoftwareKey `json:"keys,omitempty"`
	// Link is the current download link, if one was asked for (SW-1).
	Link *DownloadLink `json:"link,omitempty"`
	// RevokedAt is when a cancellation revoked every key and link (CAN-4).
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// SoftwareKey is an activation key's reference (never the key).
type SoftwareKey struct {
	ID        string     `json:"id"`
	IssuedAt  time.Time  `json:"issued_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// DownloadLink is a download link (SW-1).
type DownloadLink struct {
	ID           string     `json:"id"`
	User         string     `json:"user"`
	IssuedAt     time.Time  `json:"issued_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	MaxDownloads int        `json:"max_downloads"`
	Downloads    int        `json:"downloads"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
}

// ActivityEntry is one entry of the software activity log (SW-2): who did
// what to which subscription, when, acting for which partner.
type ActivityEntry struct {
	At             time.Time `json:"at"`
	PartnerID      string    `json:"partner_id"`
	User           string    `json:"user"`
	Kind           string    `json:"kind"`
	SubscriptionID string    `json:"subscription_id"`
	OfferID        string    `json:"offer_id"`
	LinkID         string    `json:"link_id,omitempty"`
}

func (s *SoftwareState) clone() *SoftwareState {
	c := *s
	c.Keys = slices.Clone(s.Keys)
	if s.Link != nil {
		l := *s.Link
		c.Link = &l
	}
	return &c
}

// softwareRoles is ROL-1 for keys, downloads and cancellation (Partner
// Center: "You must be an Admin agent").
var softwareRoles = []messages.Role{messages.RoleAdminAgent}

// SoftwareActivityRoles is ROL-1 for the software activity log (Partner
// Center: Global admin, Account admin, Referral admin, Marketing content
// admin).
func SoftwareActivityRoles() []messages.Role {
	return []messages.Role{messages.RoleGlobalAdmin, messages.RoleAccountAdmin, messages.RoleReferralAdmin, messages.RoleMarketingContentAdmin}
}

// fulfilSoftwareLine creates a software line's subscription (GEN-5),
// called from fulfilLine once every common line check passed (ORD-1..ORD-6,
// ORD-12, GEN-3, GEN-4), with its keys, and emits subscription.created,
// billing.charge (ORD-14) and software.keys.issued.
func (d *decision) fulfilSoftwareLine(cust *Customer, offer *catalog.Offer, plan *catalog.Plan, price int64, quantity int,
	orderID string, idx int, line messages.OrderLine) (*Subscription, *messages.Rejection) {
	spec, policy := offer.Software, d.in.Catalog.Policy.Software
	if spec == nil || policy.CancelWindowDays < 1 { // a validated catalog has both
		return nil, reject(CodePlanNotAvailable, "GEN-5", fmt.Sprintf("%s has no software spec or policy", offer.Name),
			map[string]string{"offer_id": offer.ID})
	}

	now := d.in.Now
	var sub *Subscription
	if spec.Perpetual {
		sub = newPerpetual(d.in, cust, offer, plan, price, quantity)
	} else {
		var err error
		if sub, err = newSubscription(d.in, cust, offer, plan, price, quantity); err != nil { // validated catalog: a bug
			return nil, reject(CodePlanNotAvailable, "GEN-4", err.Error(), nil)
		}
	}
	sub.ID = messages.DerivedID("sub", cust.ID, d.in.Command.ID, idx)
	sub.OrderID, sub.LineID = orderID, line.LineID
	sw := &SoftwareState{Perpetual: spec.Perpetual, PurchasedAt: now,
		CancellableUntil: now.Add(time.Duration(policy.CancelWindowDays) * day),
		Downloads:        spec.Downloads}
	if !spec.Cancellable {
		sw.CancelException = spec.CancelException
	}
	if spec.ActivationKeys {
		sw.Keys = []SoftwareKey{{ID: messages.DerivedID("key", cust.ID, d.in.Command.ID, idx), IssuedAt: now}}
	}
	sub.Software = sw
	d.putSubscription(sub)
	termEndText := ""
	if !spec.Perpetual {
		d.scheduleTermTimers(sub)
		termEndText = formatDate(sub.TermEnd)
	}
	d.planWindowNotices(sub) // CAN-4's window (notices.go)
	d.emit(messages.EvtSubscriptionCreated, &messages.SubscriptionCreatedEvent{
		SubscriptionID: sub.ID, OrderID: orderID, LineID: line.LineID, OfferID: offer.ID, OfferName: offer.Name,
		Quantity: sub.Quantity, Term: sub.Term, BillingFrequency: sub.BillingFrequency,
		TermStart: formatDate(sub.TermStart), TermEnd: termEndText,
		AutoRenew: sub.AutoRenew, CancellableUntil: sw.CancellableUntil, // CAN-4's window
	})
	d.emit(messages.EvtBillingCharge, billingEvent(sub, messages.BillingReasonPurchase, "ORD-14", sub.PeriodCharge))
	if len(sw.Keys) > 0 {
		d.emit(messages.EvtSoftwareKeysIssued, &messages.SoftwareKeysIssuedEvent{
			SubscriptionID: sub.ID, OrderID: orderID, OfferID: offer.ID, Perpetual: spec.Perpetual, Quantity: sub.Quantity,
			Keys: keyViews(sw.Keys), DownloadsAvailable: spec.Downloads,
		})
	}
	return sub, nil
}

// newPerpetual builds a perpetual software purchase: no term end, no
// renewal, charged once in full for the purchase date (ORD-14). Its
// generic cancellation window is empty (see the decisions above).
func newPerpetual(in Input, cust *Customer, offer *catalog.Offer, plan *catalog.Plan, price int64, quantity int) *Subscription {
	start := dateOf(in.Now)
	return &Subscription{
		PartnerID: in.PartnerID, OfferID: offer.ID, OfferName: offer.Name,
		CommerceType: offer.CommerceType, BillingType: offer.BillingType,
		Quantity: quantity, Term: plan.Term, BillingFrequency: plan.BillingFrequency,
		Status: StatusActive, AutoRenew: false, TermStart: start,
		WindowOpenedAt: in.Now, CancellableUntil: in.Now,
		Currency: cust.Currency, TaxInclusive: in.Catalog.Policy.TaxInclusive(cust.Country), // ORD-11
		UnitPrice: price, PeriodStart: start, PeriodEnd: start, PeriodStartedAt: in.Now,
		PeriodCharge: price * int64(quantity),
		Lots:         []Lot{{Quantity: quantity, AddedAt: in.Now, ReducibleUntil: in.Now}},
	}
}

func keyViews(keys []SoftwareKey) []messages.SoftwareKey {
	out := make([]messages.SoftwareKey, len(keys))
	for i, k := range keys {
		out[i] = messages.SoftwareKey{KeyID: k.ID, IssuedAt: k.IssuedAt}
	}
	return out
}

// softwareCancel is CAN-4: the software of one order is cancelled as a
// whole, within the policy's window after purchase, unless an item is an
// exception; each item gets its credit (100% for perpetual software,
// prorated for subscriptions) and loses its keys and link; it stays
// listed, cancelled (CAN-2, CAN-7, SW-3).
func (d *decision) softwareCancel(c *messages.SoftwareCancelData) {
	cust, ok := d.customerOfPartner()
	if !ok {
		return
	}
	if !messages.ValidToken(c.OrderID) {
		d.reject(invalidField("data.order_id", "must be 1-64 letters, digits, '-' or '_'"))
		return
	}
	order, ok := d.state.Orders[c.OrderID]
	if !ok {
		order = d.state.tombOrder(c.OrderID) // archived (archive.go)
		ok = order != nil
	}
	if !ok {
		d.reject(reject(CodeSoftwareOrderNotFound, "CAN-4",
			fmt.Sprintf("customer %s has no order %s", d.in.Command.CustomerID, c.OrderID),
			map[string]string{"order_id": c.OrderID}))
		return
	}
	var items []*Subscription // the order's software, in line order
	for _, l := range order.Lines {
		s := d.state.Subscriptions[l.SubscriptionID]
		if s == nil {
			s = d.state.orderSoftware(c.OrderID, l.SubscriptionID) // archived with its order
		}
		if s != nil && s.Software != nil {
			items = append(items, s)
		}
	}
	if len(items) == 0 {
		d.reject(reject(CodeSoftwareNotInOrder, "CAN-4",
			fmt.Sprintf("order %s has no software to cancel (software is cancelled per order; other subscriptions with subscription.cancel)", c.OrderID),
			map[string]string{"order_id": c.OrderID}))
		return
	}
	var open []*Subscription
	for _, s := range items {
		if s.PartnerID != d.in.PartnerID { // PTN-1
			d.reject(reject(CodeNotPartnerOfRecord, "PTN-1",
				fmt.Sprintf("partner %s is not the partner of record of subscription %s of order %s", d.in.PartnerID, s.ID, c.OrderID),
				map[string]string{"order_id": c.OrderID, "subscription_id": s.ID}))
			return
		}
		if s.Status != StatusCancelled && s.Status != StatusExpired {
			open = append(open, s)
		}
	}
	if len(open) == 0 {
		d.notFinal(items[0]) // CAN-2: already cancelled (or expired)
		return
	}
	for _, s := range open {
		if code := s.Software.CancelException; code != "" {
			d.reject(reject(code, "CAN-4", cancelExceptionText(s, c.OrderID, code),
				map[string]string{"order_id": c.OrderID, "subscription_id": s.ID, "offer_id": s.OfferID}))
			return
		}
	}
	for _, s := range open {
		if !d.in.Now.Before(s.Software.CancellableUntil) {
			d.reject(reject(CodeCancelWindowClosed, "CAN-4",
				fmt.Sprintf("order %s could be cancelled until %s, %d days after its purchase; software cannot be cancelled after that",
					c.OrderID, s.Software.CancellableUntil.Format(time.RFC3339), d.in.Catalog.Policy.Software.CancelWindowDays),
				map[string]string{"order_id": c.OrderID, "subscription_id": s.ID,
					"purchased_at": s.Software.PurchasedAt.Format(time.RFC3339Nano),
					"window_end":   s.Software.CancellableUntil.Format(time.RFC3339Nano)}))
			return
		}
	}

	now := d.in.Now
	summary := &messages.SoftwareCancelledEvent{OrderID: c.OrderID, CancelledAt: now, Currency: cust.Currency,
		Subscriptions: []messages.SoftwareCancelledItem{}, Credits: []messages.SoftwareCredit{}}
	for _, s := range open {
		credit, basis := softwareCredit(s, now)
		creditID := d.nextEventID()
		d.emit(messages.EvtBillingCredit, credit)

		next := s.clone()
		d.endSubscription(&next, endCancelled, string(messages.CmdSoftwareCancel))
		sw := s.Software.clone()
		sw.RevokedAt = &now
		item := messages.SoftwareCancelledItem{SubscriptionID: s.ID, OfferID: s.OfferID, Perpetual: sw.Perpetual, RevokedKeyIDs: []string{}}
		for i := range sw.Keys {
			if sw.Keys[i].RevokedAt == nil {
				sw.Keys[i].RevokedAt = &now
				item.RevokedKeyIDs = append(item.RevokedKeyIDs, sw.Keys[i].ID)
			}
		}
		if sw.Link != nil && sw.Link.RevokedAt == nil {
			sw.Link.RevokedAt = &now
			item.RevokedLinkID = sw.Link.ID
		}
		next.Software = sw // next is stored: the revocations are kept
		d.emit(messages.EvtSubscriptionCancelled, &messages.SubscriptionCancelledEvent{
			SubscriptionID: s.ID, CreditEventID: creditID, CreditMinor: credit.AmountMinor, Currency: s.Currency,
		})
		summary.Subscriptions = append(summary.Subscriptions, item)
		summary.Credits = append(summary.Credits, messages.SoftwareCredit{SubscriptionID: s.ID, CreditEventID: creditID,
			AmountMinor: credit.AmountMinor, Basis: basis})
		summary.TotalCreditMinor += credit.AmountMinor
	}
	d.emit(messages.EvtSoftwareCancelled, summary)
}

func cancelExceptionText(s *Subscription, orderID, code string) string {
	if code == CodeSoftwareSupportRequestRequired {
		return fmt.Sprintf("%s (subscription %s of order %s) cannot be cancelled here: submit a customer support request "+
			"(CSP Purchase/Refund on behalf of customers) with the customer's tenant, the order ID, the refund reason and the amount", s.OfferName, s.ID, orderID)
	}
	return fmt.Sprintf("%s (subscription %s of order %s) cannot be cancelled or exchanged", s.OfferName, s.ID, orderID)
}

// softwareCredit is CAN-4's credit: perpetual software gets back 100% of
// what it was charged; a software subscription the charge of its billing
// period prorated by unused days (GEN-2, GEN-3; the window lies inside the
// first period, which every software plan charges at purchase).
func softwareCredit(s *Subscription, now time.Time) (*messages.BillingEvent, string) {
	if s.Software.Perpetual {
		return billingEvent(s, messages.BillingReasonSoftwareCancellation, "CAN-4", s.PeriodCharge), messages.SoftwareCreditFull
	}
	credit := cancellationCredit(s, now)
	credit.Reason, credit.Rule = messages.BillingReasonSoftwareCancellation, "CAN-4"
	return credit, messages.SoftwareCreditProrated
}

// softwareInUse finds a software subscription of the acting partner whose
// keys or downloads a user may use now (PTN-1, GEN-5, CAN-4, SUS-1,
// SUS-3). revokedCode answers for a cancelled one.
func (d *decision) softwareInUse(id, user, revokedCode string) (*Subscription, bool) {
	s, ok := d.subscriptionOfPartner(id)
	if !ok {
		return nil, false
	}
	if !validUser(user) {
		d.reject(invalidField("data.user", fmt.Sprintf("must be 1-%d characters without control characters", maxUserLength)))
		return nil, false
	}
	if s.Software == nil {
		d.reject(reject(CodeSoftwareNotSoftware, "GEN-5", fmt.Sprintf("subscription %s (%s) is not software", s.ID, s.OfferName),
			map[string]string{"subscription_id": s.ID, "commerce_type": s.CommerceType}))
		return nil, false
	}
	switch s.Status {
	case StatusCancelled:
		d.reject(reject(revokedCode, "CAN-4",
			fmt.Sprintf("subscription %s was cancelled and its keys and download links were revoked", s.ID),
			map[string]string{"subscription_id": s.ID, "revoked_at": fmtTime(s.Software.RevokedAt)}))
		return nil, false
	case StatusSuspended:
		d.reject(reject(CodeSubscriptionSuspended, "SUS-1",
			fmt.Sprintf("subscription %s is suspended: its software cannot be used until it is reactivated", s.ID),
			map[string]string{"subscription_id": s.ID}))
		return nil, false
	}
	if !d.notFinal(s) { // SUS-3: expired
		return nil, false
	}
	return s, true
}

func validUser(u string) bool {
	if u == "" || len(u) > maxUserLength || !utf8.ValidString(u) {
		return false
	}
	for _, r := range u {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// softwareLinkRequest is SW-1: a new download link, valid for the policy's
// hours or downloads, whichever comes first; it replaces the previous one.
func (d *decision) softwareLinkRequest(c *messages.SoftwareDownloadLinkRequestData) {
	s, ok := d.softwareInUse(c.SubscriptionID, c.User, CodeSoftwareLinkRevoked)
	if !ok {
		return
	}
	if !s.Software.Downloads {
		d.reject(reject(CodeSoftwareNoDownloads, "SW-1", fmt.Sprintf("%s has no downloads", s.OfferName),
			map[string]string{"subscription_id": s.ID, "offer_id": s.OfferID}))
		return
	}
	p, now := d.in.Catalog.Policy.Software, d.in.Now
	sw := s.Software.clone()
	link := &DownloadLink{ID: messages.DerivedID("dl", d.in.Command.CustomerID, d.in.Command.ID, 0), User: c.User,
		IssuedAt: now, ExpiresAt: now.Add(time.Duration(p.DownloadLinkValidityHours) * time.Hour), MaxDownloads: p.DownloadLinkMaxDownloads}
	ev := &messages.SoftwareDownloadLinkIssuedEvent{SubscriptionID: s.ID, LinkID: link.ID, User: c.User,
		IssuedAt: link.IssuedAt, ExpiresAt: link.ExpiresAt, MaxDownloads: link.MaxDownloads}
	if sw.Link != nil {
		ev.ReplacedLinkID = sw.Link.ID
	}
	sw.Link = link
	next := s.clone()
	next.Software = sw
	d.putSubscription(&next)
	d.emit(messages.EvtSoftwareDownloadLinkIssued, ev)
}

// softwareKeyAccess is SW-2 for keys: the access is logged.
func (d *decision) softwareKeyAccess(c *messages.SoftwareKeyAccessData) {
	s, ok := d.softwareInUse(c.SubscriptionID, c.User, CodeSoftwareKeyRevoked)
	if !ok {
		return
	}
	var ids []string
	for _, k := range s.Software.Keys {
		if k.RevokedAt == nil {
			ids = append(ids, k.ID)
		}
	}
	if len(ids) == 0 {
		d.reject(reject(CodeSoftwareKeysNotAvailable, "SW-2", fmt.Sprintf("%s has no activation keys", s.OfferName),
			map[string]string{"subscription_id": s.ID, "offer_id": s.OfferID}))
		return
	}
	d.recordActivity(s, c.User, messages.SoftwareActivityKeyAccess, "")
	d.emit(messages.EvtSoftwareActivityRecorded, &messages.SoftwareActivityRecordedEvent{SubscriptionID: s.ID, OfferID: s.OfferID,
		Kind: messages.SoftwareActivityKeyAccess, User: c.User, At: d.in.Now, KeyIDs: ids})
}

// softwareDownload is SW-1 and SW-2 for a download: it counts against the
// current link, which must not be expired, exhausted or replaced, and is
// logged.
func (d *decision) softwareDownload(c *messages.SoftwareDownloadData) {
	s, ok := d.softwareInUse(c.SubscriptionID, c.User, CodeSoftwareLinkRevoked)
	if !ok {
		return
	}
	if c.LinkID != "" && !messages.ValidToken(c.LinkID) {
		d.reject(invalidField("data.link_id", "must be 1-64 letters, digits, '-' or '_'"))
		return
	}
	sw := s.Software
	switch {
	case !sw.Downloads:
		d.reject(reject(CodeSoftwareNoDownloads, "SW-1", fmt.Sprintf("%s has no downloads", s.OfferName),
			map[string]string{"subscription_id": s.ID, "offer_id": s.OfferID}))
		return
	case sw.Link == nil:
		d.reject(reject(CodeSoftwareNoDownloadLink, "SW-1",
			fmt.Sprintf("subscription %s has no download link; ask for one with %s", s.ID, messages.CmdSoftwareDownloadLinkRequest),
			map[string]string{"subscription_id": s.ID}))
		return
	}
	l := sw.Link
	why := ""
	switch {
	case c.LinkID != "" && c.LinkID != l.ID:
		why = "replaced"
	case !d.in.Now.Before(l.ExpiresAt):
		why = "expired"
	case l.Downloads >= l.MaxDownloads:
		why = "exhausted"
	}
	if why != "" {
		linkID := l.ID
		if c.LinkID != "" {
			linkID = c.LinkID
		}
		d.reject(reject(CodeSoftwareLinkExpired, "SW-1",
			fmt.Sprintf("download link %s of subscription %s no longer works (%s); ask for a new one, valid for another %d hours or %d downloads",
				linkID, s.ID, why, d.in.Catalog.Policy.Software.DownloadLinkValidityHours, d.in.Catalog.Policy.Software.DownloadLinkMaxDownloads),
			map[string]string{"subscription_id": s.ID, "link_id": linkID, "reason": why,
				"expires_at": l.ExpiresAt.Format(time.RFC3339Nano), "downloads": strconv.Itoa(l.Downloads),
				"max_downloads": strconv.Itoa(l.MaxDownloads)}))
		return
	}
	next := s.clone()
	next.Software = sw.clone()
	next.Software.Link.Downloads++
	d.putSubscription(&next)
	used := next.Software.Link
	d.recordActivity(s, c.User, messages.SoftwareActivityDownload, used.ID)
	d.emit(messages.EvtSoftwareActivityRecorded, &messages.SoftwareActivityRecordedEvent{SubscriptionID: s.ID, OfferID: s.OfferID,
		Kind: messages.SoftwareActivityDownload, User: c.User, At: d.in.Now,
		Link: &messages.SoftwareLinkUse{LinkID: used.ID, DownloadsUsed: used.Downloads, DownloadsLeft: used.MaxDownloads - used.Downloads,
			ExpiresAt: used.ExpiresAt}})
}

// softwareRefuses is GEN-5 for the subscription commands that do not apply
// to software: a software subscription is cancelled per order with
// software.cancel (CAN-4), and is not suspended, resized, upgraded,
// scheduled or converted; only auto-renew of a software subscription with
// a term may be set (REN-1). It answers only the partner of record (PTN-1
// is answered by the rules as usual otherwise) and reports whether it
// rejected. To be called by decide before a subscription command's rules.
func (d *decision) softwareRefuses() bool {
	id := targetSubscription(d.in.Command.Type, d.in.Command.Data)
	s, ok := d.subscriptionOrTomb(id)
	if id == "" || !ok || s.Software == nil || s.PartnerID != d.in.PartnerID ||
		!d.state.Customer.HasRelationship(d.in.PartnerID) {
		return false
	}
	if d.in.Command.Type == messages.CmdAutoRenewSet && !s.Software.Perpetual {
		return false
	}
	hint := "software is cancelled per order with " + string(messages.CmdSoftwareCancel)
	if d.in.Command.Type != messages.CmdSubscriptionCancel {
		hint = "software purchases do not change after purchase"
	}
	d.reject(reject(CodeSoftwareNotSupported, "GEN-5",
		fmt.Sprintf("%s does not apply to software subscription %s (%s): %s", d.in.Command.Type, s.ID, s.OfferName, hint),
		map[string]string{"subscription_id": s.ID, "command_type": string(d.in.Command.Type), "order_id": s.OrderID}))
	return true
}
