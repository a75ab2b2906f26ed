package results

import (
	"iter"
	"slices"

	"golang.org/x/perf/benchfmt"
)

// A Set holds every benchmark result and every failed cell read from one
// or more benchmark files, in the order they were read.
//
// A Set keeps only what the statistics need: per cell (a benchmark name
// in one configuration), each round's iteration count and values, as
// float64s. 'concbench report' on a 200 MB bench.txt of 15 units a line
// peaks at about 250 MB this way, where a benchfmt.Result per line took
// 2.3 GB (11-13 times the file's size).
//
// The zero Set is empty and ready to use; Read and Decode return filled ones.
type Set struct {
	// Results holds one result per cell: per distinct benchmark name
	// and configuration (the file's header keys and ".file"), in the
	// order first read. Its Name, Config and position (Pos) are the
	// cell's first line, and so are its Iters and Values; Rounds gives
	// the values of every round. Results of one configuration share
	// their Config slice: treat them as read-only.
	//
	// A result appended by hand, which Read did not produce, counts as
	// one round of its cell, as a line of a file would.
	Results []*benchfmt.Result

	// Failures are the cells that the harness reported with "--- FAIL:".
	Failures []Failure

	// Units holds the unit metadata ("Unit tasks/s better=higher")
	// declared by the files.
	Units benchfmt.UnitMetadataMap

	// Warnings are problems that Read tolerated, each with its file:line,
	// such as a torn last line that a killed writer left behind.
	Warnings []string

	// rounds holds every round of the results that Read produced.
	rounds map[*benchfmt.Result]*Rounds
	// unitOrder lists the units in the order Read first met them.
	unitOrder []string
}

// Rounds are the values of every round of one cell, in the order read.
type Rounds struct {
	// Iters holds each round's iteration count: for concbench, the
	// tasks of the round times its repetitions.
	Iters []int

	// Units names the tidied units measured (ns/op is sec/op), in the
	// order first read, and Values[i] holds the values of Units[i], one
	// per round that reported it.
	Units  []string
	Values [][]float64
}

// Of returns the values of unit, in round order, or nil.
func (r *Rounds) Of(unit string) []float64 {
	if i := slices.Index(r.Units, unit); i >= 0 {
		return r.Values[i]
	}
	return nil
}

// add appends one round.
func (r *Rounds) add(iters int, values []benchfmt.Value) {
	r.Iters = append(r.Iters, iters)
	for _, v := range values {
		i := slices.Index(r.Units, v.Unit)
		if i < 0 {
			i = len(r.Units)
			r.Units = append(r.Units, v.Unit)
			r.Values = append(r.Values, nil)
		}
		r.Values[i] = append(r.Values[i], v.Value)
	}
}

// Rounds returns every round of the cell that r, one of s.Results,
// stands for. For a result that Read did not produce, it returns r
// itself as one round. The caller must not change what it returns.
func (s *Set) Rounds(r *benchfmt.Result) *Rounds {
	if rs, ok := s.rounds[r]; ok {
		return rs
	}
	rs := &Rounds{}
	rs.add(r.Iters, r.Values)
	return rs
}

// cells yields every result of s with its rounds.
func (s *Set) cells() iter.Seq2[*benchfmt.Result, *Rounds] {
	return func(yield func(*benchfmt.Result, *Rounds) bool) {
		for _, r := range s.Results {
			if !yield(r, s.Rounds(r)) {
				return
			}
		}
	}
}

// Filter returns a Set of the results for which keep returns true, with
// all their rounds, and the failures whose name it keeps; the unit
// metadata and warnings are shared with s.
func (s *Set) Filter(keep func(name string) bool) *Set {
	out := &Set{Units: s.Units, Warnings: s.Warnings, rounds: map[*benchfmt.Result]*Rounds{}}
	for _, r := range s.Results {
		if keep(string(r.Name.Full())) {
			out.Results = append(out.Results, r)
			if rs, ok := s.rounds[r]; ok {
				out.rounds[r] = rs
			}
		}
	}
	for _, f := range s.Failures {
		if keep(f.Name) {
			out.Failures = append(out.Failures, f)
		}
	}
	out.unitOrder = s.unitOrder
	return out
}

// A Failure is a cell that failed instead of producing a number, such as
// a cell whose result digest differed from the scalar reference.
type Failure struct {
	// Name is the full benchmark name without the "Benchmark" prefix, as
	// in benchfmt.Result.Name:
	// "Mandelbrot/width=1024/strategy=broken-2".
	Name string

	// Reason is the indented text that followed the FAIL line, one
	// line per reason line, with the indentation removed.
	Reason string

	// File and Line locate the "--- FAIL:" line.
	File string
	Line int
}

// UnitNames returns the units measured in s, tidied as benchfmt tidies
// them (ns/op becomes sec/op), in the order they first appear.
func (s *Set) UnitNames() []string {
	units := slices.Clone(s.unitOrder)
	seen := make(map[string]bool)
	for _, u := range units {
		seen[u] = true
	}
	for _, rs := range s.cells() {
		for _, u := range rs.Units {
			if !seen[u] {
				seen[u] = true
				units = append(units, u)
			}
		}
	}
	return units
}
