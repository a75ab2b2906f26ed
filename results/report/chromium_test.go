package report

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
)

// chromium finds a headless-capable browser. Without one the test skips,
// except under CI=true, where every dependency must be there (issue 19,
// part 8) and the test fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Need(t, "no chromium on PATH (it checks report.html's layout in a browser)", "apt-get install -y chromium")
	return ""
}

// layoutScript runs in the page as Chromium lays it out. For every chart
// (svg.chart) it takes each text's box from getBBox, carried into the
// chart's own coordinates by the text's and the chart's screen matrices,
// and reports texts that leave the chart's viewBox or overlap another
// text, and how many data marks (.mark) have an area or a length. It also
// reports whether the page is wider than the window (a table or chart
// that overflows sideways). The result goes, as base64 JSON, into a <pre>
// that --dump-dom prints.
const layoutScript = `<script>
(function () {
  function box(el, toChart) {
    var b = el.getBBox();
    var m = toChart.multiply(el.getScreenCTM());
    var xs = [], ys = [];
    [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]].forEach(function (p) {
      xs.push(m.a * p[0] + m.c * p[1] + m.e);
      ys.push(m.b * p[0] + m.d * p[1] + m.f);
    });
    return {x0: Math.min.apply(null, xs), y0: Math.min.apply(null, ys), x1: Math.max.apply(null, xs), y1: Math.max.apply(null, ys)};
  }
  var eps = 0.5;
  var out = {clientWidth: document.documentElement.clientWidth, scrollWidth: document.documentElement.scrollWidth,
             scrollHeight: document.documentElement.scrollHeight, charts: []};
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var vb = svg.viewBox.baseVal;
    var toChart = svg.getScreenCTM().inverse();
    var r = {title: svg.getAttribute('aria-label'), width: vb.width, height: vb.height, texts: 0, marks: 0, faults: []};
    var texts = [];
    svg.querySelectorAll('text').forEach(function (t) {
      if (!t.textContent.trim()) return;
      var b = box(t, toChart);
      texts.push({text: t.textContent, b: b});
      if (b.x0 < vb.x - eps || b.y0 < vb.y - eps || b.x1 > vb.x + vb.width + eps || b.y1 > vb.y + vb.height + eps) {
        r.faults.push('overflows the chart: "' + t.textContent + '" at [' + [b.x0, b.y0, b.x1, b.y1].map(Math.round) + '] in ' + vb.width + 'x' + vb.height);
      }
    });
    r.texts = texts.length;
    for (var i = 0; i < texts.length; i++) {
      for (var j = i + 1; j < texts.length; j++) {
        var a = texts[i].b, c = texts[j].b;
        if (a.x0 < c.x1 - eps && c.x0 < a.x1 - eps && a.y0 < c.y1 - eps && c.y0 < a.y1 - eps) {
          r.faults.push('overlap: "' + texts[i].text + '" and "' + texts[j].text + '"');
        }
      }
    }
    svg.querySelectorAll('.mark').forEach(function (m) {
      var b = m.getBBox();
      if (b.width > 0 || b.height > 0) r.marks++;
    });
    out.charts.push(r);
  });
  var pre = document.createElement('pre');
  pre.id = 'concbench-layout';
  pre.textContent = btoa(unescape(encodeURIComponent(JSON.stringify(out))));
  document.body.appendChild(pre);
})();
</script>`

// A layout is what layoutScript measured in one page.
type layout struct {
	ClientWidth  float64 `json:"clientWidth"`
	ScrollWidth  float64 `json:"scrollWidth"`
	ScrollHeight float64 `json:"scrollHeight"`
	Charts       []struct {
		Title  string   `json:"title"`
		Width  float64  `json:"width"`
		Height float64  `json:"height"`
		Texts  int      `json:"texts"`
		Marks  int      `json:"marks"`
		Faults []string `json:"faults"`
	} `json:"charts"`
}

var layoutPre = regexp.MustCompile(`<pre id="concbench-layout">([A-Za-z0-9+/=]+)</pre>`)

