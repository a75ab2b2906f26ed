package results

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/olekukonko/tablewriter/tw"
)

// A Calibration reads an A/A comparison (the same code on both sides)
// as a measurement of noise: how much each cell varies from round to
// round (the coefficient of variation, stddev/mean), and the largest
// change between the two sides' medians that noise alone produced. A
// gate threshold below that change would have failed a change that
// changed nothing, so MaxChange is the smallest threshold that held.
type Calibration struct {
	Old, New string
	Cells    []CalibrationCell

	// MaxChange is the largest |change| of any cell's medians, and
	// MaxCell the cell that showed it.
	MaxChange float64
	MaxCell   string

	// Regressions counts the cells the gate would have failed at the
	// comparison's own threshold; in an A/A run, each is a false alarm.
	Regressions int
	Threshold   float64
}

// A CalibrationCell is the noise of one cell in one unit.
type CalibrationCell struct {
	Name, Unit     string
	OldCV, NewCV   float64 // stddev/mean of each side's rounds
	Change         float64 // (new-old)/old of the medians
	P              float64 // after the comparison's correction
	OldN, NewN     int
	SuggestedLimit float64 // |Change|: the smallest threshold this cell passes
}

// Calibrate measures the noise that an A/A Diff shows.
func Calibrate(d *Diff) *Calibration {
	c := &Calibration{Old: d.Old, New: d.New, Threshold: d.Threshold, Regressions: len(d.Regressions())}
	for _, cell := range d.judged() {
		cc := CalibrationCell{Name: cell.Name, Unit: cell.Unit, OldCV: cv(cell.Old.Values), NewCV: cv(cell.New.Values),
			Change: cell.Change, P: cell.P, OldN: len(cell.Old.Values), NewN: len(cell.New.Values),
			SuggestedLimit: math.Abs(cell.Change)}
		if cc.SuggestedLimit > c.MaxChange || c.MaxCell == "" {
			c.MaxChange, c.MaxCell = cc.SuggestedLimit, cell.Name+" "+cell.Unit
		}
		c.Cells = append(c.Cells, cc)
	}
	return c
}

// cv returns the sample standard deviation over the mean, or 0 for
// fewer than two values or a zero mean.
func cv(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	if mean == 0 {
		return 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss/float64(len(xs)-1)) / math.Abs(mean)
}

// WriteCalibration writes c in format f: a table of the noise per cell,
// then the smallest threshold that held.
func WriteCalibration(w io.Writer, c *Calibration, f Format) error {
	switch f {
	case CSV:
		out := csv.NewWriter(w)
		out.Write([]string{"cell", "unit", "old_cv", "new_cv", "change", "p", "old_n", "new_n"})
		g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		for _, cc := range c.Cells {
			out.Write([]string{cc.Name, cc.Unit, g(cc.OldCV), g(cc.NewCV), g(cc.Change), g(cc.P),
				strconv.Itoa(cc.OldN), strconv.Itoa(cc.NewN)})
		}
		out.Flush()
		return out.Error()
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	p := &printer{w: w, format: f}
	p.title(fmt.Sprintf("Noise (A/A: %s vs %s) · CV = stddev/mean of the rounds", c.Old, c.New))
	var body [][]string
	for _, cc := range c.Cells {
		body = append(body, []string{cc.Name, cc.Unit, percent(cc.OldCV), percent(cc.NewCV), signedPercent(cc.Change),
			fmt.Sprintf("%.3f", cc.P)})
	}
	if p.err == nil {
		p.err = p.grid([]string{"cell", "unit", "CV " + c.Old, "CV " + c.New, "A/A delta", "p"},
			[]tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}, body)
	}
	p.line("")
	p.line(fmt.Sprintf("Largest A/A |delta|: %s (%s): the smallest --threshold that held.", percent(c.MaxChange), c.MaxCell))
	p.line(fmt.Sprintf("False regressions at --threshold %s: %d of %d cells.", shortPercent(c.Threshold), c.Regressions, len(c.Cells)))
	if p.err != nil {
		return fmt.Errorf("results: write calibration: %w", p.err)
	}
	return nil
}
