package results

import (
	"golang.org/x/perf/benchmath"
)

// A Table compares strategies on one workload in one unit, like one
// table of benchstat -col /strategy: a row per combination of workload
// parameters, a column per strategy, and a final geomean row.
type Table struct {
	// Workload is the benchmark base name, such as "Mandelbrot".
	Workload string

	// Unit is the tidied unit of every value, such as "sec/op".
	Unit string

	// Better says which way Unit improves.
	Better Direction

	// Rows label the rows with the workload parameters, such as
	// "width=1024/rows=512-2", in the order first seen (benchproc.SortKeys).
	Rows []string

	// Columns name the strategies ("pool(workers=8)"), baseline first,
	// then in the order first seen.
	Columns []string

	// Cells holds Cells[row][column]; a nil Cell means that strategy was
	// not run on that row.
	Cells [][]*Cell

	// Geomean summarizes each column over its rows, indexed like
	// Columns.
	Geomean []*ColumnSummary

	// Confidence is the confidence level of every Summary's interval.
	Confidence float64

	// MaxCV is the noise limit above which a cell is Unstable (see
	// Options.MaxCV); +Inf when marking is off.
	MaxCV float64

	// rounds holds each cell's values in round order, like Cells.
	rounds [][]*cellValues
}

// A Cell summarizes the rounds of one strategy on one row.
type Cell struct {
	// Sample holds the measured values, sorted; nil if the cell failed
	// before measuring anything.
	Sample *benchmath.Sample

	// Summary is the median and its confidence interval, computed by
	// benchmath.AssumeNothing as benchstat does.
	Summary benchmath.Summary

	// Baseline is the cell of the baseline column in the same row, or
	// nil: in the baseline column itself, or where the baseline is
	// missing or failed.
	Baseline *Cell

	// Comparison is the Mann-Whitney U test of this cell against
	// Baseline; meaningless if Baseline is nil.
	Comparison benchmath.Comparison

	// Failure is set when the harness reported the cell as failed; a
	// failed cell has no number, whatever its Sample holds.
	Failure *Failure

	// Warnings explain figures that could not be computed or may mislead,
	// such as too few samples for a confidence interval.
	Warnings []error

	// CV is the coefficient of variation of the cell's rounds of
	// TimeUnit (sample standard deviation over mean), whatever the
	// table's unit: every figure of a cell comes from the same rounds.
	// Zero when unknown (fewer than two rounds, or no TimeUnit).
	CV float64

	// Unstable reports whether CV is above the table's MaxCV.
	Unstable bool

	// MaxErrors is the largest errors/op (ErrorsUnit) of any of the
	// cell's rounds: above zero, some tasks failed, and the cell never
	// wins (see Winners and Set.Verdicts).
	MaxErrors float64
}

// Failed reports whether the harness reported the cell as failed.
func (c *Cell) Failed() bool { return c.Failure != nil }

// A ColumnSummary is one cell of a table's geomean row.
type ColumnSummary struct {
	// Center is the geometric mean of the column's medians; valid if
	// HasCenter.
	Center    float64
	HasCenter bool

	// Ratio is the geometric mean of the column's medians divided by
	// the baseline's, row by row; valid if HasRatio.
	Ratio    float64
	HasRatio bool

	// Warnings explain a missing center or ratio, or a column that
	// covers other rows than the baseline does.
	Warnings []error
}

// Speedup returns how many times better the cell is than its baseline,
// in the table's direction: baseline/cell for lower-is-better units,
// cell/baseline for higher-is-better ones. It reports false when there
// is no baseline, the unit has no direction, or the ratio is undefined.
func (t *Table) Speedup(c *Cell) (float64, bool) {
	if c == nil || c.Baseline == nil || c.Failed() {
		return 0, false
	}
	return speedup(c.Summary.Center, c.Baseline.Summary.Center, t.Better)
}

// GeomeanSpeedup is Speedup for the geomean row of column col.
func (t *Table) GeomeanSpeedup(col int) (float64, bool) {
	s := t.Geomean[col]
	if col == 0 || !s.HasRatio {
		return 0, false
	}
	return speedup(s.Ratio, 1, t.Better)
}

// speedup turns value/base into "times better" in direction d.
func speedup(value, base float64, d Direction) (float64, bool) {
	if d == Neutral {
		return 0, false
	}
	if value == base {
		return 1, true
	}
	if value <= 0 || base <= 0 {
		return 0, false
	}
	if d == HigherIsBetter {
		return value / base, true
	}
	return base / value, true
}
