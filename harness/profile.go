package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
	"github.com/concbench/concbench/strategies"
)

// Profiling asks Run for profiled passes over each cell, run right after
// the cell's last counted round (package profiles). The profilers never
// run during a counted round: a CPU profile costs a signal per sample per
// thread, a wall-clock profile stops the world 99 times a second to walk
// every goroutine, and block and mutex profiling at rate 1 slow every
// contended operation, so a profiled round would not measure the same
// thing. The passes' rounds are verified (a wrong result fails the pass)
// but not recorded.
//
// Each cell gets a CPU pass (CPU and allocation profiles, block and mutex
// profiles and an execution trace with Trace) and, when it has a backend,
// a separate wall-clock pass (fgprof), which would otherwise land in the
// CPU profile. A pass repeats the cell's round until its profile holds
// Targets.MinSamples samples or Targets.MaxTime has gone by, and samples
// only what the cell's figures measure: from the strategy's Begin to its
// last task's end (profiles.Pass); the CPU samples of setup and teardown
// go to <cell>.setup.pprof. In the CPU pass of a cell whose backends run
// in processes of their own (ChildBackends, RemoteBackends), the backends
// profile the same timed parts (CONCBENCH.PROFILE) and their profile is
// written beside the client's, labelled side=backend. Each profiled round
// runs about profileRoundTime of passes, so that the work a round costs
// the pass outside its timed part stays small against what it samples.
//
// It writes, under Dir (the run folder, at the paths of rundir.Dir):
//
//	profiles/<cell>.cpu.pprof          CPU, timed part, side=client
//	profiles/<cell>.setup.pprof        CPU outside it, phase=setup
//	profiles/<cell>.alloc.pprof        allocations, timed part
//	profiles/<cell>.backend-cpu.pprof  the backends' CPU, side=backend (child or remote backends)
//	profiles/<cell>.wall.pprof         wall clock, timed part (cells with a backend)
//	profiles/<cell>.{block,mutex}.pprof, profiles/<cell>.trace   with Trace
//	flame/<cell>.html, .backend-cpu.html, .wall.html              flame graphs
//	profiles/breakdown.md              where the time went, rewritten after each cell
//
// A profiling failure is reported on Options.Progress and in Errors; it
// never fails the cell or the run.
type Profiling struct {
	Dir   string
	Trace bool // block and mutex profiles and an execution trace too
	// Targets say how long each pass of a cell runs; zero fields take
	// DefaultProfileTargets's.
	Targets profiles.Targets
	// Rate is the CPU profile's samples per CPU-second per thread; 0
	// means cpuprofile.DefaultRate (250).
	Rate int
	// Errors collects what went wrong, one entry per cell at most.
	Errors []error
}

// DefaultProfileTargets are a run's profile targets unless Profiling says
// otherwise: profiles.DefaultTargets's 500 samples, with the time capped
// at 1 s instead of 2, as `make bench` profiles 72 cells, 30 of them with
// a wall-clock pass as well (about 2 of its 6 minutes). 1 s is about the least
// that gives a cell on a single core the breakdown's 200 samples (250 a
// second of timed part a core, and the pass's rounds are not all timed);
// a CPU-bound cell on two cores gets close to 500.
var DefaultProfileTargets = profiles.Targets{MinSamples: profiles.DefaultTargets.MinSamples, MaxTime: time.Second}

// profileRoundTime is the timed part a profiled round aims at: each
// round costs its pass work outside the timed part (the profile stopped,
// parsed and merged, a garbage collection at each end for the allocation
// profile, the strategy's setup, the harness's checks), so rounds of
// 200 ms, as long as a counted round by default, keep that cost small
// against what they sample (about 100 CPU samples on two busy cores).
const profileRoundTime = 200 * time.Millisecond

// passes is how many passes over its task set a profiled round of cell
// runs, a pass lasting perPass: enough to last profileRoundTime, or the
// pass's whole time when that is shorter (a quick run's one round), within
// the cap of a round's tasks; one for a strategy that runs single passes.
func (pr *Profiling) passes(cell *Cell, perPass time.Duration) int {
	want := min(profileRoundTime, pr.targets().MaxTime)
	n := int64(want+perPass-1) / int64(perPass)
	return int(min(max(n, 1), int64(maxPassesOf(cell))))
}

