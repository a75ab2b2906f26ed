package results

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchunit"
)

// An UnstableCell is a cell whose rounds vary more than the noise limit
// (Options.MaxCV) in time per task, with the likely cause.
type UnstableCell struct {
	// Workload, Row and Strategy place the cell in the tables; Name is
	// its full benchmark name.
	Workload, Row, Strategy string
	Name                    string

	// CV is the coefficient of variation of its rounds of TimeUnit,
	// over Rounds rounds.
	CV     float64
	Rounds int

	// Cause is the likely cause, read from the shape of the rounds, and
	// Detail what showed it, such as "two levels, about 80.00n and
	// 370.00n (5 and 5 rounds)".
	Cause  Cause
	Detail string

	// RoundTime is the median wall time of a round in seconds (time
	// per task times the iteration count); 0 when unknown.
	RoundTime float64

	// RoundsFor5 is how many rounds a side would let the comparison of
	// this cell alone detect a 5 % change at this noise (see Calibrate;
	// measured robustly, so one outlier does not inflate it); 0 when more
	// than maxRoundsAdvised.
	RoundsFor5 int
}

// A Cause is the likely reason why a cell's rounds vary, read from their
// shape as pyperf reads its runs.
type Cause int

const (
	// Noise: the rounds vary throughout, with no pattern.
	Noise Cause = iota
	// Outlier: one round stands out; the others agree.
	Outlier
	// TwoLevels: the rounds fall into two groups, each steady.
	TwoLevels
	// Drift: each round tends to be slower (or faster) than the last.
	Drift
	// ShortRounds: the rounds vary throughout and last under
	// ShortRound, too short for the noise of the machine to average out.
	ShortRounds
)

// ShortRound is the round length under which a noisy cell's rounds are
// blamed on their length: DESIGN.md asks for rounds of hundreds of
// milliseconds, as go test -benchtime aims at one second.
const ShortRound = 0.1 // seconds

var causes = []struct{ name, why, cure string }{
	Noise: {"noise throughout",
		"the machine is busy or throttled: other processes, steal time on a VM, CPU frequency scaling",
		"a quiet machine (concbench doctor names what disturbs this one), then more rounds (--count)"},
	Outlier: {"one round stands out",
		"a one-off interruption: another process, a page-cache miss, a garbage collection",
		"more rounds (--count), so that the median outvotes it, on a quieter machine (concbench doctor)"},
	TwoLevels: {"two levels",
		"something flips between two states from round to round: page faults and memory placement, " +
			"a CPU frequency step, a periodic task, a core shared with the backend",
		"compare faults/op and ctxsw/op across the rounds (concbench report --units all), " +
			"and make rounds longer (--round-time)"},
	Drift: {"drift",
		"the machine changes during the run: thermal throttling, a growing heap or page cache, " +
			"load that started or stopped",
		"more warm-up rounds (--warmup) on a quiet machine (concbench doctor)"},
	ShortRounds: {"short rounds",
		"rounds this short are at the mercy of scheduler ticks, timer wake-ups and page faults",
		"longer rounds (--round-time, or more tasks: NAME.tasks=N)"},
}

// String names the cause: "two levels".
func (c Cause) String() string {
	if c >= 0 && int(c) < len(causes) {
		return causes[c].name
	}
	return fmt.Sprintf("Cause(%d)", int(c))
}

// Why explains what usually produces the cause.
func (c Cause) Why() string {
	if c >= 0 && int(c) < len(causes) {
		return causes[c].why
	}
	return ""
}

// Cure says what to do about it.
func (c Cause) Cure() string {
	if c >= 0 && int(c) < len(causes) {
		return causes[c].cure
	}
	return ""
}

// UnstableCells lists the cells whose rounds of TimeUnit vary more than
// opts' noise limit (Options.MaxCV), in table order, each with its likely
// cause. Failed cells are left out: they have no figure to doubt.
func (s *Set) UnstableCells(opts Options) []UnstableCell {
	limit := opts.maxCV()
	units := []string{TimeUnit}
	g := s.group(units)
	var out []UnstableCell
	for _, t := range g.tables(s, units, Options{Units: units, Baseline: opts.Baseline, MaxCV: opts.MaxCV}) {
		if t.Unit != TimeUnit {
			continue
		}
		for i, row := range t.Cells {
			for j, c := range row {
				if c == nil || c.Failed() || !c.Unstable {
					continue
				}
				v := t.rounds[i][j]
				u := UnstableCell{Workload: t.Workload, Row: t.Rows[i], Strategy: t.Columns[j], Name: v.name,
					CV: c.CV, Rounds: len(v.values), RoundsFor5: roundsToDetect(0.05, robustCV(v.values), alpha(opts.Alpha))}
				if len(v.roundSeconds) > 0 {
					u.RoundTime = median(v.roundSeconds)
				}
				u.Cause, u.Detail = diagnose(v.values, u.RoundTime, limit)
				out = append(out, u)
			}
		}
	}
	return out
}

