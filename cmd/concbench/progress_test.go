package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vbauerster/mpb/v8"
	"go.uber.org/goleak"

	"github.com/concbench/concbench/harness"
)

const ms = time.Millisecond

// twoCells is a plan of two cells, for the progress tests.
func twoCells() *harness.Plan {
	return &harness.Plan{Cells: []*harness.Cell{
		{Name: "BenchmarkHash/tasks=100/strategy=blocking-2"},
		{Name: "BenchmarkHash/tasks=100/strategy=pool(workers=8)-2"},
	}}
}

// step is an event of a run of twoCells with one warm-up round and two
// counted ones, and when it came.
type step struct {
	at      time.Duration
	cell    int
	round   int
	elapsed time.Duration // the round's whole time
	wall    time.Duration // the last calibration round's, or the round's
	passes  int
	err     error
}

func (s step) event(plan *harness.Plan, warmup, rounds int) harness.Event {
	res := &harness.CellResult{Cell: plan.Cells[s.cell], Passes: s.passes, Tasks: 100 * s.passes,
		Verified: 100 * s.passes, Wall: s.wall, Err: s.err}
	return harness.Event{Kind: harness.RoundEnded, Cell: plan.Cells[s.cell], CellIndex: s.cell, Cells: len(plan.Cells),
		Round: s.round, Rounds: rounds, Warmup: warmup, Counted: s.round >= warmup && s.err == nil, Result: res, Elapsed: s.elapsed}
}

// The ETA arithmetic, step by step, on a run of two cells with a warm-up
// round, two counted rounds and profiled passes guessed at 100ms: a
// cell's calibrating first round is timed apart, the calibrated round's
// wall time stands for its later rounds until one is timed, a cell not
// reached yet costs the mean of those timed, a round that overruns its
// estimate does not eat into the rest, and a profiled pass, once timed
// (the gap before the next event), replaces the guess.
func TestRunEstimate(t *testing.T) {
	t.Parallel()
	plan := twoCells()
	e := newRunEstimate(2, 3, 1, 100*ms)
	type check struct {
		at        time.Duration
		left      time.Duration // -1: no estimate
		cell      int           // next: -1 none
		round     int
		profiling bool
	}
	expect := func(c check) {
		t.Helper()
		left, ok := e.left(c.at)
		if c.left < 0 {
			if ok {
				t.Errorf("at %v: left %v, want no estimate yet", c.at, left)
			}
		} else if !ok || left != c.left {
			t.Errorf("at %v: left %v (%v), want %v", c.at, left, ok, c.left)
		}
		cell, round, profiling, ok := e.next()
		if c.cell < 0 {
			if ok {
				t.Errorf("at %v: next cell %d, want none", c.at, cell)
			}
			return
		}
		if !ok || cell != c.cell || round != c.round || profiling != c.profiling {
			t.Errorf("at %v: next = cell %d round %d profiling %v (%v), want cell %d round %d profiling %v",
				c.at, cell, round, profiling, ok, c.cell, c.round, c.profiling)
		}
	}
	expect(check{at: 0, left: -1, cell: 0, round: 0})
	for _, tt := range []struct {
		step
		checks []check
	}{
		// Cell 0 calibrates: 500ms in all, its calibrated round 200ms.
		// Left: cell 0's 2 rounds and profile (500), cell 1 at the
		// means (500 + 2×200 + 100), which runs now.
		{step{at: 500 * ms, cell: 0, round: 0, elapsed: 500 * ms, wall: 200 * ms, passes: 38},
			[]check{{at: 500 * ms, left: 1500 * ms, cell: 1, round: 0},
				{at: 700 * ms, left: 1300 * ms, cell: 1, round: 0},
				{at: 1200 * ms, left: 1000 * ms, cell: 1, round: 0}}}, // overrun: the rest stands
		{step{at: 800 * ms, cell: 1, round: 0, elapsed: 300 * ms, wall: 100 * ms, passes: 20},
			[]check{{at: 800 * ms, left: 800 * ms, cell: 0, round: 1}}},
		{step{at: 1050 * ms, cell: 0, round: 1, elapsed: 250 * ms, wall: 200 * ms, passes: 38},
			[]check{{at: 1050 * ms, left: 650 * ms, cell: 1, round: 1}}},
		{step{at: 1170 * ms, cell: 1, round: 1, elapsed: 120 * ms, wall: 100 * ms, passes: 20},
			[]check{{at: 1170 * ms, left: 570 * ms, cell: 0, round: 2}}},
		// Cell 0's last round: its profiled pass runs now (the guess).
		{step{at: 1430 * ms, cell: 0, round: 2, elapsed: 260 * ms, wall: 200 * ms, passes: 38},
			[]check{{at: 1430 * ms, left: 320 * ms, cell: 0, round: 2, profiling: true}}},
		// 90ms between cell 0's last round and this one's start: its
		// profiled pass, which now stands for cell 1's.
		{step{at: 1650 * ms, cell: 1, round: 2, elapsed: 130 * ms, wall: 100 * ms, passes: 20},
			[]check{{at: 1650 * ms, left: 90 * ms, cell: 1, round: 2, profiling: true},
				{at: 1800 * ms, left: 0, cell: 1, round: 2, profiling: true}}},
	} {
		e.observe(tt.event(plan, 1, 3), tt.at)
		for _, c := range tt.checks {
			expect(c)
		}
	}
	e.observe(harness.Event{Kind: harness.RunEnded}, 1800*ms) // ignored
	if e.profilingOf != 1 {
		t.Errorf("RunEnded changed the estimate")
	}
}

