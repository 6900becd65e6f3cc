package spc

import (
	"math"
	"math/big"
	"math/bits"
)

// ext is a number in the x87 extended format in which R accumulates means on
// the platforms the reference ran on: a 64-bit significand, rounded to
// nearest (ties to even) after every operation. Its value is mant × 2^exp,
// with the top bit of mant set unless the value is zero. The exponent range
// is unbounded, as sums of finite doubles never approach the format's limits.
type ext struct {
	neg  bool
	mant uint64
	exp  int
}

// toExt converts a finite float64 exactly.
func toExt(f float64) ext {
	if f == 0 {
		return ext{}
	}
	frac, e := math.Frexp(math.Abs(f)) // frac in [0.5, 1), 53 significant bits
	return ext{neg: f < 0, mant: uint64(math.Ldexp(frac, 64)), exp: e - 64}
}

// float64 rounds x to the nearest double, ties to even.
func (x ext) float64() float64 {
	if x.mant == 0 {
		return 0
	}
	const drop = 64 - 53
	m, rest := x.mant>>drop, x.mant&(1<<drop-1)
	if rest > 1<<(drop-1) || (rest == 1<<(drop-1) && m&1 == 1) {
		m++
	}
	f := math.Ldexp(float64(m), x.exp+drop)
	if x.exp+64 <= -1022 {
		// Below the normal range Ldexp would round a second time, so let
		// big.Float round the full significand once.
		f, _ = new(big.Float).SetMantExp(new(big.Float).SetUint64(x.mant), x.exp).Float64()
	}
	if x.neg {
		return -f
	}
	return f
}

// absLess reports whether |x| < |y|.
func (x ext) absLess(y ext) bool {
	if x.mant == 0 || y.mant == 0 {
		return x.mant == 0 && y.mant != 0
	}
	return x.exp < y.exp || (x.exp == y.exp && x.mant < y.mant)
}

// add returns x + y rounded to the extended format.
func (x ext) add(y ext) ext {
	if x.absLess(y) {
		x, y = y, x
	}
	if y.mant == 0 {
		return x
	}
	// Line y up under x in 128 bits (x in the high word); bits of y shifted
	// out below the low word only matter as a sticky bit, kept in bit 0,
	// which leaves 63 guard bits for the rounding.
	hi, lo := shiftRight(y.mant, x.exp-y.exp)
	exp := x.exp
	if x.neg == y.neg {
		var carry uint64
		lo, carry = bits.Add64(0, lo, 0)
		hi, carry = bits.Add64(x.mant, hi, carry)
		if carry != 0 {
			lo = lo>>1 | lo&1 | hi<<63
			hi = hi>>1 | 1<<63
			exp++
		}
	} else {
		var borrow uint64
		lo, borrow = bits.Sub64(0, lo, 0)
		hi, _ = bits.Sub64(x.mant, hi, borrow)
		if hi == 0 && lo == 0 {
			return ext{}
		}
		shift := bits.LeadingZeros64(hi)
		if hi == 0 {
			shift = 64 + bits.LeadingZeros64(lo)
		}
		hi, lo = shiftLeft(hi, lo, shift)
		exp -= shift
	}
	return round(x.neg, hi, lo, exp)
}

// quo returns x / n rounded to the extended format, for n ≥ 1.
func (x ext) quo(n uint64) ext {
	if x.mant == 0 {
		return x
	}
	q1, r := x.mant/n, x.mant%n
	q0, r := bits.Div64(r, 0, n)
	shift := bits.LeadingZeros64(q1)
	if q1 == 0 {
		shift = 64 + bits.LeadingZeros64(q0)
	}
	hi, lo := shiftLeft(q1, q0, shift)
	if r != 0 {
		lo |= 1
	}
	return round(x.neg, hi, lo, x.exp-shift)
}

// shiftRight returns m × 2^64 shifted right by d ≥ 0 as 128 bits, with any
// bits shifted out folded into bit 0.
func shiftRight(m uint64, d int) (hi, lo uint64) {
	switch {
	case d == 0:
		return m, 0
	case d < 64:
		return m >> d, m << (64 - d)
	case d < 128:
		lo = m >> (d - 64)
		if m<<(128-d) != 0 {
			lo |= 1
		}
		return 0, lo
	default:
		return 0, 1
	}
}

// shiftLeft shifts the 128-bit value hi:lo left by s, 0 ≤ s < 128.
func shiftLeft(hi, lo uint64, s int) (uint64, uint64) {
	if s >= 64 {
		return lo << (s - 64), 0
	}
	if s == 0 {
		return hi, lo
	}
	return hi<<s | lo>>(64-s), lo << s
}

// round rounds the normalised 128-bit significand hi:lo (value hi:lo ×
// 2^(exp−64)) to 64 bits, to nearest with ties to even.
func round(neg bool, hi, lo uint64, exp int) ext {
	if lo > 1<<63 || (lo == 1<<63 && hi&1 == 1) {
		hi++
		if hi == 0 {
			hi = 1 << 63
			exp++
		}
	}
	return ext{neg: neg, mant: hi, exp: exp}
}
