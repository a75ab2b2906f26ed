package results

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/tw"
	"golang.org/x/perf/benchunit"
)

// WriteMachines writes the report of runs measured on several machines
// to w in opts.Format, the machine as a column:
//
//   - Text, ASCII and Markdown: the machines (a label each, then what
//     was read of it), each workload's winners on every machine, the
//     strategies' full labels on each machine, then per workload and
//     unit a MachineTable (Options.Summary: one per workload, on
//     TimeUnit), then each machine's failed cells and how many of its
//     cells are unstable. Compact text fits opts.Width columns.
//   - CSV: each run's records as the single-run CSV writes them, after
//     four columns that name the machine: machine, cpu, goarch,
//     gomaxprocs.
//   - JSON: one document (JSONMachines): the runs, each with its
//     machine and its own results document, the machine tables and the
//     verdicts on every machine.
//
// Label the machines first (LabelMachines).
func WriteMachines(w io.Writer, runs []*Run, opts Options) error {
	switch opts.Format {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(MachinesJSON(runs, opts)); err != nil {
			return fmt.Errorf("results: write json: %w", err)
		}
		return nil
	case CSV:
		return writeMachinesCSV(w, runs, opts)
	case Text, ASCII, Markdown:
		return writeMachinesText(w, runs, opts)
	}
	return fmt.Errorf("results: machines cannot be written as %v: want text, ascii, markdown, csv or json", opts.Format)
}

func writeMachinesText(w io.Writer, runs []*Run, opts Options) error {
	tables := MachineTables(runs, opts)
	p := &printer{w: w, format: opts.Format}
	compact := opts.Compact && opts.Format != Markdown
	if compact {
		p.width = opts.width()
	}
	item, more := "  ", "      "
	if p.format == Markdown {
		item, more = "- ", "  "
	}
	p.line(p.heading(fmt.Sprintf("Machines (%d runs, a column each)", len(runs))))
	if p.format == Markdown {
		p.line("")
	}
	for _, r := range runs {
		m := &r.Machine
		line := fmt.Sprintf("%s%s = %s · run %s (%s)", item, m.Label, m.Description(), m.RunID, r.Path)
		if m.Check != "" {
			line += " · " + m.Check
		}
		p.para(line, more)
	}
	name := displayNames(tables)
	p.line("")
	for _, mv := range MachineVerdicts(runs, opts) {
		for _, line := range mv.lines(name) {
			p.para(p.bullet()+line, "    ")
		}
	}
	machineLegend(p, tables, item, more)
	if len(tables) > 0 {
		p.line("")
		baseline := tables[0].Baseline
		p.para(fmt.Sprintf("Each machine's columns: the strategy's figure there, its speedup against %s on that machine "+
			"(~: not significant), and its rank there (1: best; -: not ranked: failed, tasks failed, or not run on every row).",
			baseline), "")
	}
	for _, t := range tables {
		p.line("")
		p.machineTable(t, compact)
	}
	for _, r := range runs {
		if len(r.Set.Failures) == 0 {
			continue
		}
		p.line("")
		p.line(p.heading("Failed cells on " + r.Machine.Label))
		for _, f := range r.Set.Failures {
			p.para(p.bullet()+f.Name+": "+strings.ReplaceAll(f.Reason, "\n", "; "), "    ")
		}
	}
	first := true
	for _, r := range runs {
		n := len(r.Set.UnstableCells(opts))
		if n == 0 {
			continue
		}
		if first {
			p.line("")
			first = false
		}
		p.para(fmt.Sprintf("%s%s: %s seem unstable (marked %s): the report of that run alone (concbench report %s) "+
			"names them, the likely cause and the cure.", p.bullet(), r.Machine.Label, plural(n, "cell"), unstableMark, r.Path), "    ")
	}
	return p.done("write machines")
}

// displayNames maps every strategy label of the tables to the name of
// its row (MachineTable.Strategies).
func displayNames(tables []*MachineTable) func(string) string {
	names := map[string]string{}
	for _, t := range tables {
		for i, labels := range t.Labels {
			for _, l := range labels {
				if l != "" {
					names[l] = t.Strategies[i]
				}
			}
		}
	}
	return func(label string) string {
		if n, ok := names[label]; ok {
			return n
		}
		return label
	}
}

