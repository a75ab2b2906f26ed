package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
)

const reportUsage = `Usage: concbench report [flags] [RUN...]

Prints a summary of a run: per workload, the fastest strategy and the one with
the best p99 (the trade-off in one line when they differ; a strategy with
failed cells or task errors is never named), then one table per workload of
time per task: median ± 95% confidence interval over the counted rounds,
speedup against blocking ("~": not significant at α = 0.05), a geomean row,
computed like benchstat. Then where the time went, in short, and a warning
that names the unstable cells with the likely cause and the cure. --all prints
every table (tasks/s, p99, CPU, the share of the bound, errors, allocations) and the full
profile breakdown.

Text tables fit 120 columns: strategies by name (a legend gives the full
labels), speedups alone, strategies as rows when they are many; --wide prints
benchstat's full form. Marks after a value: ! unstable (its rounds vary more
than --max-cv), ✗ some tasks failed. Failed cells show as FAILED and are
listed with their reasons. --format json writes every cell's results for
scripts (schema: docs/json.md).

RUN is a run folder or a bench.txt file (default: out/latest).

Several RUNs (the runs of a CI matrix, one per machine, say) make the machine
a column (/machine). Each machine is labelled by its CPU, read from the
bench.txt header and meta.json (with GOMAXPROCS or the run id where runs share
a CPU; NAME=RUN names it yourself). Per workload: who wins on each machine,
then a table with the strategies as rows and, for each machine, the time per
task (the geomean over the workload's rows when it has several), the speedup
against blocking on that machine and the rank there. A strategy whose
parameters follow the machine (pool's workers, simd's kernel path) stays one
row; a legend gives its label on each. --units and --all add the other units'
tables, and --all each run's own full report. --format csv puts machine, cpu,
goarch and gomaxprocs before each run's records; --format json writes each run
with its machine and results, and the machine tables (schema
concbench.machines in docs/json.md). A run given twice is refused.

Exit codes: 0 ok, 2 bad usage or unusable input (missing, empty, malformed or
impossible values, with file:line; a run given twice), 3 the output could not
be written.

Examples:
  concbench report
  concbench report --all out/20261123-131900
  concbench report --format markdown --all out/latest > results.md
  concbench report --units all --wide out/latest/bench.txt
  concbench report --format json > results.json
  concbench report runs/ubuntu-latest runs/ubuntu-24.04-arm
  concbench report laptop=out/20261123-131900 ci=ci-run/bench.txt

Flags:
`

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "text, ascii, markdown, csv or json")
	wide := fs.Bool("wide", false, "text and ascii tables in full: strategy labels with their parameters, and benchstat's delta, p-value and sample counts next to each speedup (markdown, csv and json are always full)")
	all := fs.Bool("all", false, "every table of the default units, and the full profile breakdown, instead of the summary")
	units := fs.String("units", "", "comma-separated units to tabulate, or 'all' (implies the tables of --all; default: the summary)")
	maxCV := fs.String("max-cv", "5%", "noise limit: a cell whose rounds' CV (stddev/mean of sec/op) exceeds it is marked unstable ('off': never)")
	fs.Usage = func() {
		fmt.Fprint(stderr, reportUsage)
		fs.PrintDefaults()
	}
	// Flags may follow the run too (report out/latest --units all).
	runs, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	f, err := results.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "concbench report: --format: %v\n", err)
		return exitUsage
	}
	limit, err := parseMaxCV(*maxCV)
	if err != nil {
		fmt.Fprintf(stderr, "concbench report: --max-cv: %v\n", err)
		return exitUsage
	}
	opts := results.Options{Format: f, Units: splitList(*units), Compact: !*wide, MaxCV: limit,
		Summary: !*all && *units == ""}
	if *units == "all" || (f == results.JSON && *units == "") {
		opts.Units, opts.AllUnits = nil, true
	}
	if len(runs) > 1 {
		return reportMachines(stdout, stderr, runs, opts)
	}
	path := string(rundir.Latest(rundir.DefaultOut))
	if len(runs) == 1 {
		path = runs[0]
	}
	path = rundir.BenchOf(path)
	set, code := readBench(stderr, "report", path, exitUsage)
	if code != exitOK {
		return code
	}
	return writeReport(stdout, stderr, set, filepath.Dir(path), opts)
}

