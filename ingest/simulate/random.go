package simulate

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// rng is a deterministic random source with the draws the generator needs.
type rng struct{ *rand.Rand }

// newRNG returns a PCG source for seed and a named stream, so that each
// force (or each person) draws from its own reproducible sequence.
func newRNG(seed uint64, stream string) rng {
	return rng{rand.New(rand.NewPCG(seed, hash64(stream)))}
}

// hash64 is FNV-1a of s.
func hash64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// chance reports true with probability p.
func (r rng) chance(p float64) bool { return r.Float64() < p }

// draw returns a value of d in minutes.
func (r rng) draw(d logNormal) float64 {
	return math.Min(d.median*math.Exp(d.sigma*r.NormFloat64()), d.limit)
}

// in returns a value of iv.
func (r rng) in(iv interval) float64 { return iv.lo + (iv.hi-iv.lo)*r.Float64() }

// poissonNormalAbove is the mean above which poisson uses the normal
// approximation.
const poissonNormalAbove = 200

// poisson returns a Poisson-distributed count with mean lambda.
func (r rng) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > poissonNormalAbove {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	limit, prod, n := math.Exp(-lambda), r.Float64(), 0
	for prod > limit {
		prod *= r.Float64()
		n++
	}
	return n
}

// choice is one option of a weighted draw.
type choice[T any] struct {
	value  T
	weight float64
}

// pick draws one option in proportion to its weight.
func pick[T any](r rng, options []choice[T]) T {
	total := 0.0
	for _, o := range options {
		total += o.weight
	}
	x := r.Float64() * total
	for _, o := range options {
		if x < o.weight {
			return o.value
		}
		x -= o.weight
	}
	return options[len(options)-1].value
}

// pickIndex draws an index in proportion to weights.
func pickIndex(r rng, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}
