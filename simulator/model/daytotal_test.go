package model

import (
	"math/big"
	"testing"
)

// Counting runs of days of one value and multiplying each out once gives
// exactly the sum of adding every day's n × value one at a time.
func TestDayTotalIsTheDayByDaySum(t *testing.T) {
	a, b, c := big.NewRat(7200, 31), big.NewRat(1500, 365), big.NewRat(1, 3)
	days := []*big.Rat{a, a, a, b, b, a, c, c, c, c, b}
	for _, n := range []int{0, 1, 7, 250} {
		naive := new(big.Rat)
		sum := newDayTotal(n)
		for _, v := range days {
			naive.Add(naive, new(big.Rat).Mul(v, big.NewRat(int64(n), 1)))
			sum.day(v)
		}
		if got := sum.total(); got.Cmp(naive) != 0 {
			t.Errorf("n=%d: %s, day by day %s", n, got.RatString(), naive.RatString())
		}
	}
	if got := newDayTotal(3).total(); got.Sign() != 0 {
		t.Errorf("no days: %s", got.RatString())
	}
}
