// Package profiles captures, renders and explains the profiles of a
// concbench run: where each cell's time went, not only how long it took.
//
// The harness gives every batch cell profiled passes after its counted
// rounds, so the timed rounds never run under a profiler (serve cells,
// whose rounds have no Begin, are not profiled). A Pass repeats the
// cell's round until its profile holds enough samples or its time is up
// (Targets: by default 500 samples or 2 s, whichever comes first;
// concbench run caps the time at 1 s, --profile-time, and QuickTargets at
// 200 ms), and
// samples only what the cell's figures measure: from the strategy's
// Job.Begin to its last task's end (Round.Begin and Round.End, the job's
// hooks). Two kinds of pass, never at once:
//
//   - a CPU pass (CPUPass): the CPU profile, at 250 samples a CPU-second
//     per thread (package cpuprofile; pprof alone samples at 100), and the
//     allocation profile of the same timed parts; the CPU samples of setup
//     and teardown go to a profile of their own, labelled phase=setup;
//     optionally block and mutex profiles and a runtime/trace execution
//     trace. The harness runs the strategy under pprof.Do with the labels
//     strategy, workload and params, which the goroutines it starts
//     inherit; for I/O cells it can add the backend process's CPU profile
//     of the same rounds (Pass.AddBackendCPU), labelled side=backend;
//   - for cells with a backend, a wall-clock pass (WallPass,
//     github.com/felixge/fgprof): every goroutine, running or waiting,
//     which shows where I/O strategies wait. It stops the world 99 times
//     a second, which is why it never shares a pass with the CPU profile.
//
// Each profile records its Cell in its comments (CellOf reads it back) and
// on every sample as labels, so a profile file explains itself and merged
// profiles can still be told apart. In a run folder a cell's passes write
//
//	profiles/<cell>.cpu.pprof          CPU, timed part, side=client
//	profiles/<cell>.setup.pprof        CPU outside it (setup, teardown), phase=setup
//	profiles/<cell>.alloc.pprof        allocations, timed part
//	profiles/<cell>.backend-cpu.pprof  the backend's CPU, side=backend (I/O cells)
//	profiles/<cell>.wall.pprof         wall clock, timed part (cells with a backend)
//	profiles/<cell>.{block,mutex}.pprof, <cell>.trace   with tracing
//	profiles/breakdown.md              where the time went (WriteBreakdown)
//	flame/<cell>.html, .backend-cpu.html, .wall.html    flame graphs (WriteFlameGraphs)
//
// at the paths that package rundir gives (<cell> is rundir.CellStem of the
// benchmark name).
//
// Flame graphs are pprof's own: the driver package runs as `pprof -http`
// would, over the profile in memory, and its /flamegraph page is captured
// instead of served. The page carries its scripts and styles inline and
// opens from file:// with no network; menus that need pprof's server are
// hidden. For the full UI (top, graph, source, tag focus, differences) use
// `concbench view RUN`, which serves the merged profiles of the selected
// cells through the same driver (Load, LoadBase, Handler, Serve), or one
// file at a time:
//
//	go tool pprof -http=127.0.0.1:0 out/latest/profiles/CELL.cpu.pprof
//
// The breakdown assigns each sample to a Category (workload kernel,
// strategy code, syscalls and netpoll, scheduler and sync, GC, the rest of
// the runtime, harness, ...) by the rule documented on Classify, lists
// each cell's top functions, and shows every share with its sample count.
// Profiles are samples: a share p from n samples is known within
// ±1.96·√(p(1−p)/n) (SamplingError), so a profile with fewer than
// MinBreakdownSamples (200) shows "too few samples (n)" instead of
// shares, and the breakdown names the cells that need a longer profile.
// WriteBreakdown writes markdown (breakdown.md), WriteBreakdownText
// tables that fit a 120-column terminal:
//
//	if err := profiles.WriteBreakdownText(os.Stdout, "out/latest", profiles.TextOptions{}); err != nil { ... }
//
// docs/profiles.md explains the passes, the targets and the sampling error
// for readers of a report.
package profiles
