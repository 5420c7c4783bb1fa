package rawlimit

import "strings"

// filler returns a JSON object of exactly n bytes (at least the 10 of
// {"pad":""}), so the servers store and copy what a real body of that size
// costs. JetStream and Redis treat bodies as opaque bytes, so the content
// does not matter, only the size.
func filler(n int) []byte {
	const empty = `{"pad":""}`
	pad := max(n-len(empty), 0)
	return []byte(`{"pad":"` + strings.Repeat("x", pad) + `"}`)
}
