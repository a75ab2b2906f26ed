package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// csvHeader names the columns of the CSV format: one record per cell,
// figures unscaled, so that scripts need not parse "155.0µ". cv is the
// noise of the cell's rounds of sec/op, unstable whether it is above the
// limit, max_errors the largest errors/op of a round.
var csvHeader = []string{
	"workload", "unit", "better", "row", "strategy", "status",
	"median", "lo", "hi", "ci", "n",
	"baseline", "speedup", "delta", "p",
	"cv", "unstable", "max_errors",
}

func writeCSV(w io.Writer, tables []*Table) error {
	out := csv.NewWriter(w)
	out.Write(csvHeader)
	for _, t := range tables {
		for i, label := range t.Rows {
			for j, c := range t.Cells[i] {
				if c != nil {
					out.Write(t.csvRecord(label, t.Columns[j], c))
				}
			}
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("results: write csv: %w", err)
	}
	return nil
}

func (t *Table) csvRecord(row, strategy string, c *Cell) []string {
	rec := []string{t.Workload, t.Unit, t.Better.String(), row, strategy}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	noise := []string{f(c.CV), strconv.FormatBool(c.Unstable), f(c.MaxErrors)}
	if c.Failed() {
		rec = append(rec, "failed", "", "", "", "", "", "", "", "", "")
		return append(rec, noise...)
	}
	rec = append(rec, "ok", f(c.Summary.Center), f(c.Summary.Lo), f(c.Summary.Hi),
		c.Summary.PctRangeString(), strconv.Itoa(len(c.Sample.Values)))
	if c.Baseline == nil {
		rec = append(rec, "", "", "", "")
		return append(rec, noise...)
	}
	speed := ""
	if s, ok := t.Speedup(c); ok {
		speed = f(s)
	}
	rec = append(rec, t.Columns[0], speed,
		c.Comparison.FormatDelta(c.Baseline.Summary.Center, c.Summary.Center),
		f(c.Comparison.P))
	return append(rec, noise...)
}
