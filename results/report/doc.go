// Package report writes the human-facing report of a concbench run into its
// run folder: report.html, one self-contained page (inline CSS and SVG,
// nothing fetched, opens from file://), and report.md with the same
// charts as charts/*.svg.
//
// The page opens with the verdicts of package results (Set.Verdicts: per
// workload the fastest strategy, the one with the best p99, the trade-off
// when they differ, and the strategies left out for failing or losing
// tasks), warnings for failed cells and for unstable ones
// (Set.UnstableCells, with cause and cure), an overview of every
// strategy's speedup against the baseline on every workload (a heatmap),
// and a key of the strategies. A section per workload follows: its
// verdict, its charts, and its tables (strategies as rows, so that
// thirteen strategies stay narrow; each table scrolls inside its own box
// rather than widen the page).
//
// After the sections, serve mode's sustainable throughput
// (results.Saturation: per strategy, the highest offered rate whose p99
// meets the cells' SLO with no errors and the rate offered), a table per
// group of serve cells, in both files.
//
// The charts are hand-written SVG, laid out here from the widths of the
// labels (Liberation Sans, which the page names first, and DejaVu Sans,
// the usual fallback, whichever is wider), so that no label is clipped or
// drawn over another:
//   - throughput: horizontal bars of tasks/s, a panel per row of workload
//     parameters, strategies labelled once at the left;
//   - latency per task: each strategy's p50 to p99 as a range;
//   - for rows with a cpu= key (the mixed workload), the crossover: tasks/s
//     over the CPU burst per task, a line per strategy;
//   - for rows with a rate= key (serve mode, cells such as
//     Serve/rate=20000/latency=1ms/strategy=reactor-2 with p99-sec/op and
//     req/s), p99 latency over the offered rate, saturated points crossed.
//
// Every value carries its 95% interval over the rounds as a whisker; an
// axis turns logarithmic when its values span more than 30×; unstable
// cells carry a warning triangle and cells that lost tasks a red cross;
// failed cells read FAILED, never a number. Each strategy keeps its colour
// across the charts: Go strategies in solid colours, the Python systems
// (py-*) in another palette, hatched, hollow and dashed. Legends and keys
// sit outside the plotting area; long strategy labels are shortened to
// what tells them apart ("reactor(loops=2)"), with the full labels in a
// key under each chart.
//
// It is a package of its own so that results stays what benchstat users
// rely on (reading, statistics, tables, compare) without HTML and SVG;
// the harness calls Write at the end of every run:
//
//	set, err := results.Read(dir.Bench())
//	if err != nil { ... }
//	err = report.Write(dir, set, report.Options{}) // dir: a rundir.Dir
//
// The tests check the layout twice: from the boxes this package computed,
// and in headless Chromium, which measures every text of every chart
// (testdata/bench.txt is a realistic run of all strategies).
// CONCBENCH_REPORT_SCREENSHOTS=<folder> go test -run TestReportScreenshots
// writes screenshots of a CPU workload, an I/O workload, mixed, the
// Python comparison and serve mode for people to look at.
package report
