package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"

	"github.com/felixge/fgprof"
	"github.com/google/pprof/profile"
	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/profiles/cpuprofile"
	"github.com/concbench/concbench/rundir"
)

// PassKind is what a profiled pass samples. The two never share a pass:
// fgprof stops the world 99 times a second to walk every goroutine, and in
// a pass that also took the CPU profile that walk was up to 63 % of the
// CPU samples of an I/O cell.
type PassKind int

const (
	// CPUPass takes the CPU profile (at PassOptions.Rate) and the
	// allocation profile, and block and mutex profiles and an execution
	// trace with PassOptions.Trace.
	CPUPass PassKind = iota
	// WallPass takes the wall-clock profile (github.com/felixge/fgprof):
	// every goroutine, running or waiting, 99 times a second.
	WallPass
)

func (k PassKind) String() string {
	if k == WallPass {
		return "wall"
	}
	return "cpu"
}

// PassOptions configure a profiled pass.
type PassOptions struct {
	Kind    PassKind
	Targets Targets
	// Rate is the CPU profile's sampling rate, samples per CPU-second per
	// thread; 0 means cpuprofile.DefaultRate (250).
	Rate int
	// Trace adds, to a CPU pass, block and mutex profiles of the timed
	// parts (every event: rate 1 and fraction 1, costly, hence opt-in) and
	// an execution trace of the whole pass (setup included).
	Trace bool
}

// ErrCPUProfileBusy means another CPU profile (go test -cpuprofile, a
// net/http/pprof request) was running; a process can run only one.
var ErrCPUProfileBusy = cpuprofile.ErrBusy

// A Pass is the profiled pass of one cell: rounds of the cell run one
// after another, each a Round, until the pass's Targets are met. Only
// what the cell's figures measure is sampled: from the strategy's
// Job.Begin to the end of its last task (Round.Begin and Round.End, which
// the harness passes to the job as hooks). In a CPU pass the CPU samples
// taken outside that part (dialling, closing connections, the harness's
// checks) go to a profile of their own, labelled phase=setup, which the
// flame graphs and the breakdown leave out.
//
// The harness drives it so:
//
//	pass, err := profiles.StartPass(run, cell, profiles.PassOptions{Kind: profiles.CPUPass, Targets: t})
//	for pass.More() {
//		r := pass.StartRound()                // before the strategy's setup
//		job := strategies.NewJob(spec, addrs, timeout,
//			strategies.OnBegin(r.Begin),      // the timed part starts
//			strategies.OnLastFinish(r.End))   // its last task has ended
//		err := strategy.Run(ctx, job)
//		r.Done(err)                           // after Run returns: collects the round
//	}
//	res, err := pass.Finish()                 // merges the rounds, writes the files
//
// Finish must be called however the pass ends (a failed round, a cancelled
// run): it stops whatever still samples. One pass at a time per process:
// the CPU profiler is process-wide, and a wall pass must not run during a
// CPU pass. The methods of a Pass and of its Rounds are safe to call from
// any goroutine.
type Pass struct {
	run     rundir.Dir
	cell    Cell
	opt     PassOptions
	targets Targets
	start   time.Time

	mu       sync.Mutex
	current  *Round
	rounds   int
	err      error
	finished bool
	hz       int // the CPU profile's rate in effect

	timed   *profile.Profile // merged CPU or wall samples of the timed parts
	setup   *profile.Profile // merged CPU samples outside them
	allocs  *profile.Profile // merged allocation deltas of the timed parts
	block   *profile.Profile
	mutex   *profile.Profile
	backend *profile.Profile // merged backend CPU profiles

	samples, setupSamples int64
	timedCPU              time.Duration // process CPU time during the timed parts
	timedWall             time.Duration

	traceFile     *os.File
	mutexFraction int
}

