package results

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"golang.org/x/perf/benchmath"
)

// Compare judges a new revision against an old one, cell by cell, as a
// CI gate: benchstat's statistics (median, confidence interval,
// Mann-Whitney U test of old against new, α = 0.05), a correction for
// testing many cells at once (by default Benjamini–Hochberg's, which
// bounds the expected share of false regressions among those flagged
// instead of the chance of any, so that the size of the matrix does not
// crush the gate's power), and a verdict per cell. A cell regressed when
// the change is significant after correction and worse than
// CompareOptions.Threshold in the unit's bad direction.
//
// Compare fails with ErrMismatch when the two sides were measured on
// different machines (see MachineKeys), ErrNoCommonCells when they share
// no cell, and ErrTooFewSamples when some cell has too few rounds for
// the test to ever reach significance, saying how many it needs.
func Compare(old, new *Set, opts CompareOptions) (*Diff, error) {
	d := &Diff{Old: opts.oldLabel(), New: opts.newLabel(), Threshold: opts.Threshold,
		Correction: opts.Correction, Alpha: alpha(opts.Alpha), Confidence: confidence(opts.Confidence),
		MaxCV: maxCV(opts.MaxCV)}
	d.Units = selectUnits(append(old.UnitNames(), new.UnitNames()...), opts.units(), opts.AllUnits)
	a, b := collect(old, d.Units), collect(new, d.Units)

	d.Mismatches = machineMismatches(a, b)
	for _, key := range a.order {
		if b.seen[key] && a.path[key] != b.path[key] {
			d.Mismatches = append(d.Mismatches, Mismatch{Key: "simd path (" + key + ")",
				Old: []string{a.path[key]}, New: []string{b.path[key]}})
		}
	}
	if len(d.Mismatches) > 0 && !opts.AllowMismatch {
		var lines []string
		for _, m := range d.Mismatches {
			lines = append(lines, m.String())
		}
		return nil, fmt.Errorf("%w: %s (pass --allow-mismatch to compare anyway)", ErrMismatch, strings.Join(lines, "; "))
	}

	for _, key := range a.order {
		if !b.seen[key] {
			d.OnlyOld = append(d.OnlyOld, key)
		}
	}
	for _, key := range b.order {
		if !a.seen[key] {
			d.OnlyNew = append(d.OnlyNew, key)
		}
	}

	thr := thresholds(opts.Alpha)
	for _, unit := range d.Units {
		better := new.Better(unit)
		if better == Neutral {
			better = old.Better(unit)
		}
		for _, key := range a.order {
			if !b.seen[key] {
				continue
			}
			c := &CellDiff{Name: key, Unit: unit, Better: better,
				OldFailure: a.failures[key], NewFailure: b.failures[key]}
			ov, nv := a.values[key][unit], b.values[key][unit]
			if len(ov) == 0 && len(nv) == 0 && (unit != d.Units[0] || len(a.values[key])+len(b.values[key]) > 0) {
				// Neither side measured the unit here. A failed
				// cell is judged in the units its other side
				// measured, or once if it measured none.
				continue
			}
			if c.NewFailure == nil && c.OldFailure == nil && (len(ov) == 0 || len(nv) == 0) {
				// Not measured on both sides: say so, once per unit.
				if len(ov) > 0 {
					d.unmeasured(unit, d.New)
				} else if len(nv) > 0 {
					d.unmeasured(unit, d.Old)
				}
				continue
			}
			if len(ov) > 0 {
				c.Old = benchmath.NewSample(slices.Clone(ov), thr)
				c.OldSummary = benchmath.AssumeNothing.Summary(c.Old, d.Confidence)
			}
			if len(nv) > 0 {
				c.New = benchmath.NewSample(slices.Clone(nv), thr)
				c.NewSummary = benchmath.AssumeNothing.Summary(c.New, d.Confidence)
			}
			if c.Old != nil && c.New != nil && c.NewFailure == nil && c.OldFailure == nil {
				c.Test = benchmath.AssumeNothing.Compare(c.Old, c.New)
				c.Change = relativeChange(c.OldSummary.Center, c.NewSummary.Center)
				c.P = c.Test.P
				c.judged = true
			}
			d.Cells = append(d.Cells, c)
		}
	}
	if len(d.Cells) == 0 {
		return nil, fmt.Errorf("%w: %d cells in %s, %d in %s, none in both for %s",
			ErrNoCommonCells, len(a.order), d.Old, len(b.order), d.New, strings.Join(opts.units(), ", "))
	}

	judged := d.judged()
	if err := checkSampleSizes(judged, d.Alpha, opts.Correction); err != nil {
		return nil, err
	}
	switch opts.Correction {
	case Holm:
		holm(judged)
	case BenjaminiHochberg:
		benjaminiHochberg(judged)
	}
	for _, c := range d.Cells {
		c.Verdict = verdict(c, d.Threshold, d.Alpha)
	}
	return d, nil
}

