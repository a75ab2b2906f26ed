package results

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMatchesBenchstat proves that the tables' statistics are
// benchstat's: it runs the module's own benchstat (a go.mod tool line)
// on the sample run and compares every center, interval, delta, p-value
// and geomean, as text at benchstat's CSV precision.
//
// benchstat runs with -table .name so that its tables split by workload
// as ours do; otherwise its geomean row would span workloads.
func TestMatchesBenchstat(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH, so benchstat cannot run: skipping the equivalence test")
	}
	sample, err := filepath.Abs(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	root := moduleRoot(t, goTool)

	cmd := exec.Command(goTool, "tool", "benchstat", "-format", "csv", "-table", ".name", "-col", "/strategy", sample)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	want := parseBenchstatCSV(t, stdout.Bytes())

	set, err := Read(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	tables := set.Tables(Options{AllUnits: true})
	if len(tables) != len(want) {
		t.Fatalf("got %d tables, benchstat printed %d", len(tables), len(want))
	}
	for i, tab := range tables {
		compareTable(t, tab, want[i])
	}
}

func moduleRoot(t *testing.T, goTool string) string {
	t.Helper()
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		t.Fatal("not inside a module: go env GOMOD is empty")
	}
	return filepath.Dir(gomod)
}

// A statTable is one table of benchstat's CSV output, as text.
type statTable struct {
	workload, unit string
	columns        []string
	cells          map[[2]string]statCell // by (row, column)
	geomean        map[string]statCell    // by column; delta holds the ratio
}

type statCell struct{ center, ci, delta, p string }

// parseBenchstatCSV reads the layout of benchstat's Table.ToCSV: a
// ".name: X" line per workload, then per table a row of column names,
// a row of unit headers (its third field is "CI"), the data rows and a geomean row. Column e
// starts at field 1 for the baseline and at 3+4(e-1) for the others.
func parseBenchstatCSV(t *testing.T, data []byte) []*statTable {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse benchstat csv: %v", err)
	}
	start := func(e int) int {
		if e == 0 {
			return 1
		}
		return 3 + 4*(e-1)
	}
	field := func(rec []string, i int) string {
		if i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var tables []*statTable
	var workload string
	var cur *statTable
	for _, rec := range recs {
		switch {
		case len(rec) == 1 && strings.HasPrefix(rec[0], ".name: "):
			workload = strings.TrimPrefix(rec[0], ".name: ")
		case rec[0] == "" && field(rec, 2) == "CI":
			cur.unit = rec[1]
		case rec[0] == "":
			// csv.Reader drops the blank line between tables, so
			// a row of column names is what starts a table.
			cur = &statTable{workload: workload, cells: map[[2]string]statCell{}, geomean: map[string]statCell{}}
			for e := 0; start(e) < len(rec); e++ {
				cur.columns = append(cur.columns, rec[start(e)])
			}
			tables = append(tables, cur)
		default:
			for e, col := range cur.columns {
				s := start(e)
				c := statCell{center: field(rec, s), ci: field(rec, s+1)}
				if e > 0 {
					c.delta, c.p = field(rec, s+2), field(rec, s+3)
				}
				if rec[0] == "geomean" {
					cur.geomean[col] = c
				} else if c.center != "" {
					cur.cells[[2]string{rowLabel(workload, rec[0]), col}] = c
				}
			}
		}
	}
	return tables
}

func compareTable(t *testing.T, got *Table, want *statTable) {
	t.Helper()
	name := got.Workload + " " + got.Unit
	if got.Workload != want.workload || got.Unit != want.unit {
		t.Errorf("table %s: benchstat printed %s %s here", name, want.workload, want.unit)
		return
	}
	// Columns with only failures are ours alone: benchstat skips FAIL.
	var cols []string
	for j, col := range got.Columns {
		if !onlyFailures(got, j) {
			cols = append(cols, col)
		}
	}
	if !slices.Equal(cols, want.columns) {
		t.Errorf("table %s: columns %q, benchstat %q", name, cols, want.columns)
		return
	}
	cells := 0
	for i, row := range got.Rows {
		for j, col := range got.Columns {
			c := got.Cells[i][j]
			if c == nil || c.Failed() {
				continue
			}
			cells++
			w, ok := want.cells[[2]string{row, col}]
			if !ok {
				t.Errorf("table %s: cell %s %s missing from benchstat", name, row, col)
				continue
			}
			g := statCell{center: fmt.Sprint(c.Summary.Center), ci: c.Summary.PctRangeString()}
			if j > 0 && c.Baseline != nil {
				g.delta = c.Comparison.FormatDelta(c.Baseline.Summary.Center, c.Summary.Center)
				g.p = c.Comparison.String()
			}
			if g != w {
				t.Errorf("table %s, %s, %s:\n got %+v\nwant %+v", name, row, col, g, w)
			}
		}
	}
	if cells != len(want.cells) {
		t.Errorf("table %s: %d cells, benchstat %d", name, cells, len(want.cells))
	}
	if len(got.Rows) < 2 {
		return
	}
	for j, col := range got.Columns {
		w, ok := want.geomean[col]
		if !ok {
			continue
		}
		s := got.Geomean[j]
		var g statCell
		if s.HasCenter {
			g.center = fmt.Sprint(s.Center)
		}
		if j > 0 {
			g.delta = "?"
			if s.HasRatio {
				g.delta = fmt.Sprintf("%+.2f%%", (s.Ratio-1)*100)
			}
		}
		if g != w {
			t.Errorf("table %s, geomean %s:\n got %+v\nwant %+v", name, col, g, w)
		}
	}
}
