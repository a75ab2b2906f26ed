package results

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
)

// Tables builds one Table per workload and unit, workloads in the order
// benchproc sorts them (first seen first) and units in the order Options
// selects. The statistics are benchstat's: medians with confidence
// intervals from benchmath.AssumeNothing, Mann-Whitney U tests against
// the baseline column, and geometric means. Every cell also carries the
// noise of its rounds (Cell.CV, Cell.Unstable) and its task errors
// (Cell.MaxErrors), whatever the table's unit.
func (s *Set) Tables(opts Options) []*Table {
	units := selectUnits(s.UnitNames(), opts.units(), opts.AllUnits)
	return s.group(units).tables(s, units, opts)
}

// group sorts every round of s into cells, keeping the values of units
// and of the units that mark cells (TimeUnit, ErrorsUnit).
func (s *Set) group(units []string) *grouping {
	g := newGrouping()
	g.units = map[string]bool{TimeUnit: true, ErrorsUnit: true}
	for _, u := range units {
		g.units[u] = true
	}
	for r, rs := range s.cells() {
		g.addCell(r, rs)
	}
	for i := range s.Failures {
		g.addFailure(&s.Failures[i])
	}
	return g
}

func (g *grouping) tables(s *Set, units []string, opts Options) []*Table {
	var tables []*Table
	for _, w := range g.sortedWorkloads() {
		for i, unit := range units {
			cells := g.cells[w][unit]
			if len(cells) == 0 {
				// A workload whose every cell failed still gets
				// one table, so that its failures show.
				if i > 0 || len(g.cells[w]) > 0 {
					continue
				}
			}
			tables = append(tables, s.buildTable(g, w, unit, opts))
		}
	}
	return tables
}

// A grouping sorts results into cells by workload, unit, row and column,
// using benchproc projections as benchstat does: the workload is the
// base name (.name), the column is /strategy, and the row is what
// remains of the full name (.fullname excludes keys used elsewhere).
type grouping struct {
	workloadBy, rowBy, colBy, residueBy *benchproc.Projection

	// units are the units whose values are kept.
	units map[string]bool

	workloads map[benchproc.Key]bool
	// cells[workload][unit] holds the values of each (row, column).
	cells    map[benchproc.Key]map[string]map[cellKey]*cellValues
	failures map[benchproc.Key]map[cellKey]*Failure
}

type cellKey struct{ row, col benchproc.Key }

type cellValues struct {
	// values are the rounds' values, in the order read.
	values []float64
	// roundSeconds are the rounds' wall times (TimeUnit values times
	// the iteration count), where known.
	roundSeconds []float64
	residues     map[benchproc.Key]bool
	// name is the full benchmark name of the first round.
	name string
}

func newGrouping() *grouping {
	var parser benchproc.ProjectionParser
	parse := func(q string) *benchproc.Projection {
		p, err := parser.Parse(q, nil)
		if err != nil {
			// The queries are constants; a failure is a bug here.
			panic(fmt.Sprintf("results: parse projection %q: %v", q, err))
		}
		return p
	}
	g := &grouping{
		workloadBy: parse(".name"),
		colBy:      parse("/strategy"),
		rowBy:      parse(".fullname"),
		workloads:  make(map[benchproc.Key]bool),
		cells:      make(map[benchproc.Key]map[string]map[cellKey]*cellValues),
		failures:   make(map[benchproc.Key]map[cellKey]*Failure),
	}
	g.residueBy = parser.Residue()
	return g
}

