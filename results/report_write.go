package results

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/concbench/concbench/profiles"
)

// ReportOptions control WriteReport. The zero ReportOptions report the
// default units against blocking, titled "concbench report".
type ReportOptions struct {
	// Tables selects the tables, as for WriteTables; its Format is
	// ignored.
	Tables Options

	// Title heads both files; empty means "concbench report".
	Title string
}

// Report file names inside a run folder.
const (
	ReportMarkdown = "report.md"
	ReportHTML     = "report.html"
	ChartDir       = "charts" // <name>.svg, referenced by report.md
)

// WriteReport writes report.md and report.html into the run folder dir:
// the tables, charts (tasks/s per strategy and workload, p50/p99 latency
// per strategy, speedup against the baseline per workload, and for the
// mixed workload the crossover of tasks/s over CPU burst per task), and
// links to the flame graphs in dir/flame that exist. report.html is self
// contained: inline CSS and SVG, nothing fetched. report.md shows the
// same charts from dir/charts/*.svg.
func WriteReport(dir string, set *Set, opts ReportOptions) error {
	title := opts.Title
	if title == "" {
		title = "concbench report"
	}
	charts, err := reportCharts(set, opts.Tables)
	if err != nil {
		return err
	}
	flames := flameLinks(dir, set)

	// report.md: the tables as WriteTables writes them, then charts.
	var md bytes.Buffer
	fmt.Fprintf(&md, "# %s\n\n", title)
	tableOpts := opts.Tables
	tableOpts.Format = Markdown
	if err := WriteTables(&md, set, tableOpts); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, ChartDir), 0o755); err != nil {
		return fmt.Errorf("results: report: %w", err)
	}
	if len(charts) > 0 {
		md.WriteString("\n## Charts\n\n")
	}
	for i, c := range charts {
		name := fmt.Sprintf("%02d-%s.svg", i+1, fileStem(c.Title))
		if err := writeFileAtomic(filepath.Join(dir, ChartDir, name), []byte(c.SVG)); err != nil {
			return err
		}
		fmt.Fprintf(&md, "![%s](%s/%s)\n\n", c.Title, ChartDir, name)
	}
	if len(flames) > 0 {
		md.WriteString("## Flame graphs\n\n")
		for _, f := range flames {
			fmt.Fprintf(&md, "- [%s](%s)\n", f.cell, f.href)
		}
	}

	// report.html: the same, self-contained.
	var h bytes.Buffer
	fmt.Fprintf(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>%s</title>\n<style>%s</style></head><body>\n",
		html.EscapeString(title), reportCSS)
	fmt.Fprintf(&h, "<h1>%s</h1>\n<p class=\"meta\">written %s</p>\n", html.EscapeString(title), time.Now().UTC().Format(time.RFC3339))
	tables := set.Tables(opts.Tables)
	if wins := Winners(tables); len(wins) > 0 {
		h.WriteString("<ul class=\"winners\">\n")
		for _, w := range wins {
			fmt.Fprintf(&h, "<li>%s</li>\n", html.EscapeString(w.String()))
		}
		h.WriteString("</ul>\n")
	}
	if len(charts) > 0 {
		h.WriteString("<h2>Charts</h2>\n<div class=\"charts\">\n")
		for _, c := range charts {
			fmt.Fprintf(&h, "<figure>%s<figcaption>%s</figcaption></figure>\n", c.SVG, html.EscapeString(c.Title))
		}
		h.WriteString("</div>\n")
	}
	h.WriteString("<h2>Tables</h2>\n")
	for _, t := range tables {
		writeHTMLTable(&h, t)
	}
	writeHTMLBandwidth(&h, set.Bandwidth(opts.Tables))
	if len(set.Failures) > 0 {
		h.WriteString("<h2>Failed cells</h2>\n<ul>\n")
		for _, f := range set.Failures {
			fmt.Fprintf(&h, "<li><code>%s</code>: %s</li>\n", html.EscapeString(f.Name), html.EscapeString(f.Reason))
		}
		h.WriteString("</ul>\n")
	}
	if len(flames) > 0 {
		h.WriteString("<h2>Flame graphs</h2>\n<ul>\n")
		for _, f := range flames {
			fmt.Fprintf(&h, "<li><a href=\"%s\">%s</a></li>\n", html.EscapeString(f.href), html.EscapeString(f.cell))
		}
		h.WriteString("</ul>\n")
	}
	h.WriteString("</body></html>\n")

	if err := writeFileAtomic(filepath.Join(dir, ReportMarkdown), md.Bytes()); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, ReportHTML), h.Bytes())
}

