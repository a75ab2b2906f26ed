package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/concbench/concbench/harness"
)

// progressMode is how a run shows its progress on stderr.
type progressMode int

const (
	// progressQuiet shows nothing (--quiet).
	progressQuiet progressMode = iota
	// progressPlain, for a stderr that is not a terminal (a CI log, a
	// file), writes sparse lines that read well in order: one when a cell
	// finishes (or fails) and one when a pass over the matrix (a round of
	// every cell) ends, each with the time elapsed and the ETA.
	progressPlain
	// progressLive, for a terminal, keeps one line up to date: cell i/N,
	// the round in progress (warm-up rounds apart), a bar of the estimated
	// work done, the time elapsed and the ETA.
	progressLive
)

// progressModeOf picks the mode for a run's stderr: live on a terminal
// (not TERM=dumb, which cannot move the cursor), plain elsewhere.
func progressModeOf(stderr io.Writer, quiet bool) progressMode {
	if quiet {
		return progressQuiet
	}
	if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) && os.Getenv("TERM") != "dumb" {
		return progressLive
	}
	return progressPlain
}

// runProgress shows a run's progress, fed with the harness's events
// (Observe, from harness.Options.Observe). Lines that the run prints while
// it goes on (a restarted backend, the children's diagnostics) go through
// Log, which writes them above the live line instead of across it. Close
// ends the live line; call it when the run returns, finished or not.
type runProgress struct {
	mode   progressMode
	stderr io.Writer
	names  []string // the plan's cell names, in plan order
	count  int      // counted rounds per cell
	// profile is a guess at a cell's profiled pass, for the ETA until the
	// first one has been timed (0: no profiling).
	profile time.Duration
	// now and liveOptions are replaced by tests: a clock, and the console
	// writer and refresh of the live line.
	now         func() time.Time
	liveOptions []mpb.ContainerOption

	logMu   sync.Mutex // orders Log's writes
	mu      sync.Mutex // the fields below
	started time.Time
	ended   bool // RunEnded came
	est     *runEstimate
	rates   [][]float64 // per cell: tasks/s of its counted rounds
	errors  []int       // per cell: failed tasks over its counted rounds
	live    *mpb.Progress
	bar     *mpb.Bar
	partial []byte // a line Log has not finished
}

// liveTotal is the live bar's total: the share of the estimated work
// done, in parts per million.
const liveTotal = 1_000_000

// liveBarWidth is the width of the live line's bar, in columns: what is
// left of the terminal's width goes to the cell's name.
const liveBarWidth = 20

// newRunProgress returns the progress display of a run on stderr; its Log
// can be used at once, its Observe once plan has told it about the run.
func newRunProgress(mode progressMode, stderr io.Writer) *runProgress {
	return &runProgress{mode: mode, stderr: stderr, now: time.Now}
}

// plan tells p the run's plan, its counted rounds a cell, and a guess at
// a cell's profiled pass (0: no profiling). Call it before the run starts.
func (p *runProgress) plan(plan *harness.Plan, count int, profile time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names = p.names[:0]
	for _, c := range plan.Cells {
		p.names = append(p.names, c.Name)
	}
	p.count, p.profile = count, profile
}

// Observe takes one event of the run.
func (p *runProgress) Observe(e harness.Event) {
	if p.mode == progressQuiet {
		return
	}
	// The live line's decorators take p.mu on mpb's goroutines: mpb is
	// never called with p.mu held.
	switch e.Kind {
	case harness.RunStarted:
		p.mu.Lock()
		p.started = p.now()
		p.est = newRunEstimate(e.Cells, e.Rounds, e.Warmup, p.profile)
		p.rates = make([][]float64, e.Cells)
		p.errors = make([]int, e.Cells)
		p.mu.Unlock()
		if p.mode == progressLive {
			p.startLive()
		}
	case harness.RoundEnded:
		p.mu.Lock()
		if p.est == nil {
			p.mu.Unlock()
			return
		}
		p.est.observe(e, p.since())
		if e.Counted {
			p.rates[e.CellIndex] = append(p.rates[e.CellIndex], e.Result.TasksPerSec())
			p.errors[e.CellIndex] += e.Result.Errors
		}
		if p.mode == progressPlain {
			p.plainLines(e)
		}
		bar, done := p.bar, p.est.fraction(p.since())
		p.mu.Unlock()
		if bar != nil {
			bar.SetCurrent(min(int64(done*liveTotal), liveTotal-1)) // complete only at RunEnded
		}
	case harness.RunEnded:
		p.mu.Lock()
		p.ended = true
		bar := p.bar
		p.mu.Unlock()
		if bar != nil {
			bar.SetCurrent(liveTotal)
		}
	}
}