// addCell files every round of the cell r stands for.
func (g *grouping) addCell(r *benchfmt.Result, rs *Rounds) {
	w := g.workloadBy.Project(r)
	key := cellKey{g.rowBy.Project(r), g.colBy.Project(r)}
	residue := g.residueBy.Project(r)
	g.workloads[w] = true
	byUnit := g.cells[w]
	if byUnit == nil {
		byUnit = make(map[string]map[cellKey]*cellValues)
		g.cells[w] = byUnit
	}
	for u, unit := range rs.Units {
		if !g.units[unit] {
			continue
		}
		cells := byUnit[unit]
		if cells == nil {
			cells = make(map[cellKey]*cellValues)
			byUnit[unit] = cells
		}
		c := cells[key]
		if c == nil {
			c = &cellValues{residues: make(map[benchproc.Key]bool), name: string(r.Name.Full())}
			cells[key] = c
		}
		if c.values == nil {
			// Most cells have one configuration: share its
			// values, and copy only to add another's.
			c.values = slices.Clip(rs.Values[u])
		} else {
			c.values = append(c.values, rs.Values[u]...)
		}
		if unit == TimeUnit && len(rs.Values[u]) == len(rs.Iters) {
			for i, v := range rs.Values[u] {
				c.roundSeconds = append(c.roundSeconds, v*float64(rs.Iters[i]))
			}
		}
		c.residues[residue] = true
	}
}

func (g *grouping) addFailure(f *Failure) {
	// Projections read only the name here, so a Result with just a
	// name stands for the failed cell.
	r := &benchfmt.Result{Name: benchfmt.Name(f.Name)}
	w := g.workloadBy.Project(r)
	g.workloads[w] = true
	if g.failures[w] == nil {
		g.failures[w] = make(map[cellKey]*Failure)
	}
	key := cellKey{g.rowBy.Project(r), g.colBy.Project(r)}
	if g.failures[w][key] == nil {
		g.failures[w][key] = f
	}
}

func (g *grouping) sortedWorkloads() []benchproc.Key {
	return sortedKeys(g.workloads)
}