// Sentinel errors of Compare, for callers that map them to exit codes.
var (
	ErrMismatch      = errors.New("results: the runs were measured on different machines")
	ErrNoCommonCells = errors.New("results: no common cells to compare")
	ErrTooFewSamples = errors.New("results: too few samples to judge")
)

// DefaultThreshold is the smallest change that fails a comparison: 5%.
// A smaller significant change passes as "within threshold". Measure
// what a machine can resolve with an A/A pair (Calibrate) and Simulate.
const DefaultThreshold = 0.05

// DefaultGateUnits are the units a comparison judges unless told others.
func DefaultGateUnits() []string { return []string{"sec/op"} }

// MachineKeys are the file configuration keys that must agree between
// the two sides of a comparison: numbers from different CPUs, core
// counts, experiments or CPU placements (which parties of the run shared
// which CPUs) measure the machine, not the change.
var MachineKeys = []string{"cpu", "cpu-features", "gomaxprocs", "goexperiment", "placement"}

// machineKeyDefaults are the values that files written before a machine
// key existed stand for: a run without a "placement:" line placed
// nothing, as "placement: none" says.
var machineKeyDefaults = map[string]string{"placement": "none"}

// CompareOptions control Compare. The zero CompareOptions compare sec/op
// with Benjamini–Hochberg's correction at α = 0.05 and a zero threshold
// (any significant slowdown regresses); the CLI's default threshold is
// DefaultThreshold.
type CompareOptions struct {
	// OldLabel and NewLabel name the two sides in output, such as
	// "base" and "head". Empty means "old" and "new".
	OldLabel, NewLabel string

	// Units lists the units judged. Nil means DefaultGateUnits.
	// AllUnits judges every unit either side measured instead.
	Units    []string
	AllUnits bool

	// Threshold is the smallest relative change, in the unit's bad
	// direction, that counts as a regression: 0.05 for 5%.
	Threshold float64

	// Correction adjusts p-values for the number of cells compared.
	Correction Correction

	// Alpha is the significance level; zero means 0.05. Confidence is
	// the level of the intervals; zero means 0.95.
	Alpha, Confidence float64

	// AllowMismatch compares runs from different machines instead of
	// failing with ErrMismatch; the mismatches stay in Diff.Mismatches.
	AllowMismatch bool

	// MaxCV is the noise limit above which a side's rounds are marked
	// unstable in the output, as Options.MaxCV.
	MaxCV float64
}

func (o CompareOptions) units() []string {
	if o.Units == nil {
		return DefaultGateUnits()
	}
	return o.Units
}

func (o CompareOptions) oldLabel() string {
	if o.OldLabel == "" {
		return "old"
	}
	return o.OldLabel
}

func (o CompareOptions) newLabel() string {
	if o.NewLabel == "" {
		return "new"
	}
	return o.NewLabel
}

// A Correction adjusts p-values for testing many cells at once: with 50
// cells at α = 0.05, two or three would look significant by chance.
type Correction int

const (
	// BenjaminiHochberg is the Benjamini–Hochberg step-up procedure,
	// the default: it controls the false-discovery rate, the expected
	// share of false regressions among the cells flagged, at α. Holm
	// tests even the most significant cell at α/m, whatever the others
	// show (issue 13 saw it flag 3 of 66 cells of a uniform 5 %
	// slowdown); BH tests the k-th smallest p-value at k·α/m, so a
	// change that shows in many cells is caught in most of them, and
	// with no change at all it still fails with chance at most α. Its
	// guarantee holds for independent cells and for positively
	// dependent ones, which cells measured on one machine are.
	BenjaminiHochberg Correction = iota
	// Holm is the Holm–Bonferroni step-down correction: it controls
	// the chance of any false regression at α (the family-wise error
	// rate), at the cost of power as the matrix grows.
	Holm
	// NoCorrection judges each cell's p-value on its own.
	NoCorrection
)

