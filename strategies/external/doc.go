// Package external runs concurrency strategies in other processes and
// languages: the seed articles' Python systems (threads, asyncio, uvloop,
// gevent, Tornado, Twisted) measured on the same verified workloads as the
// Go strategies.
//
// A [Program] is a strategies.Strategy whose Run starts a child process
// (argv, no shell) and speaks a small line protocol with it, documented in
// PROTOCOL.md: the job goes to the child's stdin as one JSON line (every
// task's steps, the shared input once, the backend addresses, the value
// size, the per-request timeout, the strategy's parameters); the child
// dials its connections, prints {"ready":true}, waits for "go", runs the
// tasks its own way and prints one JSON line per task and a final
// {"done":true}. A job of several passes sends "repeat" with the job, and
// the child runs the task set that many times, a pass after another
// ([Program.Repeats] says a child does; one that does not gets one pass a
// round). The harness keeps the clock: the timed region starts when
// the child is ready, a task ends when its line arrives, and every result is
// checked against the Go reference bit for bit as for any strategy. A child
// that hangs is killed when the context ends; one that crashes or prints
// garbage fails the run with the tail of its stderr in the error.
//
// The Python strategies (py-blocking, py-threads, py-pool, py-asyncio,
// py-uvloop, py-gevent, py-tornado, py-twisted) are scripts embedded in the
// binary (python/), run by Debian's /usr/bin/python3. Each is available when
// that interpreter imports its system's module; otherwise `concbench list`
// says which apt-get command installs it (see [InstallCommand]).
// py-stackless is registered but never available: no Stackless Python
// package can be had.
//
// Adding a strategy in another language is a program that speaks
// PROTOCOL.md plus a registration:
//
//	strategies.Register(&strategies.Definition{
//		Name: "rust-tokio",
//		Make: func(params.Set) (strategies.Strategy, error) {
//			return &external.Program{Name: "rust-tokio", Argv: []string{"/usr/local/bin/cb-tokio"},
//				Cores: runtime.NumCPU(), InFlight: 256}, nil
//		},
//	})
package external