// passTime is the wall time of a pass of cell over its task set, which
// sizes the profiled rounds: calibration's or, for a cell that had no
// warm-up, that of a round of one pass run first, unprofiled.
func passTime(ctx context.Context, cell *Cell, opt Options) (time.Duration, error) {
	if d := runnerOf(opt).state(cell).perPass; d > 0 {
		return d, nil
	}
	res := runCellAsIs(ctx, cell, opt)
	if res.Err != nil {
		return 0, fmt.Errorf("timing a pass: %w", res.Err)
	}
	return max(res.Wall/time.Duration(max(res.Passes, 1)), time.Nanosecond), nil
}

// targets are the pass targets in effect.
func (pr *Profiling) targets() profiles.Targets {
	t := pr.Targets
	if t.MinSamples <= 0 {
		t.MinSamples = DefaultProfileTargets.MinSamples
	}
	if t.MaxTime <= 0 {
		t.MaxTime = DefaultProfileTargets.MaxTime
	}
	return t
}

// profileCell runs the profiled passes of cell, if opt asks for them.
func profileCell(ctx context.Context, cell *Cell, opt Options) {
	pr := opt.Profile
	// A serve cell's rounds run a server under load, not a batch of
	// tasks with a Begin: it has no profiled pass (ErrServeNotProfiled).
	if pr == nil || ctx.Err() != nil || cell.Serve != nil {
		return
	}
	summary, err := pr.capture(ctx, cell, opt)
	if err != nil {
		err = fmt.Errorf("profile %s: %w", cell.Name, err)
		pr.Errors = append(pr.Errors, err)
		if opt.Progress != nil {
			fmt.Fprintf(opt.Progress, "profile  %s  FAILED: %v\n", cell.Name, err)
		}
		return
	}
	if opt.Progress != nil {
		fmt.Fprintf(opt.Progress, "profile  %s  %s\n", cell.Name, summary)
	}
}

// capture runs the cell's CPU pass and, for a cell with a backend, its
// wall-clock pass, then writes the cell's flame graphs and the run's
// breakdown. It returns a one-line summary.
func (pr *Profiling) capture(ctx context.Context, cell *Cell, opt Options) (string, error) {
	spec := cell.Spec
	run := rundir.Dir(pr.Dir)
	pc := profiles.Cell{Name: cell.Name, Workload: spec.Workload, Params: spec.Params.String(),
		Strategy: cell.StrategyLabel}
	kinds := []profiles.PassKind{profiles.CPUPass}
	if spec.Backend.Instances > 0 {
		kinds = append(kinds, profiles.WallPass)
	}
	perPass, err := passTime(ctx, cell, opt)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, kind := range kinds {
		summary, err := pr.pass(ctx, cell, opt, run, pc, kind, perPass)
		if err != nil {
			return "", fmt.Errorf("%s pass: %w", kind, err)
		}
		parts = append(parts, summary)
	}
	flames, err := profiles.WriteFlameGraphs(run, cell.Name)
	if err != nil {
		return "", err
	}
	if err := profiles.WriteBreakdownFile(pr.Dir); err != nil {
		return "", err
	}
	summary := strings.Join(parts, "; ")
	if len(flames) > 0 {
		shown, err := filepath.Rel(pr.Dir, flames[0].Path)
		if err != nil {
			shown = flames[0].Path
		}
		summary += " → " + shown
	}
	return summary, nil
}

