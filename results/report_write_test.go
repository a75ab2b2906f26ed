package results

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/concbench/concbench/profiles"
)

func TestWriteReport(t *testing.T) {
	t.Parallel()
	set, err := Read("testdata/compare/new.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// One flame graph exists; the report must link it and no other.
	flamed := string(set.Results[0].Name.Full())
	flame := profiles.FlamePath(dir, flamed)
	if err := os.MkdirAll(filepath.Dir(flame), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(flame, []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(dir, set, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, ReportHTML))
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
	for _, want := range []string{"<svg", "<table", "Mixed crossover", "Speedup vs blocking", "latency per task",
		"tasks/s (median)", `href="flame/`} {
		if !strings.Contains(h, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if n := strings.Count(h, `href="flame/`); n != 1 {
		t.Errorf("report.html links %d flame graphs, want 1", n)
	}
	for _, want := range []string{"| Mandelbrot", "![Mixed crossover", "](flame/"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// Every chart report.md shows exists.
	for _, m := range regexp.MustCompile(`\]\((charts/[^)]+\.svg)\)`).FindAllStringSubmatch(string(md), -1) {
		if _, err := os.Stat(filepath.Join(dir, m[1])); err != nil {
			t.Errorf("report.md shows a missing chart: %v", err)
		}
	}
}

func TestWriteReportWithoutMixed(t *testing.T) {
	t.Parallel()
	set, err := Read("testdata/compare/new.txt")
	if err != nil {
		t.Fatal(err)
	}
	var kept Set
	kept.Units = set.Units
	for _, r := range set.Results {
		if !strings.HasPrefix(string(r.Name.Full()), "Mixed") {
			kept.Results = append(kept.Results, r)
		}
	}
	dir := t.TempDir()
	if err := WriteReport(dir, &kept, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, ReportHTML))
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
