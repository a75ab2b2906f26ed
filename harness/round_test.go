package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/rundir"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// probeStrategy runs its tasks one after another and, before them, calls
// look (when set), from the timed part of each round.
type probeStrategy struct {
	single bool // single-pass (strategies.SinglePass)
	look   func(job *strategies.Job)
}

func (probeStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}

func (p probeStrategy) SinglePass() bool { return p.single }

func (p probeStrategy) Run(ctx context.Context, job *strategies.Job) error {
	job.Begin()
	if p.look != nil {
		p.look(job)
	}
	for i := range job.Tasks() {
		job.RunTask(i, workloads.Scalar, nil)
	}
	return nil
}

// The first warm-up round calibrates a cell's passes: it ends with a
// round that lasted the round time, and every later round runs that many
// passes, its iteration count the tasks × passes. A single-pass strategy
// keeps one pass; without warm-up, rounds are single passes.
func TestWarmupCalibratesPassesToTheRoundTime(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "40"})
	repeating, single := cell(spec, probeStrategy{}, "repeating"), cell(spec, probeStrategy{single: true}, "single")
	const roundTime = 20 * time.Millisecond
	var events []Event
	bf, err := CreateBenchFile(filepath.Join(t.TempDir(), "bench.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), &Plan{Cells: []*Cell{repeating, single}}, Options{Count: 2, Warmup: 2,
		RoundTime: roundTime, Out: bf, Observe: func(e Event) { events = append(events, e) }})
	if err != nil || len(sum.Results) != 4 {
		t.Fatalf("Run: %v, %d results, failed %v", err, len(sum.Results), sum.Failed)
	}
	passes := map[*Cell]int{}
	for _, e := range events {
		if e.Kind != RoundEnded {
			continue
		}
		r := e.Result
		if e.Round == 0 {
			passes[e.Cell] = r.Passes
			if e.Cell == repeating && (r.Passes < 2 || r.Wall < roundTime) {
				t.Errorf("calibration ended with %d passes in %v, want a round of at least %v", r.Passes, r.Wall, roundTime)
			}
			continue
		}
		if r.Passes != passes[e.Cell] || r.Tasks != 40*r.Passes || r.Verified != r.Tasks {
			t.Errorf("%s round %d: %d passes, %d tasks (%d verified); calibrated %d passes",
				e.Cell.StrategyLabel, e.Round, r.Passes, r.Tasks, r.Verified, passes[e.Cell])
		}
	}
	if passes[single] != 1 {
		t.Errorf("the single-pass strategy ran %d passes", passes[single])
	}
	for _, r := range readBench(t, bf.Path()) {
		if want := 40 * passes[repeating]; strings.Contains(string(r.Name), "repeating") && r.Iters != want {
			t.Errorf("%s: %d iterations, want 40 tasks × %d passes", r.Name, r.Iters, passes[repeating])
		}
	}

	sum, err = Run(context.Background(), &Plan{Cells: []*Cell{repeating}}, Options{Count: 1, RoundTime: roundTime})
	if err != nil || len(sum.Results) != 1 || sum.Results[0].Passes != 1 || sum.Results[0].PeaksSampled {
		t.Fatalf("without warm-up: %v, %+v; want one round of one pass, no peaks", err, sum.Results)
	}
}