// A failed cell is skipped from then on, by the estimate as by the run;
// without warm-up a cell's first round is an ordinary one; without
// profiling nothing is added for profiles.
func TestRunEstimateFailedAndUnwarmed(t *testing.T) {
	t.Parallel()
	plan := twoCells()
	e := newRunEstimate(2, 2, 0, 0)
	e.observe(step{cell: 0, round: 0, elapsed: 100 * ms, wall: 90 * ms, passes: 1}.event(plan, 0, 2), 100*ms)
	if left, ok := e.left(100 * ms); !ok || left != 300*ms { // cell 1 twice at the mean, cell 0 once
		t.Errorf("left %v (%v), want 300ms", left, ok)
	}
	e.observe(step{cell: 1, round: 0, elapsed: 40 * ms, passes: 1, err: errors.New("digest mismatch")}.event(plan, 0, 2), 140*ms)
	if left, ok := e.left(140 * ms); !ok || left != 100*ms {
		t.Errorf("after cell 1 failed: left %v (%v), want 100ms (cell 0's last round)", left, ok)
	}
	e.observe(step{cell: 0, round: 1, elapsed: 100 * ms, wall: 90 * ms, passes: 1}.event(plan, 0, 2), 240*ms)
	if cell, _, _, ok := e.next(); ok {
		t.Errorf("next = cell %d after the last round without profiling, want none", cell)
	}
	if left, ok := e.left(240 * ms); !ok || left != 0 {
		t.Errorf("left %v (%v) at the end, want 0", left, ok)
	}
	if f := e.fraction(240 * ms); f != 1 {
		t.Errorf("fraction %v at the end, want 1", f)
	}
}

