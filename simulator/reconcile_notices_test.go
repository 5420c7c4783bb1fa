package simulator

import (
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
	"github.com/cspreseller/csp-processor/simulator/report"
)

// The reconciliation of window notices fails a run both ways: a notice the
// model has no window for, and a notice the model expected that never
// came (a processor that forgot to plan a timer would pass the first
// check alone).
func TestReconcileNotices_FlagsAnUnknownNoticeAndAMissingOne(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	closes := time.Date(2026, 1, 6, 6, 17, 0, 1, time.UTC)
	step := func() noticeStep {
		w := model.RefundWindow{Rule: model.RuleReservationCancel, Closes: closes, Quantity: 2, Opened: closes.Add(-5 * 24 * time.Hour)}
		return noticeStep{
			windows: map[string][]model.RefundWindow{"sub-1": {w}},
			due:     map[string]dueNotice{noticeKey("sub-1", w.Rule, closes, time.Time{}, true): {"C-1", closes}},
		}
	}
	run := func(notices ...Notice) (int64, []string, NoticeCounts) {
		rec := report.NewRecorder(time.Now())
		r := &Runner{Model: model.New(cat), Rec: rec, Ledger: &Ledger{notices: notices}, diverged: map[string]bool{}}
		r.reconcileNotices(step(), closes)
		s := rec.Summary("notices", time.Now())
		return s.Mismatches, s.MismatchTexts, r.NoticesChecked()
	}
	closed := func(sub string, quantity int) Notice {
		return Notice{EventID: "e-1", CustomerID: "C-1", Closed: true, At: closes,
			Data: messages.RefundWindowNoticeEvent{SubscriptionID: sub, Window: messages.WindowReservationFullRefund, ClosesAt: closes, Quantity: quantity}}
	}

	if n, texts, counts := run(closed("sub-1", 2)); n != 0 || counts.Checked != 1 || counts.ByRule["CAN-5"] != 1 {
		t.Fatalf("the expected notice: %d mismatches %v, counts %+v", n, texts, counts)
	}
	if n, texts, counts := run(); n != 1 || counts.Missing != 1 || !strings.Contains(texts[0], "no notice sub-1/CAN-5") {
		t.Fatalf("no notice: %d mismatches %v, counts %+v", n, texts, counts)
	}
	if n, texts, _ := run(closed("sub-1", 3)); n != 1 || !strings.Contains(texts[0], "names 3 licences, the model counts 2") {
		t.Fatalf("wrong quantity: %d mismatches %v", n, texts)
	}
	if n, texts, _ := run(closed("sub-1", 2), closed("sub-2", 2)); n != 1 || !strings.Contains(texts[0], "which the model does not have") {
		t.Fatalf("a notice of another subscription: %d mismatches %v", n, texts)
	}
}
