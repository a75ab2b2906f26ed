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
// context switches (getrusage), CPU migrations and, where the CPU counts
// them, instructions per cycle and cache misses (package perfcount), the
// backend processes' CPU time (backend-cpu-sec/op), allocations
// (runtime/metrics), peak goroutines and OS threads (sampled in a short
// round of the warm-up, not in any timed one), and the bound the
// strategy's model allows, and appends one Go benchmark line per counted
// round to bench.txt.
//
// Nothing the harness does sits inside a counted round: the tasks' records
// live in storage that every round reuses (strategies.Records), touched
// before the round starts; no sampler wakes; the garbage of earlier rounds
// is collected before. Options.Observe receives the run's progress as
// events (TextProgress prints them).
//
// # Backends and verification
//
// A BackendProvider starts the servers that fetch steps talk to: the
// built-in backend as child processes (ChildBackends, the default of
// concbench run; placed on CPUs of their own by PlaceBackends), in this
// process (InProcessBackends), on other machines (RemoteBackends,
// concbench://TOKEN@host:port,...), or real Redis servers (RedisBackend,
// redis://user:password@host:port,...). Every provider draws a secret for
// the run at its first Prepare, hands it to its servers (a child's stdin,
// a remote server's authenticated control connection, the SETs that load
// a Redis) and gives each spec it prepares the reference of that secret
// (workloads.Spec.UseSecret); no strategy ever sees it, so a strategy that
// answers a fetch locally fails verification (verify_secret.go). A
// provider whose servers want AUTH hands its credentials to every job
// (BackendCredentials, strategies.WithCredentials).
//
// A RoundCheck (Options.Checks) checks each round from outside the
// strategy, before its setup and after its tasks are verified. Every
// provider above is one, and Run adds it: before each round of an I/O cell
// it opens a measurement window on every server, and after it requires
// the servers' own counts to match the round's fetches (exactly, when no
// task failed) and their most requests in flight to stay within the
// strategy's Concurrency (verify_backend.go). A Redis gives its GET count
// (INFO commandstats) but no count in flight.
//
// # Serve cells
//
// The serve workload's cells (Cell.Serve, made by NewPlan when a serve
// workload is selected) run the strategy's server model instead of a
// batch of tasks. A serve round (serve_round.go) prepares the backend as
// for any I/O cell, starts the server on 127.0.0.1 (in this process for
// the Go models, a child process for the py-* ones), runs the load
// generator as a child process (`concbench loadgen`, serve.LoadChild, on
// the CPUs placed for it), and stops the server. The generator offers
// the cell's rate open-loop, verifies every page against the reference
// of the backend's secret and counts latency from each request's
// intended send time; the round reads the server's, the backend's and
// (from the generator) the generator's CPU time over the same span
// (serve_process.go). FormatServeResult writes the round's line
// (serve_bench.go: req/s, p50 to max latency, errors/op, cpu-sec/op,
// loadgen-cpu-sec/op, backend-cpu-sec/op, lag-p99-sec/op, under-offered).
// A wrong page fails the cell; failed requests are errors/op, the
// measurement past saturation. Serve cells are not profiled.
// StartServer (serve_standalone.go) starts one strategy's server model
// alone, where it is told to listen (loopback unless AllowRemote), and
// gives the load job (RunningServer.LoadJob) with the backend's secret:
// the `concbench serve` command.
//
// # Profiles
//
// With Options.Profile (Profiling), each batch cell gets profiled passes
// after its counted rounds (profile.go): a CPU pass (CPU and allocation
// profiles, and the child or remote backends' CPU profile of the same
// timed parts, side=backend) and, for cells with a backend, a wall-clock
// pass. Each repeats rounds until its profile holds Targets.MinSamples
// samples or Targets.MaxTime has gone by, and samples only from the
// strategy's Begin to its last task's end; setup and teardown go to a
// profile of their own (phase=setup). Package profiles does the sampling;
// docs/profiles.md says what the profiles cover.
//
//	plan, err := harness.NewPlan(harness.Selection{Workloads: []string{"mandelbrot"}})
//	if err != nil { ... }
//	rec, err := harness.Record(plan, harness.Options{Count: 10, Warmup: 1}, harness.RecordOptions{Out: "out"})
//	if err != nil { ... }
//	sum, err := rec.Run(ctx)
//	fmt.Println(rec.Dir, len(sum.Results), len(sum.Failed)) // out/20261123-131900 ...
package harness
