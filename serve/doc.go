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
// value function the backend serves.
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
// Goroutine-per-request servers use [FetchPage] with a backend connection;
// event-loop servers drive the same steps themselves with [SessionKey],
// [ReplyHash], [UserKey] and [AppendPage], and route with [ParseTarget].
// Servers in another process (the Python ones) follow PROTOCOL.md in this
// directory; [Job] is the line they are given.
package serve
