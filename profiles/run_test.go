package profiles_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/goleak"

	"github.com/concbench/concbench/harness"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
)

// tinyRun runs a small matrix once with profiling into a shared temporary
// run folder: mandelbrot (CPU) and fanout (I/O, with its wall profile) by
// blocking and pool. Tests share it; it takes a second or two.
var tinyRun = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "concbench-profiles-")
	if err != nil {
		return "", err
	}
	tinyRunDir = dir
	plan, err := harness.NewPlan(harness.Selection{
		Workloads:  []string{"mandelbrot", "fanout"},
		Strategies: []string{"blocking", "pool"},
		Quick:      true,
		WorkloadParams: map[string]params.Values{
			"fanout": {"latency": "0s", "tasks": "50"},
		},
	})
	if err != nil {
		return "", err
	}
	opt := harness.Options{Count: 1, Backends: &harness.InProcessBackends{},
		Profile: &harness.Profiling{Dir: dir, MinDuration: 100 * time.Millisecond}}
	defer opt.Backends.Close()
	sum, err := harness.Run(context.Background(), plan, opt)
	if err != nil {
		return "", err
	}
	if len(sum.Failed) > 0 || len(opt.Profile.Errors) > 0 {
		return "", errorsOf(sum.Failed, opt.Profile.Errors)
	}
	return dir, nil
})

// tinyRunDir is the folder tinyRun made, if it ran.
var tinyRunDir string

func errorsOf(failed map[*harness.Cell]error, errs []error) error {
	for _, e := range failed {
		return e
	}
	return errs[0]
}

func runDir(t *testing.T) string {
	t.Helper()
	dir, err := tinyRun()
	if err != nil {
		t.Fatalf("profiled run: %v", err)
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyRunDir != "" {
		if os.Getenv("CONCBENCH_KEEP_PROFILES") != "" { // to look at the files
			println("profiled run kept in", tinyRunDir)
		} else {
			os.RemoveAll(tinyRunDir)
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

func TestCaptureWritesLabelledProfiles(t *testing.T) {
	dir := runDir(t)
	for _, tc := range []struct {
		glob  string
		count int
	}{
		{"*.cpu.pprof", 4},
		{"*.alloc.pprof", 4},
		{"*.wall.pprof", 2}, // fanout cells only
	} {
		files, _ := filepath.Glob(filepath.Join(rundir.Dir(dir).ProfileDir(), tc.glob))
		if len(files) != tc.count {
			t.Errorf("%s: got %d files %v, want %d", tc.glob, len(files), files, tc.count)
		}
	}
	path := filepath.Join(rundir.Dir(dir).ProfileDir(), "Mandelbrot_width=1024_rows=128_iter=256_strategy=pool_workers=0_-2.cpu.pprof")
	if _, err := os.Stat(path); err != nil {
		matches, _ := filepath.Glob(filepath.Join(rundir.Dir(dir).ProfileDir(), "Mandelbrot*pool*.cpu.pprof"))
		if len(matches) != 1 {
			t.Fatalf("no pool mandelbrot CPU profile: %v", err)
		}
		path = matches[0]
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// pprof.Do's labels on the strategy's goroutines, and the kernel in them.
	labelled, kernel := 0, 0
	for _, s := range p.Sample {
		if strings.HasPrefix(s.Label["strategy"][0], "pool") && s.Label["workload"][0] == "mandelbrot" {
			labelled++
		}
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if strings.HasSuffix(ln.Function.Name, "MandelbrotRowScalar") || strings.Contains(ln.Function.Name, "mandelbrot") {
					kernel++
				}
			}
		}
	}
	if labelled == 0 || labelled != len(p.Sample) {
		t.Errorf("%d of %d samples labelled strategy=pool..., workload=mandelbrot", labelled, len(p.Sample))
	}
	if kernel == 0 {
		t.Errorf("no mandelbrot kernel frame in %d samples", len(p.Sample))
	}
	c, ok := profiles.CellOf(p)
	if !ok || c.Workload != "mandelbrot" || !strings.HasPrefix(c.Strategy, "pool") {
		t.Errorf("CellOf = %+v, %v", c, ok)
	}
}

func TestFlameGraphIsSelfContained(t *testing.T) {
	dir := runDir(t)
	files, _ := filepath.Glob(filepath.Join(rundir.Dir(dir).FlameDir(), "Mandelbrot*blocking*.html"))
	if len(files) != 1 {
		t.Fatalf("flame graphs: %v", files)
	}
	page, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("MandelbrotRowScalar")) {
		t.Errorf("flame graph lacks the kernel frame MandelbrotRowScalar")
	}
	checkOffline(t, page)
}

// checkOffline fails if the page loads anything from the network.
func checkOffline(t *testing.T, page []byte) {
	t.Helper()
	external := regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]*(src|href)\s*=\s*["']?(https?:)?//`)
	if m := external.Find(page); m != nil {
		t.Errorf("page fetches from the network: %s", m)
	}
	if imp := regexp.MustCompile(`(?i)@import|url\(\s*["']?https?:`).Find(page); imp != nil {
		t.Errorf("page's CSS fetches from the network: %s", imp)
	}
	if !bytes.Contains(page, []byte("<script>")) {
		t.Errorf("no inline script: the page would not render a flame graph")
	}
}

func TestBreakdownOfRun(t *testing.T) {
	dir := runDir(t)
	md, err := os.ReadFile(rundir.Dir(dir).Breakdown())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## mandelbrot", "## fanout", "| workload kernel |", "Wall-clock samples",
		"MandelbrotRowScalar", "| blocking |"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("breakdown.md lacks %q:\n%s", want, md)
		}
	}
	bs, err := profiles.LoadBreakdowns(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Kind == profiles.CPU && b.Cell.Workload == "mandelbrot" && b.Total > 10 {
			// Most of the CPU normally; far less under -race, whose
			// instrumentation runs in the runtime.
			if s := b.Share(profiles.Kernel); s == 0 {
				t.Errorf("%s: no CPU in the kernel: %+v", b.Cell.Name, b.By)
			}
		}
	}
}
