// Package external runs concurrency strategies in other processes and
// languages: the seed articles' Python systems (threads, asyncio, uvloop,
// gevent, Tornado, Twisted) measured on the same verified workloads as the
// Go strategies.
//
// A [Program] is a strategies.Strategy whose Run starts a child process
// (argv, no shell) and speaks a small line protocol with it, documented in
// PROTOCOL.md: the job goes to the child's stdin as one JSON line (every
// task's steps, the shared input once, the backend addresses and the AUTH
// their connections send first, if any, the value size, the per-request
// timeout, the strategy's parameters; never the backend's secret, so the
// child can learn a value only by asking the backend for it); the child
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
// binary (python/), written to a fresh directory before a run. Each runs on
// one interpreter, chosen in this order: the one [SetPython] names (the
// run and list commands' --python flag), else $CONCBENCH_PYTHON
// ([EnvPython]), else the first python3 on PATH that imports the
// strategy's module (one that also imports numpy first: without it the
// float32 kernels take a slower pure-Python path), else Debian's
// /usr/bin/python3 ([DebianPython]), where Debian's packages install. A
// virtualenv's or pyenv's python3 works as well as Debian's. The
// interpreter runs with -E -s, so PYTHONPATH and the user's site-packages
// (~/.local) are ignored: the modules must be installed into the
// interpreter itself. A strategy whose module no interpreter imports is
// unavailable, and `concbench list` says which interpreters were tried
// and both cures: the apt-get command ([InstallCommand]) or pip into that
// interpreter ([PipInstallCommand]); [PythonOf] says which interpreter a
// strategy would run on. py-stackless is registered but never available:
// no Stackless Python package can be had.
//
// # Servers
//
// In serve mode each Python strategy is also a server model: it
// implements serve.Server by running its system's own server, a
// python/serve_*.py script (http.server, ThreadingHTTPServer, a
// ThreadPoolExecutor behind http.server's handler, asyncio.start_server on
// asyncio's loop or on uvloop's, gevent.pywsgi, tornado.web, twisted.web;
// [PythonServer]), on the strategy's interpreter. A [ServerProgram] runs
// any such server in another process, in any language, by
// serve/PROTOCOL.md: the child inherits the listening socket as fd 3,
// reads one job line on stdin (the pages, the value size, the backend
// addresses and its AUTH, the timeouts, the model's parameters; never the
// secret), prints {"ready":true} once it accepts and its backend answers,
// serves until its stdin closes, then exits 0. It dies with this process
// (the parent-death signal on Linux, its stdin's end everywhere).
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
