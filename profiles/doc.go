// Package profiles captures, renders and explains the profiles of a
// concbench run: where each cell's time went, not only how long it took.
//
// The harness gives every cell one profiled pass after its counted rounds
// (harness.Profiling), so the timed rounds never run under a profiler. For
// the pass, StartCapture and (*Capture).Stop take:
//
//   - a CPU profile (runtime/pprof, 100 Hz); the harness runs the strategy
//     under pprof.Do with the labels strategy, workload and params, which the
//     goroutines it starts inherit;
//   - an allocation profile: the "allocs" profile after the pass minus the
//     one before (Delta), at the default sampling rate of one sample per
//     512 KiB so the timed rounds' allocation accounting is untouched;
//   - for cells with a backend, a wall-clock profile (github.com/felixge/fgprof)
//     of every goroutine, running or waiting: where I/O strategies wait;
//   - optionally block and mutex profiles and a runtime/trace execution trace.
//
// Each profile records its Cell in its comments (CellOf reads it back) and
// on every sample as labels, so a profile file explains itself and merged
// profiles can still be told apart. In a run folder it writes
//
//	profiles/<cell>.cpu.pprof, .alloc.pprof, .wall.pprof (.block, .mutex, .trace)
//	profiles/breakdown.md   where the time went (WriteBreakdown)
//	flame/<cell>.html       static flame graph (WriteFlameGraph; <cell>.wall.html for the wall clock)
//
// at the paths that package rundir gives (<cell> is rundir.CellStem of the
// benchmark name). Profiles, flame graphs and the breakdown are written
// whole with rundir.WriteFile; the execution trace streams into its file
// during the pass.
//
// Flame graphs are pprof's own: the driver package runs as `pprof -http`
// would, over the profile in memory, and its /flamegraph page is captured
// instead of served. The page carries its scripts and styles inline and
// opens from file:// with no network; menus that need pprof's server are
// hidden. For the full UI (top, graph, source, tag focus, differences) use
// `concbench view RUN`, which serves the merged profiles of the selected
// cells through the same driver (Load, LoadCell, Handler, Serve), or one
// file at a time:
//
//	go tool pprof -http=127.0.0.1:0 out/latest/profiles/CELL.cpu.pprof
//
// The breakdown assigns each sample to a Category (workload kernel,
// strategy code, syscalls and netpoll, scheduler and sync, GC, the rest of
// the runtime, harness, ...) by the rule documented on Classify, and lists
// each cell's top functions:
//
//	var b strings.Builder
//	if err := profiles.WriteBreakdown(&b, "out/latest"); err != nil { ... }
//	fmt.Print(b.String()) // markdown tables, one per workload, strategies as columns
//
// Profiles are samples: a cell whose pass is short has few of them (a pass
// repeats the round until harness.Profiling.MinDuration, 250ms by default),
// and the percentages of a cell with fewer than about 50 CPU samples are
// rough.
package profiles
