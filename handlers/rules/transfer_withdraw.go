package rules

import (
	"unicode"
	"unicode/utf8"

	"github.com/cspreseller/csp-processor/messages"
)

// transferWithdraw is the target partner taking back its request before
// the source answered (TRF-3: withdrawn). Nothing moves, nothing is
// billed, and a new request between the same partners is possible again.
func (d *decision) transferWithdraw(r *messages.TransferWithdrawData) {
	t, ok := d.openTransferOf(r.TransferID, messages.TransferSideTarget)
	if !ok {
		return
	}
	next := *t
	now := d.in.Now
	next.Status, next.WithdrawnAt = messages.TransferWithdrawn, &now
	d.deleteTimer(t.ExpiryTimerID)
	d.putTransfer(&next)
	d.emitTransfer(messages.EvtTransferWithdrawn, &next, nil, nil)
}

// maxReasonChars bounds a rejection's reason, counted in characters.
const maxReasonChars = 500

// validReason reports whether a rejection's reason may be shown to the
// other partner as written: UTF-8 text of at most maxReasonChars
// characters, no control characters but line breaks (a reason is a
// message, not a carrier for terminal escapes or NULs).
func validReason(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxReasonChars {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) && c != '\n' {
			return false
		}
	}
	return true
}
