package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// RunDir is the folder of one run: out/<run-id>/ with bench.txt and
// meta.json, and out/latest pointing at it.
type RunDir struct {
	Dir   string
	ID    string
	Bench *BenchFile
}

// CreateRunDir makes a new run folder under out and points out/latest at it.
func CreateRunDir(out string, now time.Time) (*RunDir, error) {
	id := now.UTC().Format("20060102-150405")
	dir := filepath.Join(out, id)
	for i := 2; ; i++ { // two runs started within one second get distinct folders
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if os.IsNotExist(err) {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return nil, fmt.Errorf("harness: create %s: %w", out, err)
			}
			continue
		}
		if !os.IsExist(err) {
			return nil, fmt.Errorf("harness: create run folder: %w", err)
		}
		id = fmt.Sprintf("%s-%d", now.UTC().Format("20060102-150405"), i)
		dir = filepath.Join(out, id)
	}
	latest := filepath.Join(out, "latest")
	tmp := latest + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(id, tmp); err != nil {
		return nil, fmt.Errorf("harness: link %s: %w", latest, err)
	}
	if err := os.Rename(tmp, latest); err != nil {
		return nil, fmt.Errorf("harness: link %s: %w", latest, err)
	}
	return &RunDir{Dir: dir, ID: id}, nil
}

// Meta is meta.json: what was asked, what ran, and how each cell ended.
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
	Cells []CellMeta        `json:"cells"`
}

// CellMeta is one cell's entry in meta.json.
type CellMeta struct {
	Name   string `json:"name"`
	Rounds int    `json:"rounds"` // counted rounds recorded
	Errors int    `json:"errors"` // task errors over those rounds
	Failed string `json:"failed,omitempty"`
}

// NewMeta summarizes a run of plan.
func NewMeta(plan *Plan, sum *Summary) []CellMeta {
	byCell := map[*Cell]*CellMeta{}
	cells := make([]CellMeta, len(plan.Cells))
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

// WriteMeta writes meta.json with write-then-rename.
func (d *RunDir) WriteMeta(m *Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("harness: meta.json: %w", err)
	}
	path := filepath.Join(d.Dir, "meta.json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("harness: meta.json: %w", err)
	}
	return os.Rename(tmp, path)
}
