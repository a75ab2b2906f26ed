package report

import (
	"math"
	"strconv"
	"strings"
)

// logSpread is the ratio of the largest value to the smallest above which
// an axis turns logarithmic: on a linear axis, a bar thirty times shorter
// than the longest is a sliver, and a thousand times shorter invisible.
const logSpread = 30

// A scale maps values on an axis to pixels.
type scale struct {
	log    bool
	lo, hi float64 // the domain
	p0, p1 float64 // the pixels of lo and hi
}

// newScale fits a scale to values (NaN and, on a log scale, values ≤ 0
// are ignored): logarithmic when they span more than logSpread, linear
// from zero otherwise.
func newScale(values []float64, p0, p1 float64) scale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 1) { // nothing positive to show
		return scale{lo: 0, hi: 1, p0: p0, p1: p1}
	}
	if hi/lo > logSpread {
		return logScale(lo, hi, p0, p1)
	}
	return scale{lo: 0, hi: niceCeil(hi * 1.02), p0: p0, p1: p1}
}

// logScale spans whole decades around lo and hi.
func logScale(lo, hi, p0, p1 float64) scale {
	a := math.Floor(math.Log10(lo) + 1e-9)
	b := math.Ceil(math.Log10(hi) - 1e-9)
	if b <= a {
		b = a + 1
	}
	return scale{log: true, lo: math.Pow(10, a), hi: math.Pow(10, b), p0: p0, p1: p1}
}

// pos is the pixel of v, clamped to the axis.
func (s scale) pos(v float64) float64 {
	var f float64
	if s.log {
		if v <= 0 {
			return s.p0
		}
		f = (math.Log10(v) - math.Log10(s.lo)) / (math.Log10(s.hi) - math.Log10(s.lo))
	} else {
		f = (v - s.lo) / (s.hi - s.lo)
	}
	f = math.Max(0, math.Min(1, f))
	return s.p0 + f*(s.p1-s.p0)
}

// ticks returns the values to label: decades (and 2, 5 between them when
// there are few) on a log scale, 1-2-5 steps on a linear one, thinned
// until labels of the given width function keep minGap pixels apart.
func (s scale) ticks(width func(float64) float64, minGap float64) []float64 {
	for _, cand := range s.tickCandidates() {
		if s.ticksFit(cand, width, minGap) {
			return cand
		}
	}
	return []float64{s.lo, s.hi}
}

// tickCandidates lists tick sets from the densest to the sparsest.
func (s scale) tickCandidates() [][]float64 {
	var out [][]float64
	if s.log {
		a, b := int(math.Round(math.Log10(s.lo))), int(math.Round(math.Log10(s.hi)))
		if b-a <= 2 {
			var dense []float64
			for e := a; e <= b; e++ {
				for _, m := range []float64{1, 2, 5} {
					if v := m * math.Pow(10, float64(e)); v <= s.hi*1.0001 {
						dense = append(dense, v)
					}
				}
			}
			out = append(out, dense)
		}
		for step := 1; step <= b-a; step++ {
			var t []float64
			for e := a; e <= b; e += step {
				t = append(t, math.Pow(10, float64(e)))
			}
			out = append(out, t)
		}
		return out
	}
	span := s.hi - s.lo
	for _, n := range []float64{8, 5, 4, 3, 2, 1} {
		step := niceStep(span / n)
		var t []float64
		for v := s.lo; v <= s.hi*1.0001; v += step {
			t = append(t, roundTo(v, step))
		}
		out = append(out, t)
	}
	return out
}

// ticksFit reports whether labels at ticks, centered on them, keep
// minGap apart (for a vertical axis, width returns the label's height).
func (s scale) ticksFit(ticks []float64, width func(float64) float64, minGap float64) bool {
	prevEnd := math.Inf(-1)
	dir := 1.0
	if s.p1 < s.p0 {
		dir = -1
	}
	for _, v := range ticks {
		p := dir * s.pos(v)
		w := width(v)
		if p-w/2 < prevEnd+minGap {
			return false
		}
		prevEnd = p + w/2
	}
	return true
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= x*(1-1e-9) {
			return m * e
		}
	}
	return 10 * e
}

// niceCeil rounds x up to a multiple of a 1-2-5 step near a fifth of it.
func niceCeil(x float64) float64 {
	step := niceStep(x / 5)
	return math.Ceil(x/step-1e-9) * step
}

func roundTo(v, step float64) float64 {
	return math.Round(v/step) * step
}

// siNumber formats v with three significant digits and an SI prefix:
// "950", "48.7k", "1.2M", "0.05".
func siNumber(v float64) string {
	if v == 0 {
		return "0"
	}
	if math.IsNaN(v) {
		return "?"
	}
	prefixes := []struct {
		f float64
		p string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}
	a := math.Abs(v)
	for _, p := range prefixes {
		if a >= p.f*0.9995 {
			return sig3(v/p.f) + p.p
		}
	}
	return sig3(v)
}

// duration formats seconds as "250 ns", "1.2 µs", "35 ms" or "1.5 s".
func duration(sec float64) string {
	if sec == 0 {
		return "0"
	}
	if math.IsNaN(sec) {
		return "?"
	}
	a := math.Abs(sec)
	switch {
	case a >= 0.9995:
		return sig3(sec) + " s"
	case a >= 0.9995e-3:
		return sig3(sec*1e3) + " ms"
	case a >= 0.9995e-6:
		return sig3(sec*1e6) + " µs"
	}
	return sig3(sec*1e9) + " ns"
}

// sig3 formats v with three significant digits, trailing zeros dropped.
func sig3(v float64) string {
	a := math.Abs(v)
	digits := 2
	switch {
	case a >= 99.95:
		digits = 0
	case a >= 9.995:
		digits = 1
	case a < 0.9995:
		digits = 2 + int(math.Ceil(-math.Log10(a)+1e-9))
		if digits > 9 {
			digits = 9
		}
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// valueText formats a value of unit for a label: durations for seconds,
// SI numbers otherwise.
func valueText(v float64, unit string) string {
	if isSeconds(unit) {
		return duration(v)
	}
	return siNumber(v)
}

func isSeconds(unit string) bool { return strings.HasSuffix(unit, "sec/op") }

// speedText formats a speedup as "2.4×" or "130×", and a slowdown as
// "÷1.88" or "÷1.92k" (1/s times slower), which reads more easily than
// "0.000522×".
func speedText(s float64) string {
	if s > 0 && s < 1 {
		return "÷" + siNumber(1/s)
	}
	return siNumber(s) + "×"
}
