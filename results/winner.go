package results

import "fmt"

// A Winner is the best strategy of one workload on sec/op, judged by the
// geomean over the workload's rows.
type Winner struct {
	Workload string
	Strategy string

	// Baseline is the strategy compared against, and Speedup how many
	// times faster Strategy is; HasSpeedup is false where the ratio
	// cannot be computed.
	Baseline   string
	Speedup    float64
	HasSpeedup bool

	// Rows counts the rows the geomean covers.
	Rows int
}

// String reads as a summary line, such as
// "Mandelbrot: pool(workers=8) is fastest, 1.94× vs blocking (geomean sec/op over 3 rows)".
func (w Winner) String() string {
	s := fmt.Sprintf("%s: %s is fastest", w.Workload, w.Strategy)
	switch {
	case w.Strategy == w.Baseline:
		s += " (the baseline)"
	case w.HasSpeedup:
		s += ", " + speedupText(w.Speedup) + " vs " + w.Baseline
	}
	rows := "rows"
	if w.Rows == 1 {
		rows = "row"
	}
	return s + fmt.Sprintf(" (geomean sec/op over %d %s)", w.Rows, rows)
}

// winnerUnit is the unit that decides the winner: time per task.
const winnerUnit = "sec/op"

// Winners returns the winner of each workload that has a sec/op table.
// Only columns that cover every row without failing compete, so that a
// strategy cannot win by skipping or failing the hard rows.
func Winners(tables []*Table) []Winner {
	var wins []Winner
	for _, t := range tables {
		if t.Unit != winnerUnit || len(t.Columns) == 0 {
			continue
		}
		best := -1
		for j, s := range t.Geomean {
			if !s.HasCenter || !t.complete(j) {
				continue
			}
			if best < 0 || s.Center < t.Geomean[best].Center {
				best = j
			}
		}
		if best < 0 {
			continue
		}
		w := Winner{
			Workload: t.Workload,
			Strategy: t.Columns[best],
			Baseline: t.Columns[0],
			Rows:     len(t.Rows),
		}
		if best == 0 {
			w.Speedup, w.HasSpeedup = 1, true
		} else {
			w.Speedup, w.HasSpeedup = t.GeomeanSpeedup(best)
		}
		wins = append(wins, w)
	}
	return wins
}

// complete reports whether column col has a number in every row.
func (t *Table) complete(col int) bool {
	for _, row := range t.Cells {
		if c := row[col]; c == nil || c.Failed() {
			return false
		}
	}
	return true
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
