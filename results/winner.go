package results

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/perf/benchunit"
)

// A Winner is the best strategy of one workload in one unit (time per
// task unless Unit says otherwise), judged by the geomean over the
// workload's rows.
type Winner struct {
	Workload string
	Strategy string

	// Baseline is the strategy compared against, and Speedup how many
	// times better Strategy is; HasSpeedup is false where the ratio
	// cannot be computed.
	Baseline   string
	Speedup    float64
	HasSpeedup bool

	// Rows counts the rows the geomean covers.
	Rows int

	// Unit is the unit judged; empty means TimeUnit. Center is
	// Strategy's geomean in it.
	Unit   string
	Center float64
}

// String reads as a summary line, such as
// "Mandelbrot: pool(workers=8) is fastest, 1.94× vs blocking (geomean sec/op over 3 rows)",
// or for a latency winner
// "Fanout: pool(workers=8) has the best p99, 2.10× vs blocking (geomean p99-sec/op over 2 rows)".
func (w Winner) String() string {
	return w.text(func(s string) string { return s })
}

// text is String with the strategy names passed through name.
func (w Winner) text(name func(string) string) string {
	unit, claim := winnerUnit, "is fastest"
	if w.Unit != "" && w.Unit != winnerUnit {
		unit, claim = w.Unit, "has the best "+unitNickname(w.Unit)
	}
	s := fmt.Sprintf("%s: %s %s", w.Workload, name(w.Strategy), claim)
	switch {
	case w.Strategy == w.Baseline:
		s += " (the baseline)"
	case w.HasSpeedup:
		s += ", " + speedupText(w.Speedup) + " vs " + name(w.Baseline)
	}
	return s + fmt.Sprintf(" (geomean %s over %s)", unit, plural(w.Rows, "row"))
}

// unitNickname is how a verdict names a unit: "p99" for p99-sec/op.
func unitNickname(unit string) string {
	if q, ok := strings.CutSuffix(unit, "-sec/op"); ok {
		return q
	}
	return unit
}

// plural writes "1 row", "3 rows".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// winnerUnit is the unit that decides the winner: time per task.
const winnerUnit = TimeUnit

// Winners returns the winner of each workload that has a sec/op table.
// Only columns that cover every row without failing and without task
// errors (Cell.MaxErrors) compete, so that a strategy cannot win by
// skipping, failing or erring on the hard rows. Set.Verdicts weighs
// tail latency too.
func Winners(tables []*Table) []Winner {
	var wins []Winner
	for _, t := range tables {
		if t.Unit != winnerUnit {
			continue
		}
		if w, ok := t.best(func(j int) bool { return t.clean(j) == "" }); ok {
			wins = append(wins, w)
		}
	}
	return wins
}

// best returns the winner of t among the columns that eligible accepts:
// the lowest geomean for a lower-is-better unit, the highest otherwise.
func (t *Table) best(eligible func(col int) bool) (Winner, bool) {
	best := -1
	for j, s := range t.Geomean {
		if !s.HasCenter || !eligible(j) {
			continue
		}
		better := s.Center < t.Geomean[max(best, 0)].Center
		if t.Better == HigherIsBetter {
			better = s.Center > t.Geomean[max(best, 0)].Center
		}
		if best < 0 || better {
			best = j
		}
	}
	if best < 0 {
		return Winner{}, false
	}
	w := Winner{
		Workload: t.Workload,
		Strategy: t.Columns[best],
		Baseline: t.Columns[0],
		Rows:     len(t.Rows),
		Unit:     t.Unit,
		Center:   t.Geomean[best].Center,
	}
	if best == 0 {
		w.Speedup, w.HasSpeedup = 1, true
	} else {
		w.Speedup, w.HasSpeedup = t.GeomeanSpeedup(best)
	}
	return w, true
}

// clean returns why column col cannot win, or "" if it can: it must have
// a number in every row, and no task errors in any round.
func (t *Table) clean(col int) string {
	missing, failed := false, false
	worst := 0.0
	for _, row := range t.Cells {
		c := row[col]
		switch {
		case c == nil:
			missing = true
		case c.Failed():
			failed = true
		default:
			worst = max(worst, c.MaxErrors)
		}
	}
	switch {
	case failed:
		return "failed"
	case worst > 0:
		return fmt.Sprintf("tasks failed: errors/op up to %s", errorRate(worst))
	case missing:
		return "not run on every row"
	}
	return ""
}

