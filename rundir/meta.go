package rundir

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Meta is meta.json: what was asked, what ran, and how each cell ended.
// The harness writes it at the end of a run; profiles reads the cell order
// from it.
type Meta struct {
	ID       string    `json:"id"`
	Args     []string  `json:"args"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Finished bool      `json:"finished"` // false: interrupted
	Backend  string    `json:"backend"`
	Count    int       `json:"count"`
	Warmup   int       `json:"warmup"`
	Skipped  []string  `json:"skipped,omitempty"`
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
	Failed string `json:"failed,omitempty"`
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
