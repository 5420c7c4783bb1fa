package lease

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
)

// fairShare is how many partitions each of members keepers aims at. The
// ceiling makes the shares add up to at least every partition, so no
// partition is left over when every keeper holds its share.
func fairShare(partitions, members int) int {
	if members < 1 {
		members = 1
	}
	return (partitions + members - 1) / members
}

// score is the rendezvous hash of (replica, partition): each replica
// ranks the partitions its own way, so replicas looking for free
// partitions try different ones first.
func score(replica string, p int) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(replica))
	var b [9]byte
	binary.BigEndian.PutUint64(b[1:], uint64(p))
	_, _ = h.Write(b[:])
	// FNV's low-entropy tail (partitions differ in their last bytes) is
	// spread over the whole word by the splitmix64 finaliser.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// byPreference sorts partitions in place, the ones replica prefers most
// (highest score) first, and returns them.
func byPreference(replica string, ps []int) []int {
	slices.SortFunc(ps, func(a, b int) int {
		sa, sb := score(replica, a), score(replica, b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return a - b
	})
	return ps
}
