package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
)

// The report starts no goroutine; the Chromium tests' processes must be
// waited for.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWriteReport(t *testing.T) {
	t.Parallel()
	set, err := results.Read("../testdata/compare/new.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := rundir.Dir(t.TempDir())
	// One cell has flame graphs, of its CPU and wall-clock profiles; the
	// report must link them and no other.
	flamed := string(set.Results[0].Name.Full())
	for _, flame := range []string{dir.FlameGraph(flamed), dir.WallFlameGraph(flamed)} {
		if err := os.MkdirAll(filepath.Dir(flame), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(flame, []byte("<html></html>"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(dir, set, Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(dir.ReportMarkdown())
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(dir.ReportHTML())
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)
	if m := external.FindString(h); m != "" {
		t.Errorf("report.html fetches an external resource: %s", m)
	}
	if strings.Contains(h, "<?xml") {
		t.Error("report.html inlines an XML declaration")
	}
	for _, want := range []string{"<svg", "<table", "Mixed · crossover", "Speedup against blocking", "latency per task",
		"throughput (tasks/s", `href="flame/`} {
		if !strings.Contains(h, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if n := strings.Count(h, `href="flame/`); n != 2 {
		t.Errorf("report.html links %d flame graphs, want 2", n)
	}
	if !strings.Contains(h, " · wall clock</a>") {
		t.Error("report.html does not say which flame graph is the wall clock's")
	}
	for _, want := range []string{"| Mandelbrot", "![Mixed · crossover", "](flame/"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// Every chart report.md shows exists.
	for _, m := range regexp.MustCompile(`\]\((charts/[^)]+\.svg)\)`).FindAllStringSubmatch(string(md), -1) {
		if _, err := os.Stat(filepath.Join(string(dir), m[1])); err != nil {
			t.Errorf("report.md shows a missing chart: %v", err)
		}
	}
}

func TestWriteReportWithoutMixed(t *testing.T) {
	t.Parallel()
	set, err := results.Read("../testdata/compare/new.txt")
	if err != nil {
		t.Fatal(err)
	}
	kept := set.Filter(func(name string) bool { return !strings.HasPrefix(name, "Mixed") })
	dir := rundir.Dir(t.TempDir())
	if err := Write(dir, kept, Options{}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(dir.ReportHTML())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "crossover") {
		t.Error("a report without mixed cells has a crossover chart")
	}
	if !strings.Contains(string(page), "<svg") {
		t.Error("report.html has no chart")
	}
}

func TestReportHasTheBandwidthTable(t *testing.T) {
	t.Parallel()
	var input strings.Builder
	for r := range 3 {
		for _, c := range []struct {
			name string
			bps  float64
		}{{"Stream/op=sum/strategy=blocking", 5e9}, {"Stream/op=sum/strategy=simd", 50e9},
			{"Dot/span=33554432/strategy=blocking", 10e9}, {"Dot/span=33554432/strategy=simd", 45e9}} {
			fmt.Fprintf(&input, "Benchmark%s-2 100 %g B/s\n", c.name, c.bps+float64(r))
		}
	}
	set, err := results.Decode(strings.NewReader(input.String()), "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := rundir.Dir(t.TempDir())
	if err := Write(dir, set, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir.ReportHTML(), dir.ReportMarkdown()} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "45.0 GB/s (90%)") {
			t.Errorf("%s lacks the bandwidth table", path)
		}
	}
}

// A run whose simd strategy ran its scalar fallback says so in the
// report's verdicts, as the terminal's winner lines do.
func TestVerdictLinesNameTheScalarFallback(t *testing.T) {
	t.Parallel()
	v := results.WorkloadVerdict{Workload: "Hash",
		Fastest:  &results.Winner{Workload: "Hash", Strategy: "simd(path=scalar)", Baseline: "blocking", Rows: 1},
		Fallback: "scalar fallback (built without GOEXPERIMENT=simd)"}
	lines := verdictLines(v, func(s string) string { return s })
	if len(lines) == 0 || !strings.Contains(lines[0], "simd(path=scalar) [scalar fallback (built without GOEXPERIMENT=simd)]") {
		t.Errorf("verdict lines %q do not name the scalar fallback", lines)
	}
	v.Fallback = ""
	if lines := verdictLines(v, func(s string) string { return s }); strings.Contains(lines[0], "fallback") {
		t.Errorf("verdict lines %q name a fallback the run did not have", lines)
	}
}
