package report

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
)

// readTestdata reads the realistic run (every strategy, Python included,
// with failed and unstable cells) and the synthetic serve-mode cells.
func readTestdata(t *testing.T) *results.Set {
	t.Helper()
	set, err := results.Read("testdata/bench.txt", "testdata/serve.txt")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// chartTitled finds the chart whose title contains s.
func chartTitled(t *testing.T, cs *chartSet, s string) chart {
	t.Helper()
	for _, c := range cs.all() {
		if strings.Contains(c.title, s) {
			return c
		}
	}
	var titles []string
	for _, c := range cs.all() {
		titles = append(titles, c.title)
	}
	t.Fatalf("no chart titled %q among %q", s, titles)
	return chart{}
}

// TestChartsOfARealisticRun checks every chart of the realistic run as the
// layout computed it, without a browser: no text leaves its chart or
// overlaps another, every chart draws data, and the charts the report
// promises are there.
func TestChartsOfARealisticRun(t *testing.T) {
	t.Parallel()
	cs, err := buildCharts(readTestdata(t), results.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs.all() {
		for _, f := range c.faults {
			t.Errorf("chart %q: %s", c.title, f)
		}
		if c.marks == 0 {
			t.Errorf("chart %q draws no data", c.title)
		}
		if strings.Contains(c.svg, "NaN") || strings.Contains(c.svg, "Inf") {
			t.Errorf("chart %q has a NaN or Inf coordinate", c.title)
		}
	}
	for _, want := range []string{"Speedup against blocking", "Mixed · crossover", "Serve · p99 latency over offered rate",
		"Noop · throughput", "Noop · latency", "Fanout · throughput", "Mandelbrot · throughput", "Webrequest · latency"} {
		chartTitled(t, cs, want)
	}
	// Serve cells whose servers fell behind the offered rate (req/s under
	// 90% of it) are crossed out.
	if serve := chartTitled(t, cs, "Serve · p99"); strings.Count(serve.svg, `stroke="#b00020"`) < 2 {
		t.Error("no saturated serve point is crossed out")
	}
	// The serve workload has no tasks/s: its rows are rates, drawn as one
	// line chart, not as a panel per rate.
	for _, c := range cs.all() {
		if strings.HasPrefix(c.title, "Serve · throughput") || strings.HasPrefix(c.title, "Serve · latency per task") {
			t.Errorf("serve cells drawn as panels: %q", c.title)
		}
	}
}

// TestLogAxisWhereValuesSpreadWide: noop's throughput spans about 6,000×
// (blocking against threads), so its axis is logarithmic; Mandelbrot's
// Go strategies span under 10×, so theirs is linear from zero.
func TestLogAxisWhereValuesSpreadWide(t *testing.T) {
	t.Parallel()
	set := readTestdata(t)
	cs, err := buildCharts(set, results.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := chartTitled(t, cs, "Noop · throughput"); !strings.Contains(c.svg, "tasks/s · log scale") {
		t.Error("noop's throughput, spread over 1000×, is on a linear axis")
	}
	goOnly, err := buildCharts(filterSet(set, []string{"Mandelbrot"}, false), results.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := chartTitled(t, goOnly, "Mandelbrot · throughput")
	if strings.Contains(c.svg, "log scale") {
		t.Error("Mandelbrot's Go strategies, within 10× of each other, are on a log axis")
	}
	if !strings.Contains(c.svg, ">0</text>") {
		t.Error("a linear throughput axis does not start at zero")
	}
	for _, tc := range []struct {
		values []float64
		log    bool
	}{
		{[]float64{1, 29}, false},
		{[]float64{1, 31}, true},
		{[]float64{100, 5000, 2e6}, true},
		{[]float64{0, 5, 7}, false}, // zero is ignored, 5-7 is narrow
		{[]float64{math.NaN(), 3}, false},
	} {
		if got := newScale(tc.values, 0, 100).log; got != tc.log {
			t.Errorf("newScale(%v).log = %v, want %v", tc.values, got, tc.log)
		}
	}
}

// TestErrorBarsFromTheRounds: every measured bar of a chart whose cells
// have enough rounds for an interval carries a whisker at the interval's
// ends.
func TestErrorBarsFromTheRounds(t *testing.T) {
	t.Parallel()
	set := readTestdata(t)
	tables := set.Tables(results.Options{Units: []string{"tasks/s"}})
	var mandel *results.Table
	for _, tb := range tables {
		if tb.Workload == "Mandelbrot" {
			mandel = tb
		}
	}
	book := newLookBook(mandel.Columns)
	c, err := throughputChart("t", mandel, book)
	if err != nil {
		t.Fatal(err)
	}
	whiskers := strings.Count(c.svg, `class="whisker"`)
	if whiskers != len(mandel.Columns) {
		t.Errorf("%d whiskers for %d measured strategies", whiskers, len(mandel.Columns))
	}
	// The whisker of blocking spans its interval on the chart's scale:
	// its two caps sit at different x, around the bar's end.
	m := regexp.MustCompile(`<g class="whisker"[^>]*><line x1="([0-9.]+)" y1="[0-9.]+" x2="([0-9.]+)"`).FindStringSubmatch(c.svg)
	if m == nil {
		t.Fatal("no whisker line")
	}
	var lo, hi float64
	fmt.Sscan(m[1], &lo)
	fmt.Sscan(m[2], &hi)
	if !(hi > lo) {
		t.Errorf("a whisker from %g to %g: no interval", lo, hi)
	}
}

// TestPaletteTellsEveryStrategyApart: the 14 strategies of a full run
// get 14 different colours, Python ones hatched and Go ones solid; a
// sweep of many labels still gets distinct colours.
func TestPaletteTellsEveryStrategyApart(t *testing.T) {
	t.Parallel()
	labels := []string{"blocking", "threads(max=256)", "goroutines(conns=256)", "pool(workers=8)",
		"reactor(loops=1,conns=0,depth=1,offload=off)", "simd(batch=256,path=avx512)",
		"py-blocking", "py-threads(max=256)", "py-pool(workers=0)", "py-asyncio(conns=256)", "py-uvloop(conns=256)",
		"py-gevent(conns=256)", "py-tornado(conns=256)", "py-twisted(conns=256)"}
	book := newLookBook(labels)
	c := newCanvas("p", "palette", 10, 10)
	colors := map[string]string{}
	for _, l := range labels {
		lk := book.look(l)
		if other, dup := colors[lk.color]; dup {
			t.Errorf("%s and %s share the colour %s", l, other, lk.color)
		}
		colors[lk.color] = l
		fill := book.fill(c, l)
		if isPython(l) != strings.HasPrefix(fill, "url(#") {
			t.Errorf("%s: fill %s (Python must be hatched, Go solid)", l, fill)
		}
	}
	if len(colors) < 14 {
		t.Errorf("%d colours for 14 strategies", len(colors))
	}
	// Go first, then Python, each in the order given.
	if book.order[0] != "blocking" || book.order[6] != "py-blocking" {
		t.Errorf("order %q", book.order)
	}
	var sweep []string
	for i := range 10 {
		sweep = append(sweep, fmt.Sprintf("pool(workers=%d)", 1<<i), fmt.Sprintf("py-pool(workers=%d)", 1<<i))
	}
	wide := newLookBook(sweep)
	seen := map[string]bool{}
	for _, l := range sweep {
		seen[wide.look(l).color] = true
	}
	if len(seen) != len(sweep) {
		t.Errorf("a sweep of %d labels gets %d colours", len(sweep), len(seen))
	}
}

// TestShortLabelsWithAKey: a strategy's label in a chart is its name
// where one label has that name, and the name with the parameters that
// differ where several do; the key gives the full label.
func TestShortLabelsWithAKey(t *testing.T) {
	t.Parallel()
	book := newLookBook([]string{"blocking", "reactor(loops=1,conns=0,depth=1,offload=off)",
		"reactor(loops=2,conns=0,depth=1,offload=off)", "pool(workers=8)"})
	for label, want := range map[string]string{
		"blocking": "blocking",
		"reactor(loops=1,conns=0,depth=1,offload=off)": "reactor(loops=1)",
		"reactor(loops=2,conns=0,depth=1,offload=off)": "reactor(loops=2)",
		"pool(workers=8)": "pool",
	} {
		if got := book.look(label).short; got != want {
			t.Errorf("short(%s) = %q, want %q", label, got, want)
		}
	}
	key := strings.Join(book.keyLines(book.order), "\n")
	if !strings.Contains(key, "reactor(loops=2) = reactor(loops=2,conns=0,depth=1,offload=off)") || strings.Contains(key, "blocking =") {
		t.Errorf("key:\n%s", key)
	}
}

// TestLongLabelsFit: labels far longer than usual (a sweep of every
// reactor parameter, rows of many parameters) wrap or shorten inside
// their chart instead of running over it or each other.
func TestLongLabelsFit(t *testing.T) {
	t.Parallel()
	var in strings.Builder
	for r := range 6 {
		for _, loops := range []int{1, 2} {
			for _, depth := range []int{1, 16} {
				for _, row := range []string{"latency=1ms/cpu=500us/tasks=500/size=4096/backends=2/span=33554432", "latency=0s/cpu=0s/tasks=500/size=64/backends=8/span=65536"} {
					fmt.Fprintf(&in, "BenchmarkMixed/%s/strategy=reactor(loops=%d,conns=0,depth=%d,offload=off)-2 100 %d ns/op %g tasks/s %g p50-sec/op %g p99-sec/op\n",
						row, loops, depth, 1000*(loops+depth)+r, 1e6/float64(loops+depth+r), 1e-5*float64(depth), 1e-3*float64(loops+r))
				}
			}
		}
		for _, v := range []string{"with_a_long_value", "with_another_long_value"} {
			fmt.Fprintf(&in, "BenchmarkMixed/latency=1ms/cpu=500us/tasks=500/size=4096/backends=2/span=33554432/strategy=py-twisted(conns=256,reactor=epoll,a_very_long_parameter_name=%s,and_one_more_long_one=%s)-2 100 %d ns/op 30 tasks/s 0.1 p50-sec/op 0.3 p99-sec/op\n", v, v, 9000+r)
		}
	}
	set, err := results.Decode(strings.NewReader(in.String()), "long")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := buildCharts(set, results.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.all()) < 4 {
		t.Errorf("%d charts, want overview, throughput, latency and crossover", len(cs.all()))
	}
	for _, c := range cs.all() {
		for _, f := range c.faults {
			t.Errorf("chart %q: %s", c.title, f)
		}
		// The two py-twisted labels differ only in long parameters:
		// cut in the label column, whole in the key.
		if !strings.Contains(c.svg, "…") || !strings.Contains(c.svg, "a_very_long_parameter_name=with_another_long_value") {
			t.Errorf("chart %q does not cut the long labels or lacks them in its key", c.title)
		}
	}
}

// TestLayoutFaultsAreFound: the layout check itself flags a text past the
// edge and two texts over each other.
func TestLayoutFaultsAreFound(t *testing.T) {
	t.Parallel()
	c := newCanvas("f", "faults", 200, 100)
	c.text(10, 20, "fits", textStyle{size: 12})
	if f := c.layoutFaults(); len(f) != 0 {
		t.Fatalf("faults in a clean chart: %q", f)
	}
	c.text(180, 50, "runs past the edge", textStyle{size: 12})
	c.text(12, 22, "over the first", textStyle{size: 12})
	c.text(100, 30, "turned", textStyle{size: 12, rotate: true})
	f := strings.Join(c.layoutFaults(), "\n")
	for _, want := range []string{`"runs past the edge" leaves`, `"fits" overlaps "over the first"`, `"turned" leaves`} {
		if !strings.Contains(f, want) {
			t.Errorf("faults lack %s:\n%s", want, f)
		}
	}
}

// TestRateLatencyChart draws synthetic serve-mode series: a line per
// strategy, p99 on a log axis, points past saturation crossed out.
func TestRateLatencyChart(t *testing.T) {
	t.Parallel()
	book := newLookBook([]string{"reactor(loops=2)", "goroutines(conns=256)", "py-uvloop(conns=256)"})
	p99 := func(v float64) estimate {
		return estimate{state: measured, center: v, lo: v * 0.9, hi: v * 1.1, note: "test"}
	}
	panels := []ratePanel{{title: "latency=1ms", series: []rateSeries{
		{strategy: "reactor(loops=2)", points: []ratePoint{{1000, p99(1.1e-3), 1000}, {10000, p99(1.3e-3), 9990}, {100000, p99(0.9), 60000}}},
		{strategy: "goroutines(conns=256)", points: []ratePoint{{10000, p99(1.4e-3), 10000}, {1000, p99(1.2e-3), 0}}},
		{strategy: "py-uvloop(conns=256)", points: []ratePoint{{1000, p99(2e-3), 1000}, {10000, p99(0.5), 8000}, {100000, p99(1.8), 9000}}},
	}}}
	c, err := rateLatencyChart("r", "Serve · p99 over rate", panels, book)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.faults) > 0 {
		t.Errorf("faults: %q", c.faults)
	}
	// Three lines and eight points.
	if c.marks != 3+8 {
		t.Errorf("%d marks, want 11 (3 lines, 8 points)", c.marks)
	}
	if n := strings.Count(c.svg, `stroke="#b00020"`); n != 3+1 { // 3 points and the legend's
		t.Errorf("%d crosses, want 3 saturated points and the legend's", n)
	}
	if !strings.Contains(c.svg, "p99 latency · log scale") || !strings.Contains(c.svg, "requests/s) · log scale") {
		t.Error("p99 over rates from 1k to 100k is not on log axes")
	}
	if !strings.Contains(c.svg, `stroke-dasharray="6 3"`) {
		t.Error("the Python line is not dashed")
	}
	// Points are drawn in rate order whatever the input's order.
	if !regexp.MustCompile(`class="mark" d="M[0-9.]+ [0-9.]+L[0-9.]+ [0-9.]+" fill="none" stroke="` + book.look("goroutines(conns=256)").color).MatchString(c.svg) {
		t.Error("the goroutines line is missing")
	}
	if _, err := rateLatencyChart("r", "empty", []ratePanel{{title: "x"}}, book); err == nil {
		t.Error("a chart with no point drew")
	}
}

// TestFailedAndUnstableCellsShow: a failed cell reads FAILED in its chart
// and table, never a number; unstable cells carry the marker and are
// listed with advice before the charts.
func TestFailedAndUnstableCellsShow(t *testing.T) {
	t.Parallel()
	set := readTestdata(t)
	dir := rundir.Dir(t.TempDir())
	if err := Write(dir, set, Options{}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(dir.ReportHTML())
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	cs, err := buildCharts(set, results.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mixed := chartTitled(t, cs, "Mixed · throughput")
	if !strings.Contains(mixed.svg, ">FAILED</text>") || !strings.Contains(mixed.svg, "errors/op 0.006") {
		t.Error("the failed py-gevent cell of Mixed is not marked FAILED with its reason")
	}
	if !strings.Contains(mixed.svg, `class="unstable"`) {
		t.Error("the unstable goroutines cell of Mixed has no marker")
	}
	if !strings.Contains(h, "5 failed cells") {
		t.Error("report.html does not warn of its 5 failed cells")
	}
	if !strings.Contains(h, "cells seem unstable</b>") || !strings.Contains(h, "<li>Mixed latency=1ms/cpu=50us/tasks=500 · goroutines: CV") ||
		!strings.Contains(h, "Likely causes and cures") {
		t.Error("report.html does not list the unstable cells with causes and cures")
	}
	if !regexp.MustCompile(`<td class="failed" title="cell failed: round exceeded`).MatchString(h) {
		t.Error("a failed table cell lacks its class or reason")
	}
	if !strings.Contains(h, `<td class="unstable`) {
		t.Error("no table cell is marked unstable")
	}
	md, err := os.ReadFile(dir.ReportMarkdown())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "cells seem unstable") {
		t.Error("report.md does not list the unstable cells")
	}
}

// TestTablesScrollInsideThePage: every table of report.html sits in a
// box that scrolls sideways, so that a wide table never widens the page.
func TestTablesScrollInsideThePage(t *testing.T) {
	t.Parallel()
	dir := rundir.Dir(t.TempDir())
	if err := Write(dir, readTestdata(t), Options{}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(dir.ReportHTML())
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	tables := strings.Count(h, "<table")
	wrapped := strings.Count(h, "<div class=\"table-wrap\"><table")
	if tables == 0 || tables != wrapped {
		t.Errorf("%d tables, %d of them in a scrolling box", tables, wrapped)
	}
	if !strings.Contains(reportCSS, ".table-wrap{max-width:100%;overflow-x:auto") {
		t.Error("the table box does not scroll")
	}
	if !strings.Contains(reportCSS, "figure svg{display:block;max-width:100%;height:auto}") {
		t.Error("charts do not shrink with the page")
	}
}

// TestVerdictsWeighLatency: when the strategy with the most throughput is
// not the one with the lowest p99, the verdict says so in a trade-off
// line; when one strategy wins both, there is no trade-off; a strategy
// that failed a row is not ranked, and the verdict says why.
func TestVerdictsWeighLatency(t *testing.T) {
	t.Parallel()
	line := func(w, s string, ns, p99 float64, r int) string {
		return fmt.Sprintf("Benchmark%s/tasks=100/strategy=%s-2 100 %g ns/op %g p99-sec/op\n", w, s, ns*(1+float64(r)/1000), p99*(1+float64(r)/1000))
	}
	var in strings.Builder
	for r := range 6 {
		// Batch: simd is fastest, pool has the lowest p99.
		in.WriteString(line("Batch", "blocking", 1000, 2e-3, r))
		in.WriteString(line("Batch", "simd", 100, 9e-3, r))
		in.WriteString(line("Batch", "pool", 400, 1e-3, r))
		// Even: pool wins both; threads would win, but failed.
		in.WriteString(line("Even", "blocking", 1000, 2e-3, r))
		in.WriteString(line("Even", "pool", 400, 1e-3, r))
	}
	in.WriteString("--- FAIL: BenchmarkEven/tasks=100/strategy=threads-2\n    cell failed: digest mismatch\n")
	set, err := results.Decode(strings.NewReader(in.String()), "verdicts")
	if err != nil {
		t.Fatal(err)
	}
	vs := set.Verdicts(results.Options{})
	if len(vs) != 2 {
		t.Fatalf("%d verdicts, want 2", len(vs))
	}
	id := func(s string) string { return s }
	batch := strings.Join(verdictLines(vs[0], id), "\n")
	for _, want := range []string{"Throughput: simd is fastest, 10× vs blocking (geomean time per task over 1 row)",
		"Trade-off: pool has the best p99, 1 ms, against 9.02 ms from simd (9×)"} {
		if !strings.Contains(batch, want) {
			t.Errorf("Batch verdict lacks %q:\n%s", want, batch)
		}
	}
	even := strings.Join(verdictLines(vs[1], id), "\n")
	for _, want := range []string{"Throughput: pool is fastest, 2.5× vs blocking (geomean time per task over 1 row), and has the best p99, 1 ms",
		"Not ranked: threads (failed)"} {
		if !strings.Contains(even, want) {
			t.Errorf("Even verdict lacks %q:\n%s", want, even)
		}
	}
	if strings.Contains(even, "Trade-off") {
		t.Errorf("Even verdict has a trade-off:\n%s", even)
	}
}

// TestUnstable: a cell is unstable where package results marks it so (its
// rounds of time per task vary over the limit); a missing or failed cell
// never is.
func TestUnstable(t *testing.T) {
	t.Parallel()
	var in strings.Builder
	for i, v := range []float64{100, 101, 99, 100, 100, 100} {
		fmt.Fprintf(&in, "BenchmarkW/strategy=steady-2 1 %g ns/op\n", v)
		fmt.Fprintf(&in, "BenchmarkW/strategy=bimodal-2 1 %g ns/op\n", []float64{80, 370}[i%2])
	}
	set, err := results.Decode(strings.NewReader(in.String()), "cv")
	if err != nil {
		t.Fatal(err)
	}
	tb := set.Tables(results.Options{Units: []string{"sec/op"}})[0]
	for j, col := range tb.Columns {
		cv, got := unstable(tb.Cells[0][j])
		if want := col == "bimodal"; got != want || (want && cv < 0.5) {
			t.Errorf("unstable(%s) = %.3f, %v; want %v", col, cv, got, want)
		}
	}
	if _, ok := unstable(nil); ok {
		t.Error("a missing cell is unstable")
	}
}

// TestNumberFormats: tick and value labels read as people write them.
func TestNumberFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, want string
	}{
		{siNumber(950), "950"}, {siNumber(48700), "48.7k"}, {siNumber(1.2e6), "1.2M"}, {siNumber(0.05), "0.05"},
		{siNumber(1e5), "100k"}, {siNumber(999.96), "1k"},
		{duration(250e-9), "250 ns"}, {duration(1.2e-6), "1.2 µs"}, {duration(0.035), "35 ms"}, {duration(1.5), "1.5 s"},
		{duration(0), "0"}, {speedText(2.4), "2.4×"}, {speedText(0.0123), "÷81.3"}, {speedText(0.000522), "÷1.92k"}, {speedText(1), "1×"}, {speedText(130.4), "130×"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestTicksNeverCollide: on a narrow axis over many decades, tick labels
// thin out instead of running into each other.
func TestTicksNeverCollide(t *testing.T) {
	t.Parallel()
	for _, width := range []float64{60, 120, 250, 600} {
		for _, s := range []scale{logScale(10, 1e9, 0, width), newScale([]float64{0, 123456}, 0, width), logScale(3, 70, 0, width)} {
			s.p0, s.p1 = 0, width
			w := func(v float64) float64 { return textWidth(siNumber(v), tickSize, false) }
			ticks := s.ticks(w, 8)
			if len(ticks) < 2 {
				t.Errorf("width %g: %d ticks", width, len(ticks))
			}
			for i := 1; i < len(ticks); i++ {
				gap := s.pos(ticks[i]) - s.pos(ticks[i-1]) - (w(ticks[i])+w(ticks[i-1]))/2
				if gap < 0 && len(ticks) > 2 {
					t.Errorf("width %g: ticks %g and %g overlap", width, ticks[i-1], ticks[i])
				}
			}
		}
	}
}

// TestWrapLabel: a row label wraps at its separators into lines that fit.
func TestWrapLabel(t *testing.T) {
	t.Parallel()
	lines := wrapLabel("latency=1ms/cpu=500us/tasks=500", 120, labelSize, true, "/")
	if len(lines) < 2 || strings.Join(lines, "") != "latency=1ms/cpu=500us/tasks=500" {
		t.Errorf("wrapped into %q", lines)
	}
	for _, l := range lines {
		if w := textWidth(l, labelSize, true); w > 120 {
			t.Errorf("line %q is %g px wide, over 120", l, w)
		}
	}
	if got := wrapLabel("averyveryverylongwordwithoutanybreak", 60, labelSize, false, "/"); len(got) != 1 || !strings.HasSuffix(got[0], "…") {
		t.Errorf("an unbreakable label: %q", got)
	}
}

// TestTaskErrorsShow: a cell that lost tasks in some round carries the
// errors marker in its chart and its table, and is never the best.
func TestTaskErrorsShow(t *testing.T) {
	t.Parallel()
	set := readTestdata(t)
	cs, err := buildCharts(set, results.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fanout := chartTitled(t, cs, "Fanout · throughput")
	if n := strings.Count(fanout.svg, `class="errors"`); n != 2 { // py-threads at latency=1ms, and the legend
		t.Errorf("%d errors markers in Fanout's chart, want the cell's and the legend's", n)
	}
	if !strings.Contains(fanout.svg, "tasks failed: errors/op up to 0.5%") {
		t.Error("the erring cell's tooltip does not say how many tasks failed")
	}
	if mandel := chartTitled(t, cs, "Mandelbrot · throughput"); strings.Contains(mandel.svg, "some tasks failed") {
		t.Error("a chart without task errors explains the errors marker")
	}
	dir := rundir.Dir(t.TempDir())
	if err := Write(dir, set, Options{}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(dir.ReportHTML())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `<td class="errors" title="tasks failed: errors/op up to 0.5%`) {
		t.Error("the erring cell is not marked in the tables")
	}
	if !strings.Contains(string(page), "Not ranked: py-threads (tasks failed") {
		t.Error("the verdict does not say why py-threads is not ranked on Fanout")
	}
}

// TestParseRate: offered rates as serve cells may name them.
func TestParseRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"20000": 20000, "20k": 20000, "1.5M": 1.5e6, "500/s": 500, "800rps": 800, "x": 0, "-5": 0, "0": 0} {
		got, ok := parseRate(in)
		if got != want || ok != (want > 0) {
			t.Errorf("parseRate(%q) = %g, %v; want %g", in, got, ok, want)
		}
	}
}
