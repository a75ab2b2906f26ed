// Package strategies defines how a concurrency strategy runs a workload, the
// registry of strategies, and the four plain Go strategies:
//
//   - blocking: one task after another on the calling goroutine, one
//     connection per backend, synchronous I/O (`db.write(); print('Finished')`).
//   - threads: an OS thread per task (a goroutine locked to a fresh thread
//     that exits with it), at most max at once: thread-per-request.
//   - goroutines: a goroutine per task, connections from a bounded pool: the
//     gevent/greenlet model.
//   - pool: N long-lived workers fed from a channel, each with its own
//     connections: thread pools, run_in_executor.
//
// Sub-packages add the reactor (an epoll loop) and simd (vector kernels and
// lockstep batches). Every strategy runs the same [workloads.Spec] and records
// each task through [Job.Finish] (usually via [Job.RunTask]) into a compact
// [Record]; the harness checks each result against the reference.
//
// A [Job] runs the spec's task set [Job.Passes] times, so that a round of a
// cheap workload lasts long enough to time: job task i is spec task i mod N
// ([Job.SpecTask], [Job.Cursor]) in pass i / N ([Job.Pass]). Each pass is a
// closed batch: a strategy starts the tasks of a pass once every task of
// the pass before has finished, so a pass overlaps as much as its N tasks
// allow, however many passes there are.
//
// A strategy does its setup (dialling connections, starting workers) first,
// then calls [Job.Begin]; the harness times from Begin to the last task's
// Finish, so setup and teardown are outside the measured wall time. A
// strategy that never calls Begin fails its cell.
//
// The Go strategies share their connection handling: [Job.Dial] opens a
// [Conns], one connection a backend, whose Get serves one task at a time
// and whose GetMany sends a pipelined batch (simd's lockstep rounds);
// [Job.DialPool] lends such sets. A null or error reply fails only its
// request; a broken connection is dialled again. A strategy with its own
// I/O (the reactor's raw sockets) still takes its addresses from
// [Job.BackendAddrs], and every strategy records a panicking task with
// [PanicError].
//
// Adding a strategy touches one file plus its test: the file's init calls
// [Register] with a [Definition], whose Order places it among the others
// (in listings, the default matrix and every table). A strategy that needs
// a sub-package of its own also needs that package's blank import in
// cmd/concbench/main.go, as reactor and simd have.
//
//	def, _ := strategies.Lookup("pool")
//	s, _, _ := def.New(params.Values{"workers": "8"})
//	job := strategies.NewJob(spec, nil, time.Second, strategies.Repeat(3))
//	err := s.Run(ctx, job) // 3 × len(spec.Tasks) records in job.Records()
package strategies