// reportMachines reports runs from several machines with the machine as
// a column (results.WriteMachines); with --all, each run's own report
// follows. Every argument is read before anything is written, so that a
// bad one leaves stdout empty: each unreadable run is named on stderr
// (exit 2), and so is a run given twice, by another path or not.
func reportMachines(stdout, stderr io.Writer, args []string, opts results.Options) int {
	var runs []*results.Run
	byFile, byLabel := map[string]string{}, map[string]string{}
	bad := false
	for _, arg := range args {
		label, path := reportArg(arg)
		path = rundir.BenchOf(path)
		same := sameFile(path)
		if prev, ok := byFile[same]; ok {
			fmt.Fprintf(stderr, "concbench report: %s and %s are the same run (%s): give each run once\n", prev, arg, same)
			return exitUsage
		}
		byFile[same] = arg
		if label != "" {
			if prev, ok := byLabel[label]; ok {
				fmt.Fprintf(stderr, "concbench report: label %q names both %s and %s: give each run its own\n", label, prev, arg)
				return exitUsage
			}
			byLabel[label] = arg
		}
		set, code := readBench(stderr, "report", path, exitUsage)
		if code != exitOK {
			bad = true
			continue
		}
		run := &results.Run{Path: path, Set: set, Machine: results.MachineOf(set)}
		run.Machine.Label = label
		readRunMeta(stderr, run)
		if mixed := run.Machine.MixedMachineKeys(); len(mixed) > 0 {
			fmt.Fprintf(stderr, "concbench report: warning: %s holds results from several machines (%s): its column mixes them\n",
				path, strings.Join(mixed, "; "))
		}
		runs = append(runs, run)
	}
	if bad {
		return exitUsage
	}
	results.LabelMachines(runs)
	if err := results.WriteMachines(stdout, runs, opts); err != nil {
		fmt.Fprintf(stderr, "concbench report: %v\n", err)
		return exitError
	}
	if opts.Format == results.JSON || opts.Format == results.CSV {
		return exitOK
	}
	for _, run := range runs {
		if opts.Summary && len(run.Set.Saturation(opts)) == 0 {
			continue
		}
		heading := fmt.Sprintf("%s: %s", run.Machine.Label, run.Path)
		if opts.Summary {
			heading = "Serve mode on " + heading
		}
		if opts.Format == results.Markdown {
			fmt.Fprintf(stdout, "\n## %s\n", heading)
		} else {
			fmt.Fprintf(stdout, "\n== %s ==\n", heading)
		}
		if opts.Summary {
			// The saturation tables start with a blank line.
			if err := results.WriteSaturation(stdout, run.Set, opts); err != nil {
				fmt.Fprintf(stderr, "concbench report: %v\n", err)
				return exitError
			}
			continue
		}
		fmt.Fprintln(stdout)
		if code := writeReport(stdout, stderr, run.Set, filepath.Dir(run.Path), opts); code != exitOK {
			return code
		}
	}
	return exitOK
}

// reportArg splits NAME=PATH, as compare does, where arg is not itself
// an existing path; a bare path has no label.
func reportArg(arg string) (label, path string) {
	if _, err := os.Stat(arg); err == nil {
		return "", arg
	}
	if name, p, ok := strings.Cut(arg, "="); ok && name != "" && !strings.ContainsRune(name, os.PathSeparator) {
		return name, p
	}
	return "", arg
}