// machineLegend lists the full labels behind the strategies' rows, on
// each machine where they differ: "pool = pool(workers=8) on EPYC 7B13,
// pool(workers=16) on Xeon 8370C".
func machineLegend(p *printer, tables []*MachineTable, item, more string) {
	type entry struct {
		name string
		// on maps each label to the machines that ran it, in order.
		labels []string
		on     map[string][]string
	}
	var entries []*entry
	byName := map[string]*entry{}
	for _, t := range tables {
		for i, name := range t.Strategies {
			e := byName[name]
			if e == nil {
				e = &entry{name: name, on: map[string][]string{}}
				byName[name] = e
				entries = append(entries, e)
			}
			for m, l := range t.Labels[i] {
				if l == "" {
					continue
				}
				if !slices.Contains(e.labels, l) {
					e.labels = append(e.labels, l)
				}
				if !slices.Contains(e.on[l], t.Machines[m]) {
					e.on[l] = append(e.on[l], t.Machines[m])
				}
			}
		}
	}
	var lines []string
	for _, e := range entries {
		if len(e.labels) == 1 && e.labels[0] == e.name {
			continue
		}
		if len(e.labels) == 1 {
			lines = append(lines, e.name+" = "+e.labels[0])
			continue
		}
		var parts []string
		for _, l := range e.labels {
			parts = append(parts, l+" on "+strings.Join(e.on[l], ", "))
		}
		lines = append(lines, e.name+" = "+strings.Join(parts, "; "))
	}
	if len(lines) == 0 {
		return
	}
	p.line("")
	p.line("Strategies (full labels, as in each bench.txt):")
	for _, l := range lines {
		p.para(item+l, more)
	}
}

// lines returns the verdict of one workload on every machine, such as
//
//	Mandelbrot: simd is fastest on every machine: 20.02× vs blocking on EPYC 7B13, 3.10× on linux/arm64
//	Fanout: fastest: simd on EPYC 7B13 (15.81× vs blocking), pool on linux/arm64 (2.47× vs blocking)
//	Fanout: trade-off on EPYC 7B13: blocking has the best p99, 698.0µ against simd's 1.097m
//	Fanout: not ranked: py-asyncio on EPYC 7B13 (tasks failed: errors/op up to 2.5%)
func (mv MachineVerdict) lines(name func(string) string) []string {
	var out []string
	var winners, machines, none []string
	var wins []*Winner
	for m, v := range mv.Verdicts {
		switch {
		case v == nil:
		case v.Fastest == nil:
			none = append(none, mv.Machines[m])
		default:
			winners = append(winners, v.Namer(name)(v.Fastest.Strategy))
			machines = append(machines, mv.Machines[m])
			wins = append(wins, v.Fastest)
		}
	}
	speedup := func(w *Winner, against bool) string {
		switch {
		case w.Strategy == w.Baseline:
			return "the baseline"
		case !w.HasSpeedup:
			return "?"
		case against:
			return speedupText(w.Speedup) + " vs " + name(w.Baseline)
		}
		return speedupText(w.Speedup)
	}
	switch {
	case len(wins) == 0:
	case len(wins) > 1 && len(none) == 0 && allSame(winners) && wins[0].Strategy == wins[0].Baseline:
		out = append(out, fmt.Sprintf("%s: %s (the baseline) is fastest on every machine", mv.Workload, winners[0]))
	case len(wins) > 1 && len(none) == 0 && allSame(winners):
		var parts []string
		for i, w := range wins {
			parts = append(parts, speedup(w, i == 0)+" on "+machines[i])
		}
		out = append(out, fmt.Sprintf("%s: %s is fastest on every machine: %s", mv.Workload, winners[0], strings.Join(parts, ", ")))
	default:
		var parts []string
		for i, w := range wins {
			parts = append(parts, fmt.Sprintf("%s on %s (%s)", winners[i], machines[i], speedup(w, true)))
		}
		out = append(out, mv.Workload+": fastest: "+strings.Join(parts, ", "))
	}
	if len(none) > 0 {
		out = append(out, fmt.Sprintf("%s: no winner on %s: no strategy ran every row without failing or task errors",
			mv.Workload, strings.Join(none, ", ")))
	}
	var excluded []string
	for m, v := range mv.Verdicts {
		if v == nil {
			continue
		}
		vname := v.Namer(name)
		if v.TradeOff() {
			line := fmt.Sprintf("%s: trade-off on %s: %s has the best p99", mv.Workload, mv.Machines[m], vname(v.BestP99.Strategy))
			if v.FastestP99 > 0 {
				class := benchunit.ClassOf(P99Unit)
				line += fmt.Sprintf(", %s against %s's %s", benchunit.Scale(v.BestP99.Center, class),
					vname(v.Fastest.Strategy), benchunit.Scale(v.FastestP99, class))
			}
			out = append(out, line)
		}
		for _, e := range v.Excluded {
			excluded = append(excluded, fmt.Sprintf("%s on %s (%s)", vname(e.Strategy), mv.Machines[m], e.Reason))
		}
	}
	if len(excluded) > 0 {
		out = append(out, mv.Workload+": not ranked: "+strings.Join(excluded, ", "))
	}
	return out
}