// since is the time since the run started.
func (p *runProgress) since() time.Duration { return p.now().Sub(p.started) }

// Log returns the writer for lines printed while the run goes on: whole
// lines, above the live line while there is one, else on stderr.
func (p *runProgress) Log() io.Writer { return logWriter{p} }

type logWriter struct{ p *runProgress }

func (w logWriter) Write(b []byte) (int, error) {
	p := w.p
	p.logMu.Lock()
	defer p.logMu.Unlock()
	p.mu.Lock()
	p.partial = append(p.partial, b...)
	var lines []byte
	if i := bytes.LastIndexByte(p.partial, '\n'); i >= 0 {
		lines = slices.Clone(p.partial[:i+1])
		p.partial = append(p.partial[:0], p.partial[i+1:]...)
	}
	live := p.live
	p.mu.Unlock()
	if lines == nil {
		return len(b), nil
	}
	if live != nil {
		if _, err := live.Write(lines); err == nil {
			return len(b), nil
		}
		// The live line ended meanwhile (Close): stderr, as after it.
	}
	if _, err := p.stderr.Write(lines); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close ends the live line: complete when the run finished, else left as
// it stood. Log writes to stderr from then on, starting with any line it
// had not finished.
func (p *runProgress) Close() {
	p.mu.Lock()
	live, bar := p.live, p.bar
	p.mu.Unlock()
	if live != nil {
		if !bar.Completed() {
			bar.Abort(false)
		}
		live.Wait() // renders the last state
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live, p.bar = nil, nil
	if len(p.partial) > 0 {
		p.stderr.Write(append(p.partial, '\n'))
		p.partial = nil
	}
}

// startLive starts the live line.
func (p *runProgress) startLive() {
	opts := append([]mpb.ContainerOption{mpb.WithConsoleWriter(terminalWriter{cupwriter.New(p.stderr, false)}),
		mpb.WithWidth(liveBarWidth)}, p.liveOptions...)
	live := mpb.New(opts...)
	bar := live.AddBar(liveTotal,
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.position()
		})),
		mpb.AppendDecorators(decor.Any(func(s decor.Statistics) string {
			p.mu.Lock()
			defer p.mu.Unlock()
			// The bar's width and a space each side, and the last
			// column left free: some terminals wrap a full line.
			return p.liveTail(s.AvailableWidth - liveBarWidth - 3)
		})),
	)
	p.mu.Lock()
	p.live, p.bar = live, bar
	p.mu.Unlock()
}

// terminalWriter is mpb's own console writer, with a size for a terminal
// that reports none: a pseudo-terminal nobody sized (script(1), some CI
// runners) says 0×0, on which mpb would draw nothing.
type terminalWriter struct{ *cupwriter.Writer }

func (w terminalWriter) GetTermSize() (width, height int, err error) {
	width, height, err = w.Writer.GetTermSize()
	if err != nil || width <= 0 || height <= 0 {
		return 80, 24, nil
	}
	return width, height, nil
}

// position says what runs now: "cell 12/78  round 3/10" ("warm-up 1/1"
// in a warm-up round, "profile" during a cell's profiled pass, "done"
// at the end). Counted rounds are numbered apart from warm-up rounds.
func (p *runProgress) position() string {
	n := len(p.names)
	// Padded to the longest it can be, so the bar stays in place.
	width := len(fmt.Sprintf("cell %d/%d  round %d/%d", n, n, p.count, p.count))
	width = max(width, len(fmt.Sprintf("cell %d/%d  warm-up %d/%d", n, n, p.est.warmup, p.est.warmup)))
	pad := func(s string) string { return fmt.Sprintf("%-*s", width, s) }
	cell, round, profiling, ok := p.est.next()
	if !ok || p.ended {
		return pad(fmt.Sprintf("cell %d/%d  done", n, n))
	}
	head := fmt.Sprintf("cell %d/%d  ", cell+1, n)
	switch {
	case profiling:
		return pad(head + "profile")
	case round < p.est.warmup:
		return pad(head + fmt.Sprintf("warm-up %d/%d", round+1, p.est.warmup))
	}
	return pad(head + fmt.Sprintf("round %d/%d", round-p.est.warmup+1, p.count))
}