// pass runs one profiled pass of cell, whose pass over its task set
// lasted perPass, and describes it.
func (pr *Profiling) pass(ctx context.Context, cell *Cell, opt Options, run rundir.Dir, pc profiles.Cell,
	kind profiles.PassKind, perPass time.Duration) (string, error) {
	runtime.GC() // the garbage of what ran before, collected outside the pass
	pass, err := profiles.StartPass(run, pc, profiles.PassOptions{Kind: kind, Targets: pr.targets(), Rate: pr.Rate,
		Trace: pr.Trace && kind == profiles.CPUPass})
	if err != nil {
		return "", err
	}
	var bp *backendProfile
	if kind == profiles.CPUPass && cell.Spec.Backend.Instances > 0 {
		bp = newBackendProfile(opt.Backends, pass)
	}
	rounds := runnerOf(opt)
	for pass.More() && ctx.Err() == nil {
		r := pass.StartRound() // before the backends' Prepare and the strategy's setup
		hooks := []strategies.JobOption{strategies.OnBegin(r.Begin), strategies.OnLastFinish(r.End)}
		if bp != nil {
			hooks = []strategies.JobOption{
				strategies.OnBegin(func() { bp.start(); r.Begin() }),
				strategies.OnLastFinish(func() { r.End(); bp.stop() }),
			}
		}
		// No forced collection first: the profile shows the collections
		// the strategy causes, not one the harness forces before every
		// round. No peak sampler either.
		res := rounds.run(ctx, cell, pr.passes(cell, perPass), false, false, false, hooks...)
		if bp != nil {
			bp.stop() // a round whose last task never finished
		}
		r.Done(res.Err)
		if res.Err == nil && res.Passes > 0 {
			perPass = max(res.Wall/time.Duration(res.Passes), time.Nanosecond)
		}
	}
	res, err := pass.Finish() // whatever happened: it stops what still samples
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return describePass(res, bp), nil
}

// describePass sums up a pass in a few words: "cpu 512 samples (setup 40
// apart), backend profiled in 5 round(s), 5 round(s), 1.002s sampled of
// 1.1s".
func describePass(res *profiles.PassResult, bp *backendProfile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d samples", res.Kind, res.Samples)
	if res.SetupSamples > 0 {
		fmt.Fprintf(&b, " (setup %d apart)", res.SetupSamples)
	}
	if bp != nil {
		if n, err := bp.result(); err != nil {
			fmt.Fprintf(&b, ", no backend profile: %v", err)
		} else if n > 0 {
			fmt.Fprintf(&b, ", backend profiled in %d round(s)", n)
		}
	}
	fmt.Fprintf(&b, ", %d round(s), %v sampled of %v", res.Rounds, res.Timed.Round(time.Millisecond),
		res.Elapsed.Round(time.Millisecond))
	for _, n := range res.Notes {
		fmt.Fprintf(&b, " (%s)", n)
	}
	return b.String()
}

// cpuProfiler is a provider whose backends can profile their own CPU
// (ObservedBackends has it).
type cpuProfiler interface {
	StartCPUProfiles() error
	StopCPUProfiles() ([][]byte, error)
}

// backendProfile runs the backends' CPU profiles over the timed parts of
// a CPU pass's rounds and adds them to the pass. It is started by the
// job's Begin hook, after the round's setup, and stopped by its last
// task's finish, on the strategy's goroutines, and once more after the
// round by the harness, in case that finish never came: hence the lock.
type backendProfile struct {
	backends cpuProfiler
	pass     *profiles.Pass

	mu     sync.Mutex
	on     bool  // a profile runs in the backends
	rounds int   // rounds whose backend profiles went into the pass
	err    error // the first failure
}

// newBackendProfile returns the backend profile of a CPU pass, or nil
// when the backends cannot profile apart from this process: a provider
// that has no CPU profiles (a Redis), or one whose servers run inside
// this process, whose CPU profile is the client's own (their samples are
// already in it).
func newBackendProfile(provider BackendProvider, pass *profiles.Pass) *backendProfile {
	cp, ok := provider.(cpuProfiler)
	if _, inProcess := provider.(*InProcessBackends); !ok || inProcess {
		return nil
	}
	return &backendProfile{backends: cp, pass: pass}
}

func (b *backendProfile) start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.on {
		return
	}
	if err := b.backends.StartCPUProfiles(); err != nil {
		b.fail(fmt.Errorf("start: %w", err))
		return
	}
	b.on = true
}

func (b *backendProfile) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.on {
		return
	}
	b.on = false
	ps, err := b.backends.StopCPUProfiles()
	if err != nil {
		b.fail(fmt.Errorf("stop: %w", err))
	}
	added := false
	for _, data := range ps {
		if data == nil {
			continue
		}
		if err := b.pass.AddBackendCPU(data); err != nil {
			b.fail(err)
			continue
		}
		added = true
	}
	if added {
		b.rounds++
	}
}

// fail keeps the first error; the caller holds b.mu.
func (b *backendProfile) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// result is in how many rounds the backends' profiles went into the
// pass, or the first failure when none did.
func (b *backendProfile) result() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rounds == 0 && b.err != nil {
		return 0, b.err
	}
	return b.rounds, nil
}