// fakeClock is a clock that tests move.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// Without a terminal, progress is a line when a cell finishes (with its
// rounds, passes, median and failed tasks) or fails, and one when a pass
// over the matrix ends; "round k/N" counts counted rounds only, and no
// line is written for a single round of a single cell.
func TestPlainProgress(t *testing.T) {
	t.Parallel()
	plan := twoCells()
	var out bytes.Buffer
	clock := &fakeClock{now: time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)}
	start := clock.now
	p := newRunProgress(progressPlain, &out)
	p.now = clock.Now
	p.plan(plan, 2, 0)
	p.Observe(harness.Event{Kind: harness.RunStarted, Cells: 2, Rounds: 3, Warmup: 1})
	steps := []step{
		{at: 500 * ms, cell: 0, round: 0, elapsed: 500 * ms, wall: 200 * ms, passes: 38},
		{at: 800 * ms, cell: 1, round: 0, elapsed: 300 * ms, wall: 100 * ms, passes: 20},
		{at: 1000 * ms, cell: 0, round: 1, elapsed: 200 * ms, wall: 200 * ms, passes: 38},
		{at: 1100 * ms, cell: 1, round: 1, elapsed: 100 * ms, err: errors.New("cell failed: digest mismatch: task 3")},
		{at: 1300 * ms, cell: 0, round: 2, elapsed: 200 * ms, wall: 100 * ms, passes: 38},
	}
	lines := [][]string{
		nil,
		{"[1s elapsed, ETA 1s] warm-up 1/1 done"},
		nil,
		{"[1s elapsed, ETA 0s] cell 2/2 FAILED: Hash/tasks=100/strategy=pool(workers=8)-2: cell failed: digest mismatch: task 3",
			"[1s elapsed, ETA 0s] round 1/2 done"},
		{"[1s elapsed, ETA 0s] cell 1/2 done: Hash/tasks=100/strategy=blocking-2: 2 rounds ×38, median 28.5k tasks/s, 7 failed tasks"},
	}
	for i, s := range steps {
		clock.now = start.Add(s.at)
		e := s.event(plan, 1, 3)
		if i == 4 {
			e.Result.Errors, e.Result.Verified = 7, 3800-7
		}
		p.Observe(e)
		got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if out.Len() == 0 {
			got = nil
		}
		if strings.Join(got, "\n") != strings.Join(lines[i], "\n") {
			t.Errorf("after step %d:\n%s\nwant:\n%s", i, strings.Join(got, "\n"), strings.Join(lines[i], "\n"))
		}
		out.Reset()
	}
	p.Observe(harness.Event{Kind: harness.RunEnded})
	p.Close()
	if out.Len() != 0 {
		t.Errorf("the end of the run wrote %q", out.String())
	}
}

// Quiet progress writes nothing at all; its Log still writes.
func TestQuietProgress(t *testing.T) {
	t.Parallel()
	plan := twoCells()
	var out bytes.Buffer
	p := newRunProgress(progressQuiet, &out)
	p.plan(plan, 2, 0)
	p.Observe(harness.Event{Kind: harness.RunStarted, Cells: 2, Rounds: 2, Warmup: 0})
	for r := range 2 {
		for c := range 2 {
			p.Observe(step{cell: c, round: r, elapsed: 10 * ms, wall: 10 * ms, passes: 1}.event(plan, 0, 2))
		}
	}
	p.Observe(harness.Event{Kind: harness.RunEnded})
	fmt.Fprint(p.Log(), "backend: restarted\npartial")
	p.Close()
	if got := out.String(); got != "backend: restarted\npartial\n" {
		t.Errorf("quiet progress wrote %q", got)
	}
}

func TestFormatClockAndRate(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{0: "0s", 499 * ms: "0s", 1500 * ms: "2s", 62 * time.Second: "1m02s",
		59*time.Minute + 59*time.Second: "59m59s", 3*time.Hour + 4*time.Minute + 40*time.Second: "3h05m"} {
		if got := formatClock(d); got != want {
			t.Errorf("formatClock(%v) = %q, want %q", d, got, want)
		}
	}
	for x, want := range map[float64]string{0: "0", 812.3: "812", 999.4: "999", 999.6: "1.00k", 3772.5: "3.77k",
		12_400_000: "12.4M", 123_456_789: "123M", 2.5e9: "2.50G"} {
		if got := formatRate(x); got != want {
			t.Errorf("formatRate(%v) = %q, want %q", x, got, want)
		}
	}
}

// fakeTerminal is a terminal for mpb: each frame it flushes is kept and
// announced, so that a test renders the live line on demand and reads it.
type fakeTerminal struct {
	bytes.Buffer
	width   int
	mu      sync.Mutex
	frames  []string
	flushed chan struct{}
}

func (f *fakeTerminal) IsTerminal() bool                    { return true }
func (f *fakeTerminal) GetTermSize() (int, int, error)      { return f.width, 24, nil }
func (f *fakeTerminal) ReadFrom(r io.Reader) (int64, error) { return f.Buffer.ReadFrom(r) }
func (f *fakeTerminal) Flush(int) error {
	f.mu.Lock()
	f.frames = append(f.frames, f.Buffer.String())
	f.mu.Unlock()
	f.Buffer.Reset()
	select {
	case f.flushed <- struct{}{}:
	default:
	}
	return nil
}

func (f *fakeTerminal) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.frames) == 0 {
		return ""
	}
	return f.frames[len(f.frames)-1]
}