// PassResult is what a finished pass did.
type PassResult struct {
	Kind    PassKind
	Rounds  int
	Elapsed time.Duration // from StartPass to Finish
	Timed   time.Duration // wall time sampled: the timed parts of the rounds
	CPU     time.Duration // the process's CPU time in the timed parts (CPU pass; getrusage)
	// Samples in the pass's profile (CPU or wall); SetupSamples are the CPU
	// samples outside the timed parts, left out of it.
	Samples, SetupSamples int64
	Rate                  int      // CPU samples per CPU-second per thread asked for (CPU pass)
	Notes                 []string // what the reader should know, such as a rate the kernel did not deliver
	Written               []string // paths of the files written
}

// StartPass starts the profiled pass of cell, whose profiles go to the
// run folder run (run.Profile: <run>/profiles/<cell>.<kind>.pprof).
func StartPass(run rundir.Dir, cell Cell, opt PassOptions) (*Pass, error) {
	if err := os.MkdirAll(run.ProfileDir(), 0o755); err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	p := &Pass{run: run, cell: cell, opt: opt, targets: opt.Targets.withDefaults(), start: time.Now()}
	if opt.Kind == CPUPass && opt.Trace {
		if err := p.startTrace(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Pass) startTrace() error {
	runtime.SetBlockProfileRate(1)
	p.mutexFraction = runtime.SetMutexProfileFraction(1)
	f, err := os.Create(p.run.Trace(p.cell.Name))
	if err != nil {
		p.restoreRates()
		return fmt.Errorf("profiles: %w", err)
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		p.restoreRates()
		return fmt.Errorf("profiles: execution trace: %w", err)
	}
	p.traceFile = f
	return nil
}

func (p *Pass) restoreRates() {
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(p.mutexFraction)
}

// More reports whether the pass needs another round: none has run yet,
// or the profile holds fewer than Targets.MinSamples samples and less
// than Targets.MaxTime has gone by. It is false once a round has failed.
func (p *Pass) More() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.err != nil || p.finished:
		return false
	case p.rounds == 0:
		return true
	}
	return p.samples < p.targets.MinSamples && time.Since(p.start) < p.targets.MaxTime
}

// Samples is how many samples the pass's profile holds so far.
func (p *Pass) Samples() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.samples
}

// A Round is one run of the cell within a pass. Its methods do nothing
// once the round is done, so a strategy abandoned after a timeout cannot
// disturb a later round with a late hook.
type Round struct {
	p        *Pass
	phase    phase
	cpu      *bytes.Buffer // the CPU profile being written (CPU pass)
	stopWall func() error
	wall     *bytes.Buffer

	cpuAtBegin                                time.Duration
	beganAt                                   time.Time
	allocsAtBegin, blockAtBegin, mutexAtBegin *profile.Profile
}

type phase int

const (
	outside phase = iota // setup, teardown, between jobs
	timed
	done
)

// StartRound starts a round: call it before the strategy's setup. In a
// CPU pass the CPU profile starts here, its samples labelled phase=setup
// until Round.Begin. A second StartRound ends the round before it.
func (p *Pass) StartRound() *Round {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current != nil {
		p.current.finish(nil)
	}
	r := &Round{p: p}
	p.current = r
	if p.opt.Kind == CPUPass && p.err == nil && !p.finished {
		p.fail(r.startCPU())
	}
	return r
}

// Begin marks the start of the timed part: pass it as the job's OnBegin
// hook. It runs before the job reads its clock, so its own work (stopping
// the setup profile, a garbage collection that makes the allocation
// profile current, starting the timed profile) is outside the timed part.
func (r *Round) Begin() {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current != r || r.phase != outside || p.err != nil {
		return
	}
	switch p.opt.Kind {
	case CPUPass:
		if err := p.addSetup(r.stopCPU()); err != nil {
			p.fail(err)
			return
		}
		runtime.GC() // publishes the allocation profile up to here
		var err error
		if r.allocsAtBegin, err = lookup("allocs"); err != nil {
			p.fail(err)
			return
		}
		if p.opt.Trace {
			if r.blockAtBegin, err = lookup("block"); err != nil {
				p.fail(err)
				return
			}
			if r.mutexAtBegin, err = lookup("mutex"); err != nil {
				p.fail(err)
				return
			}
		}
		if err := r.startCPU(); err != nil {
			p.fail(err)
			return
		}
		r.cpuAtBegin = processCPU()
	case WallPass:
		r.wall = new(bytes.Buffer)
		r.stopWall = fgprof.Start(r.wall, fgprof.FormatPprof)
	}
	r.beganAt = time.Now()
	r.phase = timed
}

