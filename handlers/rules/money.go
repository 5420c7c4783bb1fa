package rules

import (
	"math/big"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// usedDays is GEN-2: proration is daily and any started day counts as used,
// so used_days = ceil(elapsed / 24h), at least 1.
func usedDays(elapsed time.Duration) int {
	if elapsed <= 0 {
		return 1
	}
	n := int(elapsed / day)
	if elapsed%day != 0 {
		n++
	}
	return n
}

// prorate is GEN-3: amount * unused / period in integer minor units, rounded
// half up once, at the end. big.Int keeps it exact whatever the amount.
func prorate(amount int64, unused, period int) int64 {
	if unused <= 0 || period <= 0 || amount <= 0 {
		return 0
	}
	if unused >= period {
		return amount
	}
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(int64(unused)))
	num.Mul(num, big.NewInt(2))
	num.Add(num, big.NewInt(int64(period)))
	den := big.NewInt(int64(2 * period))
	return num.Quo(num, den).Int64()
}

// prorateSum is GEN-3 over several parts of one amount: the sum of
// base × unused / period over the parts (all of one period), rounded half
// up once, at the end.
func prorateSum(parts []messages.Proration) int64 {
	if len(parts) == 0 {
		return 0
	}
	p := int64(parts[0].PeriodDays)
	if p <= 0 {
		return 0
	}
	num := new(big.Int)
	for _, pr := range parts {
		if pr.UnusedDays <= 0 || pr.BaseMinor <= 0 {
			continue
		}
		num.Add(num, new(big.Int).Mul(big.NewInt(pr.BaseMinor), big.NewInt(int64(pr.UnusedDays))))
	}
	num.Mul(num, big.NewInt(2))
	num.Add(num, big.NewInt(p))
	return num.Quo(num, big.NewInt(2*p)).Int64()
}
