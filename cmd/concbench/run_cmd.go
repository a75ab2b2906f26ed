package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/concbench/concbench/harness"
	"github.com/concbench/concbench/machinecheck"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/placement"
	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/rundir"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/external"
	"github.com/concbench/concbench/strategies/simd"
	"github.com/concbench/concbench/workloads"
)

const runUsage = `Usage: concbench run [flags] [NAME.PARAM=VALUE ...]

Runs every selected workload with every selected strategy: warm-up rounds,
then --count counted rounds, strategies interleaved round by round. A round
repeats the cell's task set as many times (passes) as the first warm-up round
found it takes to last --round-time; figures stay per task. Each task's result
is checked against the scalar reference; a cell with a wrong result, a panic,
a timeout, or more failed tasks than --max-errors allows is recorded as failed
and the run goes on (exit 1). Results go to OUT/<run-id>/bench.txt (Go
benchmark format, one line per counted round) as each round finishes, and
OUT/latest points at the newest run; OUT/<run-id>/meta.json records the
options, the placement, the machine check and, at the end, each cell's
median, rounds, noise and errors.

A run starts with one line on what on this machine degrades measurements
('concbench doctor' says more). On a terminal, one live line shows the cell
and round in progress (warm-up rounds apart), the time elapsed and an
estimate of the time left, from the rounds timed so far; otherwise, a line
when each cell finishes and when each round of the matrix ends. At the end:
the summary tables on stdout (--json: the results as JSON instead), and a
warning naming the unstable cells, if any.

NAME.PARAM=VALUE sets a workload or strategy parameter; a comma list is a
sweep (one cell per value). See 'concbench list' for every parameter.

Examples:
  concbench run --quick
  concbench run --workloads mandelbrot --strategies blocking,pool pool.workers=2,8
  concbench run --workloads fanout fanout.latency=1ms fanout.tasks=10000
  concbench run --placement strategy=0,backend=1 --workloads fanout
  concbench run --backend redis://127.0.0.1:6379 --workloads fanout,webrequest
  concbench run --quick --json=results.json
  go tool benchstat -col /strategy out/latest/bench.txt

Flags:
`

