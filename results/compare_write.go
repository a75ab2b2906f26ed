package results

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/olekukonko/tablewriter/tw"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchunit"
)

// ParseDiffFormat returns the Format named by compare's --format flag:
// text, ascii, markdown (or md), csv or json, as ParseFormat.
func ParseDiffFormat(name string) (Format, error) { return ParseFormat(name) }

// WriteDiff writes d in format f: per unit a table with a row per cell
// (old and new median ± CI, marked "!" where that side's rounds vary more
// than d.MaxCV, the change, the p-value after correction, the verdict),
// then the regressions, improvements, and the cells and units that only
// one side measured.
func WriteDiff(w io.Writer, d *Diff, f Format) error {
	switch f {
	case CSV:
		return writeDiffCSV(w, d)
	case JSON:
		return writeDiffJSON(w, d)
	}
	p := &printer{w: w, format: f}
	for _, m := range d.Mismatches {
		p.line(p.bullet() + "warning: different machines: " + m.String())
	}
	for _, unit := range d.Units {
		var cells []*CellDiff
		for _, c := range d.Cells {
			if c.Unit == unit {
				cells = append(cells, c)
			}
		}
		if len(cells) == 0 {
			continue
		}
		title := fmt.Sprintf("%s (%s) · %s → %s · median ± %.0f%% CI · %s", unit, cells[0].Better,
			d.Old, d.New, 100*d.Confidence, d.ruleText())
		p.line("")
		p.title(title)
		header := []string{"cell", d.Old, d.New, "delta", "p", "verdict"}
		aligns := []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}
		var body [][]string
		var notes footnotes
		unstable := false
		for _, c := range cells {
			oldText, newText := c.valueTexts()
			if c.Old != nil && c.OldFailure == nil && cv(c.Old.Values) > d.MaxCV {
				oldText, unstable = oldText+" "+unstableMark, true
			}
			if c.New != nil && c.NewFailure == nil && cv(c.New.Values) > d.MaxCV {
				newText, unstable = newText+" "+unstableMark, true
			}
			warnings := append(append([]error{}, c.OldSummary.Warnings...), c.NewSummary.Warnings...)
			warnings = append(warnings, c.Test.Warnings...)
			body = append(body, []string{c.Name + notes.mark(warnings), oldText, newText,
				c.deltaText(), c.pText(), c.Verdict.String()})
		}
		if p.err == nil {
			p.err = p.grid(header, aligns, body)
		}
		for i, n := range notes.list {
			p.line(p.bullet() + superscript(i+1) + " " + n)
		}
		if unstable {
			p.line(fmt.Sprintf("%s%s unstable: that side's rounds vary by more than %s (CV): the comparison is less certain",
				p.bullet(), unstableMark, shortPercent(d.MaxCV)))
		}
	}
	regs, imps := d.Regressions(), d.Improvements()
	p.line("")
	if len(regs) == 0 {
		p.line(fmt.Sprintf("No regressions (%d cells, %s).", len(d.Cells), d.ruleText()))
	} else {
		p.line(p.heading(fmt.Sprintf("%d regression(s)", len(regs))))
		for _, c := range regs {
			p.line(p.bullet() + c.Summary(d))
		}
	}
	if len(imps) > 0 {
		p.line(p.heading(fmt.Sprintf("%d improvement(s)", len(imps))))
		for _, c := range imps {
			p.line(p.bullet() + c.Summary(d))
		}
	}
	if len(d.OnlyOld) > 0 {
		p.line(p.heading(fmt.Sprintf("%s missing from %s (not judged)", plural(len(d.OnlyOld), "cell"), d.New)))
		for _, name := range d.OnlyOld {
			p.line(p.bullet() + "only in " + d.Old + ": " + name)
		}
	}
	if len(d.OnlyNew) > 0 {
		p.line(p.heading(fmt.Sprintf("%s new in %s (not judged)", plural(len(d.OnlyNew), "cell"), d.New)))
		for _, name := range d.OnlyNew {
			p.line(p.bullet() + "only in " + d.New + ": " + name)
		}
	}
	for _, u := range d.Unmeasured {
		p.line(fmt.Sprintf("%s%s: not measured in %s for %s (not judged)", p.bullet(), u.Unit, u.Side, plural(u.Cells, "cell")))
	}
	if p.err != nil {
		return fmt.Errorf("results: write comparison: %w", p.err)
	}
	return nil
}

