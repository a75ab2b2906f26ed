// Package loadgen is an open-loop HTTP/1.1 load generator: the wrk2/vegeta
// model, written for serve mode.
//
// In the open mode, requests leave on a schedule fixed before the run
// (constant spacing, or Poisson arrivals from a seed), whatever the server
// does. Each request's latency counts from its intended send time, not from
// when it was sent: a server that stalls makes every request due during
// the stall late, and those waits show in the percentiles (no coordinated
// omission). A request due while every connection is busy waits in a queue
// for the next free one, and another connection is opened if the cap
// (Config.Conns) allows: the generator never waits silently, the wait is
// in the latency. A request with no verified answer within Config.Timeout
// of its intended time is an error, and so is every response that is not
// 200 or whose body the Target rejects.
//
// The generator reports how far it fell behind its own schedule (Lag: a
// timer that fires late, a CPU the server starves) and flags a run whose
// p99 lag passes Config.MaxLag, or that could not dispatch every request,
// as under-offered: such a round did not offer its rate and must not be
// reported as if it had.
//
// The closed mode keeps Config.Conns connections busy back to back, as wrk
// does: its achieved rate is the saturation throughput, comparable with
// wrk's on the same server.
//
// Percentiles are exact, from every request (the schedule and samples are
// kept: 32 bytes a request, allocated before the run). One request is in flight per
// connection (no pipelining). The steady state does not allocate: the
// schedule, samples and buffers are made before the window, and the
// scheduler writes each request on an idle connection itself, so a
// request costs one goroutine wake-up (its connection's reader) and no
// channel hand-off.
//
// Config and Result encode to JSON, so the generator can run in a child
// process (concbench loadgen), where Result.CPU is its own CPU time and
// not the server's:
//
//	ref, _ := serve.NewReference(1000, 128, workloads.AppendValue)
//	res, err := loadgen.Run(ctx, loadgen.Config{Addr: "127.0.0.1:8080", Rate: 5000,
//		Warmup: 200 * time.Millisecond, Duration: 2 * time.Second}, ref)
//	fmt.Println(res) // offered 5000/s, achieved 4998/s, ... p99 2.4ms ...
//
// Only loopback addresses are accepted unless Config.AllowRemote is set,
// and every run stops by itself: Warmup + Duration + Timeout and a second
// at most.
package loadgen