type runFlags struct {
	workloads, strategies string
	count, warmup         int
	roundTime             time.Duration
	maxErrors             errorRate
	quick                 bool
	out                   string
	timeout, fetchTimeout time.Duration
	backend               string
	placement             string
	python                string
	format                string
	json                  jsonOutput
	wide                  bool
	quiet                 bool
	profile, trace        bool
	profileTime           time.Duration
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.workloads, "workloads", "", "comma-separated workloads (default: all; see 'concbench list')")
	fs.StringVar(&f.strategies, "strategies", "", "comma-separated strategies (default: all available here)")
	fs.IntVar(&f.count, "count", harness.DefaultCount, fmt.Sprintf("counted rounds per cell, at most %d (with 10, benchstat's 95%% interval of the median is narrower than the samples' range)", harness.MaxCount))
	fs.IntVar(&f.warmup, "warmup", 1, fmt.Sprintf("warm-up rounds per cell, not counted, at most %d; the first calibrates the rounds' passes and samples peak goroutines and threads (0: single-pass rounds, no peaks)", harness.MaxWarmup))
	fs.DurationVar(&f.roundTime, "round-time", harness.DefaultRoundTime, fmt.Sprintf("least wall time of a round: the warm-up finds how many passes over the task set that takes; %v with --quick; must be below --timeout", harness.QuickRoundTime))
	fs.Var(&f.maxErrors, "max-errors", "failed tasks a round may have without failing its cell, as a fraction or percentage of its tasks (0.01 or 1%); 0: none")
	fs.BoolVar(&f.quick, "quick", false, "small task counts and short rounds: the whole matrix in about a minute on 2 cores")
	fs.StringVar(&f.out, "out", rundir.DefaultOut, "folder that holds run folders")
	fs.DurationVar(&f.timeout, "timeout", harness.DefaultTimeout, "limit for one round of one cell; a round past it fails the cell")
	fs.DurationVar(&f.fetchTimeout, "fetch-timeout", harness.DefaultFetchTimeout, "limit for one backend request; a request past it is a task error")
	fs.StringVar(&f.backend, "backend", "builtin", "backend for I/O workloads: builtin (a child process per instance), inprocess, "+
		"redis://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...] (Redis or Valkey servers; no injected latency, so latency=0s), or "+
		"concbench://[TOKEN@]HOST:PORT[,HOST:PORT...] ('concbench backend --listen HOST:PORT --auth TOKEN' servers elsewhere); "+
		"a workload's backend instances are spread over the servers listed")
	fs.StringVar(&f.placement, "placement", "none", "CPUs of the run's parties: ROLE=CPUS items, roles strategy (this process), backend "+
		"(the builtin backend's children) and loadgen, CPU lists as taskset -c writes them, e.g. strategy=0,backend=1 or "+
		"'strategy=0-1 backend=2-3'; none: the scheduler decides. Recorded in bench.txt and meta.json: compare refuses runs placed differently")
	fs.StringVar(&f.python, "python", "", "interpreter of the py-* strategies (default: $CONCBENCH_PYTHON, else the first python3 on PATH "+
		"that imports their modules, else /usr/bin/python3)")
	fs.StringVar(&f.format, "format", "text", "table format on stdout: text, ascii, markdown, csv or json")
	fs.Var(&f.json, "json", "the results as JSON (per cell: median, interval, rounds, noise, comparison; verdicts; machine; schema: docs/json.md): "+
		"--json alone writes them to stdout instead of the tables, --json=FILE to FILE with the tables still on stdout")
	fs.BoolVar(&f.wide, "wide", false, "text tables in full: strategy parameters in the headers, benchstat's delta, p-value and sample counts next to each speedup")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr (no live line, no line per cell)")
	fs.BoolVar(&f.profile, "profile", true, "after each cell's counted rounds, profiled passes of the timed part only: CPU and allocation profiles (and the child backends' CPU, for I/O cells), then for I/O cells a wall-clock profile, in profiles/; flame graphs in flame/")
	fs.BoolVar(&f.trace, "trace", false, "with --profile: also block and mutex profiles and a runtime/trace execution trace per cell")
	fs.DurationVar(&f.profileTime, "profile-time", harness.DefaultProfileTargets.MaxTime, fmt.Sprintf("with --profile: the most time each profiled pass of a cell (CPU; wall clock for I/O cells) repeats rounds of up to 200ms to reach %d samples; %v with --quick", harness.DefaultProfileTargets.MinSamples, profiles.QuickTargets.MaxTime))
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if f.quick && !set["round-time"] {
		f.roundTime = harness.QuickRoundTime
	}
	if err := checkRunFlags(f); err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitUsage
	}
	if _, err := results.ParseFormat(f.format); err != nil {
		fmt.Fprintf(stderr, "concbench run: --format: %v\n", err)
		return exitUsage
	}
	if f.python != "" {
		if err := external.SetPython(f.python); err != nil {
			fmt.Fprintf(stderr, "concbench run: --python: %v\n", err)
			return exitUsage
		}
	}
	place, err := placement.Parse(f.placement)
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: --placement: %v\n", err)
		return exitUsage
	}
	sel, err := selection(f, fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitUsage
	}
	if w := simd.FallbackWarning(); w != "" {
		fmt.Fprintln(stderr, w)
	}
	// Before anything reads GOMAXPROCS (strategies' defaults, the
	// header) and before any child starts.
	applied := &placement.Applied{}
	if !place.IsZero() {
		if applied, err = placement.Apply(place); err != nil {
			fmt.Fprintf(stderr, "concbench run: --placement: %v\n", err)
			if errors.Is(err, placement.ErrBadPlacement) {
				return exitUsage
			}
			return exitError
		}
	}
	// What the run prints while it goes on (the backend children's
	// diagnostics included) passes through progress, so that it lands
	// above the live line rather than across it.
	progress := newRunProgress(progressModeOf(stderr, f.quiet), stderr)
	defer progress.Close()
	provider, err := backendProvider(f.backend, progress.Log())
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		if errors.Is(err, errBackendUsage) {
			return exitUsage
		}
		return exitError
	}
	defer provider.Close()
	if err := harness.PlaceBackends(provider, applied); err != nil {
		fmt.Fprintf(stderr, "concbench run: --placement: %v\n", err)
		if errors.Is(err, placement.ErrBadPlacement) {
			return exitUsage
		}
		return exitError
	}
	redis, isRedis := provider.(*harness.RedisBackend)
	if isRedis {
		if err := withoutLatency(&sel); err != nil {
			fmt.Fprintf(stderr, "concbench run: %v\n", err)
			return exitUsage
		}
		fmt.Fprintln(stderr, "backend: a real Redis cannot inject latency; I/O workloads run with latency=0s")
	}

	// The serve cells' load generator runs on the CPUs placed for it.
	sel.LoadGenerator.CPUs = applied.ChildCPUs(placement.Loadgen)
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
	// The machine as the run finds it, before its backends load it.
	machine, err := machinecheck.Check(ctx, machinecheck.Options{Interval: machinecheck.RunInterval})
	if err != nil {
		fmt.Fprintln(stderr, "interrupted")
		return exitInterrupted
	}
	fmt.Fprintln(stderr, machine.Summary())
	if isRedis {
		if err := redis.Preload(ctx, planSpecs(plan)); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "interrupted while loading the keys into the backend")
				return exitInterrupted
			}
			fmt.Fprintf(stderr, "concbench run: load the keys into the backend (%s): %v\n", provider.Describe(), err)
			return exitError
		}
	}

	opt := harness.Options{Count: f.count, Warmup: f.warmup, RoundTime: f.roundTime, MaxErrors: float64(f.maxErrors),
		Timeout: f.timeout, FetchTimeout: f.fetchTimeout, Backends: provider}
	var profileGuess time.Duration
	if f.profile {
		opt.Profile = &harness.Profiling{Trace: f.trace, Targets: harness.DefaultProfileTargets}
		switch {
		case set["profile-time"]:
			opt.Profile.Targets.MaxTime = f.profileTime
		case f.quick:
			opt.Profile.Targets = profiles.QuickTargets
		}
		// A cell's passes run the cap and a round past it; I/O cells'
		// wall-clock passes mostly stop early, on their samples.
		profileGuess = opt.Profile.Targets.MaxTime + 300*time.Millisecond
	}
	progress.plan(plan, f.count, profileGuess)
	opt.Observe = runObserver(progress, provider, opt.Profile)
	if progress.mode == progressPlain {
		// A line for each cell's profiled pass, after the cell's own:
		// how much of the pass was sampled, or why it failed.
		opt.Progress = progress.Log()
	}
	rec, err := harness.Record(plan, opt, harness.RecordOptions{Out: f.out, Args: append([]string{"run"}, args...),
		Header:    []params.KV{{Name: "simd", Value: simd.Summary()}},
		Placement: applied.Placement.String(), Machine: machineMeta(machine)})
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "run %s: %d cells × %d rounds (+%d warm-up) of at least %v → %s\n", rec.Dir.ID(), len(plan.Cells),
		f.count, f.warmup, f.roundTime, rec.Dir)

	sum, err := rec.Run(ctx)
	progress.Close()
	if err != nil {
		fmt.Fprintf(stderr, "concbench run: %v\n", err)
		return exitError
	}
	bench := rec.Bench.Path()
	if code := printResults(stdout, stderr, bench, f, sum); code != exitOK {
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
	if f.json != "" && f.json != jsonStdout {
		fmt.Fprintf(stderr, "json: %s\n", f.json)
	}
	batch, serving := cellsWithErrors(sum)
	if batch > 0 {
		fmt.Fprintf(stderr, "%d cell(s) had failed tasks within --max-errors %v (errors/op in bench.txt); their figures count verified tasks only\n", batch, &f.maxErrors)
	}
	if serving > 0 {
		fmt.Fprintf(stderr, "%d serve cell(s) had failed requests (errors/op in bench.txt): a rate with any failed request does not count as sustained\n", serving)
	}
	if rs := restartsOf(provider); len(rs) > 0 {
		fmt.Fprintf(stderr, "%d backend restart(s) during the run (meta.json: backend_restarts)\n", len(rs))
	}
	switch {
	case !sum.Finished:
		fmt.Fprintf(stderr, "interrupted: the cells finished so far are in %s\n", bench)
		return exitInterrupted
	case len(sum.Failed) > 0:
		printFailures(stderr, plan, sum)
		return exitCellsFailed
	}
	return exitOK
}

