package report

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
)

// Options control Write. The zero Options report the default units
// against blocking, titled "concbench report".
type Options struct {
	// Tables selects the tables, as for results.WriteTables; its Format
	// is ignored.
	Tables results.Options

	// Title heads both files; empty means "concbench report".
	Title string
}

// Write writes report.md and report.html into the run folder dir: the
// tables, charts (tasks/s per strategy and workload, p50/p99 latency per
// strategy, speedup against the baseline per workload, and for the mixed
// workload the crossover of tasks/s over CPU burst per task), and links to
// the cells' flame graphs that exist in dir. report.html is self
// contained: inline CSS and SVG, nothing fetched. report.md shows the same
// charts from dir's charts/*.svg.
func Write(dir rundir.Dir, set *results.Set, opts Options) error {
	title := opts.Title
	if title == "" {
		title = "concbench report"
	}
	charts, err := reportCharts(set, opts.Tables)
	if err != nil {
		return err
	}
	flames := flameLinks(dir, set)

	// report.md: the tables as results.WriteTables writes them, then charts.
	var md bytes.Buffer
	fmt.Fprintf(&md, "# %s\n\n", title)
	tableOpts := opts.Tables
	tableOpts.Format = results.Markdown
	if err := results.WriteTables(&md, set, tableOpts); err != nil {
		return err
	}
	if err := os.MkdirAll(dir.ChartDir(), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if len(charts) > 0 {
		md.WriteString("\n## Charts\n\n")
	}
	for i, c := range charts {
		path := dir.Chart(fmt.Sprintf("%02d-%s.svg", i+1, fileStem(c.title)))
		if err := writeFile(path, []byte(c.svg)); err != nil {
			return err
		}
		fmt.Fprintf(&md, "![%s](%s)\n\n", c.title, link(dir, path))
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
	if wins := results.Winners(tables); len(wins) > 0 {
		h.WriteString("<ul class=\"winners\">\n")
		for _, w := range wins {
			fmt.Fprintf(&h, "<li>%s</li>\n", html.EscapeString(w.String()))
		}
		h.WriteString("</ul>\n")
	}
	if len(charts) > 0 {
		h.WriteString("<h2>Charts</h2>\n<div class=\"charts\">\n")
		for _, c := range charts {
			fmt.Fprintf(&h, "<figure>%s<figcaption>%s</figcaption></figure>\n", c.svg, html.EscapeString(c.title))
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

	if err := writeFile(dir.ReportMarkdown(), md.Bytes()); err != nil {
		return err
	}
	return writeFile(dir.ReportHTML(), h.Bytes())
}

// writeFile writes data to path with rundir.WriteFile.
func writeFile(path string, data []byte) error {
	return rundir.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// link is path relative to the run folder dir, with forward slashes, as
// report.md and report.html link it.
func link(dir rundir.Dir, path string) string {
	rel, err := filepath.Rel(string(dir), path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}

type flameLink struct{ cell, href string }

// flameLinks lists the cells of set whose flame graph exists in dir, in
// the order first measured, with links relative to dir.
func flameLinks(dir rundir.Dir, set *results.Set) []flameLink {
	var links []flameLink
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		path := dir.FlameGraph(name)
		if _, err := os.Stat(path); err == nil {
			links = append(links, flameLink{cell: name, href: link(dir, path)})
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
