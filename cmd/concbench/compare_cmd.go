package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
)

const compareUsage = `Usage: concbench compare [flags] OLD NEW

Compares two runs cell by cell and exits non-zero on a regression, so that CI
can gate on it. OLD and NEW are run folders or bench.txt files; NAME=PATH
labels a side, as benchstat does (base=out/a head=out/b).

The statistics are benchstat's: median ± 95% confidence interval and the
Mann-Whitney U test of OLD against NEW, at α = 0.05. A cell regressed when
the change is significant after the correction for the number of cells
compared and worse than --threshold in the unit's bad direction (slower for
sec/op, fewer for tasks/s). The default correction, Benjamini–Hochberg (bh),
bounds the expected share of false regressions among the flagged cells at α,
so a change that shows in many cells is caught however large the matrix;
holm bounds the chance of any false regression at α, and loses power as the
matrix grows. A cell that fails in NEW (and not in OLD) is a regression too.
Cells and units that only one side measured are listed, never judged.
Improvements are reported and never fail. Values marked ! come from rounds
whose CV exceeds --max-cv.

--calibrate reads OLD and NEW as an A/A pair (the same code twice): it reports
each cell's noise (CV = stddev/mean of the rounds), the largest change noise
produced (the smallest --threshold that would have held), the smallest change
the gate detects in each cell at this noise and these rounds, and the rounds
it would take to detect 5%.

--simulate-slowdown K[,K...] also reads OLD and NEW as an A/A pair: it slows
one side by each K (every value of the gated units ×(1+K), rates ÷(1+K)), the
other side and then the first, and reports the share of cells the gate flags
(its power) next to the false regressions of the pair as it is. The result is
deterministic: run it on A/A files from a quiet machine to choose a threshold.

Exit codes: 0 no regression, 1 regressions (listed), 2 error: bad usage, a
missing, empty or malformed file, no common cells, too few rounds to judge, or
runs from different machines or placements (the header lines cpu,
cpu-features, gomaxprocs, goexperiment and placement) without --allow-mismatch. --calibrate and --simulate-slowdown exit 0
unless they cannot run.

Examples:
  concbench compare out/20261123-131900 out/latest
  concbench compare --format markdown base=base.txt head=head.txt >> "$GITHUB_STEP_SUMMARY"
  concbench compare --units sec/op,p99-sec/op --threshold 10% old.txt new.txt
  concbench compare --calibrate a.txt b.txt
  concbench compare --simulate-slowdown 2%,5%,10%,20% a.txt b.txt

Flags:
`

// Exit codes of compare, as the issue that asked for a CI gate set them:
// unlike the other commands, every error is 2, and 1 means regressions.
const (
	exitRegressions  = 1
	exitCompareError = 2
)