// printResults writes what a run ends with on stdout, from its bench
// file: the summary tables in --format, or the results as JSON with
// --json, then the warning that names the unstable cells (on stderr
// when stdout holds JSON or CSV, which it would spoil); --json=FILE
// writes the JSON to FILE too. A run without any result or failure (interrupted
// before its first round ended) prints nothing.
func printResults(stdout, stderr io.Writer, bench string, f runFlags, sum *harness.Summary) int {
	if len(sum.Results) == 0 && len(sum.Failed) == 0 {
		return exitOK
	}
	unstable := stdout
	switch {
	case f.json == jsonStdout:
		if code := writeResultsJSON(stdout, stderr, bench); code != exitOK {
			return code
		}
		unstable = stderr
	default:
		if code := printTables(stdout, stderr, bench, f.format, f.wide); code != exitOK {
			return code
		}
		if format, _ := results.ParseFormat(f.format); format == results.JSON || format == results.CSV {
			unstable = stderr
		}
	}
	if f.json != "" && f.json != jsonStdout {
		var code int
		err := rundir.WriteFile(string(f.json), func(w io.Writer) error {
			if code = writeResultsJSON(w, stderr, bench); code != exitOK {
				return errors.New("not written")
			}
			return nil
		})
		if code != exitOK {
			return code
		}
		if err != nil {
			fmt.Fprintf(stderr, "concbench run: --json: %v\n", err)
			return exitError
		}
	}
	if len(sum.Results) == 0 {
		return exitOK
	}
	return printUnstable(unstable, stderr, bench, f.wide)
}

