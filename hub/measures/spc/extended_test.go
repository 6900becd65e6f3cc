package spc

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigMean is R's mean() computed with math/big at the x87 significand width:
// an independent model of the same arithmetic, to check ext against.
func bigMean(xs []float64) float64 {
	const prec = 64
	n := new(big.Float).SetPrec(prec).SetInt64(int64(len(xs)))
	s := new(big.Float).SetPrec(prec)
	x := new(big.Float).SetPrec(prec)
	for _, v := range xs {
		s.Add(s, x.SetFloat64(v))
	}
	s.Quo(s, n)
	t := new(big.Float).SetPrec(prec)
	for _, v := range xs {
		x.SetFloat64(v)
		t.Add(t, x.Sub(x, s))
	}
	s.Add(s, t.Quo(t, n))
	f, _ := s.Float64()
	return f
}

func TestRMeanMatchesR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		xs   []float64
		want float64
	}{
		// Printed by R 4.x on x86-64 Linux; a float64 sum gives 0.
		{[]float64{1e16, 1, -1e16}, 0.33365885416666669},
		{[]float64{0.1, 0.2, 0.3}, 0.2},
		{[]float64{}, math.NaN()},
		{[]float64{-2.5}, -2.5},
	}
	for _, tt := range tests {
		got := rMean(tt.xs)
		if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("rMean(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

// TestRMeanMatchesBigFloat compares the two models bit for bit on series
// shaped like measures (one-decimal values, rates, counts) and on hostile
// ones (mixed magnitudes, cancellation, tiny values).
func TestRMeanMatchesBigFloat(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() float64{
		"one decimal": func() float64 { return math.Round((50+rng.NormFloat64()*5)*10) / 10 },
		"rates":       func() float64 { return rng.Float64() },
		"counts":      func() float64 { return float64(rng.IntN(1000)) },
		"magnitudes":  func() float64 { return (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(40)-20)) },
		"cancelling":  func() float64 { return float64(1-2*rng.IntN(2)) * 1e16 * (1 + float64(rng.IntN(3))) },
		"tiny":        func() float64 { return rng.NormFloat64() * 1e-310 },
		"ties": func() float64 {
			if rng.IntN(3) == 0 {
				return float64(1-2*rng.IntN(2)) * math.Ldexp(1, 63+rng.IntN(4))
			}
			return float64(rng.IntN(8))
		},
		"wide binades": func() float64 {
			return float64(1-2*rng.IntN(2)) * math.Ldexp(float64(rng.Int64N(1<<53)), rng.IntN(80)-40)
		},
	}
	for name, gen := range gens {
		for range 2000 {
			xs := make([]float64, 1+rng.IntN(40))
			for i := range xs {
				xs[i] = gen()
			}
			if got, want := rMean(xs), bigMean(xs); got != want && !(got == 0 && want == 0) {
				t.Fatalf("%s: rMean(%v) = %v, math/big gives %v", name, xs, got, want)
			}
		}
	}
}

// toBig converts x exactly.
func (x ext) toBig() *big.Float {
	f := new(big.Float).SetMantExp(new(big.Float).SetUint64(x.mant), x.exp)
	if x.neg {
		f.Neg(f)
	}
	return f
}

// TestExtAddMatchesBigFloat checks single additions and subtractions of
// full 64-bit significands, including the case where bits shifted out of the
// smaller operand decide a tie: 2^63 − (2^63+1)·2^−65 lies just below the
// midpoint between two extended values and must round down.
func TestExtAddMatchesBigFloat(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	type pair struct{ x, y ext }
	pairs := []pair{
		{ext{mant: 1 << 63, exp: 0}, ext{neg: true, mant: 1<<63 + 1, exp: -65}},
		{ext{mant: 1 << 63, exp: 0}, ext{neg: true, mant: 1<<63 + 3, exp: -65}},
		{ext{mant: 1<<64 - 1, exp: 0}, ext{mant: 1 << 63, exp: -64}},
		{ext{mant: 1<<64 - 1, exp: 0}, ext{mant: 1<<64 - 1, exp: 0}},
		{ext{mant: 1 << 63, exp: 5}, ext{neg: true, mant: 1 << 63, exp: 5}},
	}
	for range 20000 {
		x := ext{neg: rng.IntN(2) == 0, mant: rng.Uint64() | 1<<63, exp: rng.IntN(20)}
		y := ext{neg: rng.IntN(2) == 0, mant: rng.Uint64() | 1<<63, exp: x.exp - rng.IntN(140)}
		pairs = append(pairs, pair{x, y})
	}
	for _, p := range pairs {
		want := new(big.Float).SetPrec(64).Add(p.x.toBig(), p.y.toBig())
		for _, got := range []ext{p.x.add(p.y), p.y.add(p.x)} {
			if got.toBig().Cmp(want) != 0 {
				t.Fatalf("%+v + %+v = %v, want %v", p.x, p.y, got.toBig(), want)
			}
		}
	}
}
