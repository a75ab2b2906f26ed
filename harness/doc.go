// Package harness runs the matrix: every cell (a built workload spec × a
// strategy with its parameters) for warm-up rounds that are not counted and
// then count counted rounds, strategies interleaved round by round (A B C A
// B C, never all rounds of one strategy back to back, so drift on a noisy
// machine spreads over every strategy alike).
//
// One round of a cell runs every task of the spec once. The harness verifies
// each task's result against the scalar reference (a wrong result fails the
// cell; a fetch error is counted in errors/op), measures wall time from the
// strategy's Begin to its last task, exact per-task latency percentiles from
// every task, CPU time (getrusage), allocations (runtime/metrics), peak
// goroutines and OS threads, and the bound the strategy's model allows, and
// appends one Go benchmark line per round to bench.txt with write-then-rename
// so an interrupted run keeps every finished cell.
//
//	plan, err := harness.NewPlan(harness.Selection{Workloads: []string{"mandelbrot"}})
//	run, err := harness.Run(ctx, plan, harness.Options{Count: 5, OutDir: "out"})
//	fmt.Println(run.Dir) // out/20261123-131900
package harness