// Issue 13: nothing of the harness wakes during a timed round. The peak
// sampler runs in one round only, after calibration, whose peaks every
// other round reports.
func TestPeaksAreSampledOnlyOutsideCountedRounds(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "20"})
	var mu sync.Mutex
	sampling := map[bool]int{} // rounds seen with the sampler running, by whether they were
	s := probeStrategy{look: func(*strategies.Job) {
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		mu.Lock()
		sampling[strings.Contains(b.String(), "startPeakSampler")]++
		mu.Unlock()
	}}
	var counted []*CellResult
	_, err := Run(context.Background(), &Plan{Cells: []*Cell{cell(spec, s, "probe")}}, Options{Count: 3, Warmup: 2,
		RoundTime: time.Millisecond, Observe: func(e Event) {
			if e.Kind == RoundEnded && e.Counted {
				counted = append(counted, e.Result)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	// Calibration may take several rounds, then the peaks round; the
	// second warm-up round and the 3 counted ones follow.
	if sampling[true] != 1 || sampling[false] < 5 {
		t.Errorf("rounds with the sampler running: %d, without: %d; want the peaks round with, calibration's, the warm-up's and the 3 counted ones without",
			sampling[true], sampling[false])
	}
	for _, r := range counted {
		if !r.PeaksSampled || r.PeakGoroutines < 1 || r.PeakThreads < 1 || r.PeakGoroutines != counted[0].PeakGoroutines {
			t.Errorf("a counted round reports peaks %v: %d goroutines, %d threads; want the warm-up's", r.PeaksSampled, r.PeakGoroutines, r.PeakThreads)
		}
	}
}

// Minor page faults and context switches are counted over the timed part
// of a round: a strategy that touches fresh memory, or sleeps, shows it.
func TestRoundsCountFaultsAndContextSwitches(t *testing.T) {
	spec := smallSpec(t, "noop", params.Values{"tasks": "10"})
	const pages = 4096 // 16 MiB of 4 KiB pages
	var sink []byte
	toucher := probeStrategy{look: func(*strategies.Job) {
		sink = make([]byte, pages*4096)
		for i := 0; i < len(sink); i += 4096 {
			sink[i] = 1
		}
	}}
	sleeper := probeStrategy{look: func(*strategies.Job) {
		for range 20 {
			time.Sleep(time.Millisecond)
		}
	}}
	opt := Options{Count: 1}
	res := runCell(context.Background(), cell(spec, toucher, "toucher"), opt)
	if res.Err != nil || res.MinorFaults < pages/2 { // huge pages may serve part of it
		t.Errorf("touching %d fresh pages: %d minor faults (%v)", pages, res.MinorFaults, res.Err)
	}
	res = runCell(context.Background(), cell(spec, sleeper, "sleeper"), opt)
	if res.Err != nil || res.CtxSwitches < 10 {
		t.Errorf("20 sleeps of 1 ms: %d context switches (%v)", res.CtxSwitches, res.Err)
	}
	_ = sink
}

// recordingCheck is a RoundCheck that notes what it is told and fails
// the round it is told to.
type recordingCheck struct {
	begun, ended []Round
	counted      int
	failCounted  int // EndRound fails the counted round of this index (from 1), 0: none
}

func (c *recordingCheck) BeginRound(_ context.Context, r *Round) error {
	c.begun = append(c.begun, *r)
	return nil
}

func (c *recordingCheck) EndRound(_ context.Context, r *Round, res *CellResult) error {
	c.ended = append(c.ended, *r)
	if res.Passes != r.Passes || res.Tasks != r.Passes*len(r.Cell.Spec.Tasks) {
		return errors.New("the result is not the round's")
	}
	if r.Counted {
		if c.counted++; c.counted == c.failCounted {
			return errors.New("the backend answered 3 GETs, the round needed 40")
		}
	}
	return nil
}

// A RoundCheck sees every round, before and after, told its passes and
// whether it counts; its error fails the cell with its reason.
func TestRoundChecksSeeEveryRoundAndCanFailIt(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "10"})
	c := cell(spec, probeStrategy{}, "probe")
	check := &recordingCheck{}
	sum, err := Run(context.Background(), &Plan{Cells: []*Cell{c}}, Options{Count: 2, Warmup: 1, RoundTime: time.Millisecond,
		Checks: []RoundCheck{check}})
	if err != nil || len(sum.Results) != 2 {
		t.Fatalf("%v, %d results, failed %v", err, len(sum.Results), sum.Failed)
	}
	if len(check.begun) != len(check.ended) || len(check.ended) < 3 {
		t.Fatalf("%d rounds begun, %d ended; want the same, at least 3", len(check.begun), len(check.ended))
	}
	last := check.ended[len(check.ended)-1]
	if !last.Counted || check.ended[0].Counted || last.Cell != c || last.Passes != sum.Results[1].Passes {
		t.Errorf("rounds seen: first %+v, last %+v", check.ended[0], last)
	}

	check = &recordingCheck{failCounted: 2}
	sum, err = Run(context.Background(), &Plan{Cells: []*Cell{c}}, Options{Count: 2, Warmup: 1, RoundTime: time.Millisecond,
		Checks: []RoundCheck{check}})
	if err != nil {
		t.Fatal(err)
	}
	if ferr := sum.Failed[c]; !errors.Is(ferr, ErrCellFailed) || !strings.Contains(ferr.Error(), "answered 3 GETs") || len(sum.Results) != 1 {
		t.Errorf("cell error %v after %d results, want the check's after 1", ferr, len(sum.Results))
	}
}

// failAfter is a LineWriter that takes n results and then fails, as a
// full disk does.
type failAfter struct {
	LineWriter
	n int
}

func (f *failAfter) WriteResult(r *CellResult) error {
	if f.n == 0 {
		return errors.New("no space left on device")
	}
	f.n--
	return f.LineWriter.WriteResult(r)
}

// Issue 14: meta.json exists from the start of a run, and when bench.txt
// cannot take a round (a full disk), neither the summary nor meta.json
// counts it.
func TestMetaNeverClaimsMoreThanBenchHolds(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "10"})
	plan := &Plan{Cells: []*Cell{cell(spec, probeStrategy{}, "a"), cell(spec, probeStrategy{}, "b")}}
	rec, err := Record(plan, Options{Count: 5, RoundTime: time.Millisecond}, RecordOptions{Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := rec.Dir.ReadMeta()
	if err != nil || len(meta.Cells) != 2 || meta.Finished || meta.Cells[0].Rounds != 0 {
		t.Fatalf("meta.json before the run: %+v, %v", meta, err)
	}
	rec.opt.Out = &failAfter{LineWriter: rec.Bench, n: 3}
	sum, err := rec.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Run = %v, want the write's error", err)
	}
	lines := len(readBench(t, rec.Bench.Path()))
	meta, err = rec.Dir.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	claimed := 0
	for _, c := range meta.Cells {
		claimed += c.Rounds
	}
	if lines != 3 || claimed != lines || len(sum.Results) != lines || meta.Finished {
		t.Errorf("bench.txt holds %d rounds, meta.json claims %d, the summary %d (finished %v); want 3 each",
			lines, claimed, len(sum.Results), meta.Finished)
	}
}

