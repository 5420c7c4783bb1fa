package rawlimit

import (
	"testing"

	"github.com/cspreseller/csp-processor/state/redistest"
)

// One private redis-server for the package; tests using it flush it and
// must not run in parallel.
func TestMain(m *testing.M) { redistest.Main(m) }