// ruleText describes the gate, such as "regression: p ≤ 0.05
// (Benjamini–Hochberg over 12 cells) and worse by > 5%".
func (d *Diff) ruleText() string {
	corr := d.Correction.title()
	if d.Correction != NoCorrection {
		corr += fmt.Sprintf(" over %d", len(d.judged()))
	}
	return fmt.Sprintf("regression: p ≤ %v (%s) and worse by > %s", d.Alpha, corr, shortPercent(d.Threshold))
}

// Summary describes one cell for a list of regressions, such as
// "Dot/tasks=4096-2 sec/op: 2.69µ → 3.10µ (+15.20%, p=0.002)".
func (c *CellDiff) Summary(d *Diff) string {
	if c.Verdict == Failed {
		reason := ""
		if c.NewFailure != nil {
			reason = ": " + c.NewFailure.Reason
		}
		return fmt.Sprintf("%s: failed in %s%s", c.Name, d.New, reason)
	}
	class := benchunit.ClassOf(c.Unit)
	return fmt.Sprintf("%s %s: %s → %s (%s, p=%.3g)", c.Name, c.Unit,
		benchunit.Scale(c.OldSummary.Center, class), benchunit.Scale(c.NewSummary.Center, class),
		signedPercent(c.Change), c.P)
}

func (c *CellDiff) valueTexts() (string, string) {
	var centers []float64
	if c.Old != nil {
		centers = append(centers, c.OldSummary.Center)
	}
	if c.New != nil {
		centers = append(centers, c.NewSummary.Center)
	}
	scaler := benchunit.CommonScale(centers, benchunit.ClassOf(c.Unit))
	text := func(failure *Failure, has bool, s benchmath.Summary, center float64) string {
		switch {
		case failure != nil:
			return failedText
		case !has:
			return ""
		}
		return scaler.Format(center) + " ± " + s.PctRangeString()
	}
	return text(c.OldFailure, c.Old != nil, c.OldSummary, c.OldSummary.Center),
		text(c.NewFailure, c.New != nil, c.NewSummary, c.NewSummary.Center)
}

// deltaText is the change of the medians, or "~" when the corrected
// p-value says it may be noise, as benchstat writes it.
func (c *CellDiff) deltaText() string {
	switch {
	case !c.judged:
		return ""
	case c.Verdict == Unchanged:
		return "~"
	}
	return signedPercent(c.Change)
}

func (c *CellDiff) pText() string {
	if !c.judged {
		return ""
	}
	return fmt.Sprintf("p=%.3f n=%d+%d", c.P, c.Test.N1, c.Test.N2)
}

// signedPercent formats a change as "+15.20%" (two decimals, with its
// sign), or "+Inf".
func signedPercent(x float64) string {
	if math.IsInf(x, 0) {
		return fmt.Sprintf("%+v", x)
	}
	return fmt.Sprintf("%+.2f%%", 100*x)
}

