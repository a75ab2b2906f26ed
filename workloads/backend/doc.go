// Package backend is the built-in fetch backend: a loopback server speaking
// the Redis protocol (RESP2) whose GET returns a value derived from the key
// ([workloads.SecretValue] of the server's secret, the key and the value
// size), so replies can be verified without storing data, with injected
// latency and faults, and with counters a harness checks every round
// against what the workload asked for.
//
// Latency models a remote service: each request's delay is drawn from a
// [Distribution] when the request is read, and its reply is sent when the
// delay has passed. Delays of pipelined requests run concurrently, yet
// replies leave in request order, as with Redis. Per connection a reader
// goroutine parses requests and queues replies with their due times; a
// writer goroutine writes them as they come due, coalescing replies that are
// due together into one write. At latency 0 no clock or timer is touched.
//
// [Faults] inject the failures a client must survive: resets, stalls,
// replies cut short, replies dribbled slowly.
//
// Besides GET, MGET, SET, DEL, PING and QUIT, the server answers what common
// clients send on connecting (COMMAND, HELLO, CLIENT, CONFIG GET, SELECT 0),
// AUTH when [Config.Auth] is set (every other command is answered NOAUTH
// before it), and commands of its own, which [Control] sends:
//
//	CONCBENCH.LATENCY [distribution]  get or set the latency between benchmark cells
//	CONCBENCH.SECRET hex              set the secret of derived values (never read back)
//	CONCBENCH.VALUESIZE [bytes]       get or set the size of derived values
//	CONCBENCH.STATS                   the counters since the start (Stats), as name:value lines
//	CONCBENCH.WINDOW                  the counters since the previous WINDOW (Window), and start the next
//	CONCBENCH.PROFILE START|STOP      a CPU profile of the server's process; STOP returns it (gzipped pprof)
//
// Those commands get neither latency nor faults, so a harness always gets
// through, and they are not data requests, so they never count in a window.
//
// # Verification
//
// Two things keep a strategy from producing its results without doing its
// I/O. The values depend on a per-run secret ([Config.Secret]) that the
// harness gives the server and its verifier but not the strategies; a child
// process receives it on stdin ([WriteChildConfig]), a server on another
// machine over the harness's authenticated control connection
// (CONCBENCH.SECRET, [Control.SetSecret]), never on a command line. No
// command reads it back, so a strategy's connections, which must hold the
// auth token of a remote server, cannot learn it. And the server counts what it serves, per measurement window
// ([Window], read and restarted by CONCBENCH.WINDOW), with these
// definitions:
//
//   - A data request is a GET, MGET, SET or DEL with the right number of
//     arguments (one with too few gets an error and is not a data request;
//     neither is any request before AUTH). It counts once the server has
//     parsed it, before any reply to it is written.
//   - Gets counts the keys asked for by the GET and MGET data requests: a
//     GET counts 1, an MGET of k keys counts k.
//   - GetsAnswered counts those keys whose value the server started to
//     write: not those whose reply an injected reset, stall or partial close
//     dropped, nor those answered with an error (an MGET over the reply
//     budget); a reply whose client went away mid-write still counts.
//   - A data request is in flight from when the server has parsed it until
//     the server starts writing its reply or drops it (an injected reset,
//     stall or partial close, or a connection that closed first), across all
//     connections of the server. MaxInFlight is the most at once in the
//     window, starting from those in flight when it began. The count drops
//     before the client can see the reply, so a client that keeps at most N
//     requests outstanding is never seen with more than N; requests
//     pipelined in one write are all in flight together.
//
// A harness reads every server's window right before a counted round and
// right after it. When every task succeeded, the round's Gets summed over
// the servers equal the fetches it made (spec.Fetches() per pass over the
// tasks) and so does GetsAnswered; a strategy that answered fetches
// locally shows fewer. A failed task stops at its failing fetch, so Gets is
// then at least the fetches of the tasks that succeeded and at most the
// round's fetches plus the requests the strategy sent again. A strategy
// with a limit of N requests outstanding shows MaxInFlight <= N on each
// server, and N on a single server when the latency is long enough for its
// requests to overlap.
//
// # Memory
//
// Reply bytes the server holds (not yet due, or not read by their client)
// are bounded across all connections by [Config.MaxQueuedBytes]: while the
// budget is spent, a connection that holds replies reads no more requests,
// so a client that pipelines without reading is slowed by TCP flow control
// instead of growing the server, and the others are still served. Queued
// replies are kept in blocks let go as they are written, and a connection
// that held many megabytes returns them to the operating system when it
// closes. SET's store is bounded by [Config.MaxStoredBytes] (-OOM past it).
//
//	s, err := backend.Start(ctx, backend.Config{Latency: backend.Constant(time.Millisecond)})
//	if err != nil { ... }
//	defer s.Close()
//	c, err := resp.Dial(ctx, s.Addr(), time.Second)
//	v, err := c.Get("item:1") // 64 bytes, workloads.Value("item:1", 64), after ~1 ms
package backend
