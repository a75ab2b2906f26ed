package profiles_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
)

// syntheticRun writes two cells' CPU profiles into a run folder.
func syntheticRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range []struct {
		strategy, kernel string
	}{{"blocking", "MandelbrotRowScalar"}, {"simd(batch=256)", "mandelbrot16"}} {
		cell := profiles.Cell{Name: "BenchmarkMandelbrot/rows=1/strategy=" + c.strategy + "-2",
			Workload: "mandelbrot", Params: "rows=1", Strategy: c.strategy}
		p := synthetic(cell, map[int64][]string{50: {mod + "workloads." + c.kernel, "runtime.goexit"}})
		path := rundir.Dir(dir).Profile(cell.Name, string(profiles.CPU))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Write(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return dir
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

func TestServeAnswersAndStops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := syntheticRun(t)
	p, cells, err := profiles.Load(dir, profiles.Selection{Workload: "mandelbrot"})
	if err != nil || len(cells) != 2 {
		t.Fatalf("Load: %d cells, %v", len(cells), err)
	}
	if _, cells, _ := profiles.Load(dir, profiles.Selection{Strategy: "simd"}); len(cells) != 1 {
		t.Errorf("--strategy simd selects %d cells, want 1", len(cells))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- profiles.Serve(ctx, ln, p, nil) }()

	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	page := get(t, client, url+"/") // redirects to /ui/, then to the flame graph
	if !strings.Contains(page, "mandelbrot16") {
		t.Errorf("flame graph page lacks the simd kernel")
	}
	if top := get(t, client, url+"/ui/top"); !strings.Contains(top, "MandelbrotRowScalar") {
		t.Errorf("top lacks the blocking kernel")
	}
	// The labels survive the merge: focus on one strategy.
	if focused := get(t, client, url+"/ui/top?tf=strategy%3Dblocking"); strings.Contains(focused, "mandelbrot16") ||
		!strings.Contains(focused, "MandelbrotRowScalar") {
		t.Errorf("tag focus strategy=blocking does not select the blocking cell")
	}
	client.CloseIdleConnections()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestDiffBase(t *testing.T) {
	t.Parallel()
	dir := syntheticRun(t)
	p, _, err := profiles.Load(dir, profiles.Selection{Strategy: "simd"})
	if err != nil {
		t.Fatal(err)
	}
	base, bc, err := profiles.LoadCell(dir, "blocking", profiles.CPU)
	if err != nil || bc.Strategy != "blocking" {
		t.Fatalf("LoadCell: %+v %v", bc, err)
	}
	h, err := profiles.Handler(p, &profiles.Diff{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/top", nil))
	top := rec.Body.String()
	if !strings.Contains(top, `"Name":"github.com/concbench/concbench/workloads.MandelbrotRowScalar","InlineLabel":"","Flat":-500000000`) ||
		!strings.Contains(top, `workloads.mandelbrot16","InlineLabel":"","Flat":500000000`) {
		t.Errorf("differential top: want simd's kernel +500ms and blocking's -500ms:\n%.3000s", top)
	}
}

func TestLoadCellAmbiguous(t *testing.T) {
	t.Parallel()
	dir := syntheticRun(t)
	if _, _, err := profiles.LoadCell(dir, "Mandelbrot", profiles.CPU); err == nil || !strings.Contains(err.Error(), "2 cells") {
		t.Errorf("ambiguous name: %v", err)
	}
	if _, _, err := profiles.Load(dir, profiles.Selection{Workload: "nope"}); err == nil {
		t.Error("empty selection: no error")
	}
}

// TestLoadBaseByStrategy: --diff-base names a strategy exactly, and only
// its cells of the selected workload are the base, however many cells of
// other workloads the strategy has (it once matched "blocking" as a part
// of 13 cell names and gave up).
func TestLoadBaseByStrategy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(workload, strategy, kernel string) string {
		cell := profiles.Cell{Name: "Benchmark" + workload + "/n=1/strategy=" + strategy + "-2", Workload: workload,
			Params: "n=1", Strategy: strategy}
		p := synthetic(cell, map[int64][]string{10: {mod + "workloads." + kernel}})
		path := rundir.Dir(dir).Profile(cell.Name, string(profiles.CPU))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := rundir.WriteFile(path, p.Write); err != nil {
			t.Fatal(err)
		}
		return cell.Name
	}
	want := write("mandelbrot", "blocking", "MandelbrotRowScalar")
	for _, w := range []string{"dot", "hash", "noop", "fanout", "stream"} {
		write(w, "blocking", "Other")
		write(w, "blocking-ish", "Other")
	}
	write("mandelbrot", "pool(workers=8)", "MandelbrotRowScalar")
	write("mandelbrot", "blocking2", "Other")
	sel := profiles.Selection{Workload: "mandelbrot", Strategy: "pool"}
	for _, base := range []string{"blocking"} {
		_, cells, err := profiles.LoadBase(dir, sel, base)
		if err != nil || len(cells) != 1 || cells[0].Name != want {
			t.Errorf("LoadBase(%q) = %v, %v; want the one cell %s", base, cells, err, want)
		}
	}
	// A full label names one parameter set; a cell name still works.
	if _, cells, err := profiles.LoadBase(dir, profiles.Selection{Workload: "mandelbrot"}, "pool(workers=8)"); err != nil || len(cells) != 1 {
		t.Errorf("LoadBase by label: %v, %v", cells, err)
	}
	if _, cells, err := profiles.LoadBase(dir, sel, want); err != nil || len(cells) != 1 || cells[0].Name != want {
		t.Errorf("LoadBase by cell name: %v, %v", cells, err)
	}
	if _, _, err := profiles.LoadBase(dir, sel, "nope"); err == nil {
		t.Error("LoadBase of no strategy and no cell: no error")
	}
}

// TestDiffNormalize: with Normalize, a profile twice as long as its base
// with the same shares differs from it by nothing; without, by its extra
// samples.
func TestDiffNormalize(t *testing.T) {
	t.Parallel()
	cell := profiles.Cell{Name: "BenchmarkX/strategy=a-2", Workload: "x", Strategy: "a"}
	long := synthetic(cell, map[int64][]string{100: {mod + "workloads.Kernel"}, 20: {"runtime.mallocgc"}})
	short := synthetic(cell, map[int64][]string{50: {mod + "workloads.Kernel"}, 10: {"runtime.mallocgc"}})
	row := `"Name":"github.com/concbench/concbench/workloads.Kernel","InlineLabel":"","Flat":500000000`
	for _, normalize := range []bool{false, true} {
		h, err := profiles.Handler(long, &profiles.Diff{Base: short, Normalize: normalize})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/top", nil))
		// Normalized, the kernel's difference is 0 and pprof leaves it out.
		if got := strings.Contains(rec.Body.String(), row); got == normalize {
			t.Errorf("normalize=%v: the kernel differs by +500ms: %v", normalize, got)
		}
	}
}