// sameFile returns what two paths of one bench file have in common: the
// absolute path with every link resolved (out/latest is the newest run's
// folder), or the path made absolute where it does not resolve.
func sameFile(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// readRunMeta fills in what the run folder's meta.json adds to the
// bench.txt header: the run id (out/latest's own, say) and the machine
// check's summary. The id is the folder's name (or the file's, outside a
// run folder) where there is no meta.json; one that cannot be read is a
// warning.
func readRunMeta(stderr io.Writer, run *results.Run) {
	dir := rundir.Dir(filepath.Dir(run.Path))
	m := &run.Machine
	m.RunID = filepath.Base(run.Path)
	if m.RunID == rundir.BenchFile {
		m.RunID = filepath.Base(filepath.Dir(sameFile(run.Path)))
	}
	if _, err := os.Stat(dir.Meta()); err != nil || filepath.Base(run.Path) != rundir.BenchFile {
		return
	}
	meta, err := dir.ReadMeta()
	if err != nil {
		fmt.Fprintf(stderr, "concbench report: warning: %v\n", err)
		return
	}
	if meta.ID != "" {
		m.RunID = meta.ID
	}
	if meta.Machine != nil {
		m.Check = meta.Machine.Summary
	}
	if _, ok := m.Header["placement"]; !ok && meta.Placement != "" {
		m.Placement = meta.Placement
	}
}

// writeReport writes the report of set (from the run folder runDir) in
// opts: the tables, then for text and Markdown where the time went (in
// short for a summary, in full otherwise) and the unstable cells.
func writeReport(stdout, stderr io.Writer, set *results.Set, runDir string, opts results.Options) int {
	if err := results.WriteTables(stdout, set, opts); err != nil {
		fmt.Fprintf(stderr, "concbench report: %v\n", err)
		return exitError
	}
	if opts.Format == results.JSON || opts.Format == results.CSV {
		return exitOK
	}
	if err := results.WriteSaturation(stdout, set, opts); err != nil {
		fmt.Fprintf(stderr, "concbench report: %v\n", err)
		return exitError
	}
	if opts.Summary {
		printBreakdownShort(stdout, stderr, set, runDir, opts)
	} else if code := printBreakdown(stdout, stderr, runDir); code != exitOK {
		return code
	}
	if err := results.WriteUnstable(stdout, set, opts); err != nil {
		fmt.Fprintf(stderr, "concbench report: %v\n", err)
		return exitError
	}
	return exitOK
}

// readBench reads the bench file at path for command cmd, printing what
// Read tolerated (a torn last line) as warnings. A file that cannot be
// read, is malformed or holds no benchmark results returns badInput, the
// reason on stderr.
func readBench(stderr io.Writer, cmd, path string, badInput int) (*results.Set, int) {
	set, err := results.Read(path)
	if err != nil {
		fmt.Fprintf(stderr, "concbench %s: %v\n", cmd, err)
		return nil, badInput
	}
	for _, w := range set.Warnings {
		fmt.Fprintf(stderr, "concbench %s: warning: %s\n", cmd, w)
	}
	if len(set.Results) == 0 && len(set.Failures) == 0 {
		fmt.Fprintf(stderr, "concbench %s: %s: no benchmark results (want Go benchmark format, as concbench run writes: lines such as \"BenchmarkNoop/strategy=blocking-2  20000  80 ns/op\")\n", cmd, path)
		return nil, badInput
	}
	return set, exitOK
}

// printTables prints the summary of a finished run to stdout, as 'concbench
// report' does without flags: the verdict lines and one table per workload,
// fitted to the terminal unless wide, in format (text, ascii, markdown, csv
// or json). A bench.txt that cannot be read is an error (exit 3): the run
// wrote it.
func printTables(stdout, stderr io.Writer, path, format string, wide bool) int {
	set, code := readBench(stderr, "run", path, exitError)
	if code != exitOK {
		return code
	}
	f, err := results.ParseFormat(format)
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: --format: %v\n", err)
		return exitUsage
	}
	opts := results.Options{Format: f, Compact: !wide, Summary: true}
	if f == results.JSON {
		opts.Summary, opts.AllUnits = false, true
	}
	if err := results.WriteTables(stdout, set, opts); err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitError
	}
	if f == results.JSON || f == results.CSV {
		return exitOK
	}
	if err := results.WriteSaturation(stdout, set, opts); err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitError
	}
	return exitOK
}

// printUnstable prints the warning that ends a run when some of its cells
// are unstable (their rounds of sec/op vary by more than 5 %): each cell
// with its CV and what showed the likely cause, then the causes and their
// cures. It prints nothing for a steady run, and reports a bench.txt that
// cannot be read as exit 3.
func printUnstable(w, stderr io.Writer, path string, wide bool) int {
	set, code := readBench(io.Discard, "run", path, exitError)
	if code != exitOK {
		return code
	}
	if err := results.WriteUnstable(w, set, results.Options{Compact: !wide}); err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitError
	}
	return exitOK
}

