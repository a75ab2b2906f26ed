package rundir

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Meta is meta.json: what was asked, where and how it ran, and how each
// cell ended. The harness writes it when a run starts, brings it up to
// date as rounds end (so a killed run still has one, claiming no round
// that bench.txt lacks), and a last time at the end, with each cell's
// results; profiles reads the cell order from it.
//
// Fields are added, never renamed or given a new meaning: a reader
// ignores what it does not know, and a meta.json from an older run reads
// with the new fields at their zero values.
type Meta struct {
	ID       string    `json:"id"`
	Args     []string  `json:"args"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Finished bool      `json:"finished"` // false: interrupted, or still running
	Backend  string    `json:"backend"`
	Count    int       `json:"count"`  // counted rounds per cell asked for
	Warmup   int       `json:"warmup"` // warm-up rounds per cell, not counted
	// RoundTime is the least wall time of a round (--round-time), in
	// nanoseconds: each cell's first warm-up round calibrates its passes
	// (CellMeta.Passes) to last this long.
	RoundTime time.Duration `json:"round_time_ns"`
	// MaxErrors is the fraction of a round's tasks that may fail without
	// failing the cell (--max-errors).
	MaxErrors float64 `json:"max_errors"`
	// Placement is the CPUs each party of the run was placed on, as
	// bench.txt's "placement:" line and package placement write it
	// ("strategy=0 backend=1"), "none" when nothing was placed.
	Placement string `json:"placement"`
	// Machine is what degraded measurements on this machine when the run
	// started (package machinecheck); nil when the run did not check.
	Machine *Machine `json:"machine,omitempty"`
	// NotCounted says, a line for each group of OS counters (package
	// perfcount) that this machine does not count, which events and why:
	// their units (migrations/op, IPC, cache-misses/op) are absent from
	// bench.txt, never 0.
	NotCounted []string `json:"not_counted,omitempty"`
	// BackendRestarts lists the built-in backend children that died
	// during the run and were started again, in order.
	BackendRestarts []BackendRestart `json:"backend_restarts,omitempty"`
	Skipped         []string         `json:"skipped,omitempty"`
	// Notes are facts recorded while building the specs (calibrations),
	// keyed by "workload/params: name".
	Notes map[string]string `json:"notes,omitempty"`
	// Cells are the run's cells in plan order.
	Cells []CellMeta `json:"cells"`
}

// CellMeta is one cell's entry in meta.json.
type CellMeta struct {
	Name   string `json:"name"`
	Rounds int    `json:"rounds"` // counted rounds recorded
	Errors int    `json:"errors"` // task errors over those rounds
	// Passes is how many times each of the cell's rounds ran its task set
	// (the iteration count of its bench.txt lines is tasks × passes): as
	// many as the first warm-up round found it takes to last
	// Meta.RoundTime, 1 without warm-up; 0 before the cell's first round.
	Passes int    `json:"passes"`
	Failed string `json:"failed,omitempty"`
	// Result summarises the counted rounds of a cell that has some, as
	// the run's tables do; it is filled in when the run ends, interrupted
	// or not.
	Result *CellSummary `json:"result,omitempty"`
}

// CellSummary summarises a cell's counted rounds (package results
// computes it, as benchstat does).
type CellSummary struct {
	// SecPerOp is the median wall time per verified task over the
	// rounds, in seconds; Lo and Hi bound its 95 % confidence interval,
	// absent when the rounds are too few for one.
	SecPerOp float64  `json:"sec_per_op"`
	Lo       *float64 `json:"lo,omitempty"`
	Hi       *float64 `json:"hi,omitempty"`
	N        int      `json:"n"` // rounds summarised
	// CV is the rounds' coefficient of variation (standard deviation
	// over mean of sec/op); Unstable says it is above the limit the
	// tables mark (5 %).
	CV       float64 `json:"cv"`
	Unstable bool    `json:"unstable"`
	// MaxErrorsPerOp is the largest share of failed tasks in a round
	// (within Meta.MaxErrors, or the cell would have failed).
	MaxErrorsPerOp float64 `json:"max_errors_per_op"`
}

// Machine is the machine check a run starts with (package machinecheck):
// the line it printed and every finding.
type Machine struct {
	Summary  string           `json:"summary"`
	Findings []MachineFinding `json:"findings,omitempty"`
}

// MachineFinding is one check of Machine: what was checked, "ok" or
// "warn", the value read, and what to do about it.
type MachineFinding struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Value  string `json:"value"`
	Advice string `json:"advice,omitempty"`
}

// BackendRestart is a built-in backend child that died during a run and
// was started again.
type BackendRestart struct {
	Instance int       `json:"instance"` // its index among the cell's backends
	Addr     string    `json:"addr"`     // the address it had
	NewAddr  string    `json:"new_addr"` // its replacement's
	Exit     string    `json:"exit"`     // how it ended ("signal: killed")
	At       time.Time `json:"at"`
}

// WriteMeta writes m to <run>/meta.json (WriteFile).
func (d Dir) WriteMeta(m *Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("rundir: %s: %w", d.Meta(), err)
	}
	return WriteFile(d.Meta(), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReadMeta reads <run>/meta.json.
func (d Dir) ReadMeta() (*Meta, error) {
	data, err := os.ReadFile(d.Meta())
	if err != nil {
		return nil, fmt.Errorf("rundir: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("rundir: %s: %w", d.Meta(), err)
	}
	return &m, nil
}
