package harness

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/profiles/cpuprofile"
	"github.com/concbench/concbench/rundir"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// setupBurner runs its tasks one after another, after a setup and before
// a teardown that each burn CPU in a function of their own: a profiled
// pass must keep both out of the cell's CPU profile and put them in its
// setup profile.
type setupBurner struct{}

func (setupBurner) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}

func (setupBurner) Run(ctx context.Context, job *strategies.Job) error {
	burnInSetup()
	job.Begin()
	for i := range job.Tasks() {
		job.RunTask(i, workloads.Scalar, nil)
	}
	burnInTeardown()
	return nil
}

// burnTime is what each of setup and teardown burns a round: about five
// CPU samples at 250 Hz, in every round of the pass.
const burnTime = 20 * time.Millisecond

//go:noinline
func burnInSetup() { burn(burnTime) }

//go:noinline
func burnInTeardown() { burn(burnTime) }

var burnSink uint64

func burn(d time.Duration) {
	x := burnSink
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 1000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	burnSink = x
}

// samplesIn counts the samples of p (by their first value) with a frame
// whose function name contains fn; with fn "", every sample.
func samplesIn(p *profile.Profile, fn string) int64 {
	var n int64
	for _, s := range p.Sample {
		if fn == "" || stackHas(s, fn) {
			n += s.Value[0]
		}
	}
	return n
}

func stackHas(s *profile.Sample, fn string) bool {
	for _, loc := range s.Location {
		for _, ln := range loc.Line {
			if ln.Function != nil && strings.Contains(ln.Function.Name, fn) {
				return true
			}
		}
	}
	return false
}

