package bus

import (
	"hash/fnv"
	"strconv"

	"github.com/cspreseller/csp-processor/messages"
)

// Slots is the number of virtual slots. A customer's slot never changes:
// the command stream stores every command under its customer's slot
// (CommandTransform), so it is fixed for the life of the stream. A
// partition, the unit of consumption and ownership, is a contiguous range
// of slots; changing the partition count regroups slots without touching
// the stream.
const Slots = 1024

// SlotOf returns the slot of a customer: FNV-1a 32 of the customer token,
// modulo Slots. It must equal the server's {{partition(1024,3)}} mapping of
// the command stream's subject transform (the transform hashes the
// customer token alone); a test checks this against a real server.
func SlotOf(customerID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(customerID))
	return int(h.Sum32() % Slots)
}

// PartitionSlots returns the slots [first, end) of partition p among
// partitions (a power of two, 1..Slots).
func PartitionSlots(p, partitions int) (first, end int) {
	return p * Slots / partitions, (p + 1) * Slots / partitions
}

// PartitionOfSlot returns the partition covering slot among partitions.
func PartitionOfSlot(slot, partitions int) int {
	return slot * partitions / Slots
}

// PartitionOf returns the partition of a customer among n partitions.
func PartitionOf(customerID string, n int) int {
	if n <= 0 {
		return 0
	}
	return PartitionOfSlot(SlotOf(customerID), n)
}

// SlotFilter is the subject filter of one slot's stored commands.
func SlotFilter(slot int) string {
	return messages.PartitionSubjectPrefix + "." + strconv.Itoa(slot) + ".>"
}

// PartitionFilters are the filter subjects of partition p's consumer: its
// slots' subjects, or the whole stored range when there is one partition.
func PartitionFilters(p, partitions int) []string {
	if partitions == 1 {
		return []string{messages.PartitionSubjectPrefix + ".>"}
	}
	first, end := PartitionSlots(p, partitions)
	out := make([]string, 0, end-first)
	for s := first; s < end; s++ {
		out = append(out, SlotFilter(s))
	}
	return out
}

// validPartitions reports whether n is a power of two in 1..Slots: only
// then does every partition cover the same number of whole slots.
func validPartitions(n int) bool {
	return n >= 1 && n <= Slots && n&(n-1) == 0
}
