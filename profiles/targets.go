package profiles

import (
	"math"
	"time"
)

// Targets say how long a cell's profiled pass runs: rounds are repeated
// until the pass's profile holds MinSamples samples or MaxTime has gone
// by since the pass started, whichever comes first. A pass always runs at
// least one round, however long it takes, so MaxTime is a cap on starting
// another round, not a timeout.
type Targets struct {
	MinSamples int64         // 0 means DefaultTargets.MinSamples
	MaxTime    time.Duration // 0 means DefaultTargets.MaxTime
}

// DefaultTargets: 500 samples put every share of a breakdown within ±4.4
// points (95 %, see SamplingError), and 2 s bounds what a cell whose
// profile fills slowly (an I/O cell that mostly waits, one core of a
// single-threaded strategy) adds to a run.
var DefaultTargets = Targets{MinSamples: 500, MaxTime: 2 * time.Second}

// QuickTargets suit `concbench run --quick`, which trades precision for a
// short run: the harness runs one profiled round of 200 ms a pass, which
// gives a CPU-bound cell on two cores at DefaultRate (250 Hz) about 100
// samples, enough to see its hot spots but fewer than the breakdown's
// MinBreakdownSamples, so its shares say "too few samples" (each 200 ms
// more would add a round to every pass of every cell).
var QuickTargets = Targets{MinSamples: 500, MaxTime: 200 * time.Millisecond}

func (t Targets) withDefaults() Targets {
	if t.MinSamples <= 0 {
		t.MinSamples = DefaultTargets.MinSamples
	}
	if t.MaxTime <= 0 {
		t.MaxTime = DefaultTargets.MaxTime
	}
	return t
}

// MinBreakdownSamples is the fewest samples a profile needs for the
// breakdown to print its shares: below it a column says "too few samples
// (n)". At 200 samples a share is known within ±6.9 points at worst (95 %).
const MinBreakdownSamples = 200

// SamplingError is the half-width of the 95 % interval of a share p
// measured from n samples, in the same unit as p (a fraction):
// 1.96·√(p(1−p)/n), the normal approximation to the binomial. It is the
// error of sampling alone: samples that are not independent (a wall-clock
// profile samples every goroutine at the same instant) are known less
// well than this says. It is 0 when n is 0.
func SamplingError(p float64, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return 1.96 * math.Sqrt(p*(1-p)/float64(n))
}
