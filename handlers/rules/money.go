package rules

import (
	"math/big"
	"time"
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