// runObserver returns the run's observer: the progress display, and lines
// (through the display, above its live line) for what the run should not
// keep quiet about as it happens, --quiet or not: a backend child
// restarted, the first cell that failed because the backend died, a
// profiled pass that failed.
func runObserver(progress *runProgress, provider harness.BackendProvider, prof *harness.Profiling) func(harness.Event) {
	log := progress.Log()
	restarts, profileErrors, backendDied := 0, 0, false
	return func(e harness.Event) {
		progress.Observe(e)
		if e.Kind == harness.RunStarted {
			for _, n := range e.Notes { // OS counters not counted here, and why
				fmt.Fprintf(log, "note: %s\n", n)
			}
		}
		if rs := restartsOf(provider); len(rs) > restarts {
			for _, r := range rs[restarts:] {
				fmt.Fprintf(log, "backend: %s\n", r)
			}
			restarts = len(rs)
		}
		// Plain progress has the harness's lines on profiled passes,
		// failed ones included (Options.Progress).
		if prof != nil && len(prof.Errors) > profileErrors && progress.mode != progressPlain {
			for _, err := range prof.Errors[profileErrors:] {
				fmt.Fprintf(log, "warning: %v (the cell's figures stand; only its profiles are missing)\n", err)
			}
			profileErrors = len(prof.Errors)
		}
		if e.Kind == harness.RoundEnded && e.Result.Err != nil && errors.Is(e.Result.Err, harness.ErrBackendDied) && !backendDied {
			backendDied = true
			fmt.Fprintf(log, "backend: %v\n", e.Result.Err)
		}
	}
}

// restarter is a provider whose backend children may die and be
// restarted (harness.ObservedBackends has it).
type restarter interface {
	Restarts() []harness.BackendRestart
}

