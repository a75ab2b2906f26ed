// Package perfcount counts operating-system events of the whole process
// with Linux's perf_event_open: minor page faults, context switches and
// CPU migrations (software events, which every Linux kernel counts), and
// CPU cycles, instructions and cache misses (hardware events, where the
// kernel exposes a performance-monitoring unit; virtual machines often do
// not). The harness reads the counters in the same snapshots as its
// getrusage figures (at the strategy's Begin and after the strategy
// returns) and reports them per task: migrations/op and, where the
// hardware counts, IPC (instructions per cycle) and cache-misses/op.
// Faults and context switches come from getrusage (faults/op, ctxsw/op),
// so this package's own counts of them are not written.
//
// The counters cover every thread of the process, those running when Open
// is called and every thread they start later (perf's inherit, limited to
// threads by inherit_thread), and no child process: the backends and the
// Python strategies run in children of their own, and their faults are not
// the strategy's. Reading them costs one read(2) per thread that existed
// at Open and per group (software, hardware): a dozen system calls for a
// Go process on two cores.
//
// What cannot be counted is absent, never zero: Open opens what it can,
// and Missing says in one line per group what is not counted and why (on
// this project's VM, `perf stat` reports cycles and instructions as "not
// supported", and Missing says "hardware counters (cycles, instructions,
// cache-misses): not counted: the kernel exposes no such events here
// (perf_event_open cycles: no such file or directory); virtual machines
// often have no virtual PMU").
//
//	c := perfcount.Open() // once, at the start of a run
//	defer c.Close()
//	for _, why := range c.Missing() { log.Print(why) }
//	before, _ := c.Read()
//	runRound()
//	after, _ := c.Read()
//	for _, u := range after.Sub(before).PerTask(tasks) { fmt.Printf(" %g %s", u.Value, u.Name) }
package perfcount
