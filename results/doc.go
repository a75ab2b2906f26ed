// Package results turns concbench runs into comparisons: it reads the Go
// benchmark format that the harness writes (bench.txt), including the
// "--- FAIL:" records of failed cells, and builds benchstat's tables
// with strategies as columns.
//
// A Set holds what Read found: the results, the failures and the unit
// metadata. Set.Tables groups it into one Table per workload (the
// benchmark base name, such as Mandelbrot) and unit, with a row per set
// of workload parameters and a column per strategy (the /strategy
// name key, with its parameters folded in, as "pool(workers=8)"). The
// statistics are benchstat's own, computed with golang.org/x/perf's
// benchproc and benchmath: the median with its 95% confidence interval
// (benchmath.AssumeNothing), the Mann-Whitney U test of each strategy
// against the baseline (blocking, unless Options name another), and a
// geomean row. A test runs `go tool benchstat` on a sample run to keep
// them equal.
//
// On top of benchstat, each comparison shows a speedup: how many times
// better than the baseline, in the unit's direction (baseline/value for
// sec/op, value/baseline for tasks/s; see Set.Better), and Winners names
// each workload's fastest strategy. A failed cell shows as FAILED,
// never as a number. Set.Bandwidth relates every cell that reports B/s
// (dot, stream) to the fastest stream cell of the same set: the memory
// bandwidth this machine delivered in that run; WriteTables and the
// reports end with that table when there is one.
//
// Compare judges a new run against an old one as a CI gate (benchstat's
// test per cell, Holm's correction, a threshold), WriteDiff writes the
// verdicts, and Calibrate reads an A/A comparison as a measurement of
// noise.
//
// The report of a run folder (report.md and report.html, with charts) is
// package results/report's, built on these tables.
//
// WriteTables renders everything as text (box-drawing or ASCII),
// Markdown or CSV (JSON is for comparisons only); Options.Compact
// shortens text tables for a terminal (strategy names without
// parameters, speedups without benchstat's deltas and p-values):
//
//	set, err := results.Read("out/latest/bench.txt")
//	if err != nil {
//		return err
//	}
//	opts := results.Options{Format: results.Markdown} // DefaultUnits, vs blocking
//	return results.WriteTables(os.Stdout, set, opts)
//
// which writes, per workload and unit, tables such as
//
//	Mandelbrot · sec/op (lower is better) · median ± 95% CI · vs blocking
//	│ Mandelbrot          │      blocking │ pool(workers=8) │                 vs blocking │
//	│ width=512/iter=64-2 │ 51661.5n ± 2% │   26399.0n ± 6% │ 1.96× -48.90% (p=0.002 n=6) │
package results