// End marks the end of the timed part, when the job's last task has
// ended: pass it as the job's hook for that moment. Sampling of the timed
// part stops at once; the rest of its work (building the profile, a
// garbage collection for the allocation profile) delays only the goroutine
// that calls it. A round whose End is never called ends its timed part in
// Done, teardown included.
func (r *Round) End() {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current != r || r.phase != timed {
		return
	}
	p.fail(r.endTimed(true))
}

// endTimed stops the timed part's profiles and adds them to the pass,
// then, in a CPU pass with more to come, starts sampling what follows
// (labelled phase=setup); the caller holds p.mu.
func (r *Round) endTimed(more bool) error {
	p := r.p
	r.phase = outside
	p.timedWall += time.Since(r.beganAt)
	switch p.opt.Kind {
	case CPUPass:
		p.timedCPU += processCPU() - r.cpuAtBegin
		prof, err := r.stopCPU()
		if err != nil {
			return err
		}
		if err := p.addTimed(prof); err != nil {
			return err
		}
		runtime.GC() // publishes the allocations of the timed part
		if err := mergeDelta(&p.allocs, "allocs", r.allocsAtBegin); err != nil {
			return err
		}
		if p.opt.Trace {
			if err := mergeDelta(&p.block, "block", r.blockAtBegin); err != nil {
				return err
			}
			if err := mergeDelta(&p.mutex, "mutex", r.mutexAtBegin); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		return r.startCPU()
	case WallPass:
		ticked, err := stopWall(r.stopWall)
		if err != nil {
			return fmt.Errorf("profiles: wall-clock profile: %w", err)
		}
		if !ticked {
			return nil // a timed part shorter than fgprof's period: no sample
		}
		prof, err := parse(r.wall.Bytes())
		if err != nil {
			return err
		}
		return p.addTimed(prof)
	}
	return nil
}

// stopWall stops an fgprof profile. fgprof v0.9.5 divides by its sample
// rate when it writes the profile, and panics when it took no sample (a
// timed part shorter than its 10 ms period); ticked is false then. The
// panic must not escape: End runs inside the job's last Finish, where it
// would count as the task's panic.
func stopWall(stop func() error) (ticked bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ticked, err = false, nil
		}
	}()
	return true, stop()
}

// Done ends the round: call it after the strategy's Run has returned (or
// was abandoned), with the round's error. It stops whatever still samples
// and adds the round to the pass; a round with an error ends the pass
// (More is false, Finish reports the error).
func (r *Round) Done(err error) {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current != r {
		return
	}
	r.finish(err)
	p.current = nil
}

// finish ends r; the caller holds p.mu.
func (r *Round) finish(err error) {
	p := r.p
	if r.phase == done {
		return
	}
	began := r.phase == timed || !r.beganAt.IsZero()
	if r.phase == timed {
		p.fail(r.endTimed(false))
	}
	if r.cpu != nil {
		p.fail(p.addSetup(r.stopCPU()))
	}
	r.phase = done
	p.rounds++
	switch {
	case err != nil:
		p.fail(fmt.Errorf("profiles: round %d: %w", p.rounds, err))
	case !began:
		p.fail(fmt.Errorf("profiles: round %d: the timed part never began (no Round.Begin)", p.rounds))
	}
}

