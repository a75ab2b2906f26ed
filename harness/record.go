package harness

import (
	"context"
	"strings"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/results/report"
	"github.com/concbench/concbench/rundir"
)

// A Recording is a run of a plan recorded in a run folder (package
// rundir), as `concbench run` records it:
//
//	rec, err := harness.Record(plan, opt, harness.RecordOptions{Out: "out", Args: os.Args[1:]})
//	sum, err := rec.Run(ctx)     // bench.txt as the cells finish, meta.json as it goes
//	ok, err := rec.WriteReport() // report.md and report.html, once there are results
//
// Record makes out/<run-id>/ and points out/latest at it, starts
// bench.txt with its header and writes a first meta.json (every cell,
// no rounds yet); Run runs the plan into it (profiles and flame graphs
// too, when the options ask for them), bringing meta.json up to date as
// rounds end (at most once a second, and at the end), so that a killed
// run still has one; WriteReport writes the report from bench.txt.
//
// meta.json never claims more than bench.txt holds: a round is counted in
// it only after its line is in bench.txt. It records the run's options
// (round time, error limit), its placement and machine check
// (RecordOptions), each cell's passes a round as soon as its first round
// ends, the backend children restarted during the run, and, when the run
// ends, each cell's results as the tables summarise them
// (rundir.CellSummary).
type Recording struct {
	Dir   rundir.Dir
	Bench *BenchFile

	plan *Plan
	opt  Options
	meta rundir.Meta

	cells   map[*Cell]*rundir.CellMeta // into meta.Cells
	written time.Time                  // of meta.json, last
	metaErr error                      // the first failed update during Run
}

// metaInterval is the most often Run rewrites meta.json: a killed run's
// meta.json is at most this stale (and so claims less, never more, than
// bench.txt holds), and a run of many short rounds does not spend its
// time rewriting it.
const metaInterval = time.Second

// RecordOptions say where a Recording goes and what it notes besides the
// results.
type RecordOptions struct {
	// Out is the folder of run folders; empty means rundir.DefaultOut.
	Out string
	// Args is the command line, kept in meta.json.
	Args []string
	// Header holds "key: value" lines for bench.txt that the harness
	// cannot know itself, such as the simd kernel path that the binary
	// resolved; they follow MachineHeader and precede the placement's and
	// the backend's lines.
	Header []params.KV
	// Placement is the run's CPU placement as placement.Placement's
	// String writes it; "" means "none". It is bench.txt's "placement:"
	// line, which every run has (compare refuses runs placed differently),
	// and meta.json's placement.
	Placement string
	// Machine is the machine check the run started with, for meta.json;
	// nil: none.
	Machine *rundir.Machine
}