// meta.json is brought up to date while the run goes on: a run killed
// after its first second has one that counts the rounds written so far.
func TestMetaIsUpdatedDuringTheRun(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "10"})
	var seen []int // meta.json's rounds when each counted round was reported
	var dir rundir.Dir
	s := probeStrategy{look: func(*strategies.Job) { time.Sleep(30 * time.Millisecond) }}
	opt := Options{Count: 60, RoundTime: time.Millisecond, Observe: func(e Event) {
		if e.Kind != RoundEnded || !e.Counted {
			return
		}
		if m, err := dir.ReadMeta(); err == nil {
			seen = append(seen, m.Cells[0].Rounds)
		}
	}}
	rec, err := Record(&Plan{Cells: []*Cell{cell(spec, s, "slow")}}, opt, RecordOptions{Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dir = rec.Dir
	if _, err := rec.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 60 rounds of 30 ms or more: meta.json was rewritten at least once
	// during them, and never claimed a round before it was reported.
	updated := false
	for i, n := range seen {
		if n > i+1 {
			t.Fatalf("meta.json claimed %d rounds when %d were written", n, i+1)
		}
		updated = updated || n > 0
	}
	if len(seen) != 60 || !updated {
		t.Errorf("meta.json during the run: %v; want it updated", seen)
	}
	if _, err := os.Stat(dir.Meta()); err != nil {
		t.Fatal(err)
	}
}

// Without an observer, progress goes to Progress as a line a round,
// with the round's passes; a run's events open and close it.
func TestProgressIsTextByDefaultAndEventsFrameTheRun(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "10"})
	c := cell(spec, probeStrategy{}, "probe")
	var b strings.Builder
	if _, err := Run(context.Background(), &Plan{Cells: []*Cell{c}}, Options{Count: 1, Warmup: 1,
		RoundTime: time.Millisecond, Progress: &b}); err != nil {
		t.Fatal(err)
	}
	// After the lines that say which OS counters this machine lacks.
	lines := slices.DeleteFunc(strings.Split(strings.TrimSpace(b.String()), "\n"),
		func(l string) bool { return strings.HasPrefix(l, "note: ") })
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "warm-up 1/2  "+c.Name+"  ×") ||
		!strings.HasPrefix(lines[1], "round 2/2  "+c.Name+"  ×") || !strings.Contains(lines[1], "tasks/s") {
		t.Errorf("progress:\n%s", b.String())
	}
	var kinds []EventKind
	if _, err := Run(context.Background(), &Plan{Cells: []*Cell{c}}, Options{Count: 2, RoundTime: time.Millisecond,
		Observe: func(e Event) { kinds = append(kinds, e.Kind) }}); err != nil {
		t.Fatal(err)
	}
	if want := []EventKind{RunStarted, RoundEnded, RoundEnded, RunEnded}; !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
}
