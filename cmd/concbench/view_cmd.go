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
	"strings"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
)

const viewUsage = `Usage: concbench view [RUN] [flags]

Serves pprof's web UI (flame graph, top, graph, source, peek) for the
profiles of a run on 127.0.0.1 and prints its URL; stops on Ctrl-C. The
profiles of the selected cells are merged; their samples carry the labels
strategy, workload, params and cell, so the UI's Refine > Focus on a tag
(or the URL parameter tagfocus=strategy=pool) switches between strategies.
With --diff-base the UI shows the selection minus that one cell (red: more
than the base, green: less).

RUN is a run folder or a run id under out/ (default: out/latest). Profiles
exist for runs made with 'concbench run --profile' (the default).

Examples:
  concbench view
  concbench view out/latest --workload mandelbrot
  concbench view --workload fanout --strategy pool --kind wall
  concbench view --workload mandelbrot --strategy simd --diff-base Mandelbrot_width=1024_rows=128_iter=256_strategy=blocking-2

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
	kind := fs.String("kind", "cpu", "profile kind: cpu, alloc, wall (I/O cells), block or mutex (runs with --trace)")
	diffBase := fs.String("diff-base", "", "a cell (name, file name, or a part matching one cell) to subtract")
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
	switch sel.Kind {
	case profiles.CPU, profiles.Alloc, profiles.Wall, profiles.Block, profiles.Mutex:
	default:
		fmt.Fprintf(stderr, "concbench view: --kind %q: want cpu, alloc, wall, block or mutex\n", *kind)
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
	var base *profile.Profile
	if *diffBase != "" {
		var bc profiles.Cell
		base, bc, err = profiles.LoadCell(dir, *diffBase, sel.Kind)
		if err != nil {
			fmt.Fprintf(stderr, "concbench view: --diff-base: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "diff base: %s\n", bc.Name)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "concbench view: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "%d cell(s) of %s (%s)\n", len(cells), dir, sel)
	fmt.Fprintf(stdout, "http://%s/ui/\n", ln.Addr())
	fmt.Fprintln(stderr, "serving pprof's web UI; Ctrl-C stops")
	if err := profiles.Serve(ctx, ln, p, base); err != nil {
		fmt.Fprintf(stderr, "concbench view: %v\n", err)
		return exitError
	}
	return exitOK
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