// String returns the name that ParseCorrection accepts.
func (c Correction) String() string {
	switch c {
	case Holm:
		return "holm"
	case NoCorrection:
		return "none"
	}
	return "bh"
}

// title names the correction in prose: "Benjamini–Hochberg".
func (c Correction) title() string {
	switch c {
	case Holm:
		return "Holm"
	case NoCorrection:
		return "no correction"
	}
	return "Benjamini–Hochberg"
}

// ParseCorrection returns the Correction named by a --correction flag:
// bh (or fdr), holm or none.
func ParseCorrection(name string) (Correction, error) {
	switch strings.ToLower(name) {
	case "bh", "fdr", "benjamini-hochberg":
		return BenjaminiHochberg, nil
	case "holm":
		return Holm, nil
	case "none":
		return NoCorrection, nil
	}
	return 0, fmt.Errorf("results: unknown correction %q (want bh, holm or none)", name)
}

// A Diff is the outcome of Compare: one CellDiff per common cell and
// judged unit, and what could not be compared.
type Diff struct {
	// Old and New label the two sides.
	Old, New string

	// Units are the judged units, in order; Cells holds, per unit, the
	// common cells in the order the old side first lists them.
	Units []string
	Cells []*CellDiff

	// OnlyOld and OnlyNew name the cells measured on one side only;
	// they are not judged, and every format lists them.
	OnlyOld, OnlyNew []string

	// Unmeasured lists the units that a cell reports on one side only,
	// such as a unit a newer harness added; they are not judged.
	Unmeasured []Unmeasured

	// Mismatches are the machine differences that AllowMismatch let
	// through.
	Mismatches []Mismatch

	Threshold         float64
	Correction        Correction
	Alpha, Confidence float64

	// MaxCV is the noise limit above which a side's rounds are marked
	// unstable; +Inf when marking is off.
	MaxCV float64
}

// Unmeasured is a unit that some cells lack on one side.
type Unmeasured struct {
	Unit string `json:"unit"`
	// Side is the label of the side that lacks it; Cells counts the
	// cells concerned.
	Side  string `json:"side"`
	Cells int    `json:"cells"`
}

// unmeasured counts one cell that lacks unit on side.
func (d *Diff) unmeasured(unit, side string) {
	for i := range d.Unmeasured {
		if u := &d.Unmeasured[i]; u.Unit == unit && u.Side == side {
			u.Cells++
			return
		}
	}
	d.Unmeasured = append(d.Unmeasured, Unmeasured{Unit: unit, Side: side, Cells: 1})
}

// A CellDiff compares one cell in one unit.
type CellDiff struct {
	// Name is the cell's full benchmark name without "Benchmark" and
	// without the simd kernel path, which MachineKeys-like checks
	// compare instead.
	Name   string
	Unit   string
	Better Direction

	// Old and New are the samples, with benchstat's summaries.
	Old, New               *benchmath.Sample
	OldSummary, NewSummary benchmath.Summary

	// Test is the Mann-Whitney U test of Old against New, exactly as
	// benchstat computes it; P is its p-value after the correction.
	Test benchmath.Comparison
	P    float64

	// Change is (new-old)/old of the medians.
	Change float64

	// OldFailure and NewFailure are set where a side failed the cell.
	OldFailure, NewFailure *Failure

	Verdict Verdict

	judged bool
}

// A Verdict is what a comparison concludes about one cell.
type Verdict int

const (
	// Unchanged: the difference is not significant (benchstat's "~").
	Unchanged Verdict = iota
	// WithinThreshold: significant, but smaller than the threshold.
	WithinThreshold
	// Improved: significantly better by more than the threshold.
	Improved
	// Regressed: significantly worse by more than the threshold.
	Regressed
	// Failed: the new side failed a cell that the old side measured.
	Failed
	// Fixed: the old side failed a cell that the new side measured.
	Fixed
	// Broken: both sides failed the cell.
	Broken
)

var verdictNames = []string{"~", "within threshold", "improved", "REGRESSED", "FAILED", "fixed", "failed on both"}