// diagnose reads the likely cause of the noise from the rounds' values
// in round order, and says what showed it.
func diagnose(values []float64, roundTime, limit float64) (Cause, string) {
	n := len(values)
	med := median(values)
	scale := benchunit.CommonScale(values, benchunit.ClassOf(TimeUnit))
	short := ""
	if roundTime > 0 && roundTime < ShortRound {
		short = "; a round lasts " + benchunit.Scale(roundTime, benchunit.Decimal) + "s"
	}
	// One round stands out: without it, the rest are steady, and it
	// lies well outside their spread.
	if n >= 4 && med > 0 {
		far := 0
		for i, v := range values {
			if math.Abs(v-med) > math.Abs(values[far]-med) {
				far = i
			}
		}
		rest := slices.Delete(slices.Clone(values), far, far+1)
		if off := math.Abs(values[far]-med) / med; cv(rest) <= limit && off > max(2*limit, 4*cv(rest)) {
			return Outlier, fmt.Sprintf("round %d of %d at %.2f× the median%s", far+1, n, values[far]/med, short)
		}
	}
	// Two levels: the widest gap of the sorted values leaves two groups
	// of at least two rounds each, apart by more than four times the
	// limit and by more than three times either group's spread.
	if n >= 4 {
		s := slices.Sorted(slices.Values(values))
		split := -1
		for i := 1; i+2 < n; i++ {
			if split < 0 || s[i+1]-s[i] > s[split+1]-s[split] {
				split = i
			}
		}
		low, high := s[:split+1], s[split+1:]
		lo, hi := median(low), median(high)
		spread := max(cv(low)*lo, cv(high)*hi)
		if hi > lo*(1+4*limit) && s[split+1]-s[split] > 3*spread {
			return TwoLevels, fmt.Sprintf("about %s and %s (%d and %d rounds)%s",
				scale.Format(lo), scale.Format(hi), len(low), len(high), short)
		}
	}
	// Drift: the rounds' ranks follow their order.
	if rho := spearman(values); n >= 5 && math.Abs(rho) >= 0.8 {
		way := "slower"
		if rho < 0 {
			way = "faster"
		}
		return Drift, fmt.Sprintf("rounds grow %s one after another (first %s, last %s)%s",
			way, scale.Format(values[0]), scale.Format(values[n-1]), short)
	}
	detail := fmt.Sprintf("from %s to %s a task", scale.Format(slices.Min(values)), scale.Format(slices.Max(values)))
	if short != "" {
		return ShortRounds, detail + short
	}
	return Noise, detail
}

// WriteUnstable writes the warning that closes a run or a report when
// some cells are unstable (UnstableCells), in opts.Format (text, ASCII
// or Markdown; lines fit opts.Width): how many cells, each with its CV
// and what showed the cause, then each cause's explanation and cure,
// like pyperf's "the benchmark seems unstable". It writes nothing when
// every cell is steady.
func WriteUnstable(w io.Writer, set *Set, opts Options) error {
	cells := set.UnstableCells(opts)
	if len(cells) == 0 {
		return nil
	}
	total := 0
	for _, t := range set.Tables(Options{Units: []string{TimeUnit}, Baseline: opts.Baseline}) {
		for _, row := range t.Cells {
			for _, c := range row {
				if c != nil && !c.Failed() {
					total++
				}
			}
		}
	}
	p := &printer{w: w, format: opts.Format, width: opts.width()}
	if opts.Compact {
		p.names = shortNames(set.Tables(Options{Units: []string{TimeUnit}, Baseline: opts.Baseline}))
	}
	item, more := "  ", "      "
	if p.format == Markdown {
		item, more = "- ", "  "
	}
	p.line("")
	p.para(fmt.Sprintf("Warning: %d of %d cells seem unstable: their rounds of %s vary by more than %s (CV = standard "+
		"deviation / mean), so their medians and comparisons are less certain than they look (marked %s in the tables).",
		len(cells), total, TimeUnit, shortPercent(opts.maxCV()), unstableMark), "")
	var seen []Cause
	for _, c := range cells {
		rounds := fmt.Sprintf("5%% needs more than %d rounds", maxRoundsAdvised)
		if c.RoundsFor5 > 0 {
			rounds = fmt.Sprintf("5%% needs --count %d", c.RoundsFor5)
		}
		where := c.Workload + " " + c.Row
		if strings.HasPrefix(c.Row, c.Workload) {
			where = c.Row // "Noop-2"
		}
		p.para(fmt.Sprintf("%s%s · %s: CV %s over %d rounds, %s: %s (%s)", item, where,
			p.column(c.Strategy), percent1(c.CV), c.Rounds, c.Cause, c.Detail, rounds), more)
		if !slices.Contains(seen, c.Cause) {
			seen = append(seen, c.Cause)
		}
	}
	p.line("Likely causes and cures:")
	for _, c := range seen {
		p.para(fmt.Sprintf("%s%s: %s. Cure: %s.", item, c, c.Why(), c.Cure()), more)
	}
	return p.done("write unstable cells")
}

// percent1 formats a fraction as a percentage with one decimal below
// 10 % ("2.5%") and none above ("62%").
func percent1(x float64) string {
	if x < 0.1 {
		return fmt.Sprintf("%.1f%%", 100*x)
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// wrap splits s into lines of at most width columns, breaking at spaces;
// the first line keeps the indentation of s, and the lines after it
// start with indent. A word longer than a line stays whole.
func wrap(s string, width int, indent string) []string {
	var lines []string
	line := ""
	lead := s[:len(s)-len(strings.TrimLeft(s, " "))]
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = lead + word
			if len(lines) > 0 {
				line = indent + word
			}
		case displayWidth(line)+1+displayWidth(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = indent + word
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}