func sortedKeys(set map[benchproc.Key]bool) []benchproc.Key {
	keys := make([]benchproc.Key, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	benchproc.SortKeys(keys)
	return keys
}

func (s *Set) buildTable(g *grouping, w benchproc.Key, unit string, opts Options) *Table {
	values := g.cells[w][unit]
	failures := g.failures[w]

	rowSet, colSet := make(map[benchproc.Key]bool), make(map[benchproc.Key]bool)
	for k := range values {
		rowSet[k.row], colSet[k.col] = true, true
	}
	for k := range failures {
		rowSet[k.row], colSet[k.col] = true, true
	}
	rows, cols := sortedKeys(rowSet), sortedKeys(colSet)
	cols = baselineFirst(cols, opts.baseline())

	workload := w.StringValues()
	t := &Table{
		Workload:   workload,
		Unit:       unit,
		Better:     s.Better(unit),
		Confidence: confidence(opts.Confidence),
		MaxCV:      opts.maxCV(),
		Cells:      make([][]*Cell, len(rows)),
		rounds:     make([][]*cellValues, len(rows)),
	}
	for _, r := range rows {
		t.Rows = append(t.Rows, rowLabel(workload, r.StringValues()))
	}
	for _, c := range cols {
		t.Columns = append(t.Columns, c.StringValues())
	}

	thr := thresholds(opts.Alpha)
	for i, r := range rows {
		t.Cells[i] = make([]*Cell, len(cols))
		t.rounds[i] = make([]*cellValues, len(cols))
		for j, c := range cols {
			key := cellKey{r, c}
			v, f := values[key], failures[key]
			t.rounds[i][j] = v
			if v == nil && f == nil {
				continue
			}
			cell := &Cell{Failure: f}
			if v != nil {
				// NewSample sorts its values: keep the rounds' order.
				cell.Sample = benchmath.NewSample(slices.Clone(v.values), thr)
				if warn := residueWarning(v.residues); warn != nil {
					cell.Warnings = append(cell.Warnings, warn)
				}
			}
			if time := g.cells[w][TimeUnit][key]; time != nil {
				cell.CV = cv(time.values)
				cell.Unstable = cell.CV > t.MaxCV
			}
			if errs := g.cells[w][ErrorsUnit][key]; errs != nil {
				cell.MaxErrors = slices.Max(errs.values)
			}
			t.Cells[i][j] = cell
		}
	}
	t.summarizeCells()
	t.summarizeColumns()
	return t
}

// baselineFirst moves the column named baseline to the front, keeping
// the others in order. Without one, the first column is the baseline.
func baselineFirst(cols []benchproc.Key, baseline string) []benchproc.Key {
	for i, c := range cols {
		if c.StringValues() == baseline {
			out := append([]benchproc.Key{c}, cols[:i]...)
			return append(out, cols[i+1:]...)
		}
	}
	return cols
}

// rowLabel turns a .fullname with the workload excluded ("*/width=1024-2")
// into the workload parameters ("width=1024-2"), or the workload name
// when it has no parameters ("Noop-2").
func rowLabel(workload, fullname string) string {
	label := strings.TrimPrefix(fullname, "*")
	label = strings.TrimPrefix(label, "/")
	if label == "" || strings.HasPrefix(label, "-") {
		return workload + label
	}
	return label
}

// residueWarning reports the name and configuration keys that vary
// within one cell, such as commit when two runs are read together, in
// benchstat's words.
func residueWarning(residues map[benchproc.Key]bool) error {
	fields := benchproc.NonSingularFields(sortedKeys(residues))
	if len(fields) == 0 {
		return nil
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return errors.New("benchmarks vary in " + strings.Join(names, ", "))
}

// summarizeCells computes each cell's median, interval and comparison.
func (t *Table) summarizeCells() {
	assume := benchmath.AssumeNothing
	for _, row := range t.Cells {
		base := row[0]
		if base != nil && (base.Failed() || base.Sample == nil) {
			base = nil
		}
		for j, cell := range row {
			if cell == nil || cell.Failed() {
				continue
			}
			cell.Summary = assume.Summary(cell.Sample, t.Confidence)
			cell.Warnings = append(cell.Warnings, cell.Sample.Warnings...)
			cell.Warnings = append(cell.Warnings, cell.Summary.Warnings...)
			if j > 0 && base != nil {
				cell.Baseline = base
				cell.Comparison = assume.Compare(base.Sample, cell.Sample)
				cell.Warnings = append(cell.Warnings, cell.Comparison.Warnings...)
			}
		}
	}
}

// summarizeColumns computes the geomean row as benchstat does: the
// geometric mean of the medians, and of the ratios to the baseline.
func (t *Table) summarizeColumns() {
	nBase := 0
	for _, row := range t.Cells {
		if c := row[0]; c != nil && !c.Failed() {
			nBase++
		}
	}
	t.Geomean = make([]*ColumnSummary, len(t.Columns))
	for j := range t.Columns {
		s := &ColumnSummary{}
		t.Geomean[j] = s
		var centers, ratios []float64
		badRatio := false
		for _, row := range t.Cells {
			cell := row[j]
			if cell == nil || cell.Failed() {
				continue
			}
			centers = append(centers, cell.Summary.Center)
			if cell.Baseline == nil {
				continue
			}
			a, b := cell.Summary.Center, cell.Baseline.Summary.Center
			switch {
			case a == b:
				ratios = append(ratios, 1)
			case b == 0:
				// As benchstat: the zero still counts as a row
				// compared, but spoils the geomean.
				badRatio = true
				ratios = append(ratios, 0)
			default:
				ratios = append(ratios, a/b)
			}
		}
		if j > 0 && nBase != len(ratios) {
			s.Warnings = append(s.Warnings, errors.New("benchmark set differs from baseline; geomeans may not be comparable"))
		}
		if gm := stats.GeoMean(centers); math.IsNaN(gm) {
			s.Warnings = append(s.Warnings, errors.New("summaries must be >0 to compute geomean"))
		} else {
			s.Center, s.HasCenter = gm, true
		}
		if j > 0 && !badRatio {
			if gm := stats.GeoMean(ratios); math.IsNaN(gm) {
				s.Warnings = append(s.Warnings, errors.New("ratios must be >0 to compute geomean"))
			} else {
				s.Ratio, s.HasRatio = gm, true
			}
		}
	}
}
