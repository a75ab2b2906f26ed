// Package harness runs the matrix: every cell (a built workload spec × a
// strategy with its parameters) for warm-up rounds that are not counted and
// then Count counted rounds, strategies interleaved round by round (A B C A
// B C, never all rounds of one strategy back to back, so drift on a noisy
// machine spreads over every strategy alike).
//
// A round of a cell runs the spec's task set as many times (passes) as it
// takes to last the round time (Options.RoundTime, as `go test -benchtime`
// sizes b.N): the cell's first warm-up round calibrates that number, and
// every later round of the cell runs it. Each pass is a closed batch, as a
// round of one pass would be, so the figures, all per task, do not depend
// on the number of passes. The harness verifies every task of every pass
// against the scalar reference (a wrong result fails the cell, and so do
// more failed tasks than Options.MaxErrors allows), measures wall time from
// the strategy's Begin to its last task, exact per-task latency
// percentiles of the verified tasks, CPU time, minor page faults and
// context switches (getrusage), allocations (runtime/metrics), peak
// goroutines and OS threads (sampled in a short round of the warm-up, not
// in any timed one), and the
// bound the strategy's model allows, and appends one Go benchmark line per
// counted round to bench.txt.
//
// Nothing the harness does sits inside a counted round: the tasks' records
// live in storage that every round reuses (strategies.Records), touched
// before the round starts; no sampler wakes; the garbage of earlier rounds
// is collected before. A RoundCheck (Options.Checks) checks each round
// from outside the strategy, and Options.Observe receives the run's
// progress as events (TextProgress prints them).
//
//	plan, err := harness.NewPlan(harness.Selection{Workloads: []string{"mandelbrot"}})
//	if err != nil { ... }
//	rec, err := harness.Record(plan, harness.Options{Count: 10, Warmup: 1}, harness.RecordOptions{Out: "out"})
//	if err != nil { ... }
//	sum, err := rec.Run(ctx)
//	fmt.Println(rec.Dir, len(sum.Results), len(sum.Failed)) // out/20261123-131900 ...
package harness
