package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
)

const viewUsage = `Usage: concbench view [RUN] [flags]

Serves pprof's web UI (flame graph, top, graph, source, peek) for the
profiles of a run on 127.0.0.1 and prints its URL; stops on Ctrl-C. The
profiles of the selected cells are merged; their samples carry the labels
strategy, workload, params, cell and side (client or backend), so the
UI's Refine > Focus on a tag, or pprof's URL parameter tf (for example
.../ui/top?tf=strategy=pool), switches between strategies.

With --diff-base the UI shows the selection minus a base (red: more than
the base, green: less). The base is a strategy, named exactly ("blocking",
every parameter set, or a full label such as "pool(workers=8)"), whose
cells of the same --workload are merged as the selection is; or, when no
strategy has that name, one cell (its name, file name, or a part of either
that matches one cell). The selection is first scaled to the base's total
(pprof's -normalize), so the difference is one of shares; --normalize=false
subtracts raw samples.

Profiles cover the timed part of each round only (from the strategy's
Begin to its last task's end). --kind setup shows the CPU samples of setup
and teardown that the other profiles leave out; --kind backend-cpu the
backend's process, for I/O cells whose backend was profiled.

RUN is a run folder or a run id under out/ (default: out/latest). Profiles
exist for runs made with 'concbench run --profile' (the default).

Examples:
  concbench view
  concbench view out/latest --workload mandelbrot
  concbench view --workload fanout --strategy pool --kind wall
  concbench view --workload mandelbrot --strategy pool --diff-base blocking

Without concbench, one file at a time:
  go tool pprof -http=127.0.0.1:0 out/latest/profiles/CELL.cpu.pprof

Flags:
`

func runView(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("view", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sel profiles.Selection
	fs.StringVar(&sel.Workload, "workload", "", "only this workload's cells")
	fs.StringVar(&sel.Strategy, "strategy", "", "only this strategy's cells: a name (pool) or a label (pool(workers=8))")
	kind := fs.String("kind", "cpu", "profile kind: "+kindList())
	diffBase := fs.String("diff-base", "", "a strategy (exact name or label) or one cell to subtract")
	normalize := fs.Bool("normalize", true, "with --diff-base, scale the selection to the base's total first")
	addr := fs.String("http", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	fs.Usage = func() {
		fmt.Fprint(stderr, viewUsage)
		fs.PrintDefaults()
	}
	// RUN may come before the flags (concbench view out/latest --workload W).
	var run string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		run, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	switch {
	case fs.NArg() > 1 || (fs.NArg() == 1 && run != ""):
		fmt.Fprintf(stderr, "concbench view: want one run, got %q\n", append([]string{run}, fs.Args()...))
		return exitUsage
	case fs.NArg() == 1:
		run = fs.Arg(0)
	}
	dir, err := viewRunDir(run)
	if err != nil {
		fmt.Fprintf(stderr, "concbench view: %v\n", err)
		return exitUsage
	}
	sel.Kind = profiles.Kind(*kind)
	if !slices.Contains(profiles.Kinds, sel.Kind) {
		fmt.Fprintf(stderr, "concbench view: --kind %q: want %s\n", *kind, kindList())
		return exitUsage
	}
	p, cells, err := profiles.Load(dir, sel)
	if err != nil {
		fmt.Fprintf(stderr, "concbench view: %v\n", err)
		if errors.Is(err, profiles.ErrNoProfiles) {
			return exitUsage
		}
		return exitError
	}
	var diff *profiles.Diff
	if *diffBase != "" {
		base, bcs, err := profiles.LoadBase(dir, sel, *diffBase)
		if err != nil {
			fmt.Fprintf(stderr, "concbench view: --diff-base: %v\n", err)
			return exitUsage
		}
		diff = &profiles.Diff{Base: base, Normalize: *normalize}
		for _, bc := range bcs {
			fmt.Fprintf(stderr, "diff base: %s\n", bc.Name)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "concbench view: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "%d cell(s) of %s (%s)\n", len(cells), dir, sel)
	fmt.Fprintf(stdout, "http://%s/ui/\n", ln.Addr())
	fmt.Fprintln(stderr, "serving pprof's web UI; Ctrl-C stops")
	if err := profiles.Serve(ctx, ln, p, diff); err != nil {
		fmt.Fprintf(stderr, "concbench view: %v\n", err)
		return exitError
	}
	return exitOK
}

// kindList is the --kind values for help and errors: "cpu, alloc, ...".
func kindList() string {
	var names []string
	for _, k := range profiles.Kinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// viewRunDir resolves RUN: a folder, a run id under out/, or out/latest.
func viewRunDir(run string) (string, error) {
	if run == "" {
		run = string(rundir.Latest(rundir.DefaultOut))
	}
	for _, d := range []string{run, filepath.Join(rundir.DefaultOut, run)} {
		if st, err := os.Stat(rundir.Dir(d).ProfileDir()); err == nil && st.IsDir() {
			return d, nil
		}
	}
	if _, err := os.Stat(run); err != nil {
		return "", fmt.Errorf("no run folder %s", run)
	}
	return "", fmt.Errorf("%s has no %s/ folder: run with 'concbench run --profile' (the default)", run,
		filepath.Base(rundir.Dir(run).ProfileDir()))
}