// liveTail is what follows the live line's bar: the time elapsed, the
// ETA and the cell's name, cut to width columns.
func (p *runProgress) liveTail(width int) string {
	tail := p.clock()
	if cell, _, _, ok := p.est.next(); ok && !p.ended {
		tail += "  " + strings.TrimPrefix(p.names[cell], "Benchmark")
	}
	if r := []rune(tail); len(r) > width {
		if width < 2 {
			return ""
		}
		tail = string(r[:width-1]) + "…"
	}
	return tail
}

// clock reads "1m02s elapsed, ETA 2m10s"; "ETA --" until an estimate
// exists.
func (p *runProgress) clock() string {
	at := p.since()
	eta := "--"
	if left, ok := p.est.left(at); p.ended {
		eta = "0s"
	} else if ok {
		eta = formatClock(left)
	}
	return formatClock(at) + " elapsed, ETA " + eta
}

// plainLines writes the lines an event earns without a terminal: one for
// a cell that has finished or failed, one for a pass over the matrix
// that has ended.
func (p *runProgress) plainLines(e harness.Event) {
	n := len(p.names)
	name := strings.TrimPrefix(p.names[e.CellIndex], "Benchmark")
	switch res := e.Result; {
	case res.Err != nil:
		fmt.Fprintf(p.stderr, "[%s] cell %d/%d FAILED: %s: %v\n", p.clock(), e.CellIndex+1, n, name, res.Err)
	case e.Round == e.Rounds-1:
		// A serve cell's tasks are requests: verified responses a second.
		unit, failed := "tasks/s", "failed tasks"
		if res.Cell.Serve != nil {
			unit, failed = "req/s", "failed requests"
		}
		line := fmt.Sprintf("[%s] cell %d/%d done: %s: %d rounds ×%d, median %s %s", p.clock(), e.CellIndex+1, n, name,
			len(p.rates[e.CellIndex]), res.Passes, formatRate(median(p.rates[e.CellIndex])), unit)
		if errs := p.errors[e.CellIndex]; errs > 0 {
			line += fmt.Sprintf(", %d %s", errs, failed)
		}
		fmt.Fprintln(p.stderr, line)
	}
	if _, round, _, ok := p.est.next(); ok && round == e.Round {
		return // the pass goes on
	}
	if e.Round < e.Warmup {
		fmt.Fprintf(p.stderr, "[%s] warm-up %d/%d done\n", p.clock(), e.Round+1, e.Warmup)
	} else if e.Round < e.Rounds-1 {
		fmt.Fprintf(p.stderr, "[%s] round %d/%d done\n", p.clock(), e.Round-e.Warmup+1, p.count)
	}
}

// formatClock writes a duration as a person reads a clock, to the second
// below an hour: "45s", "1m02s", "1h03m".
func formatClock(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, d%time.Minute/time.Second)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
}

