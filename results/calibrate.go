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
// round (the coefficient of variation, stddev/mean), the largest change
// between the two sides' medians that noise alone produced, and what the
// gate can resolve at this noise. A gate threshold below that change
// would have failed a change that changed nothing, so MaxChange is the
// smallest threshold that held.
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

	// Level is the significance level at which the gate tests a change
	// in one cell alone (α, divided by the cells judged under Holm or
	// Benjamini–Hochberg): the level of MinDetectable and RoundsFor5.
	Level float64
}

// A CalibrationCell is the noise of one cell in one unit.
type CalibrationCell struct {
	Name, Unit     string
	OldCV, NewCV   float64 // stddev/mean of each side's rounds
	Change         float64 // (new-old)/old of the medians
	P              float64 // after the comparison's correction
	OldN, NewN     int
	SuggestedLimit float64 // |Change|: the smallest threshold this cell passes

	// MinDetectable is the smallest change of the median that the gate
	// detects in this cell alone 80 % of the time, at these numbers of
	// rounds and this noise (the two sides' robust CVs, 1.4826·MAD over
	// the median, pooled); +Inf where the rounds are too few for the
	// test to reach Calibration.Level at all. RoundsFor5 is the rounds
	// per side that would detect a 5 % change so; 0 when more than
	// 10000.
	MinDetectable float64
	RoundsFor5    int
}

// Calibrate measures the noise that an A/A Diff shows, and what the gate
// can detect at that noise. The minimal detectable effect uses the
// normal approximation of the Mann-Whitney U test (its efficiency of 3/π
// against the t-test on normal data), so it is a guide, not a promise,
// for rounds far from normal (see UnstableCells).
func Calibrate(d *Diff) *Calibration {
	judged := d.judged()
	c := &Calibration{Old: d.Old, New: d.New, Threshold: d.Threshold, Regressions: len(d.Regressions()),
		Level: loneLevel(d.Alpha, len(judged), d.Correction)}
	for _, cell := range judged {
		cc := CalibrationCell{Name: cell.Name, Unit: cell.Unit, OldCV: cv(cell.Old.Values), NewCV: cv(cell.New.Values),
			Change: cell.Change, P: cell.P, OldN: len(cell.Old.Values), NewN: len(cell.New.Values),
			SuggestedLimit: math.Abs(cell.Change)}
		// The rank test shrugs off an outlier that inflates the CV:
		// judge its power by the robust spread.
		o, n := robustCV(cell.Old.Values), robustCV(cell.New.Values)
		pooled := math.Sqrt((o*o + n*n) / 2)
		cc.MinDetectable = minDetectableEffect(cc.OldN, cc.NewN, pooled, c.Level)
		cc.RoundsFor5 = roundsToDetect(0.05, pooled, c.Level)
		if cc.SuggestedLimit > c.MaxChange || c.MaxCell == "" {
			c.MaxChange, c.MaxCell = cc.SuggestedLimit, cell.Name+" "+cell.Unit
		}
		c.Cells = append(c.Cells, cc)
	}
	return c
}

// WriteCalibration writes c in format f: a table of the noise per cell
// and what the gate can detect there, then the smallest threshold that
// held.
func WriteCalibration(w io.Writer, c *Calibration, f Format) error {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch f {
	case CSV:
		out := csv.NewWriter(w)
		out.Write([]string{"cell", "unit", "old_cv", "new_cv", "change", "p", "old_n", "new_n", "min_detectable", "rounds_for_5pct"})
		for _, cc := range c.Cells {
			mde := ""
			if !math.IsInf(cc.MinDetectable, 0) {
				mde = g(cc.MinDetectable)
			}
			out.Write([]string{cc.Name, cc.Unit, g(cc.OldCV), g(cc.NewCV), g(cc.Change), g(cc.P),
				strconv.Itoa(cc.OldN), strconv.Itoa(cc.NewN), mde, strconv.Itoa(cc.RoundsFor5)})
		}
		out.Flush()
		return out.Error()
	case JSON:
		type jsonCell struct {
			CalibrationCell
			MinDetectable *float64 `json:"MinDetectable"` // null: cannot detect at all
		}
		doc := struct {
			*Calibration
			Cells []jsonCell
		}{Calibration: c}
		for _, cc := range c.Cells {
			doc.Cells = append(doc.Cells, jsonCell{cc, finite(cc.MinDetectable)})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	p := &printer{w: w, format: f}
	p.title(fmt.Sprintf("Noise (A/A: %s vs %s) · CV = stddev/mean of the rounds · detectable = the smallest change "+
		"the gate catches 80%% of the time in one cell alone (p ≤ %.3g)", c.Old, c.New, c.Level))
	var body [][]string
	for _, cc := range c.Cells {
		mde := "never"
		if !math.IsInf(cc.MinDetectable, 0) {
			mde = percent(cc.MinDetectable)
		}
		rounds := "> 10000"
		if cc.RoundsFor5 > 0 {
			rounds = strconv.Itoa(cc.RoundsFor5)
		}
		body = append(body, []string{cc.Name, cc.Unit, percent(cc.OldCV), percent(cc.NewCV), signedPercent(cc.Change),
			fmt.Sprintf("%.3f", cc.P), mde, rounds})
	}
	if p.err == nil {
		p.err = p.grid([]string{"cell", "unit", "CV " + c.Old, "CV " + c.New, "A/A delta", "p", "detectable", "rounds for 5%"},
			[]tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight,
				tw.AlignRight, tw.AlignRight}, body)
	}
	p.line("")
	p.line(fmt.Sprintf("Largest A/A |delta|: %s (%s): the smallest --threshold that held.", percent(c.MaxChange), c.MaxCell))
	p.line(fmt.Sprintf("False regressions at --threshold %s: %d of %d cells.", shortPercent(c.Threshold), c.Regressions, len(c.Cells)))
	p.line("A change that shows in many cells at once is caught at smaller effects under Benjamini–Hochberg " +
		"(concbench compare --simulate-slowdown measures it).")
	return p.done("write calibration")
}
