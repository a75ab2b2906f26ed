package results

import (
	"slices"
	"strings"

	"golang.org/x/perf/benchunit"
)

// Units of concbench's that the verdicts and marks of the tables read.
const (
	// TimeUnit is the time per task: the headline figure, and the one
	// whose noise marks a cell unstable.
	TimeUnit = "sec/op"
	// P99Unit is the 99th percentile of the tasks' latency, which the
	// verdicts weigh against throughput.
	P99Unit = "p99-sec/op"
	// ErrorsUnit is the fraction of a round's tasks that failed; a cell
	// with any is never named a winner.
	ErrorsUnit = "errors/op"
)

// DefaultUnits returns the units that tables show unless Options asks for
// others, in the order they are shown: the headline numbers first, then
// the costs. A fresh slice each call, so callers may change it.
func DefaultUnits() []string {
	return []string{
		"sec/op", "tasks/s", "p99-sec/op", "cpu-sec/op", "%bound",
		"errors/op", "B/op", "allocs/op", "faults/op", "ctxsw/op",
	}
}

// A Direction says which way a unit improves.
type Direction int

const (
	// LowerIsBetter marks units such as sec/op and B/op.
	LowerIsBetter Direction = -1
	// Neutral marks units with no declared or known direction, such
	// as peak-goroutines; they get no speedup.
	Neutral Direction = 0
	// HigherIsBetter marks units such as tasks/s and %bound.
	HigherIsBetter Direction = 1
)

// String returns "lower is better", "higher is better" or "neutral".
func (d Direction) String() string {
	switch d {
	case LowerIsBetter:
		return "lower is better"
	case HigherIsBetter:
		return "higher is better"
	}
	return "neutral"
}

// Better returns the direction in which unit improves. A "Unit <unit>
// better=higher" (or better=lower) line in the input decides; the key is
// matched without regard to case, since benchfmt itself only knows the
// lower-case "better". Without one, Better knows concbench's own units:
// time, bytes, allocations, errors, page faults and context switches per
// op are better lower; rates (anything per second) and %bound are better
// higher.
func (s *Set) Better(unit string) Direction {
	for key, meta := range s.Units {
		if key.Unit == unit && strings.EqualFold(key.Key, "better") {
			switch strings.ToLower(meta.Value) {
			case "higher":
				return HigherIsBetter
			case "lower":
				return LowerIsBetter
			}
		}
	}
	return knownDirection(unit)
}

func knownDirection(unit string) Direction {
	switch {
	case unit == "%bound", strings.HasSuffix(unit, "/s"):
		return HigherIsBetter
	case strings.HasSuffix(unit, "sec/op"), strings.HasSuffix(unit, "ns/op"),
		unit == "B/op", unit == "allocs/op", unit == "errors/op",
		unit == "faults/op", unit == "ctxsw/op":
		return LowerIsBetter
	}
	return Neutral
}

// selectUnits returns the units to tabulate or judge, in order: those of
// wanted, tidied as benchfmt tidies them (ns/op means sec/op), that
// measured holds, each once; with all, every measured unit in the order
// measured lists it. Tables pass their set's units and Compare both
// sides'.
func selectUnits(measured, wanted []string, all bool) []string {
	if all {
		wanted = measured
	}
	var units []string
	for _, u := range wanted {
		_, tidy := benchunit.Tidy(1, u)
		if slices.Contains(measured, tidy) && !slices.Contains(units, tidy) {
			units = append(units, tidy)
		}
	}
	return units
}