// On a terminal, one live line says which cell and round run now
// (counted rounds apart from the warm-up), with a bar, the time elapsed,
// the ETA and the cell's name cut to the terminal's width; lines logged
// meanwhile appear above it; at the end it shows the run done.
func TestLiveProgress(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	plan := twoCells()
	term := &fakeTerminal{width: 80, flushed: make(chan struct{}, 1)}
	refresh := make(chan any)
	clock := &fakeClock{now: time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)}
	start := clock.now
	p := newRunProgress(progressLive, &bytes.Buffer{})
	p.now = clock.Now
	p.liveOptions = []mpb.ContainerOption{mpb.WithConsoleWriter(term), mpb.WithManualRefresh(refresh)}
	p.plan(plan, 2, 100*ms)
	render := func() string {
		t.Helper()
		select {
		case <-term.flushed: // a frame from before
		default:
		}
		refresh <- time.Now()
		select {
		case <-term.flushed:
		case <-time.After(10 * time.Second):
			t.Fatal("no frame rendered")
		}
		frame := term.last()
		lines := strings.Split(strings.TrimSuffix(frame, "\n"), "\n")
		// Every character of the line is one column wide.
		if w := utf8.RuneCountInString(lines[len(lines)-1]); w >= term.width {
			t.Errorf("a live line of %d columns on a terminal of %d: %q", w, term.width, lines[len(lines)-1])
		}
		return frame
	}
	p.Observe(harness.Event{Kind: harness.RunStarted, Cells: 2, Rounds: 3, Warmup: 1})
	if frame := render(); !strings.Contains(frame, "cell 1/2  warm-up 1/1") || !strings.Contains(frame, "ETA --") {
		t.Errorf("first frame %q: want cell 1/2 in its warm-up, no ETA yet", frame)
	}
	steps := []struct {
		step
		want []string
	}{
		{step{at: 500 * ms, cell: 0, round: 0, elapsed: 500 * ms, wall: 200 * ms, passes: 38},
			[]string{"cell 2/2  warm-up 1/1", "1s elapsed, ETA 2s  Hash/tasks=100/", "…"}},
		{step{at: 800 * ms, cell: 1, round: 0, elapsed: 300 * ms, wall: 100 * ms, passes: 20},
			[]string{"cell 1/2  round 1/2", "1s elapsed, ETA 1s  Hash/tasks=100/"}},
		{step{at: 1050 * ms, cell: 0, round: 1, elapsed: 250 * ms, wall: 200 * ms, passes: 38},
			[]string{"cell 2/2  round 1/2"}},
		{step{at: 1170 * ms, cell: 1, round: 1, elapsed: 120 * ms, wall: 100 * ms, passes: 20},
			[]string{"cell 1/2  round 2/2"}},
		{step{at: 1430 * ms, cell: 0, round: 2, elapsed: 260 * ms, wall: 200 * ms, passes: 38},
			[]string{"cell 1/2  profile"}},
		{step{at: 1650 * ms, cell: 1, round: 2, elapsed: 130 * ms, wall: 100 * ms, passes: 20},
			[]string{"cell 2/2  profile"}},
	}
	for i, s := range steps {
		clock.now = start.Add(s.at)
		p.Observe(s.event(plan, 1, 3))
		if i == 2 {
			fmt.Fprint(p.Log(), "backend: backend 1 at 127.0.0.1:1 died (signal: killed) and was restarted at 127.0.0.1:2\n")
		}
		frame := render()
		for _, want := range s.want {
			if !strings.Contains(frame, want) {
				t.Errorf("after step %d: frame %q lacks %q", i, frame, want)
			}
		}
		if strings.Contains(frame, "round 3/") {
			t.Errorf("after step %d: frame %q counts the warm-up round", i, frame)
		}
		if i == 2 && !strings.HasPrefix(frame, "backend: backend 1 at 127.0.0.1:1 died") {
			t.Errorf("the logged line is not above the live line: %q", frame)
		}
	}
	p.Observe(harness.Event{Kind: harness.RunEnded})
	p.Close()
	if last := term.last(); !strings.Contains(last, "cell 2/2  done") || !strings.Contains(last, "ETA 0s") {
		t.Errorf("last frame %q: want the run done", last)
	}
	fmt.Fprint(p.Log(), "after the run\n") // to stderr, the live line gone
}
