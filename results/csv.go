package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// csvHeader names the columns of the CSV format: one record per cell,
// figures unscaled, so that scripts need not parse "155.0µ".
var csvHeader = []string{
	"workload", "unit", "better", "row", "strategy", "status",
	"median", "lo", "hi", "ci", "n",
	"baseline", "speedup", "delta", "p",
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
	if c.Failed() {
		return append(rec, "failed", "", "", "", "", "", "", "", "", "")
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	rec = append(rec, "ok", f(c.Summary.Center), f(c.Summary.Lo), f(c.Summary.Hi),
		c.Summary.PctRangeString(), strconv.Itoa(len(c.Sample.Values)))
	if c.Baseline == nil {
		return append(rec, "", "", "", "")
	}
	speed := ""
	if s, ok := t.Speedup(c); ok {
		speed = f(s)
	}
	return append(rec, t.Columns[0], speed,
		c.Comparison.FormatDelta(c.Baseline.Summary.Center, c.Summary.Center),
		f(c.Comparison.P))
}
