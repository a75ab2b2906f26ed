package harness

import (
	"strconv"
)

// The units of a serve round's benchmark line that are not a batch
// round's, with their direction, for bench.txt's "Unit" declarations (see
// ServeUnitsHigherIsBetter).
var (
	// ServeUnitsHigherIsBetter: the verified responses a second.
	ServeUnitsHigherIsBetter = []string{"req/s"}
	// ServeUnitsLowerIsBetter: 1 when the generator could not offer the
	// rate (under-offered), 0 when it did.
	ServeUnitsLowerIsBetter = []string{"under-offered"}
)

// FormatServeResult renders a counted serve round (a result whose Serve
// is not nil) as a Go benchmark line, and reports false for any other
// result. The iteration count is the requests due in the window, and
// every "/op" is per request:
//
//	req/s               verified responses that arrived in the window, a second
//	p50-sec/op ... max-sec/op   latency of the verified responses, from each
//	                    request's intended send time (p50, p90, p99, p999, max;
//	                    absent when no response was verified)
//	errors/op           failed requests (timeouts, resets, other statuses) per request due
//	cpu-sec/op          the server's CPU (this process and its processes) per request
//	loadgen-cpu-sec/op  the generator's own CPU per request of its window
//	backend-cpu-sec/op  the backend processes' CPU per request (when they are measured)
//	B/op, allocs/op     this process's allocations per request (servers in this process)
//	lag-p99-sec/op      how late the generator sent its requests, p99
//	under-offered       1: the generator fell behind its schedule; the round did not offer its rate
//
// The server's and the backend's CPU are measured from the generator's
// start to its end and divided by the requests scheduled in that span
// (warm-up included); the generator's from its window's start.
func FormatServeResult(r *CellResult) (string, bool) {
	s := r.Serve()
	if s == nil {
		return "", false
	}
	load := s.Load
	var b []byte
	b = append(b, r.Cell.Name...)
	b = append(b, '\t')
	b = strconv.AppendInt(b, max(load.Scheduled, 1), 10)
	unit := func(v float64, name string) {
		b = append(b, '\t')
		b = strconv.AppendFloat(b, v, 'g', 6, 64)
		b = append(b, ' ')
		b = append(b, name...)
	}
	unit(load.AchievedRate, "req/s")
	if l := load.Latency; l.N > 0 {
		unit(l.P50.Seconds(), "p50-sec/op")
		unit(l.P90.Seconds(), "p90-sec/op")
		unit(l.P99.Seconds(), "p99-sec/op")
		unit(l.P999.Seconds(), "p999-sec/op")
		unit(l.Max.Seconds(), "max-sec/op")
	}
	unit(float64(load.Failed())/float64(max(load.Scheduled, 1)), "errors/op")
	unit(s.perRequest(s.ServerCPU), "cpu-sec/op")
	unit(load.CPUPerRequest.Seconds(), "loadgen-cpu-sec/op")
	if s.BackendMeasured {
		unit(s.perRequest(s.BackendCPU), "backend-cpu-sec/op")
	}
	if s.ServerProcesses == 0 && s.SpanRequests > 0 {
		unit(float64(s.AllocBytes)/float64(s.SpanRequests), "B/op")
		unit(float64(s.AllocObjects)/float64(s.SpanRequests), "allocs/op")
	}
	unit(load.Lag.P99.Seconds(), "lag-p99-sec/op")
	under := 0.0
	if load.UnderOffered {
		under = 1
	}
	unit(under, "under-offered")
	return string(b), true
}
