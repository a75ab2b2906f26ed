// Package reactor is the event-loop strategy: the model of asyncio, Tornado,
// Twisted and libev with one loop, and of nginx and gnet with a loop per
// core. It registers itself as "reactor" with the strategies registry.
//
// A loop is one goroutine locked to its OS thread (runtime.LockOSThread)
// that owns an epoll instance and raw non-blocking TCP sockets to the
// backends, made with unix.Socket and driven with unix.Read and unix.Write:
// the net package, whose netpoller is what the goroutines strategy measures,
// is never on the hot path. Each admitted task is a small state machine
// walked by its workloads.Cursor: a compute step runs, a fetch step queues
// a RESP GET on a free connection and parks the task in that connection's
// FIFO (replies come back in request order), and the reply moves the task
// on, so a dependent key (webrequest's second GET) is computed from the
// first reply before it is sent. The same loops also serve serve mode's
// web endpoint (Serve, below). The files split as gnet and netpoll split
// theirs:
//
//	reactor.go             registration, parameters, Concurrency, ErrTimeout
//	reactor_other.go       the stand-in where there is no epoll: unavailable
//	poller_linux.go        epoll and the eventfd that wakes a loop
//	conn_linux.go          one connection: non-blocking connect, AUTH first, reads, partial writes
//	inbuf.go               its read buffer: replies split across reads, many in one
//	backendconn_linux.go   a backend connection's events, reads to EAGAIN, batched writes: both loops'
//	loop_linux.go          the loop: events, tasks' replies, timeouts, failures
//	task_linux.go          tasks as state machines: admission, compute, fetch, finish
//	offload_linux.go       the worker pool for offload=on
//	timer.go, fifo.go      the deadline heap and the per-connection queue
//	run_linux.go           Run: setup outside the timed region, then the loops
//	serve_linux.go         Serve: the server's loops on one listening socket
//	serve_loop_linux.go    a serve loop: accepts, client reads and writes, timers, lookups
//	serve_client_linux.go  one accepted connection: its socket, session and deadline
//	serve_session.go       a connection's HTTP side without I/O: parsing, answers in order
//	serve_backend_linux.go a serve loop's backend connections and a page's two lookups
//	serve_other.go         Serve's stand-in where there is no epoll
//
// The tests: reactor_test.go (every workload verified, descriptors, faults,
// timeouts, pipelining), buffers_test.go (requests and replies larger than
// the socket buffers, dripped replies), inbuf_test.go and FuzzInbuf,
// queue_test.go (fifo and timer heap), serve_test.go (the serve
// conformance suite and the server's own bounds), serve_session_test.go
// (FuzzSession: a session fed in random pieces), bench_test.go.
//
// # Parameters
//
//   - loops (default 1): event loops. P (or 0) is one per core, GOMAXPROCS.
//     Loops claim tasks one at a time from a shared counter, so they stay
//     balanced whatever each task costs. A job of several passes runs them
//     one after another: each loop returns to Run at the end of a pass,
//     keeping its thread, connections and state, and all start the next
//     together.
//   - conns (default 0: 256 split over the loops): connections per loop to
//     each backend. The total of 256 is the in-flight level of the other
//     strategies' defaults, so loops=1 and loops=P differ only in loops.
//   - depth (default 1): requests in flight per connection. 1 matches the
//     other strategies' one request per connection; more pipelines.
//   - offload (default off): off runs compute steps in line on the loop's
//     thread, blocking every other task of the loop meanwhile: the lesson of
//     a CPU-bound coroutine in asyncio. on sends them to a pool of
//     GOMAXPROCS goroutines, which hand the task back through the loop's
//     eventfd: asyncio's run_in_executor.
//
// A loop admits at most conns × depth tasks at once, so a fetch always
// finds a connection with room. A task's start is its admission.
//
// # Time
//
// Each connection has at most one timer: the deadline of its oldest request
// (the job's FetchTimeout from when it was queued), kept in a heap whose
// earliest entry is epoll_wait's timeout, so an idle loop sleeps in the
// kernel. A request past its deadline fails its task with an error wrapping
// ErrTimeout, and its connection is closed (a late reply would be taken for
// the next request's) and replaced by a fresh socket in the same slot. The
// same happens on a reset, an EOF mid-reply or a protocol error. Tasks
// queued behind the failed request are re-issued in order on the new socket
// with fresh deadlines; at the default depth 1 there are none.
//
// # Setup and cancellation
//
// Run dials every connection and waits for the handshakes before calling
// job.Begin, so dialling is outside the timed region; where the backend
// wants AUTH (job.Credentials), each socket sends it ahead of its first
// request, and a fresh socket that replaces a failed one does too. When ctx is done, the
// loops are woken through their eventfds and return ctx.Err() at once;
// tasks in flight stay unfinished, as the Strategy contract allows. Every
// descriptor is closed and every goroutine Run started has returned when
// Run returns. The loops and workers are started inside Run, so they carry
// the caller's profiler labels (pprof.Do), and receive ctx for pprof.Label.
//
// A job without fetch steps opens no socket: the loops run the cursors in
// line (one core's worth per loop) or hand them to the workers.
//
// Placement: the loops are ordinary locked threads; the scheduler and the
// kernel decide their cores among the process's CPUs (with concbench run
// --placement, the strategy's: a locked thread inherits the mask of the
// thread that made it), as they do for the in-process backend's
// goroutines. A loop blocked in epoll_wait holds its P until the runtime's
// monitor hands it off, which an in-process backend can feel with loops=P.
//
// # Serving
//
// Serve (serve_linux.go) makes the loops a web server, the model of an
// asyncio server with one loop and of nginx or gnet with loops=P. Every
// loop polls the one listening socket (EPOLLEXCLUSIVE: a new connection
// wakes one loop, which accepts it and keeps it), reads, parses HTTP
// (serve/httpwire), and writes a client's pipelined answers in order, all
// non-blocking and edge-triggered; a page's two lookups are a state
// machine on the loop's own backend connections (conns per loop, depth
// requests on each, AUTH first where the backend wants it), the second
// key computed from the first reply on the loop, and the render runs in
// line. No goroutine per connection or request. A lookup that finds no
// connection free waits in the loop's queue, up to the fetch timeout, then
// answers 502; the slowloris and idle bounds are timers in the same
// deadline heap. offload has no effect on serving.
//
// On systems without epoll the strategy is registered but unavailable.
//
//	def, _ := strategies.Lookup("reactor")
//	s, _, _ := def.New(params.Values{"loops": "P", "offload": "on"})
//	err := s.Run(ctx, strategies.NewJob(spec, addrs, time.Second))
package reactor
