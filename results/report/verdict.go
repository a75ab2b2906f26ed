package report

import (
	"fmt"
	"strings"

	"github.com/concbench/concbench/results"
)

// The report's judgements come from package results: Set.Verdicts names
// each workload's fastest strategy and the one with the best p99, and
// leaves out strategies that failed or lost tasks (issue 14, parts 1-2);
// Cell.Unstable and Set.UnstableCells mark cells whose rounds vary more
// than Options.MaxCV, with the likely cause (issue 13, part 4). The report
// only words them, with the charts' short strategy names.

// unstable reports the coefficient of variation of c's rounds and
// whether package results marked c unstable (Cell.CV, Cell.Unstable:
// time per task, whatever the table's unit). A missing or failed cell is
// never unstable.
func unstable(c *results.Cell) (cv float64, ok bool) {
	if c == nil || c.Failed() {
		return 0, false
	}
	return c.CV, c.Unstable
}

// verdictLines words v for the report: the throughput winner, the best
// p99 (or that the winner has it too), the trade-off when two strategies
// share the prizes, and the strategies left out. short renders a
// strategy label.
func verdictLines(v results.WorkloadVerdict, short func(string) string) []string {
	short = v.Namer(short)
	var out []string
	f, p := v.Fastest, v.BestP99
	switch {
	case f == nil:
		out = append(out, "No winner: no strategy ran every row without failing or losing tasks.")
	default:
		line := "Throughput: " + short(f.Strategy) + " is fastest"
		switch {
		case f.Strategy == f.Baseline:
			line += " (the baseline)"
		case f.HasSpeedup:
			line += ", " + speedText(f.Speedup) + " vs " + short(f.Baseline)
		}
		line += fmt.Sprintf(" (geomean time per task over %s)", rowsText(f.Rows))
		if p != nil && !v.TradeOff() {
			line += fmt.Sprintf(", and has the best p99, %s", duration(p.Center))
		}
		out = append(out, line)
	}
	if v.TradeOff() {
		line := fmt.Sprintf("Trade-off: %s has the best p99, %s", short(p.Strategy), duration(p.Center))
		if v.FastestP99 > 0 && p.Center > 0 {
			line += fmt.Sprintf(", against %s from %s (%s)", duration(v.FastestP99), short(f.Strategy), speedText(v.FastestP99/p.Center))
		}
		out = append(out, line)
	}
	if len(v.Excluded) > 0 {
		var parts []string
		for _, e := range v.Excluded {
			parts = append(parts, short(e.Strategy)+" ("+e.Reason+")")
		}
		out = append(out, "Not ranked: "+strings.Join(parts, ", "))
	}
	return out
}

func rowsText(n int) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}