// String returns a short word for tables, such as "REGRESSED".
func (v Verdict) String() string {
	if v >= 0 && int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Regressions returns the cells that fail the gate: regressed beyond the
// threshold, or failed on the new side.
func (d *Diff) Regressions() []*CellDiff {
	var out []*CellDiff
	for _, c := range d.Cells {
		if c.Verdict == Regressed || c.Verdict == Failed {
			out = append(out, c)
		}
	}
	return out
}

// Improvements returns the cells that improved beyond the threshold.
func (d *Diff) Improvements() []*CellDiff {
	var out []*CellDiff
	for _, c := range d.Cells {
		if c.Verdict == Improved {
			out = append(out, c)
		}
	}
	return out
}

func (d *Diff) judged() []*CellDiff {
	var out []*CellDiff
	for _, c := range d.Cells {
		if c.judged {
			out = append(out, c)
		}
	}
	return out
}

// A Mismatch is a machine key whose values differ between the sides.
type Mismatch struct {
	Key      string
	Old, New []string
}

// String reads "cpu: AMD EPYC vs Intel Xeon", values joined by ", ".
func (m Mismatch) String() string {
	return fmt.Sprintf("%s: %s vs %s", m.Key, strings.Join(m.Old, ", "), strings.Join(m.New, ", "))
}

// A side holds one Set's values by cell name (simd path removed) and
// unit, in the order cells first appear.
type side struct {
	order    []string
	seen     map[string]bool
	values   map[string]map[string][]float64
	failures map[string]*Failure
	path     map[string]string
	machine  map[string]map[string]bool // key → values
}

func collect(s *Set, units []string) *side {
	sd := &side{seen: map[string]bool{}, values: map[string]map[string][]float64{},
		failures: map[string]*Failure{}, path: map[string]string{}, machine: map[string]map[string]bool{}}
	add := func(full string) string {
		name, path := splitSimdPath(full)
		if !sd.seen[name] {
			sd.seen[name] = true
			sd.order = append(sd.order, name)
			sd.values[name] = map[string][]float64{}
		}
		if path != "" {
			sd.path[name] = path
		}
		return name
	}
	for r, rs := range s.cells() {
		name := add(string(r.Name.Full()))
		for u, unit := range rs.Units {
			if !slices.Contains(units, unit) {
				continue
			}
			if have := sd.values[name][unit]; have == nil {
				// Share the set's values; copy only to add more.
				sd.values[name][unit] = slices.Clip(rs.Values[u])
			} else {
				sd.values[name][unit] = append(have, rs.Values[u]...)
			}
		}
		for _, k := range MachineKeys {
			if sd.machine[k] == nil {
				sd.machine[k] = map[string]bool{}
			}
			v := r.GetConfig(k)
			if v == "" {
				v = machineKeyDefaults[k]
			}
			sd.machine[k][v] = true
		}
	}
	for i := range s.Failures {
		f := &s.Failures[i]
		name := add(f.Name)
		if sd.failures[name] == nil {
			sd.failures[name] = f
		}
	}
	return sd
}

func machineMismatches(a, b *side) []Mismatch {
	var out []Mismatch
	for _, k := range MachineKeys {
		if a.machine[k] == nil || b.machine[k] == nil {
			continue // A side without results has nothing to mismatch.
		}
		av, bv := setValues(a.machine[k]), setValues(b.machine[k])
		if !slices.Equal(av, bv) {
			out = append(out, Mismatch{Key: k, Old: av, New: bv})
		}
	}
	return out
}

func setValues(m map[string]bool) []string {
	var vs []string
	for v := range m {
		if v == "" {
			v = "(unset)"
		}
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return vs
}

// simdPath finds the kernel path parameter in a strategy name, such as
// "path=avx512" in "strategy=simd(batch=256,path=avx512)".
var simdPath = regexp.MustCompile(`([(,])path=([^,)/]*)`)

// splitSimdPath removes the simd kernel path from a cell name, so that
// an avx512 run and an avx2 run name the same cell, and returns it.
func splitSimdPath(name string) (string, string) {
	m := simdPath.FindStringSubmatchIndex(name)
	if m == nil {
		return name, ""
	}
	path := name[m[4]:m[5]]
	rest := name[:m[0]] + name[m[0]:m[2]+1] + name[m[1]:]
	rest = strings.Replace(rest, "(,", "(", 1)
	rest = strings.Replace(rest, ",)", ")", 1)
	rest = strings.Replace(rest, "()", "", 1)
	return rest, path
}

func relativeChange(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return math.Copysign(math.Inf(1), new)
	}
	return (new - old) / old
}

// verdict judges one cell. Units without a direction are judged as
// costs: lower is better.
func verdict(c *CellDiff, threshold, alpha float64) Verdict {
	switch {
	case c.OldFailure != nil && c.NewFailure != nil:
		return Broken
	case c.NewFailure != nil:
		return Failed
	case c.OldFailure != nil:
		return Fixed
	case !c.judged || c.P > alpha:
		return Unchanged
	}
	worse := c.Change
	if c.Better == HigherIsBetter {
		worse = -worse
	}
	switch {
	case worse > threshold:
		return Regressed
	case -worse > threshold:
		return Improved
	}
	return WithinThreshold
}

// holm replaces each cell's p-value with its Holm–Bonferroni adjusted
// value: sorted ascending, the k-th smallest (from 0) of m is multiplied
// by m-k, and the adjusted values are made monotone. A cell is then
// significant when its adjusted p is at most α, which is Holm's
// step-down procedure.
func holm(cells []*CellDiff) {
	sorted := slices.Clone(cells)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Test.P < sorted[j].Test.P })
	m := len(sorted)
	running := 0.0
	for k, c := range sorted {
		adj := math.Min(1, float64(m-k)*c.Test.P)
		running = math.Max(running, adj)
		c.P = running
	}
}

