// Package serve is concbench's serve mode contract: the web endpoint every
// server model answers, the reference its answers are verified against,
// and the interface a server implements.
//
// In serve mode the strategy under test is the server, and a load
// generator (package serve/loadgen) sends it requests on a schedule. Each
// request is the webrequest workload's task: look up the session in the
// RESP backend, look up the user record the session names, render the
// page.
//
// # The endpoint
//
// HTTP/1.1 with keep-alive on 127.0.0.1. One resource:
//
//	GET /page/{id}      id in [0, Env.Pages), canonical decimal ("0", "17"; not "017", "+1")
//
// The handler of page id:
//
//  1. GET "session:{id}" from Env.Backends[0] (RESP, as the webrequest
//     task's first fetch). s = FNV-1a-64 of the reply (offset basis
//     14695981039346656037, prime 1099511628211).
//  2. GET "user:{s in lowercase hex, no leading zeros}" from the same
//     backend: the key depends on the first reply, so the lookups are
//     sequential. u = FNV-1a-64 of that reply.
//  3. Render: sum = mix(mix(0, s), u); r = workloads.Render(task id, sum,
//     u), the hash of the page head and table; digest = mix(sum, r). digest
//     equals the webrequest task's result for task id. mix(h, v) is
//     h = (h^v)·prime mod 2^64; h ^ h>>29.
//  4. Answer 200 with Content-Type "text/html; charset=utf-8",
//     Content-Length framing (never chunked), and the page as its body.
//
// The page is a first line, then the render kernel's 1 KiB table byte for
// byte (workloads.renderBody; RENDER_BODY in
// strategies/external/python/concbench_ext.py):
//
//	<!-- page {id} session {s} user {u} render {r} digest {digest} -->\n
//	<!doctype html><html>...</table></body></html>
//
// The first line is ASCII: id in decimal, the four hashes in lowercase hex
// without leading zeros, fields separated by one space, ended by one LF. A
// page of 128-byte values is about 1.1 KiB; see [AppendPage].
//
// A backend reply of the wrong size, an error reply, a timeout past
// Env.FetchTimeout or a broken backend connection answers 502 (the client
// connection may stay open). Any other path, or an id out of range or not
// canonical, answers 404. A query string is ignored. Frameworks whose
// routers normalise paths may answer other spellings otherwise (net/http
// redirects "/page//7"); the load generator only sends canonical paths.
//
// A request the server cannot or will not parse answers 400 (or the more
// precise 405, 413, 414, 431, 501, 505; see package serve/httpwire) and
// the server closes the connection, or the server closes it without an
// answer. Never a crash, never unbounded memory, and other connections go
// on. A request whose head does not arrive within Env.Limits.HeaderTimeout
// is dropped (slowloris). "Connection: close" and HTTP/1.0 without
// keep-alive close the connection after the response; pipelined requests
// are answered in order.
//
// The load generator checks the status and the whole body of every
// response against a [Reference], computed without a backend from the
// values the backend serves ([ValueFunc]): in a run those depend on the
// backend's secret, which the harness gives the load generator
// ([LoadJob]) and never a server, so a server that made its pages without
// asking the backend cannot pass.
//
// # Servers
//
// A [Server] serves on a listener until its context ends:
//
//	ref, _ := serve.NewReference(1000, 128, workloads.AppendValue)
//	env := serve.Env{Backends: []string{backendAddr}, Pages: 1000, ValueSize: 128}
//	r, err := serve.Start(ctx, ecosystem.NetHTTP{}, env, ref) // waits for a verified page 0
//	if err != nil { ... }
//	defer r.Stop()
//	res, err := loadgen.Run(ctx, loadgen.Config{Addr: r.Addr(), Rate: 2000, Duration: time.Second}, ref)
//
// Servers that block a goroutine (or thread) per connection share their
// parts here: [ServeConn] is the whole life of one client connection
// (reads, httpwire parsing, answers in order, the slowloris and idle
// bounds, the lingering close) around a [PageFunc]; [BackendPool] holds the
// backend connections ([BackendPool.Page] is the usual PageFunc, and
// [BackendPool.GetMany] looks a batch of keys up pipelined); [ConnSet],
// [OnDone] and [Accept] are the shutdown and accept loop. Event-loop
// servers drive the same steps themselves with [AppendSessionKey],
// [ReplyHash], [AppendUserKey], [Sums] and [AppendPageSums], and route with
// [ParseTarget]. Servers in another process (the Python ones) follow
// PROTOCOL.md in this directory; [Job] is the line they are given. The
// load generator of a run is a process of its own too ([LoadChild] runs
// `concbench loadgen` with a [LoadJob] on its stdin), so that its CPU
// time is not the server's.
//
// # The strategies as servers
//
// Every Go strategy serves: the value its strategies.Definition makes
// implements [Server] beside strategies.Strategy (a sibling interface, so
// a strategy that cannot serve, such as an out-of-process one without a
// server, is simply not a Server, and tools say so). The Go ecosystem's
// servers (package serve/ecosystem: net/http, gnet, fasthttp) are
// registered as serve-only strategies by package strategies/ecosystem, and
// every Python strategy serves with its system's own server (package
// strategies/external). Each serves in its own model, and where a request
// waits is what tells them apart:
//
//   - blocking: an iterative server. One goroutine accepts a connection,
//     serves it until it closes, then accepts the next; one backend
//     connection. Every other client waits in the accept backlog,
//     unanswered, until the connections before it close: with keep-alive
//     the server answers one client at a time, and a load generator with
//     more connections sees the others time out ([ConnLimit]: 1).
//   - threads (max): an OS thread per connection (a goroutine locked to a
//     thread that exits with it), at most max; past max, connections wait
//     in the accept backlog ([ConnLimit]: max). A pool of max backend
//     connections.
//   - goroutines (conns): a goroutine per connection on raw net; lookups
//     share a pool of conns backend connections, and a request waits for a
//     free one up to the fetch timeout.
//   - pool (workers): a reader goroutine per connection parses requests
//     onto one queue; workers workers take requests (not connections: an
//     idle keep-alive client then holds no worker) and do their lookups,
//     each with its own backend connection. A request waits in the queue.
//   - reactor (loops, conns, depth): the loops accept, read, parse, write
//     and run both lookups of every page as state machines on their own
//     non-blocking backend connections, all on their epoll threads; no
//     goroutine per connection or request. A lookup waits for a free
//     backend connection in the loop's queue, up to the fetch timeout.
//   - simd (batch, path; window, a serve-only parameter: [Tunable]): a
//     lockstep server. Readers queue requests; a worker a core gathers a
//     batch for window after its first request (or until batch are in),
//     looks all its pages up as two pipelined batches
//     ([BackendPool.GetMany]) and renders them with the hashing in vector
//     lanes. A request waits for its batch to close: the window's price,
//     paid in latency, for two round trips and one render per batch.
//
// In every model a lookup is bounded by the fetch timeout and a failed one
// answers 502 on a connection that stays open; waiting for a worker, a
// thread or a batch is the server's queueing, bounded by nothing but the
// client's patience, and shows in the load generator's latency.
package serve
