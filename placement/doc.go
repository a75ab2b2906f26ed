// Package placement puts the parties of a run on CPUs of their own: the
// strategy under test (this process), the built-in backend's child
// processes, and serve mode's load-generator child. On a small machine
// they otherwise share every core, and where each lands changes what is
// measured: a 1-connection ping-pong between two processes on this
// project's 2-core VM has a median of 62 µs across cores and 1.8 µs on one
// core (../shared/MEASURED.md). A run that places its parties records the
// placement, so that runs are compared only with runs placed alike.
//
// A [Placement] names each role's CPUs; a role it does not name is left to
// the scheduler. [Parse] reads the flag's syntax and [Placement.String]
// writes it back:
//
//	strategy=0,backend=1             the strategy on CPU 0, the backends on CPU 1
//	strategy=0,2,backend=1,3         a comma then a number continues the role's CPU list
//	strategy=0-1 backend=2 loadgen=3 ranges as in taskset -c; items may be separated by spaces
//	none                             nothing placed (also the empty string)
//
// Roles may share CPUs (backend=1,loadgen=1). Every CPU must be one this
// process may use ([Allowed]: its affinity, within the cgroup's cpuset);
// [Apply] refuses others. `concbench run --placement` takes this syntax,
// writes the placement as String does on bench.txt's "placement:" line
// and in meta.json, and `concbench compare` refuses two runs whose lines
// differ (unless --allow-mismatch).
//
// # What placement means on Linux
//
// CPU affinity (sched_setaffinity) belongs to a thread, not a process, and
// a new thread or process starts with the mask of the thread that creates
// it. So:
//
//   - [Apply] pins this process by setting the mask of every thread it
//     has (listed in /proc/self/task, in passes until a pass finds every
//     thread pinned). Threads the Go runtime starts later, the threads the
//     reactor and the threads strategy lock, and processes started without
//     a role (the external strategies' interpreters, which are the
//     strategy under test) inherit it.
//   - [Start] starts a child with its role's CPUs from its first
//     instruction: it sets the mask of the thread that forks, for the
//     moment of the fork, then restores it. Setting a child's mask after it
//     started would miss the threads its runtime had started by then.
//   - A role that is not placed, while this process is pinned, gets the
//     CPUs this process had before Apply ([Applied.ChildCPUs]), not the
//     strategy's it would otherwise inherit.
//
// # GOMAXPROCS
//
// GOMAXPROCS is how many threads run Go code at once. Measured with Go
// 1.26.8 on Linux (TestApplyPinsEveryThreadAndGOMAXPROCS and
// TestRuntimeFollowsAffinityByItself check it):
//
//   - At start, the default GOMAXPROCS is the number of CPUs in the
//     process's affinity mask (bounded by a cgroup CPU quota).
//   - Since Go 1.25 the runtime re-reads the mask about once a second and
//     moves GOMAXPROCS to follow it, down and up again, as long as
//     GOMAXPROCS was neither set in the environment nor by
//     runtime.GOMAXPROCS (GODEBUG=updatemaxprocs=0 turns this off). With
//     every thread pinned to one of 2 CPUs it went from 2 to 1 about 1.1 s
//     later; with only the calling thread pinned it stayed 2 (the runtime
//     reads the mask on another thread), which is one reason Apply pins
//     every thread.
//   - runtime.NumCPU keeps the count from the start.
//
// Apply therefore calls runtime.SetDefaultGOMAXPROCS right after pinning,
// so the new value holds at once, before the run's header records it and
// before any cell runs, instead of changing under the first cell. When the
// GOMAXPROCS environment variable is set, Apply leaves it as the user set
// it (more Ps than pinned CPUs then time-share them). Cell names end in
// GOMAXPROCS (-1, -2), and strategies size themselves from it (pool's
// workers are 4×GOMAXPROCS), so a placed run's cells are not the unplaced
// run's cells: compare placed runs with placed runs.
//
// A child started on a set of CPUs sees only those from its start: a Go
// child's default GOMAXPROCS is their count.
//
// Elsewhere than Linux, [Apply] refuses any placement but none, and
// [Start] any set of CPUs, with [ErrUnsupported].
//
//	p, err := placement.Parse("strategy=0,backend=1")
//	if err != nil { ... }                   // wraps ErrBadPlacement: a usage error
//	applied, err := placement.Apply(p)      // before anything reads GOMAXPROCS
//	if err != nil { ... }
//	cmd := exec.Command(exe, "backend", "--control-stdin")
//	err = placement.Start(cmd, applied.ChildCPUs(placement.Backend))
package placement
