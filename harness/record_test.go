package harness

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
)

func recordPlan(t *testing.T) *Plan {
	t.Helper()
	plan, err := NewPlan(Selection{Workloads: []string{"hash", "fanout"}, Strategies: []string{"blocking", "pool"},
		Quick: true, WorkloadParams: map[string]params.Values{
			"hash":   {"tasks": "30"},
			"fanout": {"tasks": "20", "latency": "0s"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// A recorded run fills the run folder at the paths package rundir gives:
// bench.txt with its header, meta.json, profiles and flame graphs (the
// wall-clock one for the I/O cells), the breakdown, and the report.
func TestRecordWritesTheRunFolder(t *testing.T) {
	plan := recordPlan(t)
	out := t.TempDir()
	opt := Options{Count: 2, Profile: &Profiling{Targets: profiles.Targets{MaxTime: 20 * time.Millisecond}}}
	rec, err := Record(plan, opt, RecordOptions{Out: out, Args: []string{"run", "--quick"},
		Header: []params.KV{{Name: "simd", Value: "test-path"}}})
	if err != nil {
		t.Fatal(err)
	}
	if link, err := os.Readlink(string(rundir.Latest(out))); err != nil || link != rec.Dir.ID() {
		t.Errorf("latest → %q (%v), want %s", link, err, rec.Dir.ID())
	}
	if opt.Profile.Dir != string(rec.Dir) {
		t.Errorf("Profiling.Dir = %q, want the run folder %s", opt.Profile.Dir, rec.Dir)
	}
	sum, err := rec.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Finished || len(sum.Failed) > 0 || len(opt.Profile.Errors) > 0 {
		t.Fatalf("finished=%v failed=%v profile errors=%v", sum.Finished, sum.Failed, opt.Profile.Errors)
	}

	bench, err := os.ReadFile(rec.Dir.Bench())
	if err != nil {
		t.Fatal(err)
	}
	// The caller's lines follow the machine's, and the placement's (none
	// unless told) and the backend's follow them.
	kernel, simd := strings.Index(string(bench), "\nkernel: "), strings.Index(string(bench), "\nsimd: test-path\n")
	placed, backend := strings.Index(string(bench), "\nplacement: none\n"), strings.Index(string(bench), "\nbackend: built-in, in-process\n")
	if kernel < 0 || simd < kernel || placed < simd || backend < placed {
		t.Errorf("bench.txt header out of order (kernel at %d, simd at %d, placement at %d, backend at %d):\n%s",
			kernel, simd, placed, backend, bench)
	}
	if n := strings.Count(string(bench), "\nBenchmark"); n != 2*len(plan.Cells) {
		t.Errorf("bench.txt has %d results, want %d", n, 2*len(plan.Cells))
	}

	meta, err := rec.Dir.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range plan.Cells {
		names = append(names, c.Name)
	}
	var metaNames []string
	for _, c := range meta.Cells {
		metaNames = append(metaNames, c.Name)
		if c.Rounds != 2 || c.Failed != "" || c.Passes != 1 {
			t.Errorf("meta.json: %s has %d rounds of %d passes (failed %q), want 2 of 1", c.Name, c.Rounds, c.Passes, c.Failed)
		}
		// The tables' summary: the median of the 2 rounds, their noise.
		if r := c.Result; r == nil || r.N != 2 || r.SecPerOp <= 0 || r.CV < 0 || r.MaxErrorsPerOp != 0 {
			t.Errorf("meta.json: %s has result %+v, want a median of 2 rounds", c.Name, r)
		}
	}
	if !slices.Equal(metaNames, names) {
		t.Errorf("meta.json cells %q, want the plan's %q", metaNames, names)
	}
	if meta.ID != rec.Dir.ID() || !meta.Finished || meta.Count != 2 || meta.Backend != "built-in, in-process" ||
		!slices.Equal(meta.Args, []string{"run", "--quick"}) || meta.Ended.Before(meta.Started) ||
		meta.RoundTime != DefaultRoundTime || meta.MaxErrors != 0 || meta.Placement != "none" || meta.Machine != nil {
		t.Errorf("meta.json: %+v", meta)
	}

	ok, err := rec.WriteReport()
	if err != nil || !ok {
		t.Fatalf("WriteReport = %v, %v", ok, err)
	}
	want := []string{rec.Dir.ReportMarkdown(), rec.Dir.ReportHTML(), rec.Dir.ChartDir(), rec.Dir.Breakdown()}
	for _, c := range plan.Cells {
		want = append(want, rec.Dir.Profile(c.Name, "cpu"), rec.Dir.Profile(c.Name, "alloc"), rec.Dir.FlameGraph(c.Name))
		if c.Spec.Workload == "fanout" {
			want = append(want, rec.Dir.Profile(c.Name, "wall"), rec.Dir.WallFlameGraph(c.Name))
		}
	}
	for _, path := range want {
		if _, err := os.Stat(path); err != nil {
			t.Error(err)
		}
	}
	// Issue 14: bench.txt was 0600 while every other output is 0644.
	err = filepath.WalkDir(string(rec.Dir), func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", path, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// An interrupted run still gets its meta.json, and no report when nothing
// was measured.
func TestRecordOfAnInterruptedRun(t *testing.T) {
	plan := recordPlan(t)
	rec, err := Record(plan, Options{Count: 1}, RecordOptions{Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := rec.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := rec.Dir.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Finished || meta.Finished || len(meta.Cells) != len(plan.Cells) {
		t.Errorf("finished %v, meta.json finished %v with %d cells; want an unfinished run listing all %d",
			sum.Finished, meta.Finished, len(meta.Cells), len(plan.Cells))
	}
	if ok, err := rec.WriteReport(); ok || err != nil {
		t.Errorf("WriteReport of a run without results = %v, %v; want false, nil", ok, err)
	}
	if _, err := os.Stat(rec.Dir.ReportHTML()); err == nil {
		t.Error("a run without results has a report.html")
	}
}

// restartingBackends is in-process backends that report a restarted
// child, as ChildBackends does when one died.
type restartingBackends struct {
	*InProcessBackends
	restarts []BackendRestart
}

func (b *restartingBackends) Restarts() []BackendRestart { return b.restarts }

// meta.json records what the caller knows of the run (its placement, also
// in bench.txt's header, and its machine check), the options' round time
// and error limit, and the backend children the provider restarted.
func TestRecordNotesPlacementMachineAndRestarts(t *testing.T) {
	plan := recordPlan(t)
	at := time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)
	backends := &restartingBackends{InProcessBackends: &InProcessBackends{},
		restarts: []BackendRestart{{Instance: 1, Addr: "127.0.0.1:1", NewAddr: "127.0.0.1:2", Exit: "signal: killed", At: at}}}
	defer backends.Close()
	machine := &rundir.Machine{Summary: "machine: ok", Findings: []rundir.MachineFinding{{Check: "load", Status: "ok", Value: "idle"}}}
	rec, err := Record(plan, Options{Count: 1, RoundTime: 5 * time.Millisecond, MaxErrors: 0.02, Backends: backends},
		RecordOptions{Out: t.TempDir(), Placement: "strategy=0 backend=1", Machine: machine})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	bench, err := os.ReadFile(rec.Dir.Bench())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bench), "\nplacement: strategy=0 backend=1\n") {
		t.Errorf("bench.txt's header lacks the placement:\n%s", bench)
	}
	meta, err := rec.Dir.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	if meta.Placement != "strategy=0 backend=1" || !reflect.DeepEqual(meta.Machine, machine) ||
		meta.RoundTime != 5*time.Millisecond || meta.MaxErrors != 0.02 {
		t.Errorf("meta.json: placement %q, machine %+v, round time %v, max errors %v", meta.Placement, meta.Machine, meta.RoundTime, meta.MaxErrors)
	}
	want := []rundir.BackendRestart{{Instance: 1, Addr: "127.0.0.1:1", NewAddr: "127.0.0.1:2", Exit: "signal: killed", At: at}}
	if !reflect.DeepEqual(meta.BackendRestarts, want) {
		t.Errorf("meta.json backend restarts %+v, want %+v", meta.BackendRestarts, want)
	}
}