// formatRate writes a rate with three significant digits and an SI
// prefix: "812", "3.77k", "12.4M".
func formatRate(x float64) string {
	prefix := ""
	for _, p := range []string{"k", "M", "G"} {
		if x < 999.5 {
			break
		}
		x /= 1000
		prefix = p
	}
	switch {
	case prefix == "" || x >= 99.95:
		return fmt.Sprintf("%.0f%s", x, prefix)
	case x >= 9.995:
		return fmt.Sprintf("%.1f%s", x, prefix)
	}
	return fmt.Sprintf("%.2f%s", x, prefix)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// runEstimate estimates what is left of a run from its events, as the
// harness runs it: a pass over the matrix per round (every cell once, in
// plan order), a cell's profiled pass right after its last round, failed
// cells skipped from then on.
//
// A cell's first warm-up round calibrates its passes, trying rounds of a
// growing length, so it is timed apart (first); the calibrated round's
// wall time then stands for each later round until one has been timed
// (round). A cell not reached yet is taken to cost what the mean of the
// cells already timed cost. A profiled pass costs the mean of those timed
// so far (the time between a cell's last round and the next event, less
// that event's round), and the caller's guess before the first. There is
// no estimate until one cell has been timed.
type runEstimate struct {
	rounds, warmup int
	profile        time.Duration // the guess at a profiled pass; 0: no profiling
	cells          []cellEstimate

	profileSum  time.Duration // of the profiled passes timed so far
	profileN    int
	lastAt      time.Duration // when the last event came, from the start
	profilingOf int           // the cell whose profiled pass runs now, or -1
}

type cellEstimate struct {
	done   int // rounds ended
	failed bool
	first  time.Duration // its first round, with calibration
	round  time.Duration // a later round
}

func newRunEstimate(cells, rounds, warmup int, profile time.Duration) *runEstimate {
	return &runEstimate{rounds: rounds, warmup: warmup, profile: profile, cells: make([]cellEstimate, cells), profilingOf: -1}
}

// observe takes a RoundEnded event that came at, from the run's start.
func (e *runEstimate) observe(ev harness.Event, at time.Duration) {
	if ev.Kind != harness.RoundEnded || ev.CellIndex < 0 || ev.CellIndex >= len(e.cells) {
		return
	}
	if e.profilingOf >= 0 {
		if p := at - e.lastAt - ev.Elapsed; p > 0 {
			e.profileSum += p
			e.profileN++
		}
	}
	c := &e.cells[ev.CellIndex]
	c.done = ev.Round + 1
	switch res := ev.Result; {
	case res == nil || res.Err != nil:
		c.failed = true
	case ev.Round == 0 && e.warmup > 0:
		c.first, c.round = ev.Elapsed, res.Wall
	case ev.Round == 0:
		c.first, c.round = ev.Elapsed, ev.Elapsed
	default:
		c.round = ev.Elapsed
	}
	e.lastAt = at
	e.profilingOf = -1
	if e.profile > 0 && !c.failed && c.done == e.rounds {
		e.profilingOf = ev.CellIndex
	}
}

// next returns what runs now: the cell, and the round (from 0, warm-up
// rounds first) or its profiled pass; false when nothing is left.
func (e *runEstimate) next() (cell, round int, profiling, ok bool) {
	if e.profilingOf >= 0 {
		return e.profilingOf, e.rounds - 1, true, true
	}
	cell = -1
	for i, c := range e.cells {
		if c.failed || c.done >= e.rounds {
			continue
		}
		if cell < 0 || c.done < e.cells[cell].done {
			cell = i
		}
	}
	if cell < 0 {
		return 0, 0, false, false
	}
	return cell, e.cells[cell].done, false, true
}

// left estimates the time the run still needs, at (from its start);
// false while there is no estimate.
func (e *runEstimate) left(at time.Duration) (time.Duration, bool) {
	var firstSum, roundSum time.Duration
	var firstN, roundN int
	for _, c := range e.cells {
		if c.first > 0 {
			firstSum, firstN = firstSum+c.first, firstN+1
		}
		if c.round > 0 {
			roundSum, roundN = roundSum+c.round, roundN+1
		}
	}
	if firstN == 0 || roundN == 0 {
		return 0, false
	}
	meanFirst, meanRound := firstSum/time.Duration(firstN), roundSum/time.Duration(roundN)
	profile := e.profile
	if e.profileN > 0 {
		profile = e.profileSum / time.Duration(e.profileN)
	}
	// now is the estimate of what runs at the moment, which has been
	// running since the last event; rest is everything after it.
	var now, rest time.Duration
	cur, _, profiling, _ := e.next()
	if profiling {
		now = profile
	}
	for i, c := range e.cells {
		if c.failed || c.done >= e.rounds {
			continue
		}
		first, round := c.first, c.round
		if first == 0 {
			first = meanFirst
		}
		if round == 0 {
			round = meanRound
		}
		next := round
		if c.done == 0 {
			next = first
		}
		rest += next + time.Duration(e.rounds-c.done-1)*round
		if e.profile > 0 {
			rest += profile
		}
		if i == cur && !profiling {
			now = next
			rest -= next
		}
	}
	return max(now-(at-e.lastAt), 0) + rest, true
}

// fraction is the share of the run done at (from its start), by the
// estimate; before there is one, by the rounds ended.
func (e *runEstimate) fraction(at time.Duration) float64 {
	if left, ok := e.left(at); ok && at+left > 0 {
		return float64(at) / float64(at+left)
	}
	done := 0
	for _, c := range e.cells {
		done += c.done
	}
	if total := len(e.cells) * e.rounds; total > 0 {
		return float64(done) / float64(total)
	}
	return 0
}
