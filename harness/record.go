package harness

import (
	"context"
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
//	sum, err := rec.Run(ctx)     // bench.txt as the cells finish, meta.json at the end
//	ok, err := rec.WriteReport() // report.md and report.html, once there are results
//
// Record makes out/<run-id>/ and points out/latest at it, and starts
// bench.txt with its header; Run runs the plan into it (profiles and
// flame graphs too, when the options ask for them) and writes meta.json;
// WriteReport writes the report from bench.txt.
type Recording struct {
	Dir   rundir.Dir
	Bench *BenchFile

	plan *Plan
	opt  Options
	meta rundir.Meta
}

// RecordOptions say where a Recording goes and what it notes besides the
// results.
type RecordOptions struct {
	// Out is the folder of run folders; empty means rundir.DefaultOut.
	Out string
	// Args is the command line, kept in meta.json.
	Args []string
	// Header holds "key: value" lines for bench.txt that the harness
	// cannot know itself, such as the simd kernel path that the binary
	// resolved; they follow MachineHeader and precede the backend's line.
	Header []params.KV
}

// Record creates the run folder of plan and its bench.txt. opt are the
// options Run will use: Record points opt.Out at the bench file and, when
// opt.Profile is set, opt.Profile.Dir at the folder.
func Record(plan *Plan, opt Options, ro RecordOptions) (*Recording, error) {
	out := ro.Out
	if out == "" {
		out = rundir.DefaultOut
	}
	started := time.Now()
	dir, err := rundir.Create(out, started)
	if err != nil {
		return nil, err
	}
	backend := describeBackends(opt.Backends)
	header := append(append(MachineHeader(), ro.Header...), params.KV{Name: "backend", Value: backend})
	bench, err := CreateBenchFile(dir.Bench(), header)
	if err != nil {
		return nil, err
	}
	opt.Out = bench
	if opt.Profile != nil {
		opt.Profile.Dir = string(dir)
	}
	return &Recording{Dir: dir, Bench: bench, plan: plan, opt: opt,
		meta: rundir.Meta{ID: dir.ID(), Args: ro.Args, Started: started, Backend: backend,
			Count: opt.Count, Warmup: opt.Warmup, Skipped: plan.Skipped, Notes: specNotes(plan)}}, nil
}

// describeBackends is what the bench.txt header and meta.json say of the
// backends; Run serves I/O cells in-process when there are none.
func describeBackends(b BackendProvider) string {
	if b == nil {
		return (&InProcessBackends{}).Describe()
	}
	return b.Describe()
}

// Run runs the plan (see the function Run) and then writes meta.json,
// interrupted or not, with how each cell ended. The error is Run's, or
// else meta.json's.
func (r *Recording) Run(ctx context.Context) (*Summary, error) {
	sum, err := Run(ctx, r.plan, r.opt)
	r.meta.Ended = time.Now()
	if sum != nil {
		r.meta.Finished = sum.Finished
		r.meta.Cells = cellMeta(r.plan, sum)
	}
	if merr := r.Dir.WriteMeta(&r.meta); merr != nil && err == nil {
		err = merr
	}
	return sum, err
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

// cellMeta summarizes how each cell of plan ended, in plan order.
func cellMeta(plan *Plan, sum *Summary) []rundir.CellMeta {
	byCell := map[*Cell]*rundir.CellMeta{}
	cells := make([]rundir.CellMeta, len(plan.Cells))
	for i, c := range plan.Cells {
		cells[i].Name = c.Name
		byCell[c] = &cells[i]
	}
	for _, r := range sum.Results {
		m := byCell[r.Cell]
		m.Rounds++
		m.Errors += r.Errors
	}
	for c, err := range sum.Failed {
		byCell[c].Failed = err.Error()
	}
	return cells
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