// reportCSS styles report.html; inline, so the file opens offline.
const reportCSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}
td.failed{color:#b00;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0}figcaption{text-align:center;color:#555}
.meta,.notes{color:#666}
`

func writeHTMLTable(h *bytes.Buffer, t *Table) {
	base := "(none)"
	if len(t.Columns) > 0 {
		base = t.Columns[0]
	}
	fmt.Fprintf(h, "<h3>%s · %s (%s) · median ± %.0f%% CI · vs %s</h3>\n<table>\n<tr><th>%s</th>",
		html.EscapeString(t.Workload), html.EscapeString(t.Unit), t.Better, 100*t.Confidence, html.EscapeString(base),
		html.EscapeString(t.Workload))
	for j, col := range t.Columns {
		fmt.Fprintf(h, "<th>%s</th>", html.EscapeString(col))
		if j > 0 {
			fmt.Fprintf(h, "<th>vs %s</th>", html.EscapeString(base))
		}
	}
	h.WriteString("</tr>\n")
	for i, label := range t.Rows {
		scaler := t.rowScaler(i)
		fmt.Fprintf(h, "<tr><td>%s</td>", html.EscapeString(label))
		for j, c := range t.Cells[i] {
			class := ""
			if c != nil && c.Failed() {
				class = ` class="failed"`
			}
			fmt.Fprintf(h, "<td%s>%s</td>", class, html.EscapeString(valueText(c, scaler)))
			if j > 0 {
				fmt.Fprintf(h, "<td>%s</td>", html.EscapeString(t.comparisonText(c)))
			}
		}
		h.WriteString("</tr>\n")
	}
	h.WriteString("</table>\n")
}

type flameLink struct{ cell, href string }

// flameLinks lists the cells of set whose flame graph exists in dir, in
// the order first measured, with links relative to dir.
func flameLinks(dir string, set *Set) []flameLink {
	var links []flameLink
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		path := profiles.FlamePath(dir, name)
		if _, err := os.Stat(path); err == nil {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return
			}
			links = append(links, flameLink{cell: name, href: filepath.ToSlash(rel)})
		}
	}
	for _, r := range set.Results {
		add(string(r.Name.Full()))
	}
	for _, f := range set.Failures {
		add(f.Name)
	}
	return links
}

// reportCharts builds the report's charts from set's tables.
func reportCharts(set *Set, opts Options) ([]Chart, error) {
	opts.Units = []string{"sec/op", "tasks/s", "p50-sec/op", "p99-sec/op"}
	opts.AllUnits = false
	tables := set.Tables(opts)
	byUnit := map[string][]*Table{}
	for _, t := range tables {
		byUnit[t.Unit] = append(byUnit[t.Unit], t)
	}
	var charts []Chart
	add := func(c Chart, err error) error {
		if err != nil {
			return err
		}
		charts = append(charts, c)
		return nil
	}

	// Tasks/s per strategy, a group of bars per row, one chart per workload.
	for _, t := range byUnit["tasks/s"] {
		var series []barSeries
		for j, col := range t.Columns {
			s := barSeries{name: col}
			for i := range t.Rows {
				s.values = append(s.values, center(t.Cells[i][j]))
			}
			series = append(series, s)
		}
		if err := add(barChart(t.Workload+" · tasks/s (median)", "tasks/s", t.Rows, series)); err != nil {
			return nil, err
		}
	}

	// Speedup against the baseline, geomean over each workload's rows.
	if ts := byUnit["sec/op"]; len(ts) > 0 {
		var workloads, strategies []string
		speed := map[[2]string]float64{}
		for _, t := range ts {
			workloads = append(workloads, t.Workload)
			for j, col := range t.Columns {
				if j == 0 {
					continue
				}
				if !contains(strategies, col) {
					strategies = append(strategies, col)
				}
				if s, ok := t.GeomeanSpeedup(j); ok {
					speed[[2]string{t.Workload, col}] = s
				}
			}
		}
		var series []barSeries
		for _, st := range strategies {
			s := barSeries{name: st}
			for _, w := range workloads {
				v, ok := speed[[2]string{w, st}]
				if !ok {
					v = math.NaN()
				}
				s.values = append(s.values, v)
			}
			series = append(series, s)
		}
		base := ts[0].Columns[0]
		if len(series) > 0 {
			if err := add(barChart("Speedup vs "+base+" (geomean sec/op over rows)", "× "+base, workloads, series)); err != nil {
				return nil, err
			}
		}
	}

	// p50 and p99 per strategy, geomean over each workload's rows.
	p99s := byWorkload(byUnit["p99-sec/op"])
	for _, t50 := range byUnit["p50-sec/op"] {
		t99 := p99s[t50.Workload]
		s50, s99 := barSeries{name: "p50"}, barSeries{name: "p99"}
		for j, col := range t50.Columns {
			s50.values = append(s50.values, geomeanCenter(t50, j)*1e3)
			v := math.NaN()
			if t99 != nil {
				if k := indexOf(t99.Columns, col); k >= 0 {
					v = geomeanCenter(t99, k) * 1e3
				}
			}
			s99.values = append(s99.values, v)
		}
		if err := add(barChart(t50.Workload+" · latency per task (geomean of medians)", "ms", t50.Columns,
			[]barSeries{s50, s99})); err != nil {
			return nil, err
		}
	}

	// The mixed crossover: tasks/s over the CPU burst per task.
	for _, t := range byUnit["tasks/s"] {
		if !strings.EqualFold(t.Workload, "Mixed") {
			continue
		}
		c, ok, err := crossoverChart(t)
		if err != nil {
			return nil, err
		}
		if ok {
			charts = append(charts, c)
		}
	}
	return charts, nil
}

// cpuKey finds the CPU burst parameter in a row label.
var cpuKey = regexp.MustCompile(`(^|/)cpu=([^/]+?)(-[0-9]+)?(/|$)`)

// crossoverChart draws one line per strategy: tasks/s over the CPU burst
// per task (the cpu= key of each row), a chart per combination of the
// other parameters. It reports false when no row has a cpu= key.
func crossoverChart(t *Table) (Chart, bool, error) {
	type point struct{ x, y float64 }
	lines := map[string][]point{}
	var groups []string
	for i, row := range t.Rows {
		m := cpuKey.FindStringSubmatchIndex(row)
		if m == nil {
			continue
		}
		d, err := time.ParseDuration(row[m[4]:m[5]])
		if err != nil {
			continue
		}
		rest := row[:m[2]] + "/" + row[m[8]:]
		rest = strings.Trim(strings.ReplaceAll(rest, "//", "/"), "/")
		if !contains(groups, rest) {
			groups = append(groups, rest)
		}
		for j, col := range t.Columns {
			if v := center(t.Cells[i][j]); !math.IsNaN(v) {
				key := rest + "\x00" + col
				lines[key] = append(lines[key], point{float64(d) / float64(time.Microsecond), v})
			}
		}
	}
	if len(groups) == 0 {
		return Chart{}, false, nil
	}
	// One chart; with several parameter groups, a line per group and strategy.
	var series []lineSeries
	for _, g := range groups {
		for _, col := range t.Columns {
			pts := lines[g+"\x00"+col]
			if len(pts) == 0 {
				continue
			}
			sort.Slice(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
			xys := make(plotter.XYs, len(pts))
			for k, p := range pts {
				xys[k].X, xys[k].Y = p.x, p.y
			}
			name := col
			if len(groups) > 1 {
				name += " " + g
			}
			series = append(series, lineSeries{name: name, xys: xys})
		}
	}
	c, err := lineChart(t.Workload+" crossover · tasks/s over CPU burst per task", "CPU burst per task (µs)", "tasks/s", series)
	return c, err == nil, err
}

func center(c *Cell) float64 {
	if c == nil || c.Failed() || c.Sample == nil {
		return math.NaN()
	}
	return c.Summary.Center
}

func geomeanCenter(t *Table, col int) float64 {
	if s := t.Geomean[col]; s.HasCenter {
		return s.Center
	}
	return math.NaN()
}

func byWorkload(ts []*Table) map[string]*Table {
	m := map[string]*Table{}
	for _, t := range ts {
		m[t.Workload] = t
	}
	return m
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func contains(xs []string, x string) bool { return indexOf(xs, x) >= 0 }

// fileStem makes a chart title a file name.
func fileStem(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// writeFileAtomic writes via a temporary file and a rename, so a reader
// never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("results: report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("results: report: %w", err)
	}
	return nil
}
