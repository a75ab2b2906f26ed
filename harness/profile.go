package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
)

// Profiling asks Run for one profiled pass over each cell, run right after
// the cell's last counted round. The profiler never runs during a counted
// round: a CPU profile costs a few percent (a signal per 10ms of CPU per
// thread), a wall-clock profile stops the world 99 times a second to walk
// every goroutine, and block/mutex profiling at rate 1 slows every
// contended operation, so a profiled round would not measure the same
// thing. The pass's own measurements are checked (a wrong result stops it)
// but not recorded.
//
// A pass repeats the cell's round until MinDuration has gone by, so a
// short cell still gets enough samples: CPU profiles sample at 100 Hz, so
// 250ms of two busy cores is about 50 samples.
//
// It writes, under Dir (the run folder, at the paths of rundir.Dir):
//
//	profiles/<cell>.cpu.pprof    CPU, samples labelled strategy, workload, params, cell
//	profiles/<cell>.alloc.pprof  allocations during the pass (alloc_space, alloc_objects)
//	profiles/<cell>.wall.pprof   wall clock (fgprof), cells with a backend only
//	profiles/<cell>.{block,mutex}.pprof, profiles/<cell>.trace   with Trace
//	flame/<cell>.html            static flame graph of the CPU profile (and <cell>.wall.html)
//	profiles/breakdown.md        where the time went, rewritten after each cell
//
// A profiling failure is reported on Options.Progress and in Errors; it
// never fails the cell or the run.
type Profiling struct {
	Dir         string
	Trace       bool          // block and mutex profiles and an execution trace too
	MinDuration time.Duration // of a cell's profiled pass; 0 means 250ms

	// Errors collects what went wrong, one entry per cell at most.
	Errors []error
}

// defaultProfileTime is enough samples for a readable flame graph of a CPU
// cell without making a quick run of the whole matrix (55 cells) much longer.
const defaultProfileTime = 250 * time.Millisecond

// profileCell runs the profiled pass of cell, if opt asks for one.
func profileCell(ctx context.Context, cell *Cell, opt Options) {
	pr := opt.Profile
	if pr == nil || ctx.Err() != nil {
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

func (pr *Profiling) capture(ctx context.Context, cell *Cell, opt Options) (string, error) {
	spec := cell.Spec
	pc := profiles.Cell{Name: cell.Name, Workload: spec.Workload, Params: spec.Params.String(),
		Strategy: cell.StrategyLabel}
	wall := spec.Backend.Instances > 0
	runtime.GC() // the garbage of earlier cells, before the profile starts
	run := rundir.Dir(pr.Dir)
	c, err := profiles.StartCapture(run, pc, profiles.CaptureOptions{Wall: wall, Trace: pr.Trace})
	if err != nil {
		return "", err
	}
	minDur := pr.MinDuration
	if minDur <= 0 {
		minDur = defaultProfileTime
	}
	start := time.Now()
	rounds := 0
	var roundErr error
	for rounds == 0 || time.Since(start) < minDur {
		res := runCellAsIs(ctx, cell, opt)
		rounds++
		if res.Err != nil {
			roundErr = res.Err
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	elapsed := time.Since(start)
	written, err := c.Stop()
	if err != nil {
		return "", err
	}
	if roundErr != nil {
		return "", fmt.Errorf("profiled round: %w", roundErr)
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	kinds := []string{}
	for _, p := range written {
		kinds = append(kinds, strings.TrimPrefix(filepath.Ext(strings.TrimSuffix(p, ".pprof")), "."))
	}
	flame := run.FlameGraph(cell.Name)
	if err := profiles.WriteFlameGraphFile(flame, run.Profile(cell.Name, string(profiles.CPU))); err != nil {
		return "", err
	}
	if wall {
		if err := profiles.WriteFlameGraphFile(run.WallFlameGraph(cell.Name),
			run.Profile(cell.Name, string(profiles.Wall))); err != nil {
			return "", err
		}
	}
	if err := profiles.WriteBreakdownFile(pr.Dir); err != nil {
		return "", err
	}
	shown, err := filepath.Rel(pr.Dir, flame)
	if err != nil {
		shown = flame
	}
	return fmt.Sprintf("%d round(s) in %v: %s → %s", rounds, elapsed.Round(time.Millisecond),
		strings.Join(kinds, ","), shown), nil
}
