//go:build linux

package reactor

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/workloadtest"
)

// BenchmarkFanout runs a fanout load (independent GETs, one backend, 64-byte
// values) through 256 connections with the goroutine-per-task baseline and
// the reactor with one and two loops, side by side in one process. With
// -count, go test interleaves the strategies round by round.
//
//	go test -run NONE -bench Fanout -benchtime 3x -count 5 ./strategies/reactor | go tool benchstat -col /strategy -
//
// Latency is from a task's start to its end, as the harness measures it: a
// goroutines task starts once it holds a pooled connection (Job.RunTask), a
// reactor task when its loop admits it, so neither counts the wait for a
// connection. The backend runs in this process, on the same two cores.
func BenchmarkFanout(b *testing.B) {
	for _, latency := range []string{"0s", "1ms"} {
		spec := build(b, "fanout", params.Values{"tasks": "20000", "backends": "1", "latency": latency})
		b.Run("latency="+latency, func(b *testing.B) {
			addrs, _ := workloadtest.StartBackends(b, spec, backend.Faults{})
			for _, s := range []struct {
				label, name string
				v           params.Values
			}{
				{"goroutines", "goroutines", params.Values{"conns": "256"}},
				{"reactor(loops=1)", "reactor", params.Values{"loops": "1"}},
				{"reactor(loops=2)", "reactor", params.Values{"loops": "2"}},
			} {
				b.Run("strategy="+s.label, func(b *testing.B) {
					st := newStrategy(b, s.name, s.v)
					var lat []time.Duration
					var wall time.Duration
					b.ResetTimer()
					for b.Loop() {
						job := newJob(spec, addrs)
						if err := st.Run(context.Background(), job); err != nil {
							b.Fatal(err)
						}
						wall += time.Since(job.Began())
						for i, o := range job.Outcomes() {
							if o.Err != nil {
								b.Fatalf("task %d: %v", i, o.Err)
							}
							lat = append(lat, o.End.Sub(o.Start))
						}
					}
					slices.Sort(lat)
					b.ReportMetric(float64(len(lat))/wall.Seconds(), "tasks/s")
					b.ReportMetric(lat[len(lat)/2].Seconds(), "p50-sec/op")
					b.ReportMetric(lat[len(lat)*99/100].Seconds(), "p99-sec/op")
				})
			}
		})
	}
}
