package harness

import (
	"context"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	// The strategies outside package strategies register themselves when
	// imported, as cmd/concbench imports them: with these the benchmarks
	// reach every strategy the binary runs (TestBenchmarksReachEveryStrategy
	// keeps the two lists in step).
	_ "github.com/concbench/concbench/strategies/external"
	_ "github.com/concbench/concbench/strategies/reactor"
	_ "github.com/concbench/concbench/strategies/simd"
)

// benchSelection is BenchmarkMatrix's selection: the quick matrix, narrowed
// by CONCBENCH_WORKLOADS and CONCBENCH_STRATEGIES (comma-separated names,
// as run's --workloads and --strategies; the opt-in py-* strategies run
// only when named there).
func benchSelection() Selection {
	sel := Selection{Quick: true}
	if w := os.Getenv("CONCBENCH_WORKLOADS"); w != "" {
		sel.Workloads = strings.Split(w, ",")
	}
	if s := os.Getenv("CONCBENCH_STRATEGIES"); s != "" {
		sel.Strategies = strings.Split(s, ",")
	}
	return sel
}

// BenchmarkMatrix runs the quick matrix through the same engine as
// `concbench run`, as Go benchmarks, so Go's own tooling works on it:
//
//	go test -run '^$' -bench . ./harness -cpuprofile cpu.out
//	go test -run '^$' -bench 'Mandelbrot/.*/strategy=pool' ./harness
//	CONCBENCH_WORKLOADS=fanout CONCBENCH_STRATEGIES=reactor,py-asyncio go test -run '^$' -bench . ./harness
//
// Every strategy the binary runs is here: blocking, threads, goroutines,
// pool, reactor and simd by default, the Python ones when named in
// CONCBENCH_STRATEGIES. Each b.N iteration is one pass of the cell's tasks
// (testing.B sizes the rounds); ns/op is reported per task, as in
// bench.txt. Backends run in-process (their CPU time counts in the
// profile, which shows the whole picture). CONCBENCH_WORKLOADS and
// CONCBENCH_STRATEGIES narrow the matrix (comma-separated) before anything
// is built.
func BenchmarkMatrix(b *testing.B) {
	plan, err := NewPlan(benchSelection())
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

// module is this module's path, the prefix of its strategy packages.
const module = "github.com/concbench/concbench"

// notBenchmarked are strategy packages the binary imports whose strategies
// have no batch cells, with why: BenchmarkMatrix runs batch cells only.
var notBenchmarked = map[string]string{
	module + "/strategies/ecosystem": "serve-only strategies (net/http, gnet, fasthttp): no batch cells",
}

// imports returns the import paths of the Go files matched by pattern
// (test files left out unless wanted).
func imports(t *testing.T, pattern string, tests bool) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s: %v", pattern, err)
	}
	var paths []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") != tests {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range parsed.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			paths = append(paths, p)
		}
	}
	return paths
}

// TestBenchmarksReachEveryStrategy checks that `go test -bench . ./harness`
// runs what `concbench run` runs: every strategy package the binary links
// is linked by these benchmarks, and the default matrix has cells of every
// Go strategy, reactor and simd included.
func TestBenchmarksReachEveryStrategy(t *testing.T) {
	t.Parallel()
	linked := imports(t, "*_test.go", true)
	for _, p := range imports(t, filepath.Join("..", "cmd", "concbench", "*.go"), false) {
		if !strings.HasPrefix(p, module+"/strategies/") {
			continue
		}
		if why, ok := notBenchmarked[p]; ok {
			t.Logf("%s: not benchmarked: %s", p, why)
			continue
		}
		if !slices.Contains(linked, p) {
			t.Errorf("cmd/concbench imports %s, which registers strategies, but the harness's benchmarks do not: add a blank import to bench_test.go", p)
		}
	}
	sel := benchSelection()
	sel.Workloads, sel.Strategies = []string{"hash"}, nil
	plan, err := NewPlan(sel)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range plan.Cells {
		name, _, _ := strings.Cut(c.StrategyLabel, "(")
		names = append(names, name)
	}
	for _, want := range []string{"blocking", "threads", "goroutines", "pool", "reactor", "simd"} {
		if !slices.Contains(names, want) {
			t.Errorf("the quick matrix's hash cells have no %s: %v", want, names)
		}
	}
}