// Lines returns the verdict lines that the text report prints for the
// workload, with the strategies' full labels.
func (mv MachineVerdict) Lines() []string { return mv.lines(func(s string) string { return s }) }

func allSame(s []string) bool {
	for _, v := range s {
		if v != s[0] {
			return false
		}
	}
	return true
}

// machineTable writes one MachineTable: a title, a grid with a row per
// strategy and, per machine, its figure, speedup and rank, then the
// notes its marks need.
func (p *printer) machineTable(mt *MachineTable, compact bool) {
	labels, common := factorRows(mt.Workload, mt.Rows)
	head := mt.Workload
	if common != "" && common != mt.Workload {
		head += " " + common
	}
	what := fmt.Sprintf("median ± %.0f%% CI", 100*mt.Confidence)
	if len(mt.Rows) > 1 {
		what = fmt.Sprintf("geomean of %d rows (%s)", len(mt.Rows), strings.Join(labels, ", "))
	}
	p.title(fmt.Sprintf("%s · %s (%s) · %s · by machine, vs %s on each", head, mt.Unit, mt.Better, what, mt.Baseline))

	g := &grid{header: []string{mt.Workload}, aligns: []tw.Align{tw.AlignLeft}}
	scalers := make([]benchunit.Scaler, len(mt.Machines))
	for m, label := range mt.Machines {
		var centers []float64
		for _, row := range mt.Cells {
			if c := row[m]; c != nil && c.HasCenter && !c.Failed {
				centers = append(centers, c.Center)
			}
		}
		scalers[m] = benchunit.CommonScale(centers, benchunit.ClassOf(mt.Unit))
		g.header = append(g.header, label, "speedup", "rank")
		g.aligns = append(g.aligns, tw.AlignRight, tw.AlignRight, tw.AlignRight)
		g.groups = append(g.groups, 3)
	}
	var notes footnotes
	unstable, erring := false, false
	for i, name := range mt.Strategies {
		row := []string{name}
		for m, c := range mt.Cells[i] {
			if c == nil {
				row = append(row, "", "", "")
				continue
			}
			unstable = unstable || (c.Unstable && !c.Failed)
			erring = erring || (c.MaxErrors > 0 && !c.Failed)
			row = append(row, c.valueText(scalers[m], &notes), c.speedupText(i == 0, compact), c.rankText())
		}
		g.body = append(g.body, row)
	}
	p.render(g)
	for i, n := range notes.list {
		p.para(p.bullet()+superscript(i+1)+" "+n, "    ")
	}
	if unstable {
		p.para(fmt.Sprintf("%s%s unstable: its rounds of %s vary by more than the noise limit (CV) on that machine; "+
			"the figure is less certain than it looks", p.bullet(), unstableMark, TimeUnit), "    ")
	}
	if erring {
		p.para(fmt.Sprintf("%s%s tasks failed in some rounds on that machine: failed tasks are not work done, so it is not ranked",
			p.bullet(), errorsMark), "    ")
	}
	if mt.RowsDiffer() {
		var parts []string
		for m, rows := range mt.RowsOf {
			if rows != nil {
				parts = append(parts, mt.Machines[m]+" ran "+strings.Join(rows, ", "))
			}
		}
		p.para(p.bullet()+"the machines ran different rows ("+strings.Join(parts, "; ")+
			"): geomeans over different rows do not compare", "    ")
	}
}

// valueText is the cell's figure in the machine column's scale: the
// median with its interval for a single row, the geomean otherwise;
// FAILED where some row failed; then the marks of its warnings,
// instability and errors.
func (c *MachineCell) valueText(scaler benchunit.Scaler, notes *footnotes) string {
	switch {
	case c.Failed:
		return failedText
	case !c.HasCenter:
		return "?" + notes.mark(c.table.Geomean[c.col].Warnings)
	}
	var text string
	if single := c.Single(); single != nil {
		text = valueText(single, scaler) + notes.mark(single.Warnings)
	} else {
		text = scaler.Format(c.Center) + notes.mark(c.table.Geomean[c.col].Warnings)
	}
	if c.Unstable {
		text += " " + unstableMark
	}
	if c.MaxErrors > 0 {
		text += " " + errorsMark
	}
	return text
}