// percent formats a fraction as "15.20%" (two decimals).
func percent(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

// shortPercent formats a fraction with at most four significant digits
// and no trailing zeros, as a threshold is written: "5%", "12.5%".
func shortPercent(x float64) string {
	return strconv.FormatFloat(100*x, 'g', 4, 64) + "%"
}

// diffCSVHeader names the CSV columns: figures unscaled. "delta" and
// "test" are benchstat's own texts for the uncorrected test ("~" or
// "+15.20%", "p=0.002 n=6"), so they can be checked against it; "p" is
// after the correction.
var diffCSVHeader = []string{
	"unit", "better", "cell", "old", "old_ci", "old_n", "new", "new_ci", "new_n",
	"change", "delta", "test", "p_raw", "p", "verdict",
}

func writeDiffCSV(w io.Writer, d *Diff) error {
	out := csv.NewWriter(w)
	out.Write(diffCSVHeader)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, c := range d.Cells {
		rec := []string{c.Unit, c.Better.String(), c.Name}
		for _, s := range []struct {
			failure *Failure
			sample  bool
			sum     benchmath.Summary
			center  float64
			n       int
		}{
			{c.OldFailure, c.Old != nil, c.OldSummary, c.OldSummary.Center, sampleLen(c.Old)},
			{c.NewFailure, c.New != nil, c.NewSummary, c.NewSummary.Center, sampleLen(c.New)},
		} {
			if s.failure != nil || !s.sample {
				rec = append(rec, "", "", "")
				continue
			}
			rec = append(rec, f(s.center), s.sum.PctRangeString(), strconv.Itoa(s.n))
		}
		if c.judged {
			rec = append(rec, f(c.Change), c.Test.FormatDelta(c.OldSummary.Center, c.NewSummary.Center),
				c.Test.String(), f(c.Test.P), f(c.P))
		} else {
			rec = append(rec, "", "", "", "", "")
		}
		out.Write(append(rec, c.Verdict.String()))
	}
	// Cells that one side lacks get a record too, never silence: no
	// figures, and a verdict that says which side has them.
	for _, side := range []struct {
		names   []string
		verdict string
	}{{d.OnlyOld, "only in " + d.Old}, {d.OnlyNew, "only in " + d.New}} {
		for _, name := range side.names {
			rec := make([]string, len(diffCSVHeader))
			rec[2], rec[len(rec)-1] = name, side.verdict
			out.Write(rec)
		}
	}
	for _, u := range d.Unmeasured {
		rec := make([]string, len(diffCSVHeader))
		rec[0], rec[2], rec[len(rec)-1] = u.Unit, plural(u.Cells, "cell"), "not measured in "+u.Side
		out.Write(rec)
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("results: write comparison csv: %w", err)
	}
	return nil
}

func sampleLen(s *benchmath.Sample) int {
	if s == nil {
		return 0
	}
	return len(s.Values)
}

// jsonDiff is the JSON form of a Diff.
type jsonDiff struct {
	Old         string       `json:"old"`
	New         string       `json:"new"`
	Threshold   float64      `json:"threshold"`
	Correction  string       `json:"correction"`
	Alpha       float64      `json:"alpha"`
	Regressions int          `json:"regressions"`
	Cells       []jsonCell   `json:"cells"`
	OnlyOld     []string     `json:"only_old,omitempty"`
	OnlyNew     []string     `json:"only_new,omitempty"`
	Unmeasured  []Unmeasured `json:"unmeasured,omitempty"`
	Mismatches  []Mismatch   `json:"mismatches,omitempty"`
}

type jsonCell struct {
	Name    string   `json:"name"`
	Unit    string   `json:"unit"`
	Better  string   `json:"better"`
	Old     *jsonSum `json:"old,omitempty"`
	New     *jsonSum `json:"new,omitempty"`
	Change  *float64 `json:"change,omitempty"`
	PRaw    *float64 `json:"p_raw,omitempty"`
	P       *float64 `json:"p,omitempty"`
	Verdict string   `json:"verdict"`
}

type jsonSum struct {
	Median float64   `json:"median"`
	Lo     float64   `json:"lo"`
	Hi     float64   `json:"hi"`
	Values []float64 `json:"values"`
}

func writeDiffJSON(w io.Writer, d *Diff) error {
	out := jsonDiff{Old: d.Old, New: d.New, Threshold: d.Threshold, Correction: d.Correction.String(),
		Alpha: d.Alpha, Regressions: len(d.Regressions()), OnlyOld: d.OnlyOld, OnlyNew: d.OnlyNew,
		Unmeasured: d.Unmeasured, Mismatches: d.Mismatches}
	finite := func(x float64) float64 {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return 0 // JSON has no infinities; the verdict still tells.
		}
		return x
	}
	for _, c := range d.Cells {
		jc := jsonCell{Name: c.Name, Unit: c.Unit, Better: c.Better.String(), Verdict: c.Verdict.String()}
		if c.Old != nil && c.OldFailure == nil {
			jc.Old = &jsonSum{finite(c.OldSummary.Center), finite(c.OldSummary.Lo), finite(c.OldSummary.Hi), c.Old.Values}
		}
		if c.New != nil && c.NewFailure == nil {
			jc.New = &jsonSum{finite(c.NewSummary.Center), finite(c.NewSummary.Lo), finite(c.NewSummary.Hi), c.New.Values}
		}
		if c.judged {
			ch, praw, p := finite(c.Change), c.Test.P, c.P
			jc.Change, jc.PRaw, jc.P = &ch, &praw, &p
		}
		out.Cells = append(out.Cells, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("results: write comparison json: %w", err)
	}
	return nil
}
