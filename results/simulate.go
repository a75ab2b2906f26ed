package results

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/olekukonko/tablewriter/tw"
	"golang.org/x/perf/benchfmt"
)

// A Simulation measures the gate on an A/A pair (two runs of the same
// code): how many cells it flags when one side is made uniformly slower
// by a known amount (its power), and how many it flags when nothing
// changed (its false regressions). It is deterministic: the slowdown is
// applied to the recorded rounds, every value of the gated units
// multiplied by 1+k (divided, for units where higher is better), and
// each side is slowed in turn, so every cell is judged twice per
// slowdown.
type Simulation struct {
	Old, New string
	// Rule is the gate's rule, as compare prints it.
	Rule string
	// Cells is the number of cells (and units) judged per comparison.
	Cells int

	// FalseRegressions counts the cells flagged as regressions by the
	// two A/A comparisons (old → new and new → old); FalseChanges those
	// significant in either direction, whatever the threshold.
	FalseRegressions, FalseChanges int

	Trials []SlowdownTrial
}

// A SlowdownTrial is the gate's verdict on one simulated slowdown.
type SlowdownTrial struct {
	// Slowdown is k: 0.05 for 5 % slower.
	Slowdown float64
	// Judged counts the cells judged (twice Simulation.Cells); Flagged
	// those the gate failed (significant and beyond the threshold);
	// Significant those significantly slower, whatever the threshold.
	Judged, Flagged, Significant int
}

// Power is the fraction of judged cells that the gate flagged.
func (t SlowdownTrial) Power() float64 {
	if t.Judged == 0 {
		return 0
	}
	return float64(t.Flagged) / float64(t.Judged)
}

// Simulate runs the gate of opts on the A/A pair a, b as they are, then
// for each slowdown with b slowed against a and a slowed against b.
func Simulate(a, b *Set, slowdowns []float64, opts CompareOptions) (*Simulation, error) {
	forward, err := Compare(a, b, opts)
	if err != nil {
		return nil, err
	}
	reversed := opts
	reversed.OldLabel, reversed.NewLabel = opts.NewLabel, opts.OldLabel
	backward, err := Compare(b, a, reversed)
	if err != nil {
		return nil, err
	}
	sim := &Simulation{Old: forward.Old, New: forward.New, Rule: forward.ruleText(), Cells: len(forward.judged())}
	for _, d := range []*Diff{forward, backward} {
		sim.FalseRegressions += len(d.Regressions())
		for _, c := range d.judged() {
			if c.P <= d.Alpha {
				sim.FalseChanges++
			}
		}
	}
	for _, k := range slowdowns {
		trial := SlowdownTrial{Slowdown: k}
		for _, pair := range []struct {
			base, slowed *Set
			opts         CompareOptions
		}{{a, b, opts}, {b, a, reversed}} {
			d, err := Compare(pair.base, pair.slowed.slowed(forward.Units, k), pair.opts)
			if err != nil {
				return nil, err
			}
			for _, c := range d.judged() {
				trial.Judged++
				if c.Verdict == Regressed {
					trial.Flagged++
				}
				worse := c.Change
				if c.Better == HigherIsBetter {
					worse = -worse
				}
				if c.P <= d.Alpha && worse > 0 {
					trial.Significant++
				}
			}
		}
		sim.Trials = append(sim.Trials, trial)
	}
	return sim, nil
}

// slowed returns a copy of s whose values of units are k slower: times
// and costs multiplied by 1+k, rates (higher is better) divided by it.
func (s *Set) slowed(units []string, k float64) *Set {
	out := &Set{Results: s.Results, Failures: s.Failures, Units: s.Units, Warnings: s.Warnings,
		unitOrder: s.unitOrder, rounds: make(map[*benchfmt.Result]*Rounds, len(s.Results))}
	for r, rs := range s.cells() {
		slow := &Rounds{Iters: rs.Iters, Units: rs.Units, Values: make([][]float64, len(rs.Values))}
		for u, unit := range rs.Units {
			if !slices.Contains(units, unit) {
				slow.Values[u] = rs.Values[u]
				continue
			}
			factor := 1 + k
			if s.Better(unit) == HigherIsBetter {
				factor = 1 / (1 + k)
			}
			slow.Values[u] = make([]float64, len(rs.Values[u]))
			for i, v := range rs.Values[u] {
				slow.Values[u][i] = v * factor
			}
		}
		out.rounds[r] = slow
	}
	return out
}

// WriteSimulation writes sim in format f: text, ASCII or Markdown as a
// table of power per slowdown, CSV as one record per slowdown, JSON as
// one document.
func WriteSimulation(w io.Writer, sim *Simulation, f Format) error {
	switch f {
	case CSV:
		out := csv.NewWriter(w)
		out.Write([]string{"slowdown", "judged", "flagged", "significant", "power", "aa_false_regressions", "aa_false_changes", "aa_judged"})
		g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		for _, t := range sim.Trials {
			out.Write([]string{g(t.Slowdown), strconv.Itoa(t.Judged), strconv.Itoa(t.Flagged), strconv.Itoa(t.Significant),
				g(t.Power()), strconv.Itoa(sim.FalseRegressions), strconv.Itoa(sim.FalseChanges), strconv.Itoa(2 * sim.Cells)})
		}
		out.Flush()
		return out.Error()
	case JSON:
		type trial struct {
			SlowdownTrial
			Power float64
		}
		doc := struct {
			*Simulation
			Trials []trial
		}{Simulation: sim}
		for _, t := range sim.Trials {
			doc.Trials = append(doc.Trials, trial{t, t.Power()})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	p := &printer{w: w, format: f}
	p.title(fmt.Sprintf("Power of the gate (A/A pair %s, %s; each side slowed in turn, %d cells each way) · %s",
		sim.Old, sim.New, sim.Cells, sim.Rule))
	var body [][]string
	for _, t := range sim.Trials {
		body = append(body, []string{shortPercent(t.Slowdown), fmt.Sprintf("%d of %d", t.Flagged, t.Judged),
			percent1(t.Power()), fmt.Sprintf("%d of %d", t.Significant, t.Judged)})
	}
	if p.err == nil {
		p.err = p.grid([]string{"slowdown", "flagged", "power", "significantly slower (any size)"},
			[]tw.Align{tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}, body)
	}
	p.line("")
	p.line(fmt.Sprintf("A/A, nothing changed: %d false regressions of %d cells judged (%s → %s and back); "+
		"%d significant changes either way, whatever their size.",
		sim.FalseRegressions, 2*sim.Cells, sim.Old, sim.New, sim.FalseChanges))
	return p.done("write simulation")
}
