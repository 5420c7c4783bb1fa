package catalog

import (
	"strings"
	"testing"
	"time"
)

// CAN-1, QTY-2: refund_window_notice_lead_hours is 0 (only the closed
// notice) to a year; absent, the closing notice comes 24 hours before a
// window closes, as the deployed catalog also says.
func TestRefundWindowNoticeLeadHours(t *testing.T) {
	for hours, ok := range map[int]bool{-1: false, 0: true, 24: true, 8760: true, 8761: false} {
		c := small()
		c.Policy.RefundWindowNoticeLeadHours = &hours
		err := c.Validate()
		if ok != (err == nil) {
			t.Errorf("%d hours: %v", hours, err)
		}
		if err != nil && !strings.Contains(err.Error(), "policy.refund_window_notice_lead_hours") {
			t.Errorf("%d hours: %v", hours, err)
		}
		if ok && c.Policy.RefundWindowNoticeLead() != time.Duration(hours)*time.Hour {
			t.Errorf("%d hours: lead %v", hours, c.Policy.RefundWindowNoticeLead())
		}
	}
	if lead := small().Policy.RefundWindowNoticeLead(); lead != 24*time.Hour {
		t.Errorf("absent: lead %v, want 24h", lead)
	}
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.RefundWindowNoticeLead() != 24*time.Hour {
		t.Fatalf("deployed lead %v", c.Policy.RefundWindowNoticeLead())
	}
}
