package results

import (
	"math"

	"golang.org/x/perf/benchmath"
)

// Options control which tables are built and how they are written. The
// zero Options give benchstat's statistics (95% confidence, α = 0.05)
// over DefaultUnits, compared against the blocking strategy, as text.
type Options struct {
	// Units lists the units to tabulate, in order. Nil means
	// DefaultUnits; units that no result measured are skipped.
	Units []string

	// AllUnits tabulates every measured unit, in the order first
	// measured, and overrides Units.
	AllUnits bool

	// Baseline names the strategy column that others are compared
	// against. Empty means "blocking", or the first column of a table
	// that has no blocking column.
	Baseline string

	// Confidence is the confidence level of the intervals. Zero means
	// 0.95, benchstat's default.
	Confidence float64

	// Alpha is the significance level below which a difference is
	// reported rather than shown as "~". Zero means benchstat's 0.05.
	Alpha float64

	// Format selects the output of WriteTables. The zero Format is Text.
	Format Format

	// Compact shortens Text and ASCII tables for a terminal: strategy
	// columns are headed by the strategy's name alone where that is
	// unambiguous (a legend before the tables gives the full labels), and
	// each comparison is the speedup alone, marked "~" where the
	// difference may be noise (benchstat's delta, p-value and sample
	// counts are left out). A compact table wider than Width puts the
	// strategies in rows, and one still too wide is split. Markdown and
	// CSV ignore it.
	Compact bool

	// Width is the number of columns that compact text fits, tables and
	// lines alike. Zero means DefaultWidth.
	Width int

	// Summary makes WriteTables write the short form: the verdict lines
	// and one table per workload on its headline unit (TimeUnit), then
	// the bandwidth table and the failures; Units and AllUnits are
	// ignored. The zero Options write every selected unit.
	Summary bool

	// MaxCV is the coefficient of variation (standard deviation over
	// mean) of a cell's rounds of TimeUnit above which the tables mark
	// the cell unstable ("!") and UnstableCells lists it. Zero means
	// DefaultMaxCV; a negative MaxCV marks nothing.
	MaxCV float64
}

// DefaultMaxCV is the noise above which a cell is marked unstable: 5 %,
// twice what DESIGN.md's target allows (the 1-2.5 % of a steady 100 ms
// loop on the 2-core VM), so that a mark points at a cell noisier than
// the machine itself.
const DefaultMaxCV = 0.05

// DefaultWidth is the terminal width that compact output fits.
const DefaultWidth = 120

func (o Options) maxCV() float64 { return maxCV(o.MaxCV) }

// maxCV returns the instability limit c: DefaultMaxCV for zero, +Inf
// (nothing unstable) when negative.
func maxCV(c float64) float64 {
	switch {
	case c == 0:
		return DefaultMaxCV
	case c < 0:
		return math.Inf(1)
	}
	return c
}

func (o Options) width() int {
	if o.Width <= 0 {
		return DefaultWidth
	}
	return o.Width
}

// DefaultBaseline is the strategy that others are compared against.
const DefaultBaseline = "blocking"

func (o Options) units() []string {
	if o.Units == nil {
		return DefaultUnits()
	}
	return o.Units
}

func (o Options) baseline() string {
	if o.Baseline == "" {
		return DefaultBaseline
	}
	return o.Baseline
}

// The statistics settings that tables (Options) and comparisons
// (CompareOptions) share: zero means benchstat's default.

// confidence returns the confidence level c, or benchstat's 0.95 for zero.
func confidence(c float64) float64 {
	if c == 0 {
		return 0.95
	}
	return c
}

// alpha returns the significance level a, or benchstat's 0.05 for zero.
func alpha(a float64) float64 {
	if a == 0 {
		return benchmath.DefaultThresholds.CompareAlpha
	}
	return a
}

// thresholds are benchstat's, at significance level a (zero: 0.05).
func thresholds(a float64) *benchmath.Thresholds {
	t := benchmath.DefaultThresholds
	t.CompareAlpha = alpha(a)
	return &t
}
