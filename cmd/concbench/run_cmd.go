package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/concbench/concbench/harness"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/simd"
	"github.com/concbench/concbench/workloads"
)

const runUsage = `Usage: concbench run [flags] [NAME.PARAM=VALUE ...]

Runs every selected workload with every selected strategy: warm-up rounds,
then --count counted rounds, strategies interleaved round by round. Each task's
result is checked against the scalar reference; a cell with a wrong result,
a panic or a timeout is recorded as failed and the run goes on. Results go to
OUT/<run-id>/bench.txt (Go benchmark format, one line per counted round) as
each cell finishes, and OUT/latest points at the newest run.

NAME.PARAM=VALUE sets a workload or strategy parameter; a comma list is a
sweep (one cell per value). See 'concbench list' for every parameter.

Examples:
  concbench run --quick
  concbench run --workloads mandelbrot --strategies blocking,pool pool.workers=2,8
  concbench run --workloads fanout fanout.latency=1ms fanout.tasks=10000
  concbench run --backend redis://127.0.0.1:6379 --workloads fanout,webrequest
  go tool benchstat -col /strategy out/latest/bench.txt

Flags:
`

type runFlags struct {
	workloads, strategies string
	count, warmup         int
	quick                 bool
	out                   string
	timeout, fetchTimeout time.Duration
	backend               string
	format                string
	wide                  bool
	quiet                 bool
	profile, trace        bool
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.workloads, "workloads", "", "comma-separated workloads (default: all; see 'concbench list')")
	fs.StringVar(&f.strategies, "strategies", "", "comma-separated strategies (default: all available here)")
	fs.IntVar(&f.count, "count", 6, "counted rounds per cell (6 is the fewest for which benchstat gives a 95% confidence interval)")
	fs.IntVar(&f.warmup, "warmup", 1, "warm-up rounds per cell, not counted")
	fs.BoolVar(&f.quick, "quick", false, "small task counts: the whole matrix in about a minute on 2 cores")
	fs.StringVar(&f.out, "out", rundir.DefaultOut, "folder that holds run folders")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "limit for one round of one cell; a round past it fails the cell")
	fs.DurationVar(&f.fetchTimeout, "fetch-timeout", 5*time.Second, "limit for one backend request; a request past it is a task error")
	fs.StringVar(&f.backend, "backend", "builtin", "backend for I/O workloads: builtin (a child process per instance), inprocess, or redis://HOST:PORT")
	fs.StringVar(&f.format, "format", "text", "table format on stdout: text, ascii or markdown")
	fs.BoolVar(&f.wide, "wide", false, "text tables in full: strategy parameters in the headers, benchstat's delta, p-value and sample counts next to each speedup")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines on stderr")
	fs.BoolVar(&f.profile, "profile", true, "after each cell's counted rounds, a separate profiled pass: CPU, allocation and (I/O cells) wall-clock profiles in profiles/, flame graphs in flame/")
	fs.BoolVar(&f.trace, "trace", false, "with --profile: also block and mutex profiles and a runtime/trace execution trace per cell")
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if f.count < 1 || f.warmup < 0 {
		fmt.Fprintf(stderr, "concbench run: --count must be at least 1 and --warmup at least 0 (got %d, %d)\n", f.count, f.warmup)
		return exitUsage
	}
	if _, err := results.ParseFormat(f.format); err != nil {
		fmt.Fprintf(stderr, "concbench run: --format: %v\n", err)
		return exitUsage
	}
	sel, err := selection(f, fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitUsage
	}
	provider, err := backendProvider(f.backend, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitUsage
	}
	defer provider.Close()
	if _, isRedis := provider.(*harness.RedisBackend); isRedis {
		if err := withoutLatency(&sel); err != nil {
			fmt.Fprintf(stderr, "concbench run: %v\n", err)
			return exitUsage
		}
		fmt.Fprintln(stderr, "backend: a real Redis cannot inject latency; I/O workloads run with latency=0s")
	}

	plan, err := harness.NewPlan(sel)
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		if isUsageError(err) {
			return exitUsage
		}
		return exitError
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(stderr, "skipped: %s\n", s)
	}
	opt := harness.Options{Count: f.count, Warmup: f.warmup, Timeout: f.timeout, FetchTimeout: f.fetchTimeout,
		Backends: provider}
	if !f.quiet {
		opt.Progress = stderr
	}
	if f.profile {
		opt.Profile = &harness.Profiling{Trace: f.trace}
	}
	// simd: the kernel path that path=auto resolves to here (the simd
	// cells also carry the path that ran in their names).
	rec, err := harness.Record(plan, opt, harness.RecordOptions{Out: f.out, Args: append([]string{"run"}, args...),
		Header: []params.KV{{Name: "simd", Value: simd.Path()}}})
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "run %s: %d cells × %d rounds (+%d warm-up) → %s\n", rec.Dir.ID(), len(plan.Cells), f.count, f.warmup, rec.Dir)

	sum, err := rec.Run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitError
	}
	bench := rec.Bench.Path()
	if code := printTables(stdout, stderr, bench, f.format, f.wide); code != exitOK {
		return code
	}
	wrote, err := rec.WriteReport()
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: report: %v\n", err)
		return exitError
	}
	if wrote {
		fmt.Fprintf(stderr, "report: %s and %s\n", rec.Dir.ReportHTML(), filepath.Base(rec.Dir.ReportMarkdown()))
	}
	fmt.Fprintf(stderr, "results: %s (go tool benchstat -col /strategy %s)\n", bench, bench)
	switch {
	case !sum.Finished:
		fmt.Fprintf(stderr, "interrupted: the cells finished so far are in %s\n", bench)
		return exitInterrupted
	case len(sum.Failed) > 0:
		fmt.Fprintf(stderr, "%d cell(s) failed:\n", len(sum.Failed))
		for _, c := range plan.Cells {
			if err, ok := sum.Failed[c]; ok {
				fmt.Fprintf(stderr, "  %s: %v\n", c.Name, err)
			}
		}
		return exitCellsFailed
	}
	return exitOK
}

