package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
)

const reportUsage = `Usage: concbench report [flags] [RUN]

Prints the tables of a run: one per workload and unit, strategies as columns,
median ± 95% confidence interval over the counted rounds, speedup against
blocking ("~": not significant at α = 0.05), and a geomean row, computed like
benchstat. Text tables are compact (strategy names without their parameters,
speedups alone); --wide adds benchstat's full comparison. RUN is a run folder or a
bench.txt file (default: out/latest). Failed cells show as FAILED and are
listed with their reasons.

Examples:
  concbench report
  concbench report --format markdown out/20261123-131900 > results.md
  concbench report --units all out/latest/bench.txt

Flags:
`

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "text, ascii, markdown or csv")
	wide := fs.Bool("wide", false, "text and ascii tables in full: strategy labels with their parameters, and benchstat's delta, p-value and sample counts next to each speedup (markdown and csv are always full)")
	units := fs.String("units", "", "comma-separated units to show, or 'all' (default: the main ones)")
	fs.Usage = func() {
		fmt.Fprint(stderr, reportUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "concbench report: one run at a time (got %d)\n", fs.NArg())
		return exitUsage
	}
	path := string(rundir.Latest(rundir.DefaultOut))
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	path = rundir.BenchOf(path)
	if code := printReport(stdout, stderr, path, *format, splitList(*units), *wide); code != exitOK {
		return code
	}
	return printBreakdown(stdout, stderr, filepath.Dir(path))
}

// runUnits are the tables printed after a run: throughput per task and
// tail latency. 'concbench report' shows the rest (CPU, allocations,
// %bound, errors).
var runUnits = []string{"sec/op", "p99-sec/op"}

// printTables renders the tables of a finished run.
func printTables(stdout, stderr io.Writer, path, format string, wide bool) int {
	return printReport(stdout, stderr, path, format, runUnits, wide)
}

// printReport writes the tables of the bench file at path. Text tables
// are compact unless wide (see results.Options.Compact).
func printReport(stdout, stderr io.Writer, path, format string, units []string, wide bool) int {
	set, err := results.Read(path)
	if err != nil {
		fmt.Fprintf(stderr, "concbench report: %v\n", err)
		return exitError
	}
	f, err := results.ParseFormat(format)
	if err != nil {
		fmt.Fprintf(stderr, "concbench report: --format: %v\n", err)
		return exitUsage
	}
	opts := results.Options{Format: f, Units: units, Compact: !wide}
	if len(units) == 1 && units[0] == "all" {
		opts.Units, opts.AllUnits = nil, true
	}
	if err := results.WriteTables(stdout, set, opts); err != nil {
		fmt.Fprintf(stderr, "concbench report: %v\n", err)
		return exitError
	}
	return exitOK
}

// printBreakdown adds the where-the-time-went tables of the run's profiles,
// when the run was profiled.
func printBreakdown(stdout, stderr io.Writer, runDir string) int {
	if _, err := os.Stat(rundir.Dir(runDir).Breakdown()); err != nil {
		return exitOK
	}
	fmt.Fprintln(stdout, "\nWhere the time went (% of profile samples, from the profiled pass of each cell):")
	if err := profiles.WriteBreakdown(stdout, runDir); err != nil {
		fmt.Fprintf(stderr, "concbench report: breakdown: %v\n", err)
		return exitError
	}
	return exitOK
}
