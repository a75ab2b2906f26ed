package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"

	"github.com/felixge/fgprof"
	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/rundir"
)

// CaptureOptions say which profiles besides CPU and allocations to take.
type CaptureOptions struct {
	// Wall adds a wall-clock profile (github.com/felixge/fgprof): every
	// goroutine, running or waiting, sampled 99 times a second. It shows
	// where I/O cells wait, which a CPU profile cannot.
	Wall bool
	// Trace adds block and mutex profiles (every event: rate 1 and fraction
	// 1, costly, hence opt-in) and a runtime/trace execution trace.
	Trace bool
}

// Capture is a profiling session over one or more rounds of one cell.
// Start it just before the rounds and Stop it just after; only one can run
// at a time in a process (the CPU profiler is process-wide).
//
// Deprecated: it samples setup and teardown, and the wall-clock profiler
// runs in the same pass as the CPU profile and lands in it. Use StartPass,
// which samples only the timed part, in separate CPU and wall passes.
// Capture stays until the harness's profiled pass uses Pass.
type Capture struct {
	run  rundir.Dir
	cell Cell
	opt  CaptureOptions

	cpu, wall           bytes.Buffer
	stopWall            func() error
	traceFile           *os.File
	allocs, block, mutx *profile.Profile // cumulative profiles at Start
	mutexFraction       int
}

// StartCapture starts profiling for cell; Stop writes the profiles into
// the run folder run (run.Profile: <run>/profiles/<cell>.<kind>.pprof).
//
// It runs a garbage collection first: the allocation profile is only up to
// date after one, and the previous cell's garbage should not be collected
// (and profiled) during this one.
func StartCapture(run rundir.Dir, cell Cell, opt CaptureOptions) (*Capture, error) {
	c := &Capture{run: run, cell: cell, opt: opt}
	if err := os.MkdirAll(run.ProfileDir(), 0o755); err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	runtime.GC()
	var err error
	if c.allocs, err = lookup("allocs"); err != nil {
		return nil, err
	}
	if opt.Trace {
		if c.block, err = lookup("block"); err != nil {
			return nil, err
		}
		if c.mutx, err = lookup("mutex"); err != nil {
			return nil, err
		}
		runtime.SetBlockProfileRate(1)
		c.mutexFraction = runtime.SetMutexProfileFraction(1)
		path := run.Trace(cell.Name)
		if c.traceFile, err = os.Create(path); err != nil {
			c.restoreRates()
			return nil, fmt.Errorf("profiles: %w", err)
		}
		if err := trace.Start(c.traceFile); err != nil {
			c.traceFile.Close()
			os.Remove(path)
			c.restoreRates()
			return nil, fmt.Errorf("profiles: execution trace: %w", err)
		}
	}
	if err := pprof.StartCPUProfile(&c.cpu); err != nil {
		if c.traceFile != nil {
			trace.Stop()
			c.traceFile.Close()
			os.Remove(c.traceFile.Name())
			c.restoreRates()
		}
		return nil, fmt.Errorf("%w: %v", ErrCPUProfileBusy, err)
	}
	if opt.Wall {
		c.stopWall = fgprof.Start(&c.wall, fgprof.FormatPprof)
	}
	return c, nil
}

func (c *Capture) restoreRates() {
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(c.mutexFraction)
}

// Stop ends the capture and writes the profiles; it returns the paths
// written. Every profile carries the cell's comments and labels (see Cell).
// Allocation, block and mutex profiles are cumulative over the process's
// life, so what is written is the difference between Stop and Start.
func (c *Capture) Stop() ([]string, error) {
	var errs []error
	if c.stopWall != nil {
		errs = append(errs, c.stopWall())
	}
	pprof.StopCPUProfile()
	if c.traceFile != nil {
		trace.Stop()
		errs = append(errs, c.traceFile.Close())
		c.restoreRates()
	}
	runtime.GC() // publish the allocation profile of the round
	var written []string
	emit := func(k Kind, get func() (*profile.Profile, error)) {
		p, err := get()
		if err == nil {
			if k == CPU {
				markGoroutines(p)
			}
			c.cell.label(p)
			p.Comments = append(p.Comments, c.cell.comments()...)
			path := c.run.Profile(c.cell.Name, string(k))
			if err = writeProfile(path, p); err == nil {
				written = append(written, path)
			}
		}
		errs = append(errs, err)
	}
	emit(CPU, func() (*profile.Profile, error) { return parse(c.cpu.Bytes()) })
	emit(Alloc, func() (*profile.Profile, error) { return c.delta("allocs", c.allocs) })
	if c.opt.Wall {
		emit(Wall, func() (*profile.Profile, error) { return parse(c.wall.Bytes()) })
	}
	if c.opt.Trace {
		written = append(written, c.traceFile.Name())
		emit(Block, func() (*profile.Profile, error) { return c.delta("block", c.block) })
		emit(Mutex, func() (*profile.Profile, error) { return c.delta("mutex", c.mutx) })
	}
	return written, errors.Join(errs...)
}

func (c *Capture) delta(name string, before *profile.Profile) (*profile.Profile, error) {
	after, err := lookup(name)
	if err != nil {
		return nil, err
	}
	p, err := Delta(before, after)
	if err != nil {
		return nil, fmt.Errorf("profiles: %s: %w", name, err)
	}
	if name == "allocs" {
		p.DefaultSampleType = "alloc_space"
	}
	return p, nil
}

func lookup(name string) (*profile.Profile, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup(name).WriteTo(&buf, 0); err != nil {
		return nil, fmt.Errorf("profiles: %s profile: %w", name, err)
	}
	return parse(buf.Bytes())
}

func parse(data []byte) (*profile.Profile, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("profiles: parse: %w", err)
	}
	return p, nil
}

// Delta is after minus before for two snapshots of a cumulative profile
// (allocs, block, mutex): the events between them. Samples that cancel out
// are dropped.
func Delta(before, after *profile.Profile) (*profile.Profile, error) {
	neg := before.Copy()
	neg.Scale(-1)
	p, err := profile.Merge([]*profile.Profile{after.Copy(), neg})
	if err != nil {
		return nil, err
	}
	kept := p.Sample[:0]
	for _, s := range p.Sample {
		for _, v := range s.Value {
			if v != 0 {
				kept = append(kept, s)
				break
			}
		}
	}
	p.Sample = kept
	p.TimeNanos = before.TimeNanos
	if after.TimeNanos > before.TimeNanos {
		p.DurationNanos = after.TimeNanos - before.TimeNanos
	}
	return p.Compact(), nil
}