// selection turns flags and NAME.PARAM=VALUE arguments into a harness
// selection, checking names as it goes.
func selection(f runFlags, args []string) (harness.Selection, error) {
	sel := harness.Selection{Quick: f.quick,
		WorkloadParams: map[string]params.Values{}, StrategyParams: map[string]params.Values{}}
	sel.Workloads = splitList(f.workloads)
	sel.Strategies = splitList(f.strategies)
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return sel, fmt.Errorf("flag %q after a NAME.PARAM=VALUE argument: put flags first", a)
		}
		key, value, ok := strings.Cut(a, "=")
		name, param, ok2 := strings.Cut(key, ".")
		if !ok || !ok2 || name == "" || param == "" {
			return sel, fmt.Errorf("argument %q: want NAME.PARAM=VALUE, e.g. pool.workers=8 or fanout.latency=1ms", a)
		}
		var target map[string]params.Values
		if _, err := workloads.Lookup(name); err == nil {
			target = sel.WorkloadParams
		} else if _, err := strategies.Lookup(name); err == nil {
			target = sel.StrategyParams
		} else {
			return sel, fmt.Errorf("argument %q: %q is neither a workload (%s) nor a strategy (%s)", a, name,
				strings.Join(workloads.Names(), ", "), strings.Join(strategies.Names(), ", "))
		}
		if target[name] == nil {
			target[name] = params.Values{}
		}
		target[name][param] = value
	}
	return sel, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isUsageError(err error) bool {
	for _, target := range []error{workloads.ErrUnknownWorkload, strategies.ErrUnknownStrategy,
		strategies.ErrUnavailable, params.ErrUnknown, params.ErrInvalid} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func backendProvider(spec string, stderr io.Writer) (harness.BackendProvider, error) {
	switch {
	case spec == "builtin":
		return &harness.ChildBackends{Stderr: stderr}, nil
	case spec == "inprocess":
		return &harness.InProcessBackends{}, nil
	case strings.HasPrefix(spec, "redis://"):
		return harness.NewRedisBackend(strings.TrimPrefix(spec, "redis://"), stderr)
	default:
		return nil, fmt.Errorf("--backend %q: want builtin, inprocess or redis://HOST:PORT", spec)
	}
}

// withoutLatency sets latency=0s on every workload with fetch steps, for a
// backend that cannot inject latency, and refuses a user's non-zero latency.
func withoutLatency(sel *harness.Selection) error {
	for _, d := range workloads.All() {
		if d.Class == workloads.ClassCPU {
			continue
		}
		v := sel.WorkloadParams[d.Name]
		if v == nil {
			v = params.Values{}
			sel.WorkloadParams[d.Name] = v
		}
		if l, ok := v["latency"]; ok {
			for _, x := range strings.Split(l, ",") {
				if dur, err := time.ParseDuration(strings.TrimSpace(x)); err != nil || dur != 0 {
					return fmt.Errorf("%s.latency=%s: the redis backend cannot inject latency; use the builtin backend", d.Name, l)
				}
			}
		}
		v["latency"] = "0s"
	}
	return nil
}
