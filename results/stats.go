package results

import (
	"math"
	"slices"
	"sort"
)

// cv returns the coefficient of variation of xs: the sample standard
// deviation over the mean, or 0 for fewer than two values or a zero mean.
func cv(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	if mean == 0 {
		return 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss/float64(len(xs)-1)) / math.Abs(mean)
}

// robustCV returns the noise of xs as 1.4826 times its median absolute
// deviation over its median, which equals the CV for normal rounds but
// ignores an outlier or two as the rank test does; cv(xs) where that is
// zero (ties).
func robustCV(xs []float64) float64 {
	m := median(xs)
	if len(xs) < 2 || m == 0 {
		return cv(xs)
	}
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - m)
	}
	if r := 1.4826 * median(dev) / math.Abs(m); r > 0 {
		return r
	}
	return cv(xs)
}

// median returns the median of xs, which it does not change.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ranks returns the rank of each value of xs (1 for the smallest), ties
// sharing their mean rank.
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mean
		}
		i = j + 1
	}
	return r
}

// spearman returns Spearman's rank correlation of xs with their order
// (the round number): near 1 when the values grow round after round,
// near -1 when they shrink. 0 for fewer than three values or all equal.
func spearman(xs []float64) float64 {
	n := len(xs)
	if n < 3 {
		return 0
	}
	rx := ranks(xs)
	mean := float64(n+1) / 2
	var sxy, sxx, syy float64
	for i, r := range rx {
		dx, dy := float64(i+1)-mean, r-mean
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

// zQuantile returns the standard normal quantile of p.
func zQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// mannWhitneyEfficiency is the asymptotic relative efficiency of the
// Mann-Whitney U test against the t-test on normal data, 3/π: the U test
// needs about 1/0.955 as many rounds for the same power, and never less
// than 0.864 of the t-test's efficiency whatever the distribution.
const mannWhitneyEfficiency = 3 / math.Pi

// detectionPower is the probability of detecting a change that the
// minimal detectable effect is computed for: 80 %, the usual choice.
const detectionPower = 0.8

// minDetectableEffect returns the smallest relative change of the median
// that the Mann-Whitney U test at two-sided level alpha detects with
// probability detectionPower, between n1 and n2 rounds whose noise is
// cv (standard deviation over mean): the normal approximation
// (z(1-α/2) + z(power)) · cv · √((1/n1 + 1/n2) / (3/π)). It is +Inf where
// the exact test cannot reach alpha at all with these many rounds, and 0
// for noiseless rounds that can.
func minDetectableEffect(n1, n2 int, cv, alpha float64) float64 {
	if n1 < 1 || n2 < 1 || minPValue(n1, n2) > alpha {
		return math.Inf(1)
	}
	z := zQuantile(1-alpha/2) + zQuantile(detectionPower)
	return z * cv * math.Sqrt((1/float64(n1)+1/float64(n2))/mannWhitneyEfficiency)
}

// maxRoundsAdvised caps roundsToDetect: beyond it, fewer rounds and less
// noise are the cure.
const maxRoundsAdvised = 10000

// roundsToDetect returns the fewest rounds per side for which
// minDetectableEffect is at most effect, or 0 when it would take more
// than maxRoundsAdvised.
func roundsToDetect(effect, cv, alpha float64) int {
	if effect <= 0 {
		return 0
	}
	z := zQuantile(1-alpha/2) + zQuantile(detectionPower)
	need := 2 * (z * cv / effect) * (z * cv / effect) / mannWhitneyEfficiency
	if need > maxRoundsAdvised {
		return 0
	}
	n := max(2, int(math.Ceil(need)))
	for minPValue(n, n) > alpha || minDetectableEffect(n, n, cv, alpha) > effect {
		n++
		if n > maxRoundsAdvised {
			return 0
		}
	}
	return n
}