// writeResultsJSON writes the per-cell results of the bench file at path
// as JSON (results.WriteJSON, schema in docs/json.md), every unit.
func writeResultsJSON(w, stderr io.Writer, path string) int {
	set, code := readBench(stderr, "run", path, exitError)
	if code != exitOK {
		return code
	}
	if err := results.WriteJSON(w, set, results.Options{AllUnits: true}); err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitError
	}
	return exitOK
}

// parseMaxCV reads --max-cv: "5%", "0.05", or "off".
func parseMaxCV(s string) (float64, error) {
	if strings.EqualFold(s, "off") {
		return -1, nil
	}
	v, err := parseThreshold(s)
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, fmt.Errorf("want a positive limit such as 5%% or 0.05, or off (got %s)", s)
	}
	return v, nil
}

// printBreakdown adds the where-the-time-went tables of the run's profiles,
// when the run was profiled: plain-text tables that fit 120 columns, each
// share with its sample count, client and backend side by side, and each
// profile's top functions (the run folder's breakdown.md has the same in
// Markdown).
func printBreakdown(stdout, stderr io.Writer, runDir string) int {
	if _, err := os.Stat(rundir.Dir(runDir).Breakdown()); err != nil {
		return exitOK
	}
	fmt.Fprintln(stdout, "\nWhere the time went (% of profile samples, from the profiled pass of each cell):")
	if err := profiles.WriteBreakdownText(stdout, runDir, profiles.TextOptions{Top: true}); err != nil {
		fmt.Fprintf(stderr, "concbench report: breakdown: %v\n", err)
		return exitError
	}
	return exitOK
}

// printBreakdownShort says where the time went for each workload's
// fastest strategy (and the one with the best p99, when it differs): the
// two largest shares of its CPU profile samples over the workload's rows.
// It prints nothing for a run without profiles; a profile that cannot be
// read is a warning, since the tables are already out.
func printBreakdownShort(stdout, stderr io.Writer, set *results.Set, runDir string, opts results.Options) {
	if _, err := os.Stat(rundir.Dir(runDir).Breakdown()); err != nil {
		return
	}
	bs, err := profiles.LoadBreakdowns(runDir)
	if err != nil {
		fmt.Fprintf(stderr, "concbench report: warning: breakdown: %v\n", err)
		return
	}
	var lines []string
	for _, v := range set.Verdicts(opts) {
		var strategies []string
		if v.Fastest != nil {
			strategies = append(strategies, v.Fastest.Strategy)
		}
		if v.TradeOff() {
			strategies = append(strategies, v.BestP99.Strategy)
		}
		for _, s := range strategies {
			if share := topShares(bs, v.Workload, s, 2); share != "" {
				lines = append(lines, fmt.Sprintf("  %s · %s: %s", v.Workload, s, share))
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(stdout, "\nWhere the time went (share of CPU profile samples; every cell: concbench report --all):")
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
}

// topShares sums the CPU breakdowns of strategy's cells of workload and
// names its n largest categories with their shares: "syscalls & netpoll
// 55%, scheduler & sync 20%", or "too few samples (n)" below
// profiles.MinBreakdownSamples.
func topShares(bs []*profiles.Breakdown, workload, strategy string, n int) string {
	type share struct {
		name    string
		samples int64
	}
	var total int64
	var shares []share
	for _, b := range bs {
		if b.Kind != profiles.CPU || !strings.EqualFold(b.Cell.Workload, workload) || b.Cell.Strategy != strategy {
			continue
		}
		total += b.Total
		for c, samples := range b.By {
			if c >= len(shares) {
				shares = append(shares, share{name: profiles.Category(c).String()})
			}
			shares[c].samples += samples
		}
	}
	if total == 0 {
		return ""
	}
	if total < profiles.MinBreakdownSamples {
		// Shares from a handful of samples would be noise dressed as
		// percentages: say so, as the full breakdown does.
		return fmt.Sprintf("too few samples (%d)", total)
	}
	// Largest first; the categories' own order breaks ties.
	slices.SortStableFunc(shares, func(a, b share) int { return cmp.Compare(b.samples, a.samples) })
	var parts []string
	for _, s := range shares[:min(n, len(shares))] {
		if s.samples > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", s.name, 100*float64(s.samples)/float64(total)))
		}
	}
	return strings.Join(parts, ", ")
}
