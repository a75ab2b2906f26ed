package profiles_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
)

func writeProfileFile(t *testing.T, path string, p *profile.Profile) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rundir.WriteFile(path, p.Write); err != nil {
		t.Fatal(err)
	}
}

// manyStrategies are column labels as long as real ones get.
var manyStrategies = []string{"blocking", "threads(max=256)", "goroutines(conns=256)", "pool(workers=2)",
	"pool(workers=8)", "reactor(loops=1,conns=0,depth=1,offload=off)", "simd(batch=256,path=avx512)",
	"py-blocking", "py-threads", "py-pool", "py-asyncio", "py-uvloop", "py-gevent", "py-tornado", "py-twisted"}

// wideRun writes a run with one fanout row of every strategy of
// manyStrategies: CPU, backend CPU and wall profiles, one strategy (pool
// with 2 workers) with too few samples.
func wideRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run := rundir.Dir(dir)
	for _, s := range manyStrategies {
		cell := profiles.Cell{Name: "BenchmarkFanout/latency=1ms/tasks=2000/strategy=" + s + "-2", Workload: "fanout",
			Params: "latency=1ms/tasks=2000", Strategy: s}
		n := int64(1000)
		if s == "pool(workers=2)" {
			n = 150
		}
		stacks := map[int64][]string{
			n * 6 / 10:              {mod + "workloads.Render", "runtime.goexit"},
			n * 3 / 10:              {"syscall.Syscall", "internal/poll.(*FD).Read"},
			n - n*6/10 - n*3/10 - 7: {"runtime.findRunnable", "runtime.schedule"},
			7:                       {"runtime.scanobject", "runtime.gcBgMarkWorker"},
		}
		writeProfileFile(t, run.Profile(cell.Name, string(profiles.CPU)), synthetic(cell, stacks))
		writeProfileFile(t, run.Profile(cell.Name, string(profiles.Setup)), synthetic(cell, map[int64][]string{
			40: {mod + "strategies.(*Job).DialPool"}}))
		writeProfileFile(t, run.Profile(cell.Name, string(profiles.BackendCPU)), synthetic(cell, map[int64][]string{
			700: {mod + "workloads/backend.(*conn).handle"}, 300: {"syscall.Syscall"}}))
		writeProfileFile(t, run.Profile(cell.Name, string(profiles.Wall)), synthetic(cell, map[int64][]string{
			900: {"runtime.gopark", "runtime.netpollblock"}, 100: {mod + "workloads.Render"}}))
	}
	return dir
}

func TestBreakdownTextFitsTheTerminal(t *testing.T) {
	t.Parallel()
	dir := wideRun(t)
	for _, top := range []bool{false, true} {
		var b strings.Builder
		if err := profiles.WriteBreakdownText(&b, dir, profiles.TextOptions{Top: top}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for i, line := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(line); n > 120 { // issue 17: a terminal of 120 columns
				t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
			}
		}
		for _, want := range []string{
			"60.0% 600",       // a share with its sample count
			"150 too few",     // the column with too few samples
			"backend",         // the backend's columns, side by side
			"setup, left out", // the setup samples, counted apart
			"40 (3.8%)",       // 40 of 1040
			"Too few samples", // the cells that need a longer profile
			"strategy=pool(workers=2)-2 (cpu): 150 samples",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("text breakdown lacks %q:\n%s", want, out)
			}
		}
		for _, s := range manyStrategies { // every column, none cut off
			name, _, _ := strings.Cut(s, "(")
			if name == "pool" {
				name = s
			}
			if !strings.Contains(out, " "+name+"\n") && !strings.Contains(out, " "+name+" ") {
				t.Errorf("no column for %s:\n%s", name, out)
			}
		}
		if top != strings.Contains(out, "workloads.Render 60.0% 600") {
			t.Errorf("Top=%v, top functions shown: %v", top, !top)
		}
	}
}

func TestBreakdownMarkdownAdmitsItsError(t *testing.T) {
	t.Parallel()
	dir := wideRun(t)
	var b strings.Builder
	if err := profiles.WriteBreakdown(&b, dir); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| workload kernel | 60.0 % (600) |",
		"| pool(workers=2) | pool(workers=2) · backend |",
		"too few samples (150)",
		"## Cells that need a longer profile",
		"- `BenchmarkFanout/latency=1ms/tasks=2000/strategy=pool(workers=2)-2` (cpu): 150 samples",
		"| setup & teardown, left out | 40 (3.8 %) |",
		"±3.0 points", // 1.96·√(.6·.4/1000), the widest share error of a 1000-sample column
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown breakdown lacks %q:\n%s", want, md)
		}
	}
	// The too-few column shows no percentage anywhere in its table.
	col := -1
	for _, line := range strings.Split(md, "\n") {
		cells := strings.Split(line, "|")
		if strings.HasPrefix(line, "| where |") {
			col = slices.IndexFunc(cells, func(c string) bool { return strings.TrimSpace(c) == "pool(workers=2)" })
		}
		if col >= 0 && line == "" {
			break // the end of the first table
		}
		if col < 0 || strings.HasPrefix(line, "| where |") || len(cells) <= col {
			continue
		}
		if c := strings.TrimSpace(cells[col]); strings.Contains(c, "%") {
			t.Errorf("too-few column shows %q in %q", c, line)
		}
	}
	if col < 0 {
		t.Fatal("no pool(workers=2) column")
	}
}

func TestSamplingError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    float64
		n    int64
		want float64
	}{
		{0.5, 100, 0.098},
		{0.5, 500, 0.0438},
		{0.9, 200, 0.0416},
		{0, 200, 0},
		{0.5, 0, 0},
	} {
		if got := profiles.SamplingError(tc.p, tc.n); math.Abs(got-tc.want) > 0.0005 {
			t.Errorf("SamplingError(%v, %d) = %.4f, want %.4f", tc.p, tc.n, got, tc.want)
		}
	}
}