// Record creates the run folder of plan and its bench.txt. opt are the
// options Run will use: Record points opt.Out at the bench file and, when
// opt.Profile is set, opt.Profile.Dir at the folder.
func Record(plan *Plan, opt Options, ro RecordOptions) (*Recording, error) {
	out := ro.Out
	if out == "" {
		out = rundir.DefaultOut
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	started := time.Now()
	dir, err := rundir.Create(out, started)
	if err != nil {
		return nil, err
	}
	backend := describeBackends(opt.Backends)
	placed := ro.Placement
	if placed == "" {
		placed = "none"
	}
	header := append(append(MachineHeader(), ro.Header...),
		params.KV{Name: "placement", Value: placed}, params.KV{Name: "backend", Value: backend})
	bench, err := CreateBenchFile(dir.Bench(), header)
	if err != nil {
		return nil, err
	}
	opt.Out = bench
	if opt.Profile != nil {
		opt.Profile.Dir = string(dir)
	}
	r := &Recording{Dir: dir, Bench: bench, plan: plan, opt: opt,
		meta: rundir.Meta{ID: dir.ID(), Args: ro.Args, Started: started, Backend: backend,
			Count: opt.Count, Warmup: opt.Warmup, RoundTime: opt.RoundTime, MaxErrors: opt.MaxErrors,
			Placement: placed, Machine: ro.Machine, Skipped: plan.Skipped, Notes: specNotes(plan),
			Cells: make([]rundir.CellMeta, len(plan.Cells))},
		cells: map[*Cell]*rundir.CellMeta{}}
	for i, c := range plan.Cells {
		r.meta.Cells[i].Name = c.Name
		r.cells[c] = &r.meta.Cells[i]
	}
	// From the start, so that a run killed before its end has one.
	if err := r.writeMeta(); err != nil {
		return nil, err
	}
	return r, nil
}

// writeMeta writes meta.json as it stands.
func (r *Recording) writeMeta() error {
	r.written = time.Now()
	return r.Dir.WriteMeta(&r.meta)
}

// describeBackends is what the bench.txt header and meta.json say of the
// backends; Run serves I/O cells in-process when there are none.
func describeBackends(b BackendProvider) string {
	if b == nil {
		return (&InProcessBackends{}).Describe()
	}
	return b.Describe()
}

// Run runs the plan (see the function Run), keeping meta.json up to date
// as rounds end, and writes it a last time at the end, interrupted or
// not, with how each cell ended. The error is Run's, or else meta.json's.
func (r *Recording) Run(ctx context.Context) (*Summary, error) {
	opt := r.opt
	observe := opt.Observe
	opt.Observe = func(e Event) {
		r.observe(e)
		if observe != nil {
			observe(e)
		}
	}
	sum, err := Run(ctx, r.plan, opt)
	r.meta.Ended = time.Now()
	if sum != nil {
		r.meta.Finished = sum.Finished
	}
	r.noteRestarts()
	r.summarizeResults()
	if merr := r.writeMeta(); merr != nil && err == nil {
		err = merr
	}
	if err == nil {
		err = r.metaErr
	}
	return sum, err
}

// observe brings meta.json's cells up to date with a round's event, and
// writes meta.json when it was last written metaInterval ago or more.
func (r *Recording) observe(e Event) {
	if e.Kind == RunStarted {
		r.meta.NotCounted = e.Notes
	}
	if e.Kind != RoundEnded {
		return
	}
	m := r.cells[e.Cell]
	res := e.Result
	switch {
	case res.Err != nil:
		m.Failed = res.Err.Error()
	case e.Counted:
		m.Rounds++
		m.Errors += res.Errors
		m.Passes = res.Passes
	case e.Round == 0:
		// The first warm-up round, which calibrated the passes that
		// every later round of the cell runs.
		m.Passes = res.Passes
	}
	r.noteRestarts()
	if time.Since(r.written) >= metaInterval {
		if err := r.writeMeta(); err != nil && r.metaErr == nil {
			r.metaErr = err
		}
	}
}

// restarter is a provider whose backend children may die and be started
// again (ObservedBackends has it).
type restarter interface {
	Restarts() []BackendRestart
}

// noteRestarts copies the provider's restarted backends into meta.json.
func (r *Recording) noteRestarts() {
	p, ok := r.opt.Backends.(restarter)
	if !ok {
		return
	}
	rs := p.Restarts()
	if len(rs) == len(r.meta.BackendRestarts) {
		return
	}
	r.meta.BackendRestarts = make([]rundir.BackendRestart, len(rs))
	for i, x := range rs {
		r.meta.BackendRestarts[i] = rundir.BackendRestart(x)
	}
}

// summarizeResults gives each cell with counted rounds in bench.txt its
// summary in meta.json, as the run's tables compute it (package results:
// the median sec/op with its interval, the rounds, their noise and
// whether the tables mark the cell unstable). A bench.txt that cannot be
// read leaves the cells without one.
func (r *Recording) summarizeResults() {
	set, err := results.Read(r.Bench.Path())
	if err != nil || len(set.Results) == 0 {
		return
	}
	const unit = "sec/op"
	byName := map[string]*rundir.CellSummary{}
	for _, c := range set.JSON(results.Options{Units: []string{unit}}).Cells {
		s, ok := c.Results[unit]
		if c.Status != "ok" || !ok {
			continue
		}
		byName[c.Name] = &rundir.CellSummary{SecPerOp: s.Median, Lo: s.Lo, Hi: s.Hi, N: s.N,
			CV: c.CV, Unstable: c.Unstable, MaxErrorsPerOp: c.MaxErrors}
	}
	for i := range r.meta.Cells {
		m := &r.meta.Cells[i]
		m.Result = byName[strings.TrimPrefix(m.Name, "Benchmark")]
	}
}

// WriteReport writes report.md and report.html (package results/report)
// from bench.txt. A bench.txt without results, or one that cannot be read,
// gets no report: WriteReport then reports false and no error.
func (r *Recording) WriteReport() (bool, error) {
	set, err := results.Read(r.Bench.Path())
	if err != nil || len(set.Results) == 0 {
		return false, nil
	}
	if err := report.Write(r.Dir, set, report.Options{}); err != nil {
		return false, err
	}
	return true, nil
}

// specNotes are the facts recorded while building the specs
// (calibrations), keyed by "workload/params: name".
func specNotes(plan *Plan) map[string]string {
	notes := map[string]string{}
	for _, c := range plan.Cells {
		for _, kv := range c.Spec.Notes {
			notes[c.Spec.Workload+"/"+c.Spec.Params.String()+": "+kv.Name] = kv.Value
		}
	}
	return notes
}