// browserFlags start Chromium headless, offline, with a fresh profile:
// a page that needed the network would fail to load its resource.
func browserFlags(t *testing.T, width, height int) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), fmt.Sprintf("--window-size=%d,%d", width, height),
		"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"}
}

// runBrowser runs Chromium with flags and returns its stdout.
func runBrowser(t *testing.T, browser string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// measure loads page (an HTML file) in Chromium at the given window
// width, with layoutScript added at the end of its body, and returns what
// the script measured.
func measure(t *testing.T, browser, page string, width int) layout {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(t.TempDir(), "probe.html")
	html := strings.Replace(string(data), "</body>", layoutScript+"</body>", 1)
	if err := os.WriteFile(probe, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runBrowser(t, browser, append(browserFlags(t, width, 1000), "--dump-dom", "file://"+probe)...)
	m := layoutPre.FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the layout script left no result in the page (did it throw?):\n%.2000s", dom)
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	var l layout
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatalf("layout result: %v\n%s", err, raw)
	}
	return l
}

// writeTestReport writes the report of testdata/bench.txt (every strategy,
// Python included; mixed, fanout, mandelbrot, noop and more; failed and
// unstable cells) and testdata/serve.txt (synthetic serve-mode cells)
// into a fresh run folder.
func writeTestReport(t *testing.T) rundir.Dir {
	t.Helper()
	set, err := results.Read("testdata/bench.txt", "testdata/serve.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := rundir.Dir(t.TempDir())
	if err := Write(dir, set, Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReportLayoutInChromium renders report.html in headless Chromium, at
// a desktop and a narrow window width, and fails if any text of a chart
// leaves the chart or overlaps another text, if a chart draws no data, or
// if anything makes the page wider than the window.
func TestReportLayoutInChromium(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	dir := writeTestReport(t)
	for _, width := range []int{1400, 820} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			t.Parallel()
			checkLayout(t, measure(t, browser, dir.ReportHTML(), width), width)
		})
	}
}

// checkLayout fails t for each fault of l, measured at a window width.
func checkLayout(t *testing.T, l layout, width int) {
	// The overview, and per workload throughput and latency, the
	// mixed crossover and the serve chart: at least 12.
	if len(l.Charts) < 12 {
		t.Errorf("width %d: %d charts in the page, want at least 12", width, len(l.Charts))
	}
	for _, c := range l.Charts {
		for _, f := range c.Faults {
			t.Errorf("width %d: chart %q: %s", width, c.Title, f)
		}
		if c.Marks == 0 {
			t.Errorf("width %d: chart %q draws no data (no mark with a size)", width, c.Title)
		}
		if c.Texts == 0 {
			t.Errorf("width %d: chart %q has no text", width, c.Title)
		}
	}
	if l.ScrollWidth > l.ClientWidth {
		t.Errorf("width %d: the page is %g px wide in a %g px window: something overflows sideways", width, l.ScrollWidth, l.ClientWidth)
	}
}

// TestLayoutCheckCatchesFaults runs the same measurement on a page with
// each fault it must catch, so that a pass above means something: two
// texts over each other, a text past the chart's edge, a chart without
// marks (and one whose only mark has no size), and a table wider than
// the window.
func TestLayoutCheckCatchesFaults(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	page := filepath.Join(t.TempDir(), "faults.html")
	html := `<!DOCTYPE html><html><body>
<svg class="chart" aria-label="overlap" viewBox="0 0 300 100" width="300" height="100">
<rect class="mark" x="10" y="10" width="50" height="10"/>
<text x="10" y="50" font-size="12">first label here</text><text x="40" y="52" font-size="12">second label</text></svg>
<svg class="chart" aria-label="overflow" viewBox="0 0 300 100" width="300" height="100">
<rect class="mark" x="10" y="10" width="50" height="10"/>
<text x="250" y="50" font-size="12">runs past the right edge</text></svg>
<svg class="chart" aria-label="empty" viewBox="0 0 300 100" width="300" height="100">
<text x="10" y="50" font-size="12">no marks</text></svg>
<svg class="chart" aria-label="zero" viewBox="0 0 300 100" width="300" height="100">
<rect class="mark" x="10" y="10" width="0" height="0"/><text x="10" y="50" font-size="12">a mark of no size</text></svg>
<table><tr><td style="white-space:nowrap">` + strings.Repeat("wide ", 400) + `</td></tr></table>
</body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	l := measure(t, browser, page, 800)
	byTitle := map[string]int{}
	for i, c := range l.Charts {
		byTitle[c.Title] = i
	}
	if len(l.Charts) != 4 {
		t.Fatalf("measured %d charts, want 4: %+v", len(l.Charts), l)
	}
	if f := l.Charts[byTitle["overlap"]].Faults; len(f) != 1 || !strings.Contains(f[0], "overlap") {
		t.Errorf("overlapping texts: faults %q, want one overlap", f)
	}
	if f := l.Charts[byTitle["overflow"]].Faults; len(f) != 1 || !strings.Contains(f[0], "overflows") {
		t.Errorf("a text past the edge: faults %q, want one overflow", f)
	}
	if n := l.Charts[byTitle["empty"]].Marks; n != 0 {
		t.Errorf("a chart without marks counts %d", n)
	}
	if n := l.Charts[byTitle["zero"]].Marks; n != 0 {
		t.Errorf("a chart whose mark has no size counts %d", n)
	}
	if n := l.Charts[byTitle["overlap"]].Marks; n != 1 {
		t.Errorf("a chart with one bar counts %d marks", n)
	}
	if !(l.ScrollWidth > l.ClientWidth) {
		t.Errorf("a table wider than the window went unnoticed: scroll width %g, window %g", l.ScrollWidth, l.ClientWidth)
	}
}

// TestReportScreenshots writes screenshots of report pages for people to
// look at: a CPU workload, an I/O workload, mixed, the Python comparison,
// serve mode and the whole report. It runs only when
// CONCBENCH_REPORT_SCREENSHOTS names a folder to write them to.
func TestReportScreenshots(t *testing.T) {
	out := os.Getenv("CONCBENCH_REPORT_SCREENSHOTS")
	if out == "" {
		t.Skip("set CONCBENCH_REPORT_SCREENSHOTS=<folder> to write screenshots of the report")
	}
	browser := chromium(t)
	set, err := results.Read("testdata/bench.txt", "testdata/serve.txt")
	if err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		name      string
		workloads []string
		python    bool // keep the py-* strategies
	}{
		{"cpu-mandelbrot", []string{"Mandelbrot"}, false},
		{"cpu-noop", []string{"Noop"}, false},
		{"io-fanout", []string{"Fanout"}, false},
		{"mixed", []string{"Mixed"}, false},
		{"python-webrequest", []string{"Webrequest"}, true},
		{"python-mixed", []string{"Mixed"}, true},
		{"serve", []string{"Serve"}, false},
		{"full", nil, true},
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		sub := filterSet(set, p.workloads, p.python)
		dir := rundir.Dir(t.TempDir())
		if err := Write(dir, sub, Options{Title: "concbench report · " + p.name}); err != nil {
			t.Fatal(err)
		}
		l := measure(t, browser, dir.ReportHTML(), 1280)
		height := int(l.ScrollHeight) + 20
		shot, err := filepath.Abs(filepath.Join(out, p.name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		runBrowser(t, browser, append(browserFlags(t, 1280, height), "--screenshot="+shot, "file://"+dir.ReportHTML())...)
		t.Logf("wrote %s (%d px high)", shot, height)
	}
}

// filterSet keeps the results and failures of the named workloads (all
// when nil), and the Python strategies only when python is set.
func filterSet(set *results.Set, workloads []string, python bool) *results.Set {
	return set.Filter(func(name string) bool {
		base, _, _ := strings.Cut(name, "/")
		if workloads != nil && !contains(workloads, base) {
			return false
		}
		return python || !strings.Contains(name, "strategy=py-")
	})
}