// benjaminiHochberg replaces each cell's p-value with its
// Benjamini–Hochberg adjusted value (R's p.adjust(p, "BH")): sorted
// ascending, the k-th smallest (from 1) of m becomes the least of
// m·p(j)/j over j ≥ k, at most 1. A cell is then significant when its
// adjusted p is at most α, which is the step-up procedure at
// false-discovery rate α.
func benjaminiHochberg(cells []*CellDiff) {
	sorted := slices.Clone(cells)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Test.P < sorted[j].Test.P })
	m := len(sorted)
	running := 1.0
	for k := m - 1; k >= 0; k-- {
		c := sorted[k]
		running = math.Min(running, float64(m)*c.Test.P/float64(k+1))
		c.P = running
	}
}

// minPValue returns the smallest two-sided p-value that the exact
// Mann-Whitney U test can give for samples of n1 and n2 distinct values:
// 2 / C(n1+n2, n1), when the samples do not overlap at all. For n1 = n2
// it reproduces benchmath's table of minimum p-values.
func minPValue(n1, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return 1
	}
	lc, _ := math.Lgamma(float64(n1 + n2 + 1))
	l1, _ := math.Lgamma(float64(n1 + 1))
	l2, _ := math.Lgamma(float64(n2 + 1))
	return math.Min(1, 2/math.Exp(lc-l1-l2))
}

// SamplesNeeded returns the fewest rounds per side for which the
// Mann-Whitney U test can flag a change in one cell alone, at
// significance level alpha with m cells tested under correction c: Holm
// and Benjamini–Hochberg both test the most significant cell at alpha/m.
// (Under Benjamini–Hochberg, a change that shows in many cells needs
// fewer: the k-th smallest p-value is tested at k·alpha/m.)
func SamplesNeeded(alpha float64, m int, c Correction) int {
	level := loneLevel(alpha, m, c)
	n := 1
	for minPValue(n, n) > level && n < 1000 {
		n++
	}
	return n
}

// loneLevel is the level at which a correction tests the most
// significant of m cells: alpha/m, but alpha without a correction.
func loneLevel(alpha float64, m int, c Correction) float64 {
	if c != NoCorrection && m > 1 {
		return alpha / float64(m)
	}
	return alpha
}

// checkSampleSizes fails when some judged cell could not reach
// significance however different its samples were: under Holm, not even
// as the most significant of all cells (alpha/m); under
// Benjamini–Hochberg or no correction, not even at alpha.
func checkSampleSizes(cells []*CellDiff, alpha float64, c Correction) error {
	m := len(cells)
	level := alpha
	if c == Holm && m > 1 {
		level = alpha / float64(m)
	}
	for _, cell := range cells {
		n1, n2 := len(cell.Old.Values), len(cell.New.Values)
		if minPValue(n1, n2) <= level {
			continue
		}
		msg := fmt.Sprintf("%s %s has %d old and %d new samples; the Mann-Whitney U test at α=%v needs ≥%d each",
			cell.Name, cell.Unit, n1, n2, alpha, SamplesNeeded(alpha, 1, NoCorrection))
		if c == Holm && m > 1 {
			msg += fmt.Sprintf(" (≥%d each with Holm's correction over %d cells; or --correction bh)", SamplesNeeded(alpha, m, c), m)
		}
		return fmt.Errorf("%w: %s: run more rounds (--count)", ErrTooFewSamples, msg)
	}
	return nil
}
