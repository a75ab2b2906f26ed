package profiles

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/rundir"
)

// Kind is what a profile file measures; it is the middle part of the file
// name: <cell>.<kind>.pprof.
type Kind string

// The kinds a profiled pass writes. A CPU pass writes CPU, Setup and
// Alloc (Block and Mutex with tracing on; their execution trace is
// <cell>.trace, not a pprof file), and BackendCPU when the harness hands
// it the backend's profile; a wall pass, run for cells with a backend (I/O
// and mixed workloads), writes Wall.
const (
	CPU   Kind = "cpu"   // CPU samples of the timed part (Begin to the last task's end), side=client
	Setup Kind = "setup" // CPU samples outside it (setup, teardown, the harness's checks), phase=setup
	Alloc Kind = "alloc" // allocations of the timed part
	Wall  Kind = "wall"  // wall clock of every goroutine during the timed part (fgprof)
	Block Kind = "block"
	Mutex Kind = "mutex"
	// BackendCPU is the backend process's CPU profile of the timed part,
	// side=backend ("backend-cpu": a file name that a glob for *.cpu.pprof
	// does not match).
	BackendCPU Kind = "backend-cpu"
)

// Kinds lists every kind, in the order the command line and docs list them.
var Kinds = []Kind{CPU, Alloc, Wall, BackendCPU, Setup, Block, Mutex}

// Cell identifies the cell a profile belongs to. It travels inside each
// profile file as comments (shown by pprof's UI as well) and as sample
// labels, so a profile file is self-describing: no sidecar, no name parsing.
type Cell struct {
	Name     string // benchmark name: "BenchmarkMandelbrot/width=1024/strategy=pool(workers=8)-2"
	Workload string // "mandelbrot"
	Params   string // workload parameters as in the name: "width=1024/rows=128"
	Strategy string // strategy label with its parameters: "pool(workers=8)"
}

// Label keys carried by profile samples. The harness sets workload, params
// and strategy with pprof.Do around the strategy's run; the pass adds
// them (and cell) to every other sample of the round, so that a tag focus
// in pprof's UI (tagfocus=strategy=pool) keeps the round's GC, scheduler
// and harness samples too.
const (
	LabelCell     = "cell"
	LabelWorkload = "workload"
	LabelParams   = "params"
	LabelStrategy = "strategy"
	// LabelSide says which process a CPU sample is from: SideClient (the
	// strategy's, where concbench runs) or SideBackend.
	LabelSide = "side"
	// LabelPhase marks the samples of the Setup profile: PhaseSetup.
	LabelPhase = "phase"
	// LabelGoroutine says, on a CPU sample, whether it was taken in a
	// goroutine the harness labelled (GoroutineStrategy: the strategy's
	// goroutines, which inherit the labels of the pprof.Do that runs it) or
	// not (GoroutineOther: the runtime's background work, the harness).
	LabelGoroutine = "goroutine"
)

// Values of LabelSide and LabelPhase.
const (
	SideClient  = "client"
	SideBackend = "backend"
	PhaseSetup  = "setup"

	GoroutineStrategy = "strategy"
	GoroutineOther    = "other"
)

const commentPrefix = "concbench "

// comments renders c as profile comments.
func (c Cell) comments() []string {
	return []string{
		commentPrefix + "cell=" + c.Name,
		commentPrefix + "workload=" + c.Workload,
		commentPrefix + "params=" + c.Params,
		commentPrefix + "strategy=" + c.Strategy,
	}
}

// CellOf reads the cell a profile was captured for from its comments.
// ok is false for a profile that was not written by a Pass.
func CellOf(p *profile.Profile) (c Cell, ok bool) {
	for _, cm := range p.Comments {
		kv, found := strings.CutPrefix(cm, commentPrefix)
		if !found {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "cell":
			c.Name, ok = v, true
		case "workload":
			c.Workload = v
		case "params":
			c.Params = v
		case "strategy":
			c.Strategy = v
		}
	}
	return c, ok
}

// markGoroutines sets LabelGoroutine on every sample of a CPU profile:
// GoroutineStrategy where the sample carries the strategy label already
// (set by the harness's pprof.Do), GoroutineOther elsewhere. Call it before
// label, which fills in the strategy label everywhere.
func markGoroutines(p *profile.Profile) {
	for _, s := range p.Sample {
		if s.Label == nil {
			s.Label = map[string][]string{}
		}
		g := GoroutineOther
		if len(s.Label[LabelStrategy]) > 0 {
			g = GoroutineStrategy
		}
		s.Label[LabelGoroutine] = []string{g}
	}
}

// label sets the cell's labels on every sample that lacks them.
func (c Cell) label(p *profile.Profile) {
	for _, s := range p.Sample {
		if s.Label == nil {
			s.Label = map[string][]string{}
		}
		for k, v := range map[string]string{LabelCell: c.Name, LabelWorkload: c.Workload,
			LabelParams: c.Params, LabelStrategy: c.Strategy} {
			if _, has := s.Label[k]; !has && v != "" {
				s.Label[k] = []string{v}
			}
		}
	}
}

// writeProfile writes p, gzipped as pprof expects, to path.
func writeProfile(path string, p *profile.Profile) error {
	return rundir.WriteFile(path, p.Write)
}

// ReadFile parses one profile file.
func ReadFile(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("profiles: parse %s: %w", path, err)
	}
	return p, nil
}

// CommentsOf returns the profile comments that record c (see CellOf).
func CommentsOf(c Cell) []string { return c.comments() }
