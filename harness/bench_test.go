package harness

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// BenchmarkMatrix runs the quick matrix through the same engine as
// `concbench run`, as Go benchmarks, so Go's own tooling works on it:
//
//	go test -run '^$' -bench . ./harness -cpuprofile cpu.out
//	go test -run '^$' -bench 'Mandelbrot/.*/strategy=pool' ./harness
//
// Each b.N iteration is one pass of the cell's tasks (testing.B sizes the
// rounds); ns/op is reported per task, as in bench.txt. Backends run in-process (their CPU time counts in the
// profile, which shows the whole picture). CONCBENCH_WORKLOADS narrows the
// workloads (comma-separated) before anything is built.
func BenchmarkMatrix(b *testing.B) {
	sel := Selection{Quick: true}
	if w := os.Getenv("CONCBENCH_WORKLOADS"); w != "" {
		sel.Workloads = strings.Split(w, ",")
	}
	plan, err := NewPlan(sel)
	if err != nil {
		b.Fatal(err)
	}
	backends := &InProcessBackends{}
	defer backends.Close()
	opt := Options{Count: 1, Timeout: time.Minute, FetchTimeout: 5 * time.Second, Backends: backends}
	for _, c := range plan.Cells {
		name := strings.TrimPrefix(c.Name, "Benchmark")
		name = name[:strings.LastIndex(name, "-")]
		b.Run(name, func(b *testing.B) {
			var wall time.Duration
			tasks, verified, errs := 0, 0, 0
			for b.Loop() {
				res := runCell(context.Background(), c, opt)
				if res.Err != nil {
					b.Fatal(res.Err)
				}
				wall += res.Wall
				tasks += res.Tasks
				verified += res.Verified
				errs += res.Errors
			}
			b.ReportMetric(float64(wall.Nanoseconds())/float64(verified), "ns/op")
			b.ReportMetric(float64(verified)/wall.Seconds(), "tasks/s")
			b.ReportMetric(float64(errs)/float64(tasks), "errors/op")
		})
	}
}