// restartsOf returns the backend children that provider restarted, if it
// is a provider that does.
func restartsOf(provider harness.BackendProvider) []harness.BackendRestart {
	if r, ok := provider.(restarter); ok {
		return r.Restarts()
	}
	return nil
}

// printFailures lists the failed cells with their reasons. The cells that
// failed because a backend died (harness.ErrBackendDied: every I/O cell
// after it) share one line, with the reason once.
func printFailures(stderr io.Writer, plan *harness.Plan, sum *harness.Summary) {
	fmt.Fprintf(stderr, "%d cell(s) failed:\n", len(sum.Failed))
	var died []string
	var diedErr error
	for _, c := range plan.Cells {
		err, ok := sum.Failed[c]
		switch {
		case !ok:
		case errors.Is(err, harness.ErrBackendDied):
			died = append(died, c.Name)
			if diedErr == nil {
				diedErr = err
			}
		default:
			fmt.Fprintf(stderr, "  %s: %v\n", c.Name, err)
		}
	}
	if len(died) > 0 {
		fmt.Fprintf(stderr, "  %d I/O cell(s) from %s on: %v\n", len(died), died[0], diedErr)
	}
}

// planSpecs returns the plan's workload specs, each once, in plan order.
func planSpecs(plan *harness.Plan) []*workloads.Spec {
	var specs []*workloads.Spec
	for _, c := range plan.Cells {
		if !slices.Contains(specs, c.Spec) {
			specs = append(specs, c.Spec)
		}
	}
	return specs
}

// machineMeta is the machine check as meta.json keeps it.
func machineMeta(rep *machinecheck.Report) *rundir.Machine {
	m := &rundir.Machine{Summary: rep.Summary()}
	for _, f := range rep.Findings {
		m.Findings = append(m.Findings, rundir.MachineFinding{Check: f.Check, Status: string(f.Status), Value: f.Value, Advice: f.Advice})
	}
	return m
}

// jsonStdout is --json given alone: the JSON goes to stdout.
const jsonStdout jsonOutput = "-"

// jsonOutput is the value of --json: "" (none), jsonStdout, or a file.
// It is a boolean flag that also takes a value, so that --json alone and
// --json=FILE both read as they look.
type jsonOutput string

func (j *jsonOutput) String() string { return string(*j) }

func (j *jsonOutput) Set(s string) error {
	switch s {
	case "true", "-":
		*j = jsonStdout
	case "false":
		*j = ""
	case "":
		return errors.New("want --json (stdout) or --json=FILE")
	default:
		*j = jsonOutput(s)
	}
	return nil
}

func (j *jsonOutput) IsBoolFlag() bool { return true }

// cellsWithErrors counts the cells with a recorded round whose tasks
// partly failed: batch cells (within --max-errors, or the cell would have
// failed) and serve cells (failed requests are a server's answer to load:
// they keep a rate from counting as sustained, and never fail the cell).
func cellsWithErrors(sum *harness.Summary) (batch, serving int) {
	cells := map[*harness.Cell]bool{}
	for _, r := range sum.Results {
		if r.Errors > 0 && !cells[r.Cell] {
			cells[r.Cell] = true
			if r.Cell.Serve != nil {
				serving++
			} else {
				batch++
			}
		}
	}
	return batch, serving
}

// checkRunFlags rejects values the run cannot honour, each with a reason:
// nothing is replaced by a default behind the user's back.
func checkRunFlags(f runFlags) error {
	switch {
	case f.count < 1 || f.count > harness.MaxCount:
		return fmt.Errorf("--count must be between 1 and %d (got %d)", harness.MaxCount, f.count)
	case f.warmup < 0 || f.warmup > harness.MaxWarmup:
		return fmt.Errorf("--warmup must be between 0 and %d (got %d)", harness.MaxWarmup, f.warmup)
	case f.timeout <= 0:
		return fmt.Errorf("--timeout must be positive (got %v)", f.timeout)
	case f.fetchTimeout <= 0:
		return fmt.Errorf("--fetch-timeout must be positive (got %v)", f.fetchTimeout)
	case f.roundTime <= 0:
		return fmt.Errorf("--round-time must be positive (got %v)", f.roundTime)
	case f.roundTime >= f.timeout:
		return fmt.Errorf("--round-time %v must be below --timeout %v: a round that long would time out", f.roundTime, f.timeout)
	case f.profileTime <= 0:
		return fmt.Errorf("--profile-time must be positive (got %v)", f.profileTime)
	}
	return nil
}

