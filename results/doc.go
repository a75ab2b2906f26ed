// Package results turns concbench runs into comparisons: it reads the Go
// benchmark format that the harness writes (bench.txt), including the
// "--- FAIL:" records of failed cells, and builds benchstat's tables
// with strategies as columns.
//
// A Set holds what Read found: per cell (a benchmark name in one
// configuration) every round's values, the failures and the unit
// metadata. Read streams its input and keeps only what the statistics
// need (float64s per round, a 200 MB bench.txt in about 250 MB where a
// benchfmt.Result per line took 2.3 GB); it rejects impossible values
// (NaN, infinities, negative times, counts and rates, an error rate
// above one) with their file:line, and ignores with a warning the torn
// last line that a killed writer leaves. Set.Write writes a Set back.
//
// Set.Tables groups it into one Table per workload (the benchmark base
// name, such as Mandelbrot) and unit, with a row per set of workload
// parameters and a column per strategy (the /strategy name key, with its
// parameters folded in, as "pool(workers=8)"). The statistics are
// benchstat's own, computed with golang.org/x/perf's benchproc and
// benchmath: the median with its 95% confidence interval
// (benchmath.AssumeNothing), the Mann-Whitney U test of each strategy
// against the baseline (blocking, unless Options name another), and a
// geomean row. A test runs `go tool benchstat` on a sample run to keep
// them equal.
//
// On top of benchstat, each comparison shows a speedup: how many times
// better than the baseline, in the unit's direction (baseline/value for
// sec/op, value/baseline for tasks/s; see Set.Better). Every cell also
// carries the noise of its rounds (Cell.CV, the coefficient of variation
// of sec/op) and its task errors (Cell.MaxErrors): the tables mark a cell
// whose CV exceeds Options.MaxCV (5 % by default) with "!" and one with
// failed tasks with "✗", and explain each mark once under the table.
// UnstableCells lists the unstable cells with the likely cause read from
// the shape of their rounds (one outlier, two levels, a drift, short
// rounds, noise) and the cure, and WriteUnstable prints them as a run's
// closing warning, as pyperf warns that a benchmark seems unstable.
//
// Set.Verdicts weighs each workload's strategies on throughput and tail
// latency: the fastest (geomean sec/op), the one with the best p99, and
// the trade-off in one line when they differ. A strategy that failed a
// cell or had task errors in any counted round is never named: failed
// tasks are not work done. A failed cell shows as FAILED, never as a
// number. Set.Bandwidth relates every cell that reports B/s (dot,
// stream) to the fastest stream cell of the same set: the memory
// bandwidth this machine delivered in that run; WriteTables and the
// reports end with that table when there is one.
//
// Compare judges a new run against an old one as a CI gate: benchstat's
// test per cell at α = 0.05, a correction for the number of cells
// (Benjamini–Hochberg by default, which bounds the share of false
// regressions among those flagged, so that a change across a large
// matrix is still caught; Holm's as an option), and a threshold.
// WriteDiff writes the verdicts, listing the cells and units that one
// side lacks. Calibrate reads an A/A comparison as a measurement of
// noise and says what the gate can detect at it (the minimal detectable
// effect per cell, the rounds needed for 5 %), and Simulate measures the
// gate's power by slowing one side of an A/A pair by a known amount.
//
// The report of a run folder (report.md and report.html, with charts) is
// package results/report's, built on these tables.
//
// WriteTables renders everything as text (box-drawing or ASCII),
// Markdown, CSV, or JSON (WriteJSON; the schema is docs/json.md).
// Options.Compact fits text tables to a terminal of Options.Width
// columns (120): strategy names without parameters, speedups without
// benchstat's deltas and p-values, strategies as rows when the table is
// too wide, and a table split when still too wide; one unit prefix per
// column. Options.Summary writes the verdicts and one table per workload
// on sec/op:
//
//	set, err := results.Read("out/latest/bench.txt")
//	if err != nil {
//		return err
//	}
//	opts := results.Options{Format: results.Markdown} // DefaultUnits, vs blocking
//	return results.WriteTables(os.Stdout, set, opts)
//
// which writes the verdict lines, then per workload and unit tables such as
//
//	Mandelbrot · sec/op (lower is better) · median ± 95% CI · vs blocking
//	│ Mandelbrot          │      blocking │ pool(workers=8) │                 vs blocking │
//	│ width=512/iter=64-2 │ 51661.5n ± 2% │   26399.0n ± 6% │ 1.96× -48.90% (p=0.002 n=6) │
//
// MachineTables compares runs from several machines (Run, MachineOf,
// LabelMachines): a table per workload and unit with a row per strategy
// and a column per machine (each run's median or geomean, the speedup
// against the baseline on that machine, and the rank there), and
// MachineVerdicts gives each workload's winner on each machine;
// WriteMachines writes them in every format (JSON: JSONMachines, schema
// concbench.machines).
package results
