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
// Sub-packages add the reactor (an epoll loop), simd (vector kernels and
// lockstep batches), the out-of-process strategies (external: the Python
// systems) and the Go ecosystem's servers (ecosystem, serve-only). Every
// strategy runs the same [workloads.Spec] and records each task through
// [Job.Finish] (usually via [Job.RunTask]) into a compact [Record]; the
// harness checks each result against the reference.
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
// [PanicError]. Every connection logs in with [Job.Credentials] first,
// when the backend wants AUTH (the harness sets them with
// [WithCredentials]): [Conns] sends AUTH when it dials, the reactor queues
// it ahead of a socket's first request, the Python children get it in
// their job line.
//
// Every fetch must go to the job's backends: their values depend on a
// secret of the run that only the backend and the harness's verifier
// hold. A task run with no fetcher fails (workloads.ErrNoFetcher), one fed
// values made locally fails verification, and the harness checks every
// round against the backend's own count of the requests it answered and
// of those it had in flight, which must stay within the strategy's
// [Concurrency] (docs/measuring.md, "Verification").
//
// # Serving
//
// Every strategy here is also a web server model for serve mode: its
// instance implements serve.Server, a sibling interface of [Strategy]
// (serve_blocking.go, serve_threads.go, serve_goroutines.go and
// serve_pool.go, sharing serve_listener.go; the reactor's and simd's
// servers are in their packages, the Python servers in package external).
// Each serves serve's page endpoint in the strategy's own model (package
// serve describes them): its lookups go to the backend, logged in with
// serve.Env's Credentials, and the load generator verifies every page
// against the reference of the backend's secret. A strategy that
// cannot serve is simply not a serve.Server, and a Definition with
// ServeOnly is a server and nothing else: package strategies/ecosystem
// registers net/http, gnet and fasthttp that way, and their Run refuses
// every job. `concbench list` says which strategies serve.
//
// Adding a strategy touches one file plus its test: the file's init calls
// [Register] with a [Definition], whose Order places it among the others
// (in listings, the default matrix and every table). A strategy that needs
// a sub-package of its own also needs that package's blank import in
// cmd/concbench (main.go imports reactor and simd, external_import.go
// external, list_cmd.go ecosystem).
//
//	def, _ := strategies.Lookup("pool")
//	s, _, _ := def.New(params.Values{"workers": "8"})
//	job := strategies.NewJob(spec, nil, time.Second, strategies.Repeat(3))
//	err := s.Run(ctx, job) // 3 × len(spec.Tasks) records in job.Records()
package strategies
