package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/concbench/concbench/profiles"
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
// verdicts (throughput winner, lowest p99, the trade-off between them),
// the charts (an overview of speedups; per workload, throughput and
// p50-p99 latency panels, the crossover over CPU per task for rows with a
// cpu= key, latency over offered rate for rows with a rate= key), the
// tables, serve mode's sustainable throughput (results.Saturation), failed
// and unstable cells, and links to the cells' flame graphs that exist in
// dir. report.html is self contained: inline CSS and SVG,
// nothing fetched. report.md shows the same charts from dir's
// charts/*.svg.
func Write(dir rundir.Dir, set *results.Set, opts Options) error {
	title := opts.Title
	if title == "" {
		title = "concbench report"
	}
	charts, err := buildCharts(set, opts.Tables)
	if err != nil {
		return err
	}
	r := &page{
		title:    title,
		set:      set,
		opts:     opts.Tables,
		charts:   charts,
		tables:   set.Tables(opts.Tables),
		verdicts: set.Verdicts(opts.Tables),
		unstable: set.UnstableCells(opts.Tables),
		flames:   flameLinks(dir, set),
	}

	// The charts as files, for report.md.
	if err := os.MkdirAll(dir.ChartDir(), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for i, c := range charts.all() {
		path := dir.Chart(fmt.Sprintf("%02d-%s.svg", i+1, fileStem(c.title)))
		if err := writeFile(path, []byte(c.svg)); err != nil {
			return err
		}
		r.chartFiles = append(r.chartFiles, link(dir, path))
	}

	md, err := r.markdown()
	if err != nil {
		return err
	}
	if err := writeFile(dir.ReportMarkdown(), md); err != nil {
		return err
	}
	return writeFile(dir.ReportHTML(), r.html())
}

// A page is everything one report shows.
type page struct {
	title      string
	set        *results.Set
	opts       results.Options
	charts     *chartSet
	chartFiles []string // charts.all()'s files, relative to the run folder
	tables     []*results.Table
	verdicts   []results.WorkloadVerdict
	unstable   []results.UnstableCell
	flames     []flameLink
}

// short renders a strategy label as the charts do.
func (r *page) short(label string) string { return r.charts.book.look(label).short }

// markdown is report.md: the verdicts and tables as results.WriteTables
// writes them, serve mode's sustainable throughput as
// results.WriteSaturation writes it, the unstable cells as
// results.WriteUnstable warns of them, then the charts.
func (r *page) markdown() ([]byte, error) {
	var md bytes.Buffer
	fmt.Fprintf(&md, "# %s\n\n", r.title)
	if m := machine(r.set); m != "" {
		fmt.Fprintf(&md, "%s\n\n", m)
	}
	opts := r.opts
	opts.Format = results.Markdown
	if err := results.WriteTables(&md, r.set, opts); err != nil {
		return nil, err
	}
	if err := results.WriteSaturation(&md, r.set, opts); err != nil {
		return nil, err
	}
	if err := results.WriteUnstable(&md, r.set, opts); err != nil {
		return nil, err
	}
	if len(r.chartFiles) > 0 {
		md.WriteString("\n## Charts\n\n")
		for i, c := range r.charts.all() {
			fmt.Fprintf(&md, "![%s](%s)\n\n", c.title, r.chartFiles[i])
		}
	}
	if len(r.flames) > 0 {
		md.WriteString("## Flame graphs\n\n")
		for _, f := range r.flames {
			fmt.Fprintf(&md, "- [%s](%s)\n", f.cell, f.href)
		}
	}
	return md.Bytes(), nil
}

// machine describes where the run ran, from bench.txt's configuration
// lines: "linux/amd64 · AMD EPYC · GOMAXPROCS 2 · go1.26.8 · commit 3934ceb".
func machine(set *results.Set) string {
	if len(set.Results) == 0 {
		return ""
	}
	cfg := map[string]string{}
	for _, c := range set.Results[0].Config {
		cfg[c.Key] = string(c.Value)
	}
	var parts []string
	if cfg["goos"] != "" {
		parts = append(parts, cfg["goos"]+"/"+cfg["goarch"])
	}
	for _, k := range []string{"cpu", "cpu-features"} {
		if cfg[k] != "" {
			parts = append(parts, cfg[k])
		}
	}
	if cfg["gomaxprocs"] != "" {
		parts = append(parts, "GOMAXPROCS "+cfg["gomaxprocs"])
	}
	if cfg["go"] != "" {
		parts = append(parts, cfg["go"])
	}
	if cfg["commit"] != "" {
		parts = append(parts, "commit "+cfg["commit"])
	}
	return strings.Join(parts, " · ")
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

// flameLinks lists the flame graphs in dir of the cells of set, in the
// order first measured, with links relative to dir: each cell's CPU
// profile's, then the backend's beside it and the wall clock's, where
// they exist (profiles.FlameGraphs).
func flameLinks(dir rundir.Dir, set *results.Set) []flameLink {
	var links []flameLink
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		for _, f := range profiles.FlameGraphs(dir, name) {
			label := name
			switch f.Kind {
			case profiles.BackendCPU:
				label += " · backend CPU"
			case profiles.Wall:
				label += " · wall clock"
			}
			links = append(links, flameLink{cell: label, href: link(dir, f.Path)})
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