func runCompare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "text, ascii, markdown, csv or json")
	threshold := fs.String("threshold", "5%", "smallest change in the bad direction that fails, as 5% or 0.05")
	correction := fs.String("correction", "bh", "p-value correction across cells: bh (Benjamini–Hochberg, false-discovery rate), holm or none")
	units := fs.String("units", "sec/op", "comma-separated units that gate, or 'all'")
	alpha := fs.Float64("alpha", 0.05, "significance level")
	allowMismatch := fs.Bool("allow-mismatch", false, "compare runs from different machines anyway")
	calibrate := fs.Bool("calibrate", false, "read OLD and NEW as an A/A pair: report noise per cell, the smallest threshold that held, and what the gate can detect")
	simulate := fs.String("simulate-slowdown", "", "read OLD and NEW as an A/A pair and report the gate's power against these uniform slowdowns, such as 5% or 2%,5%,10%")
	maxCV := fs.String("max-cv", "5%", "mark values whose rounds' CV exceeds this ('off': never)")
	fs.Usage = func() {
		fmt.Fprint(stderr, compareUsage)
		fs.PrintDefaults()
	}
	// Flags may follow OLD and NEW too (compare a b --units all).
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitCompareError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "concbench compare: "+format+"\n", a...)
		return exitCompareError
	}
	if len(positional) != 2 {
		return fail("want OLD and NEW (got %d arguments); see concbench compare --help", len(positional))
	}
	f, err := results.ParseDiffFormat(*format)
	if err != nil {
		return fail("--format: %v", err)
	}
	opts := results.CompareOptions{Units: splitList(*units), Alpha: *alpha, AllowMismatch: *allowMismatch}
	if *units == "all" {
		opts.Units, opts.AllUnits = nil, true
	}
	if opts.Threshold, err = parseThreshold(*threshold); err != nil {
		return fail("--threshold: %v", err)
	}
	if opts.Correction, err = results.ParseCorrection(*correction); err != nil {
		return fail("--correction: %v", err)
	}
	if *alpha <= 0 || *alpha >= 1 {
		return fail("--alpha must be between 0 and 1 (got %v)", *alpha)
	}
	if opts.MaxCV, err = parseMaxCV(*maxCV); err != nil {
		return fail("--max-cv: %v", err)
	}
	var slowdowns []float64
	if *simulate != "" {
		if *calibrate {
			return fail("--calibrate and --simulate-slowdown are two reports: ask for one at a time")
		}
		for _, k := range splitList(*simulate) {
			v, err := parseThreshold(k)
			if err != nil || v == 0 {
				return fail("--simulate-slowdown: want positive slowdowns such as 5%% or 0.05 (got %s)", k)
			}
			slowdowns = append(slowdowns, v)
		}
	}
	var sets [2]*results.Set
	for i, arg := range positional {
		label, path := compareArg(arg)
		set, code := readBench(stderr, "compare", path, exitCompareError)
		if code != exitOK {
			return code
		}
		sets[i] = set
		if i == 0 {
			opts.OldLabel = label
		} else {
			opts.NewLabel = label
		}
	}
	if opts.OldLabel == opts.NewLabel {
		opts.OldLabel, opts.NewLabel = "old", "new"
	}
	if len(slowdowns) > 0 {
		sim, err := results.Simulate(sets[0], sets[1], slowdowns, opts)
		if err != nil {
			return fail("%v", err)
		}
		if err := results.WriteSimulation(stdout, sim, f); err != nil {
			return fail("%v", err)
		}
		return exitOK
	}
	d, err := results.Compare(sets[0], sets[1], opts)
	if err != nil {
		return fail("%v", err)
	}
	if *calibrate {
		if err := results.WriteCalibration(stdout, results.Calibrate(d), f); err != nil {
			return fail("%v", err)
		}
		return exitOK
	}
	if err := results.WriteDiff(stdout, d, f); err != nil {
		return fail("%v", err)
	}
	// Cells that vanished from NEW never pass in silence, whatever
	// --format sends to stdout.
	if len(d.OnlyOld) > 0 {
		fmt.Fprintf(stderr, "concbench compare: warning: %d cell(s) of %s missing from %s, not judged:\n", len(d.OnlyOld), d.Old, d.New)
		for _, name := range d.OnlyOld {
			fmt.Fprintf(stderr, "  %s\n", name)
		}
	}
	if regs := d.Regressions(); len(regs) > 0 {
		// The list goes to stderr too, so that it shows in CI logs
		// whatever --format sends to stdout.
		fmt.Fprintf(stderr, "concbench compare: %d regression(s):\n", len(regs))
		for _, c := range regs {
			fmt.Fprintf(stderr, "  %s\n", c.Summary(d))
		}
		return exitRegressions
	}
	return exitOK
}

// compareArg splits NAME=PATH; a bare path is labeled by its run
// folder or file name. A run folder stands for its bench.txt.
func compareArg(arg string) (label, path string) {
	path = arg
	if name, p, ok := strings.Cut(arg, "="); ok && name != "" && !strings.ContainsRune(name, os.PathSeparator) {
		label, path = name, p
	}
	path = rundir.BenchOf(path)
	if label == "" {
		label = filepath.Base(path)
		if label == rundir.BenchFile {
			label = filepath.Base(filepath.Dir(path))
		}
	}
	return label, path
}

// parseThreshold reads "5%" or "0.05".
func parseThreshold(s string) (float64, error) {
	var v float64
	var err error
	if num, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		_, err = fmt.Sscanf(num, "%g", &v)
		v /= 100
	} else {
		_, err = fmt.Sscanf(s, "%g", &v)
	}
	if err != nil || v < 0 {
		return 0, errors.New("want a non-negative fraction or percentage, such as 5% or 0.05 (got " + s + ")")
	}
	return v, nil
}
