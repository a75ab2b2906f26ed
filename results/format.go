package results

import (
	"fmt"
	"strings"

	"golang.org/x/perf/benchunit"
)

// Format selects how WriteTables writes tables.
type Format int

const (
	// Text draws tables with Unicode box-drawing lines, for terminals.
	Text Format = iota
	// ASCII draws tables with plain ASCII lines (+, -, |), for logs
	// and terminals without Unicode.
	ASCII
	// Markdown writes GitHub-flavored Markdown tables, for reports.
	Markdown
	// CSV writes one record per cell, with every figure unscaled, for
	// spreadsheets and scripts.
	CSV
	// JSON writes one JSON document, for scripts: per-cell results
	// (WriteJSON, schema in docs/json.md) or a comparison (WriteDiff,
	// WriteCalibration).
	JSON
)

var formatNames = []string{Text: "text", ASCII: "ascii", Markdown: "markdown", CSV: "csv", JSON: "json"}

// String returns the name that ParseFormat accepts.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the Format named by a --format flag: text, ascii,
// markdown (or md), csv or json.
func ParseFormat(name string) (Format, error) {
	if f, ok := parseFormat(name); ok {
		return f, nil
	}
	return 0, fmt.Errorf("results: unknown format %q (want text, ascii, markdown, csv or json)", name)
}

func parseFormat(name string) (Format, bool) {
	if strings.EqualFold(name, "md") {
		return Markdown, true
	}
	for f, n := range formatNames {
		if strings.EqualFold(name, n) {
			return Format(f), true
		}
	}
	return 0, false
}

// The texts of a table's cells, as benchstat prints them.

// failedText stands in a failed cell's value.
const failedText = "FAILED"

// rowScaler returns one scaler for the values of row r, so that they
// line up with the same prefix, as benchstat does: the scale of a column
// in a table with the strategies as rows.
func (t *Table) rowScaler(r int) benchunit.Scaler {
	var centers []float64
	for _, c := range t.Cells[r] {
		if c != nil && !c.Failed() {
			centers = append(centers, c.Summary.Center)
		}
	}
	return benchunit.CommonScale(centers, benchunit.ClassOf(t.Unit))
}

// colScaler returns one scaler for the values of strategy column col and
// its geomean, so that a column never mixes "3234.3n" with "4.211µ".
func (t *Table) colScaler(col int) benchunit.Scaler {
	var centers []float64
	for _, row := range t.Cells {
		if c := row[col]; c != nil && !c.Failed() {
			centers = append(centers, c.Summary.Center)
		}
	}
	if len(t.Rows) > 1 && col < len(t.Geomean) && t.Geomean[col].HasCenter {
		centers = append(centers, t.Geomean[col].Center)
	}
	return benchunit.CommonScale(centers, benchunit.ClassOf(t.Unit))
}

// ValueText is the text of the cell at row, col as the tables show it:
// the median with its interval, such as "155.0µ ± 2%", in the scale of
// its whole column (one unit prefix per column); "FAILED" for a failed
// cell, "" for none. Marks gives the marks that follow it.
func (t *Table) ValueText(row, col int) string {
	return valueText(t.Cells[row][col], t.colScaler(col))
}

// ComparisonText is benchstat's comparison of the cell at row, col with
// its baseline, after the speedup: "1.94× -48.39% (p=0.002 n=6)", or
// "1.01× ~ (p=0.310 n=6)" when the difference may be noise; "" where
// there is nothing to compare.
func (t *Table) ComparisonText(row, col int) string {
	return t.comparisonText(t.Cells[row][col])
}

// Title heads the table: "Mandelbrot · sec/op (lower is better) ·
// median ± 95% CI · vs blocking".
func (t *Table) Title() string {
	base := "(none)"
	if len(t.Columns) > 0 {
		base = t.Columns[0]
	}
	return fmt.Sprintf("%s · %s (%s) · median ± %.0f%% CI · vs %s",
		t.Workload, t.Unit, t.Better, 100*t.Confidence, base)
}

// valueText formats a cell as "155.0µ ± 2%".
func valueText(c *Cell, scaler benchunit.Scaler) string {
	switch {
	case c == nil:
		return ""
	case c.Failed():
		return failedText
	}
	return scaler.Format(c.Summary.Center) + " ± " + c.Summary.PctRangeString()
}

// comparisonText formats a cell against its baseline as
// "1.94× -48.39% (p=0.002 n=6)", or "1.01× ~ (p=0.310 n=6)" when the
// difference may be noise. The speedup is left out for units without a
// direction.
func (t *Table) comparisonText(c *Cell) string {
	if c == nil || c.Failed() || c.Baseline == nil {
		return ""
	}
	var parts []string
	if s, ok := t.Speedup(c); ok {
		parts = append(parts, speedupText(s))
	}
	parts = append(parts,
		c.Comparison.FormatDelta(c.Baseline.Summary.Center, c.Summary.Center),
		"("+c.Comparison.String()+")")
	return strings.Join(parts, " ")
}

// compactComparisonText is comparisonText without benchstat's delta,
// p-value and sample counts: "1.94×", or "1.01× ~" when the difference
// may be noise. A unit without a direction shows the delta ("+3.10%", "~").
func (t *Table) compactComparisonText(c *Cell) string {
	if c == nil || c.Failed() || c.Baseline == nil {
		return ""
	}
	delta := c.Comparison.FormatDelta(c.Baseline.Summary.Center, c.Summary.Center)
	s, ok := t.Speedup(c)
	if !ok {
		return delta
	}
	if delta == "~" {
		return speedupText(s) + " ~"
	}
	return speedupText(s)
}

// geomeanText formats column col of the geomean row in the given scale.
func (t *Table) geomeanText(col int, scaler benchunit.Scaler) string {
	s := t.Geomean[col]
	if !s.HasCenter {
		return ""
	}
	return scaler.Format(s.Center)
}

// geomeanComparisonText formats the geomean ratio of column col to the
// baseline as "1.94× -48.39%", or "?" where it cannot be computed.
func (t *Table) geomeanComparisonText(col int) string {
	s := t.Geomean[col]
	if !s.HasRatio {
		return "?"
	}
	delta := fmt.Sprintf("%+.2f%%", (s.Ratio-1)*100)
	if sp, ok := t.GeomeanSpeedup(col); ok {
		return speedupText(sp) + " " + delta
	}
	return delta
}

// speedupText formats a speedup as "1.94×".
func speedupText(s float64) string {
	return fmt.Sprintf("%.2f×", s)
}
