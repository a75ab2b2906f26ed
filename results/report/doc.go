// Package report writes the human-facing report of a concbench run into its
// run folder: report.md (the Markdown tables of results.WriteTables, then
// the charts from charts/*.svg and links to the flame graphs) and
// report.html, the same as one self-contained page (inline CSS and SVG,
// nothing fetched, opens from file://).
//
// The charts are drawn with gonum.org/v1/plot from the tables of package
// results: tasks/s per strategy and workload, the speedup against the
// baseline per workload (geomean of sec/op over the rows), p50 and p99
// latency per strategy, and, for the mixed workload, the crossover of
// tasks/s over the CPU burst per task (the cpu= parameter), a line per
// strategy. A flame graph is linked for every cell whose
// rundir.Dir.FlameGraph exists.
//
// It is a package of its own so that results stays what benchstat users
// rely on (reading, statistics, tables, compare) without HTML, CSS and a
// plotting library; the harness calls Write at the end of every run:
//
//	set, err := results.Read(dir.Bench())
//	if err != nil { ... }
//	err = report.Write(dir, set, report.Options{}) // dir: a rundir.Dir
package report
