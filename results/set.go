package results

import (
	"golang.org/x/perf/benchfmt"
)

// A Set holds every benchmark result and every failed cell read from one
// or more benchmark files, in the order they were read.
//
// The zero Set is empty and ready to use; Read and Decode return filled ones.
type Set struct {
	// Results are the measured rounds, one per benchmark line. Each is a
	// clone that the Set owns.
	Results []*benchfmt.Result

	// Failures are the cells that the harness reported with "--- FAIL:".
	Failures []Failure

	// Units holds the unit metadata ("Unit tasks/s better=higher")
	// declared by the files.
	Units benchfmt.UnitMetadataMap
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
	var units []string
	seen := make(map[string]bool)
	for _, r := range s.Results {
		for _, v := range r.Values {
			if !seen[v.Unit] {
				seen[v.Unit] = true
				units = append(units, v.Unit)
			}
		}
	}
	return units
}
