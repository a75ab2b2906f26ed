package results

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Write writes s in the Go benchmark format, so that Read gives the same
// Set back (results, rounds, failures and unit metadata; positions and
// warnings aside): the unit metadata first, then each cell's rounds, one
// line each with its file configuration, in the order of s.Results, then
// the failures as "--- FAIL:" records with their indented reasons.
// Values are written tidied (sec/op rather than ns/op) and exactly. A
// cell whose rounds reported different units comes back with each unit's
// values on its first rounds.
func (s *Set) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	out := benchfmt.NewWriter(bw)
	var keys []benchfmt.UnitMetadataKey
	for k := range s.Units {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Unit != keys[j].Unit {
			return keys[i].Unit < keys[j].Unit
		}
		return keys[i].Key < keys[j].Key
	})
	for _, k := range keys {
		if err := out.Write(s.Units[k]); err != nil {
			return fmt.Errorf("results: write: %w", err)
		}
	}
	for r, rs := range s.cells() {
		line := &benchfmt.Result{Config: r.Config, Name: r.Name}
		for round, iters := range rs.Iters {
			line.Iters = iters
			line.Values = line.Values[:0]
			for u, unit := range rs.Units {
				if round < len(rs.Values[u]) {
					line.Values = append(line.Values, benchfmt.Value{Value: rs.Values[u][round], Unit: unit})
				}
			}
			if len(line.Values) == 0 {
				continue
			}
			if err := out.Write(line); err != nil {
				return fmt.Errorf("results: write: %w", err)
			}
		}
	}
	for _, f := range s.Failures {
		fmt.Fprintf(bw, "%sBenchmark%s\n", failPrefix, f.Name)
		if f.Reason != "" {
			for _, r := range strings.Split(f.Reason, "\n") {
				fmt.Fprintf(bw, "    %s\n", r)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("results: write: %w", err)
	}
	return nil
}
