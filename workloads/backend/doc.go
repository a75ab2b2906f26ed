// Package backend is the built-in fetch backend: a loopback server speaking
// the Redis protocol (RESP2) whose GET returns a value derived from the key
// ([workloads.Value]), so replies can be verified without storing data, with
// injected latency and faults.
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
// and two commands of its own: CONCBENCH.LATENCY [distribution] gets or sets
// the latency between benchmark cells, and CONCBENCH.STATS returns [Stats].
//
//	s, err := backend.Start(ctx, backend.Config{Latency: backend.Constant(time.Millisecond)})
//	if err != nil { ... }
//	defer s.Close()
//	c, err := resp.Dial(ctx, s.Addr(), time.Second)
//	v, err := c.Get("item:1") // 64 bytes, workloads.Value("item:1", 64), after ~1 ms
package backend
