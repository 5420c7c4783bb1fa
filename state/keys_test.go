package state

import (
	"context"
	"strings"
	"testing"
)

// keySlot computes the Redis Cluster slot of key: CRC16/XMODEM of the hash
// tag (the text between the first '{' and the next '}', if non-empty) or of
// the whole key, mod 16384. Computed here because CLUSTER KEYSLOT needs a
// cluster-enabled server and go-redis keeps its helper internal.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) % 16384)
}

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestKeySlotMatchesRedis(t *testing.T) {
	// Reference values: CLUSTER KEYSLOT of a cluster-enabled Redis 7.0.
	tests := []struct {
		key  string
		want int
	}{
		{"123456789", 12739},
		{"foo", 12182},
		{"bar", 5061},
		{"{user1000}.following", 3443},
		{"foo{}{bar}", 8363},    // empty tag: the whole key is hashed
		{"foo{{bar}}zap", 4015}, // tag is "{bar"
		{"csp:{c1}:state", 14347},
	}
	if crc16("123456789") != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#x, want 0x31c3", crc16("123456789"))
	}
	for _, tc := range tests {
		if got := keySlot(tc.key); got != tc.want {
			t.Errorf("keySlot(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

func TestAllKeysOfACustomerShareOneSlot(t *testing.T) {
	tests := []struct {
		name       string
		prefix     string
		customerID string
	}{
		{"default prefix", "", "c1"},
		{"custom prefix with a colon", "tenant:a", "customer-42"},
		{"customer ID with glob characters", "csp", "a*b?[c]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, Options{Prefix: tc.prefix})
			mustCommit(t, s, Commit{
				CustomerID: tc.customerID, CommandID: "cmd", At: t0,
				Set:    map[string][]byte{"customer": []byte("x")},
				Events: []OutboxEntry{ev("e1")},
			})
			// Other customers' keys must not show up in this one's Dump.
			mustCommit(t, s, Commit{CustomerID: "other", CommandID: "cmd", At: t0, Events: []OutboxEntry{ev("e9")}})

			want := keySlot(tc.customerID)
			builders := []string{s.stateKey(tc.customerID), s.inboxKey(tc.customerID), s.inboxTSKey(tc.customerID), s.outboxKey(tc.customerID)}
			dump := mustDump(t, s, tc.customerID)
			if len(dump) != len(builders) {
				t.Errorf("Dump has %d keys, want %d: %q", len(dump), len(builders), dump)
			}
			for _, k := range builders {
				if _, ok := dump[k]; !ok {
					t.Errorf("key %q not in Dump", k)
				}
			}
			for k := range dump {
				if got := keySlot(k); got != want {
					t.Errorf("slot(%q) = %d, want %d (slot of the customer ID)", k, got, want)
				}
			}
			// The compact record's key exists only once a record was trimmed.
			if got := keySlot(s.appliedKey(tc.customerID)); got != want {
				t.Errorf("slot(%q) = %d, want %d", s.appliedKey(tc.customerID), got, want)
			}
			if id, ok := s.customerFromOutboxKey(s.outboxKey(tc.customerID)); !ok || id != tc.customerID {
				t.Errorf("customerFromOutboxKey(outboxKey) = %q, %v", id, ok)
			}
		})
	}
}

func TestCustomerIDsThatWouldSplitSlotsAreRejected(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	for _, id := range []string{"", "}", "a{b", "a}b"} {
		if _, err := s.Load(ctx, id, "cmd"); err == nil {
			t.Errorf("Load(%q) accepted", id)
		}
		if err := s.MarkPublished(ctx, id, "e1"); err == nil {
			t.Errorf("MarkPublished(%q) accepted", id)
		}
		if _, err := s.Dump(ctx, id); err == nil {
			t.Errorf("Dump(%q) accepted", id)
		}
	}
}

func TestPrefixWithBracePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewStore accepted prefix with a brace")
		}
	}()
	NewStore(nil, Options{Prefix: "csp{x}"})
}