// errorRate is the value of --max-errors: a fraction of a round's tasks,
// written as one (0.01) or as a percentage (1%).
type errorRate float64

func (e *errorRate) String() string { return strconv.FormatFloat(float64(*e), 'g', -1, 64) }

func (e *errorRate) Set(s string) error {
	v, percent := strings.CutSuffix(strings.TrimSpace(s), "%")
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return fmt.Errorf("want a fraction (0.01) or a percentage (1%%)")
	}
	if percent {
		x /= 100
	}
	if !(x >= 0 && x < 1) {
		return fmt.Errorf("want a fraction in [0, 1) or a percentage below 100%%, got %s", s)
	}
	*e = errorRate(x)
	return nil
}

// selection turns flags and NAME.PARAM=VALUE arguments into a harness
// selection, checking names as it goes.
func selection(f runFlags, args []string) (harness.Selection, error) {
	sel := harness.Selection{Quick: f.quick,
		WorkloadParams: map[string]params.Values{}, StrategyParams: map[string]params.Values{}}
	var err error
	if sel.Workloads, err = nameList("--workloads", f.workloads); err != nil {
		return sel, err
	}
	if sel.Strategies, err = nameList("--strategies", f.strategies); err != nil {
		return sel, err
	}
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

// splitList splits a comma-separated list, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// nameList splits the comma-separated names of flag. An empty flag means
// "all" (nil); a flag that names nothing (",,,") or a name twice is an
// error, never "all".
func nameList(flag, s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("%s names %s twice", flag, p)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s %q names nothing: leave it out to run them all", flag, s)
	}
	return out, nil
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

// backendProvider returns the provider --backend names: the built-in
// backend as child processes or in process, real Redis or Valkey servers
// (redis://), or built-in backends on other machines (concbench://). A
// wrong value is a usage error (errBackendUsage, exit 2); servers that
// cannot be reached, refuse the password or token, or are not what the
// URL says are not (exit 3), each in one line.
func backendProvider(spec string, stderr io.Writer) (harness.BackendProvider, error) {
	// Servers are contacted all at once, each within 10 s; the minute
	// bounds a name that takes the resolver long to give up on.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		p   harness.BackendProvider
		err error
	)
	switch {
	case spec == "builtin":
		return &harness.ChildBackends{Stderr: stderr}, nil
	case spec == "inprocess":
		return &harness.InProcessBackends{}, nil
	case strings.HasPrefix(spec, "redis://"):
		var r *harness.RedisBackend
		if r, err = harness.NewRedisBackend(ctx, spec); err == nil {
			p = r
		}
	case strings.HasPrefix(spec, "concbench://"):
		var r *harness.RemoteBackends
		if r, err = harness.NewRemoteBackends(ctx, spec); err == nil {
			p = r
		}
	default:
		return nil, fmt.Errorf("%w %q: want builtin, inprocess or redis://HOST:PORT (redis://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...] "+
			"for Redis or Valkey servers), or concbench://[TOKEN@]HOST:PORT[,HOST:PORT...] for 'concbench backend' servers elsewhere",
			errBackendUsage, spec)
	}
	switch {
	case errors.Is(err, harness.ErrBadBackendURL):
		return nil, fmt.Errorf("%w: %w", errBackendUsage, err)
	case err != nil:
		return nil, err
	}
	return p, nil
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
					return fmt.Errorf("%s.latency=%s: a redis backend cannot inject latency; use the builtin backend, or concbench:// backends elsewhere", d.Name, l)
				}
			}
		}
		v["latency"] = "0s"
	}
	return nil
}