// fail records the pass's first error; the caller holds p.mu.
func (p *Pass) fail(err error) {
	if err != nil && p.err == nil {
		p.err = err
	}
}

func (r *Round) startCPU() error {
	r.cpu = new(bytes.Buffer)
	hz, err := cpuprofile.Start(r.cpu, r.p.opt.Rate)
	if err != nil {
		r.cpu = nil
		return fmt.Errorf("profiles: %w", err)
	}
	r.p.hz = hz
	return nil
}

func (r *Round) stopCPU() (*profile.Profile, error) {
	if r.cpu == nil {
		return nil, nil
	}
	pprof.StopCPUProfile()
	data := r.cpu.Bytes()
	r.cpu = nil
	return parse(data)
}

func (p *Pass) addTimed(prof *profile.Profile) error {
	if prof == nil {
		return nil
	}
	p.samples += sampleCount(prof)
	return mergeInto(&p.timed, prof)
}

func (p *Pass) addSetup(prof *profile.Profile, err error) error {
	if err != nil || prof == nil {
		return err
	}
	p.setupSamples += sampleCount(prof)
	return mergeInto(&p.setup, prof)
}

// AddBackendCPU adds a CPU profile of the cell's backend (gzipped pprof,
// as backend.Control.StopCPUProfile returns it) to the pass; it is written
// as <cell>.backend-cpu.pprof, every sample labelled side=backend. Call it
// once per round (the harness starts the backend's profile in Round.Begin
// and stops it in Round.End) or once per pass; the profiles add up.
func (p *Pass) AddBackendCPU(data []byte) error {
	prof, err := parse(data)
	if err != nil {
		return fmt.Errorf("profiles: backend CPU profile: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return mergeInto(&p.backend, prof)
}

// Finish ends the pass: it ends a round still open, merges the rounds and
// writes the profiles. It returns the first error of the pass, if any,
// and then writes nothing. Finish may be called once.
func (p *Pass) Finish() (*PassResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return nil, errors.New("profiles: pass finished twice")
	}
	if p.current != nil {
		p.current.finish(nil)
		p.current = nil
	}
	p.finished = true
	res := &PassResult{Kind: p.opt.Kind, Rounds: p.rounds, Elapsed: time.Since(p.start), Timed: p.timedWall, CPU: p.timedCPU,
		Samples: p.samples, SetupSamples: p.setupSamples, Rate: p.hz}
	var errs []error
	if p.traceFile != nil {
		trace.Stop()
		errs = append(errs, p.traceFile.Close())
		p.restoreRates()
		res.Written = append(res.Written, p.traceFile.Name())
	}
	if err := errors.Join(append(errs, p.err)...); err != nil {
		return nil, err
	}
	switch {
	case p.timed == nil && p.opt.Kind == WallPass:
		return nil, errors.New("profiles: no wall-clock sample: the timed parts were shorter than fgprof's 10 ms period")
	case p.timed == nil:
		return nil, errors.New("profiles: the pass ran no timed part")
	}
	emit := func(k Kind, prof *profile.Profile, labels map[string]string) {
		if prof == nil {
			return
		}
		if k == CPU || k == Setup {
			markGoroutines(prof)
		}
		p.cell.label(prof)
		setLabels(prof, labels)
		prof.Comments = append(prof.Comments, p.cell.comments()...)
		prof.Comments = append(prof.Comments, res.comments()...)
		path := p.run.Profile(p.cell.Name, string(k))
		err := writeProfile(path, prof.Compact())
		if err == nil {
			res.Written = append(res.Written, path)
		}
		errs = append(errs, err)
	}
	switch p.opt.Kind {
	case CPUPass:
		if period, note := measuredPeriod(p.timed, p.hz, p.timedCPU); note != "" {
			res.Notes = append(res.Notes, note)
			setPeriod(p.timed, period)
			if p.setup != nil {
				setPeriod(p.setup, period) // sampled the same way
			}
		}
		emit(CPU, p.timed, map[string]string{LabelSide: SideClient})
		emit(Setup, p.setup, map[string]string{LabelSide: SideClient, LabelPhase: PhaseSetup})
		if p.allocs != nil {
			p.allocs.DefaultSampleType = "alloc_space"
		}
		emit(Alloc, p.allocs, nil)
		emit(Block, p.block, nil)
		emit(Mutex, p.mutex, nil)
		emit(BackendCPU, p.backend, map[string]string{LabelSide: SideBackend})
	case WallPass:
		emit(Wall, p.timed, map[string]string{LabelSide: SideClient})
	}
	return res, errors.Join(errs...)
}

// comments record the pass in its profiles.
func (r *PassResult) comments() []string {
	c := []string{fmt.Sprintf("%spass=%s rounds=%d timed=%v elapsed=%v", commentPrefix, r.Kind, r.Rounds,
		r.Timed.Round(time.Millisecond), r.Elapsed.Round(time.Millisecond))}
	for _, n := range r.Notes {
		c = append(c, commentPrefix+"note="+n)
	}
	return c
}

// measuredPeriod checks a CPU profile against the process CPU time
// measured while it sampled. A kernel delivers at most CONFIG_HZ samples a
// CPU-second whatever rate was asked for, while the profile's period
// (which pprof multiplies by the sample count to show time) still says
// 1/rate. When fewer than 60 % of the samples asked for arrived, it
// returns the period the measurement gives (CPU time per sample) and a
// note that says so; otherwise 0 and "".
func measuredPeriod(p *profile.Profile, hz int, cpu time.Duration) (int64, string) {
	if p == nil || hz <= 0 {
		return 0, ""
	}
	n := sampleCount(p)
	// Below a fifth of a CPU-second the count is too noisy to judge a rate.
	if cpu < 200*time.Millisecond || n == 0 {
		return 0, ""
	}
	delivered := float64(n) / cpu.Seconds()
	if delivered >= 0.6*float64(hz) {
		return 0, ""
	}
	period := int64(cpu) / n
	return period, fmt.Sprintf("asked for %d Hz, the kernel delivered %.0f samples a CPU-second: "+
		"period set to %v from the CPU time measured", hz, delivered, time.Duration(period))
}

// setPeriod sets a CPU profile's period and its cpu values (count × period).
func setPeriod(p *profile.Profile, period int64) {
	p.Period = period
	for i, st := range p.SampleType {
		if st.Type != "cpu" || st.Unit != "nanoseconds" {
			continue
		}
		for _, s := range p.Sample {
			s.Value[i] = s.Value[0] * period
		}
	}
}

func sampleCount(p *profile.Profile) int64 {
	var n int64
	for _, s := range p.Sample {
		if len(s.Value) > 0 {
			n += s.Value[0]
		}
	}
	return n
}

func mergeInto(dst **profile.Profile, src *profile.Profile) error {
	if *dst == nil {
		*dst = src
		return nil
	}
	m, err := profile.Merge([]*profile.Profile{*dst, src})
	if err != nil {
		return fmt.Errorf("profiles: merge rounds: %w", err)
	}
	*dst = m
	return nil
}

// mergeDelta adds to *dst what the cumulative profile name gained since before.
func mergeDelta(dst **profile.Profile, name string, before *profile.Profile) error {
	after, err := lookup(name)
	if err != nil {
		return err
	}
	d, err := Delta(before, after)
	if err != nil {
		return fmt.Errorf("profiles: %s: %w", name, err)
	}
	return mergeInto(dst, d)
}

// setLabels sets labels on every sample, replacing those of the same key.
func setLabels(p *profile.Profile, labels map[string]string) {
	for _, s := range p.Sample {
		for k, v := range labels {
			if s.Label == nil {
				s.Label = map[string][]string{}
			}
			s.Label[k] = []string{v}
		}
	}
}

// processCPU is the process's user and system time so far.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
