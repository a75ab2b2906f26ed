package harness

import (
	"fmt"
	"io"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// RunStarted opens a run: Cells and Rounds say how much is to come.
	RunStarted EventKind = iota
	// RoundEnded reports a round of a cell: Result holds its figures, or
	// its Err when the round failed the cell (the cell's later rounds are
	// then skipped). A counted round's event comes once Out has its line.
	RoundEnded
	// RunEnded closes a run that was not interrupted.
	RunEnded
)

// An Event is a step of a run, for progress displays (Options.Observe):
// structured, so that a display can count what is done and estimate what
// is left, where TextProgress prints a line a round.
type Event struct {
	Kind      EventKind
	Cell      *Cell // RoundEnded: the cell
	CellIndex int   // its position in the plan
	Cells     int   // cells in the plan
	Round     int   // RoundEnded: the round, from 0, warm-up rounds first
	Rounds    int   // rounds a cell runs: Warmup + Count
	Warmup    int   // the first Warmup rounds are not counted
	Counted   bool  // RoundEnded: a counted round, written to Out
	Result    *CellResult
	// Elapsed is the round's whole time: preparing the backend, the
	// strategy's setup, its run and verification (for a cell's first
	// round, every calibration round).
	Elapsed time.Duration
	// Notes are lines for the reader of the whole run, once
	// (RunStarted): the OS counters this machine does not count, and why
	// (perfcount.Counters.Missing); their units are absent from bench.txt.
	Notes []string
}

// TextProgress returns an observer that writes a human-readable line to
// w for every round of every cell:
//
//	warm-up 1/11  BenchmarkHash/...  ×38   201.337ms   3773563 tasks/s
//	round 2/11    BenchmarkHash/...  ×38   199.870ms   3801320 tasks/s
//
// ×R is the round's passes over the task set.
func TextProgress(w io.Writer) func(Event) {
	return func(e Event) {
		if e.Kind == RunStarted {
			for _, n := range e.Notes {
				fmt.Fprintf(w, "note: %s\n", n)
			}
		}
		if e.Kind != RoundEnded {
			return
		}
		r := e.Result
		kind := "round"
		if e.Round < e.Warmup {
			kind = "warm-up"
		}
		status := fmt.Sprintf("×%-4d %9.3fms  %10.0f tasks/s", r.Passes, float64(r.Wall)/1e6, r.TasksPerSec())
		if bw, ok := r.BytesPerSec(); ok {
			status += fmt.Sprintf("  %6.2f GB/s", bw/1e9)
		}
		if r.Errors > 0 {
			status += fmt.Sprintf("  %d errors", r.Errors)
		}
		if r.Err != nil {
			status = "FAILED: " + r.Err.Error()
		}
		fmt.Fprintf(w, "%s %d/%d  %s  %s\n", kind, e.Round+1, e.Rounds, e.Cell.Name, status)
	}
}