func readProfile(t *testing.T, path string) *profile.Profile {
	t.Helper()
	p, err := profiles.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A real run with profiling on, of a CPU cell whose strategy burns CPU in
// setup and teardown, and of an I/O cell (fanout, a goroutine a task
// over 256 dialled connections) served by child backends:
//   - the CPU profiles hold the timed part only: setup and teardown are in
//     <cell>.setup.pprof, labelled phase=setup, and nowhere else (neither
//     the burner's nor the goroutines strategy's dialling and closing);
//   - the wall-clock profile comes from a pass of its own: no CPU
//     profiler's goroutine in it, and no fgprof frame in the CPU profile;
//   - the child backends' CPU profile of the same rounds is written
//     beside the client's (side=backend, sampled at the client's 250 Hz),
//     with its flame graph.
func TestProfiledPassesSampleTheTimedPartOfEachSide(t *testing.T) {
	bin := buildConcbench(t)
	backends := &ChildBackends{Executable: bin, Stderr: os.Stderr}
	defer backends.Close()
	plan, err := NewPlan(Selection{Workloads: []string{"fanout"}, Strategies: []string{"goroutines"},
		WorkloadParams: map[string]params.Values{"fanout": {"latency": "0s", "tasks": "256", "backends": "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Cells) != 1 {
		t.Fatalf("plan has %d cells, want 1", len(plan.Cells))
	}
	fanout := plan.Cells[0]
	burner := cell(smallSpec(t, "hash", params.Values{"tasks": "200"}), setupBurner{}, "burner")
	plan.Cells = append(plan.Cells, burner)

	dir := t.TempDir()
	pr := &Profiling{Dir: dir, Targets: profiles.Targets{MinSamples: 200, MaxTime: 500 * time.Millisecond}}
	sum, err := Run(context.Background(), plan, Options{Count: 1, Warmup: 1, RoundTime: 50 * time.Millisecond,
		Backends: backends, Profile: pr})
	if err != nil {
		t.Fatal(err)
	}
	for c, err := range sum.Failed {
		t.Fatalf("%s failed: %v", c.Name, err)
	}
	for _, err := range pr.Errors {
		t.Fatalf("profiling: %v", err)
	}
	run := rundir.Dir(dir)

	t.Run("setup apart", func(t *testing.T) {
		cpu := readProfile(t, run.Profile(burner.Name, string(profiles.CPU)))
		setup := readProfile(t, run.Profile(burner.Name, string(profiles.Setup)))
		if n := samplesIn(cpu, ""); n == 0 {
			t.Fatal("the burner's CPU profile has no sample")
		}
		for _, fn := range []string{"burnInSetup", "burnInTeardown"} {
			if n := samplesIn(cpu, fn); n > 0 {
				t.Errorf("%d samples of %s in the CPU profile of the timed part", n, fn)
			}
			if n := samplesIn(setup, fn); n == 0 {
				t.Errorf("no sample of %s in the setup profile", fn)
			}
		}
		for _, s := range setup.Sample {
			if got := s.Label[profiles.LabelPhase]; len(got) != 1 || got[0] != profiles.PhaseSetup {
				t.Fatalf("a setup sample labelled phase=%v", got)
			}
		}
		fanoutCPU := readProfile(t, run.Profile(fanout.Name, string(profiles.CPU)))
		for _, fn := range []string{"strategies.(*Job).DialPool", "strategies.(*ConnPool).Close"} {
			if n := samplesIn(fanoutCPU, fn); n > 0 {
				t.Errorf("%d samples of %s in the fanout cell's CPU profile", n, fn)
			}
		}
	})

	t.Run("wall pass apart", func(t *testing.T) {
		cpu := readProfile(t, run.Profile(fanout.Name, string(profiles.CPU)))
		wall := readProfile(t, run.Profile(fanout.Name, string(profiles.Wall)))
		if n := samplesIn(wall, ""); n == 0 {
			t.Fatal("the wall-clock profile has no sample")
		}
		// pprof's CPU profile reader is a goroutine of its own while a CPU
		// profile runs; fgprof samples every goroutine.
		if n := samplesIn(wall, "runtime/pprof.profileWriter"); n > 0 {
			t.Errorf("the wall-clock profile has %d samples of the CPU profiler's goroutine", n)
		}
		if n := samplesIn(cpu, "felixge/fgprof"); n > 0 {
			t.Errorf("the CPU profile has %d samples of fgprof", n)
		}
	})

	t.Run("backend side", func(t *testing.T) {
		path := run.Profile(fanout.Name, string(profiles.BackendCPU))
		backend := readProfile(t, path)
		if n := samplesIn(backend, "concbench/workloads/backend."); n == 0 {
			t.Errorf("%s: no sample in the backend's code", path)
		}
		for _, s := range backend.Sample {
			if got := s.Label[profiles.LabelSide]; len(got) != 1 || got[0] != profiles.SideBackend {
				t.Fatalf("a backend sample labelled side=%v", got)
			}
		}
		if want := int64(time.Second) / cpuprofile.DefaultRate; backend.Period != want {
			t.Errorf("the backend sampled every %v, want %v (cpuprofile.DefaultRate)", time.Duration(backend.Period),
				time.Duration(want))
		}
		var kinds []profiles.Kind
		for _, f := range profiles.FlameGraphs(run, fanout.Name) {
			kinds = append(kinds, f.Kind)
		}
		if want := []profiles.Kind{profiles.CPU, profiles.BackendCPU, profiles.Wall}; !slices.Equal(kinds, want) {
			t.Errorf("the fanout cell's flame graphs: %v, want %v", kinds, want)
		}
	})
}

// A profiled round passes the profiler's hooks to the job (its Begin and
// last finish, as strategies.OnBegin and strategies.OnLastFinish options):
// they run, once each, and so does the harness's own snapshot at Begin,
// whose hook is added to the same job. Were either lost, the profile or
// the round's counts would be wrong: a round whose snapshot at Begin was
// never taken counts every byte the process allocated before it.
func TestProfilerHooksAndTheSnapshotBothRun(t *testing.T) {
	spec := smallSpec(t, "noop", params.Values{"tasks": "10"})
	const before = 64 << 20
	burnSink += uint64(len(make([]byte, before))) // allocated before the round
	var began, ended int
	res := runnerOf(Options{Count: 1}).run(context.Background(), cell(spec, probeStrategy{}, "probe"), 1, false,
		false, false, strategies.OnBegin(func() { began++ }), strategies.OnLastFinish(func() { ended++ }))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if began != 1 || ended != 1 {
		t.Errorf("the profiler's hooks ran %d (Begin) and %d (last finish) times, want 1 each", began, ended)
	}
	if res.AllocBytes >= before {
		t.Errorf("the round counted %d bytes allocated, the %d allocated before it included: its snapshot at Begin was not taken",
			res.AllocBytes, before)
	}
}