// errorRate writes a fraction of failed tasks as a percentage with the
// precision a small rate needs: "100%", "2.5%", "0.013%".
func errorRate(x float64) string {
	if pct := 100 * x; pct < 10 {
		return strconv.FormatFloat(pct, 'g', 2, 64) + "%"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// onlyFailures reports whether column col holds failures and nothing else.
func onlyFailures(t *Table, col int) bool {
	for _, row := range t.Cells {
		if c := row[col]; c != nil && !c.Failed() {
			return false
		}
	}
	return true
}

// A WorkloadVerdict weighs one workload's strategies on throughput and
// on tail latency: which is fastest (time per task), which has the best
// p99, and which could not be ranked. A strategy is ranked only where it
// ran every row, never failed and had no task errors in any counted
// round: failed tasks are not work done.
type WorkloadVerdict struct {
	Workload string

	// Fastest is the strategy with the lowest geomean time per task;
	// nil when none can be ranked.
	Fastest *Winner

	// BestP99 is the strategy with the lowest geomean p99 latency
	// (P99Unit); nil without p99 figures or when none can be ranked.
	BestP99 *Winner

	// FastestP99 is Fastest's geomean p99, to weigh against BestP99's
	// (valid when both are set).
	FastestP99 float64

	// Excluded lists the strategies that could not be ranked, and why.
	Excluded []Exclusion

	// Fallback is the run's simd kernel path when it is a scalar
	// fallback (its header's "simd: scalar fallback (built without
	// GOEXPERIMENT=simd)"), "" otherwise: the lines then say so next to
	// the simd strategy, so that a scalar loop is not taken for the
	// vector kernels.
	Fallback string
}

// An Exclusion is a strategy left out of a verdict.
type Exclusion struct {
	Strategy string
	// Reason is "failed", "not run on every row" or
	// "tasks failed: errors/op up to 2.5%".
	Reason string
}

// TradeOff reports whether the fastest strategy and the one with the best
// p99 differ.
func (v WorkloadVerdict) TradeOff() bool {
	return v.Fastest != nil && v.BestP99 != nil && v.Fastest.Strategy != v.BestP99.Strategy
}

// Lines returns the verdict as summary lines: the fastest strategy
// (saying when it also has the best p99), the trade-off in one line when
// another strategy has the best p99, and the strategies left out, such as
//
//	Webrequest: simd is fastest, 54.49× vs blocking (geomean sec/op over 1 row)
//	Webrequest: trade-off: goroutines has the best p99, 412.0µ against simd's 53.71m
//	Webrequest: not ranked: py-asyncio (tasks failed: errors/op up to 100%)
func (v WorkloadVerdict) Lines() []string {
	return v.lines(func(s string) string { return s })
}

// Namer returns short (how its caller writes a strategy label) with the
// run's scalar fallback said after the simd strategy (see Fallback):
// every wording of a verdict names strategies through it.
func (v WorkloadVerdict) Namer(short func(string) string) func(string) string {
	if v.Fallback == "" {
		return short
	}
	return func(s string) string {
		if isSIMD(s) {
			return short(s) + " [" + v.Fallback + "]"
		}
		return short(s)
	}
}

// lines is Lines with the strategy names passed through short (and
// Namer).
func (v WorkloadVerdict) lines(short func(string) string) []string {
	name := v.Namer(short)
	var out []string
	switch {
	case v.Fastest == nil:
		out = append(out, v.Workload+": no winner: no strategy ran every row without failing or task errors")
	case v.BestP99 != nil && !v.TradeOff():
		out = append(out, v.Fastest.text(name)+", and has the best p99")
	default:
		out = append(out, v.Fastest.text(name))
	}
	if v.TradeOff() {
		line := fmt.Sprintf("%s: trade-off: %s has the best p99", v.Workload, name(v.BestP99.Strategy))
		if v.FastestP99 > 0 {
			class := benchunit.ClassOf(P99Unit)
			line += fmt.Sprintf(", %s against %s's %s", benchunit.Scale(v.BestP99.Center, class),
				name(v.Fastest.Strategy), benchunit.Scale(v.FastestP99, class))
		}
		out = append(out, line)
	}
	if len(v.Excluded) > 0 {
		var parts []string
		for _, e := range v.Excluded {
			parts = append(parts, name(e.Strategy)+" ("+e.Reason+")")
		}
		out = append(out, v.Workload+": not ranked: "+strings.Join(parts, ", "))
	}
	return out
}

// Verdicts weighs each workload's strategies on throughput and tail
// latency (see WorkloadVerdict), from the TimeUnit and P99Unit tables
// that opts would build (its baseline, confidence and noise limit; its
// units are ignored). Workloads come in the order of the tables.
func (s *Set) Verdicts(opts Options) []WorkloadVerdict {
	opts.Units, opts.AllUnits = []string{TimeUnit, P99Unit}, false
	out := verdicts(s.Tables(opts))
	if same, _ := s.machine(); strings.HasPrefix(same["simd"], "scalar fallback") {
		for i := range out {
			out[i].Fallback = same["simd"]
		}
	}
	return out
}

// isSIMD reports whether strategy (a full or short label) is the simd
// strategy: "simd" or "simd(...)".
func isSIMD(strategy string) bool {
	return strategy == "simd" || strings.HasPrefix(strategy, "simd(")
}

func verdicts(tables []*Table) []WorkloadVerdict {
	var out []WorkloadVerdict
	p99 := map[string]*Table{}
	for _, t := range tables {
		if t.Unit == P99Unit {
			p99[t.Workload] = t
		}
	}
	for _, t := range tables {
		if t.Unit != TimeUnit {
			continue
		}
		v := WorkloadVerdict{Workload: t.Workload}
		ranked := map[string]bool{}
		for j, col := range t.Columns {
			if why := t.clean(j); why != "" {
				v.Excluded = append(v.Excluded, Exclusion{Strategy: col, Reason: why})
			} else {
				ranked[col] = true
			}
		}
		if w, ok := t.best(func(j int) bool { return ranked[t.Columns[j]] }); ok {
			v.Fastest = &w
		}
		if pt := p99[t.Workload]; pt != nil && v.Fastest != nil {
			if w, ok := pt.best(func(j int) bool { return ranked[pt.Columns[j]] && pt.clean(j) == "" }); ok {
				v.BestP99 = &w
				for j, col := range pt.Columns {
					if col == v.Fastest.Strategy && pt.Geomean[j].HasCenter {
						v.FastestP99 = pt.Geomean[j].Center
					}
				}
			}
		}
		out = append(out, v)
	}
	return out
}