// speedupText is the cell's speedup against the baseline on its
// machine: "2.30×" ("1.03× ~" where a single row's difference may be
// noise), or benchstat's full comparison when not compact; "" for the
// baseline itself and where there is no baseline.
func (c *MachineCell) speedupText(baseline, compact bool) string {
	if baseline || c.Failed || !c.HasSpeedup {
		return ""
	}
	single := c.Single()
	switch {
	case single != nil && compact:
		return c.table.compactComparisonText(single)
	case single != nil:
		return c.table.comparisonText(single)
	case compact:
		return speedupText(c.Speedup)
	}
	return c.table.geomeanComparisonText(c.col)
}

// rankText is the cell's rank on its machine, "-" when not ranked.
func (c *MachineCell) rankText() string {
	if c.Rank == 0 {
		return "-"
	}
	return strconv.Itoa(c.Rank)
}

// machinesCSVHeader names the columns that the CSV of several runs puts
// before the single-run columns (csvHeader).
var machinesCSVHeader = []string{"machine", "cpu", "goarch", "gomaxprocs"}

func writeMachinesCSV(w io.Writer, runs []*Run, opts Options) error {
	out := csv.NewWriter(w)
	out.Write(append(slices.Clone(machinesCSVHeader), csvHeader...))
	for _, r := range runs {
		m := &r.Machine
		machine := []string{m.Label, m.CPU, m.GOARCH, strconv.Itoa(m.GOMAXPROCS)}
		for _, t := range r.Set.Tables(opts) {
			for i, label := range t.Rows {
				for j, c := range t.Cells[i] {
					if c != nil {
						out.Write(append(slices.Clone(machine), t.csvRecord(label, t.Columns[j], c)...))
					}
				}
			}
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("results: write csv: %w", err)
	}
	return nil
}

// MachinesSchema and MachinesSchemaVersion identify the document that
// WriteMachines writes as JSON; they follow JSONSchemaVersion's rule: the
// version grows when a field changes meaning or goes away, never when
// one is added.
const (
	MachinesSchema        = "concbench.machines"
	MachinesSchemaVersion = 1
)

// JSONMachines is the JSON report of runs from several machines.
type JSONMachines struct {
	Schema  string `json:"schema"`
	Version int    `json:"version"`

	// Baseline, Confidence, Alpha and MaxCV are as in JSONResults, and
	// hold for every run.
	Baseline   string   `json:"baseline"`
	Confidence float64  `json:"confidence"`
	Alpha      float64  `json:"alpha"`
	MaxCV      *float64 `json:"max_cv"`

	// Runs are the runs in the order given, each with its machine (whose
	// label names it in Tables and Verdicts) and its own results.
	Runs []JSONRun `json:"runs"`

	// Tables are the machine tables: per workload and unit, each
	// strategy's figure, speedup and rank on every machine.
	Tables []JSONMachineTable `json:"tables"`

	// Verdicts are each workload's verdict on each machine.
	Verdicts []JSONMachineVerdict `json:"verdicts"`
}

// JSONRun is one run: where it was read, the machine, and the run's
// results document (JSONResults, as report --format json writes for one
// run).
type JSONRun struct {
	Path    string       `json:"path"`
	Machine Machine      `json:"machine"`
	Results *JSONResults `json:"results"`
}

// JSONMachineTable is a MachineTable.
type JSONMachineTable struct {
	Workload string `json:"workload"`
	Unit     string `json:"unit"`
	Better   string `json:"better"`
	Baseline string `json:"baseline"`
	// Rows are the workload's rows without the GOMAXPROCS suffix;
	// RowsOf each machine's (by label; absent where it did not run the
	// workload).
	Rows   []string            `json:"rows"`
	RowsOf map[string][]string `json:"rows_of"`
	// Machines are the labels of the columns, in order.
	Machines   []string              `json:"machines"`
	Strategies []JSONMachineStrategy `json:"strategies"`
	Cells      []JSONMachineCell     `json:"cells"`
}

// JSONMachineStrategy is a row of a machine table: its name and the full
// label each machine ran (by machine label).
type JSONMachineStrategy struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// JSONMachineCell is a MachineCell.
type JSONMachineCell struct {
	Strategy string `json:"strategy"`
	Machine  string `json:"machine"`
	// Status is "ok" or "failed" (some row failed on that machine).
	Status string `json:"status"`
	// Figure says what Value is: "median" (a single row, with its
	// interval [Lo, Hi] and its N rounds) or "geomean" (of the medians
	// over Rows rows).
	Figure string   `json:"figure"`
	Value  *float64 `json:"value"`
	Lo     *float64 `json:"lo,omitempty"`
	Hi     *float64 `json:"hi,omitempty"`
	N      int      `json:"n,omitempty"`
	Rows   int      `json:"rows"`
	// Speedup is against the baseline on the same machine; absent
	// where there is none.
	Speedup *float64 `json:"speedup,omitempty"`
	// Rank is the place among the machine's ranked strategies, 1 for the
	// best, 0 when not ranked; Excluded says why not.
	Rank      int     `json:"rank"`
	Excluded  string  `json:"excluded,omitempty"`
	Unstable  bool    `json:"unstable"`
	MaxErrors float64 `json:"max_errors"`
}

// JSONMachineVerdict is a workload's verdict on one machine: JSONVerdict
// with the machine's label.
type JSONMachineVerdict struct {
	Machine string `json:"machine"`
	JSONVerdict
}

// MachinesJSON builds the document that WriteMachines writes as JSON.
func MachinesJSON(runs []*Run, opts Options) *JSONMachines {
	doc := &JSONMachines{Schema: MachinesSchema, Version: MachinesSchemaVersion, Baseline: opts.baseline(),
		Confidence: confidence(opts.Confidence), Alpha: alpha(opts.Alpha),
		Runs: []JSONRun{}, Tables: []JSONMachineTable{}, Verdicts: []JSONMachineVerdict{}}
	if limit := opts.maxCV(); !math.IsInf(limit, 0) {
		doc.MaxCV = &limit
	}
	for _, r := range runs {
		doc.Runs = append(doc.Runs, JSONRun{Path: r.Path, Machine: r.Machine, Results: r.Set.JSON(opts)})
	}
	for _, mt := range MachineTables(runs, opts) {
		jt := JSONMachineTable{Workload: mt.Workload, Unit: mt.Unit, Better: mt.Better.word(), Baseline: mt.Baseline,
			Rows: mt.Rows, RowsOf: map[string][]string{}, Machines: mt.Machines,
			Strategies: []JSONMachineStrategy{}, Cells: []JSONMachineCell{}}
		for m, rows := range mt.RowsOf {
			if rows != nil {
				jt.RowsOf[mt.Machines[m]] = rows
			}
		}
		for i, name := range mt.Strategies {
			js := JSONMachineStrategy{Name: name, Labels: map[string]string{}}
			for m, l := range mt.Labels[i] {
				if l != "" {
					js.Labels[mt.Machines[m]] = l
				}
			}
			jt.Strategies = append(jt.Strategies, js)
			for m, c := range mt.Cells[i] {
				if c != nil {
					jt.Cells = append(jt.Cells, c.json(name, mt.Machines[m]))
				}
			}
		}
		doc.Tables = append(doc.Tables, jt)
	}
	for _, mv := range MachineVerdicts(runs, opts) {
		for m, v := range mv.Verdicts {
			if v == nil {
				continue
			}
			doc.Verdicts = append(doc.Verdicts, JSONMachineVerdict{Machine: mv.Machines[m], JSONVerdict: jsonVerdict(*v)})
		}
	}
	return doc
}

func (c *MachineCell) json(strategy, machine string) JSONMachineCell {
	e := JSONMachineCell{Strategy: strategy, Machine: machine, Status: "ok", Figure: "geomean", Rows: c.Rows,
		Rank: c.Rank, Excluded: c.Excluded, Unstable: c.Unstable, MaxErrors: c.MaxErrors}
	if c.Failed {
		e.Status = "failed"
	}
	if c.HasCenter {
		e.Value = finite(c.Center)
	}
	if single := c.Single(); single != nil {
		e.Figure = "median"
		if !single.Failed() && single.Sample != nil {
			e.Lo, e.Hi, e.N = finite(single.Summary.Lo), finite(single.Summary.Hi), len(single.Sample.Values)
		}
	}
	if c.HasSpeedup {
		e.Speedup = finite(c.Speedup)
	}
	return e
}
