package results

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A Run is one run of a report across machines: what Read found in its
// bench.txt, and the machine it was measured on.
type Run struct {
	// Path is the bench.txt read.
	Path string
	Set  *Set
	// Machine is where the run was measured (MachineOf), labelled by
	// LabelMachines.
	Machine Machine
}

// A Machine is where a run was measured, read from its bench.txt header
// (the configuration lines that the harness writes: goos, goarch, cpu,
// cpu-features, gomaxprocs, go, goexperiment, commit, kernel, simd,
// placement, backend) and, for a run folder, its meta.json (the run id
// and the machine check's summary, which the caller fills in).
//
// Its JSON form is the "machine" object of each run in the document
// that WriteMachines writes as JSON.
type Machine struct {
	// Label names the machine in the tables, as a column: a short name
	// for the CPU ("EPYC 7763", "Xeon 8370C"; goos/goarch when the CPU
	// is unknown, as on arm64 Linux, whose /proc/cpuinfo names none),
	// with what tells it apart where runs share one (see LabelMachines).
	Label string `json:"label"`

	// RunID is the run folder's name ("20261130-101500"), or the file's
	// name for a bench file outside a run folder.
	RunID string `json:"run_id"`

	CPU          string `json:"cpu"`
	CPUFeatures  string `json:"cpu_features"`
	GOOS         string `json:"goos"`
	GOARCH       string `json:"goarch"`
	GOMAXPROCS   int    `json:"gomaxprocs"` // 0 when the header lacks it
	Go           string `json:"go"`
	GOEXPERIMENT string `json:"goexperiment"`
	// Placement is the CPUs each party of the run was placed on
	// ("strategy=0 backend=1"), "none" when nothing was placed.
	Placement string `json:"placement"`
	Kernel    string `json:"kernel"`
	Commit    string `json:"commit"`
	SIMD      string `json:"simd"`

	// Check is the summary line of the machine check the run started
	// with (meta.json's machine.summary), "" when unknown.
	Check string `json:"check,omitempty"`

	// Header holds every configuration key that all the run's results
	// share, as written; Varies the keys whose values differ between
	// them (a bench.txt that several machines appended to), with each
	// value met ("" where a result lacks the key).
	Header map[string]string   `json:"header"`
	Varies map[string][]string `json:"varies,omitempty"`
}

// MachineOf reads the machine of a run from the configuration of its
// results. A key that varies within the set shows its values joined by
// ", "; the caller should warn, since one column then stands for several
// machines.
func MachineOf(s *Set) Machine {
	same, varies := s.machine()
	get := func(key string) string {
		if v, ok := same[key]; ok {
			return v
		}
		var vs []string
		for _, v := range varies[key] {
			if v != "" {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			return machineKeyDefaults[key]
		}
		return strings.Join(vs, ", ")
	}
	m := Machine{
		CPU: get("cpu"), CPUFeatures: get("cpu-features"), GOOS: get("goos"), GOARCH: get("goarch"),
		Go: get("go"), GOEXPERIMENT: get("goexperiment"), Placement: get("placement"), Kernel: get("kernel"),
		Commit: get("commit"), SIMD: get("simd"), Header: same, Varies: varies,
	}
	m.GOMAXPROCS, _ = strconv.Atoi(get("gomaxprocs"))
	return m
}

// MixedMachineKeys returns the machine keys (MachineKeys, goos and
// goarch) whose values vary within the run, such as "cpu: AMD EPYC,
// Intel Xeon": a bench.txt that runs on several machines appended to.
func (m *Machine) MixedMachineKeys() []string {
	var out []string
	for _, k := range append([]string{"goos", "goarch"}, MachineKeys...) {
		if vs, ok := m.Varies[k]; ok {
			out = append(out, k+": "+strings.Join(vs, ", "))
		}
	}
	return out
}

// Description is the machine in one line, for the legend of the
// tables: "AMD EPYC 7763 64-Core Processor · linux/amd64 · GOMAXPROCS 4
// · avx2 · GOEXPERIMENT simd · placement none · go1.26.8".
func (m *Machine) Description() string {
	cpu := m.CPU
	if ShortCPU(cpu) == "" {
		cpu = "unknown CPU"
	}
	parts := []string{cpu, cmp.Or(m.GOOS, "?") + "/" + cmp.Or(m.GOARCH, "?")}
	if m.GOMAXPROCS > 0 {
		parts = append(parts, fmt.Sprintf("GOMAXPROCS %d", m.GOMAXPROCS))
	}
	if m.CPUFeatures != "" {
		parts = append(parts, m.CPUFeatures)
	}
	if m.GOEXPERIMENT != "" {
		parts = append(parts, "GOEXPERIMENT "+m.GOEXPERIMENT)
	}
	if m.Placement != "" {
		parts = append(parts, "placement "+m.Placement)
	}
	if m.Go != "" {
		parts = append(parts, m.Go)
	}
	return strings.Join(parts, " · ")
}

// ShortCPU shortens a CPU model name as /proc/cpuinfo gives it to what
// tells CPUs apart in a column header: the family and model, without
// the vendor's marks, the clock, the core count or the tier.
//
//	ShortCPU("AMD EPYC 7763 64-Core Processor") == "EPYC 7763"
//	ShortCPU("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz") == "Xeon 8370C"
//	ShortCPU("13th Gen Intel(R) Core(TM) i9-13900K") == "Core i9-13900K"
//
// It returns "" for an empty or "unknown" model.
func ShortCPU(model string) string {
	s := strings.TrimSpace(model)
	if s == "" || strings.EqualFold(s, "unknown") {
		return ""
	}
	if i := strings.Index(s, "@"); i >= 0 {
		s = s[:i] // the clock: "CPU @ 2.80GHz"
	}
	if i := strings.Index(s, " with "); i >= 0 {
		s = s[:i] // "Ryzen 7 5800H with Radeon Graphics"
	}
	for _, mark := range []string{"(R)", "(r)", "(TM)", "(tm)"} {
		s = strings.ReplaceAll(s, mark, "")
	}
	var keep []string
	fields := strings.Fields(s)
	for i, f := range fields {
		switch {
		case dropCPUWord[strings.ToLower(f)]:
		case coreCount.MatchString(f):
		case generation.MatchString(f) && i+1 < len(fields) && strings.EqualFold(fields[i+1], "gen"):
		case strings.EqualFold(f, "gen") && i > 0 && generation.MatchString(fields[i-1]):
		default:
			keep = append(keep, f)
		}
	}
	if len(keep) == 0 {
		return strings.Join(fields, " ")
	}
	return strings.Join(keep, " ")
}

// dropCPUWord are the words of CPU model names that do not tell CPUs of
// one family apart: vendors (whose family names are their own: EPYC,
// Xeon, Core), "CPU", "Processor", and Xeon's tiers.
var dropCPUWord = map[string]bool{
	"intel": true, "amd": true, "cpu": true, "processor": true,
	"platinum": true, "gold": true, "silver": true, "bronze": true,
}

var (
	// coreCount matches "64-Core" in "AMD EPYC 7763 64-Core Processor".
	coreCount = regexp.MustCompile(`^[0-9]+-[Cc]ore$`)
	// generation matches "13th" in "13th Gen Intel(R) Core(TM) i9-13900K".
	generation = regexp.MustCompile(`^[0-9]+(st|nd|rd|th)$`)
)

// LabelMachines labels the runs' machines for the columns of the tables,
// each label unique: a run whose Machine.Label is set (the user named
// it) keeps it; the others get ShortCPU of their CPU, or goos/goarch
// when it is unknown. Where runs would share a label, those labelled
// here get what tells them apart, in this order until the labels
// differ: GOMAXPROCS ("EPYC 7763 P=4"), goarch, the CPU features, the
// GOEXPERIMENT, the placement, the run id, and last a position ("#1",
// "#2").
func LabelMachines(runs []*Run) {
	given := make([]bool, len(runs))
	for i, r := range runs {
		m := &r.Machine
		given[i] = m.Label != ""
		if given[i] {
			continue
		}
		m.Label = ShortCPU(m.CPU)
		if m.Label == "" {
			m.Label = cmp.Or(m.GOOS, "?") + "/" + cmp.Or(m.GOARCH, "?")
		}
	}
	tellers := []func(m *Machine) string{
		func(m *Machine) string {
			if m.GOMAXPROCS == 0 {
				return ""
			}
			return "P=" + strconv.Itoa(m.GOMAXPROCS)
		},
		func(m *Machine) string { return m.GOARCH },
		func(m *Machine) string { return m.CPUFeatures },
		func(m *Machine) string { return "exp=" + m.GOEXPERIMENT },
		func(m *Machine) string { return "placement " + m.Placement },
		func(m *Machine) string { return m.RunID },
	}
	for _, tell := range tellers {
		for _, group := range sameLabels(runs) {
			values := map[string]bool{}
			for _, i := range group {
				values[tell(&runs[i].Machine)] = true
			}
			if len(values) < 2 {
				continue // it tells none of them apart
			}
			for _, i := range group {
				if v := tell(&runs[i].Machine); !given[i] && v != "" {
					runs[i].Machine.Label += " " + v
				}
			}
		}
	}
	for _, group := range sameLabels(runs) {
		n := 0
		for _, i := range group {
			if !given[i] {
				n++
				runs[i].Machine.Label += fmt.Sprintf(" #%d", n)
			}
		}
	}
}

// sameLabels returns the groups of runs (by index, in order) whose
// machines share a label, each of two runs or more.
func sameLabels(runs []*Run) [][]int {
	var order []string
	by := map[string][]int{}
	for i, r := range runs {
		l := r.Machine.Label
		if by[l] == nil {
			order = append(order, l)
		}
		by[l] = append(by[l], i)
	}
	var groups [][]int
	for _, l := range order {
		if len(by[l]) > 1 {
			groups = append(groups, by[l])
		}
	}
	return groups
}

// A MachineTable compares strategies across machines on one workload in
// one unit, as benchstat -row /strategy -col /machine would: a row per
// strategy, a column per machine (run). Each cell is the strategy's
// median on that machine when the workload has one row of parameters,
// or the geomean of its medians over the rows, with its speedup against
// the baseline strategy on the same machine and its rank there.
type MachineTable struct {
	// Workload is the benchmark base name, such as "Mandelbrot"; Unit
	// the tidied unit; Better which way it improves.
	Workload string
	Unit     string
	Better   Direction

	// Baseline is the strategy that speedups are against, on each
	// machine.
	Baseline string

	// Rows are the workload's rows of parameters over all machines,
	// without the GOMAXPROCS suffix ("latency=1ms/tasks=32"), in the
	// order first seen; RowsOf[m] are those that machine m ran (nil:
	// it did not run the workload). A cell of a workload with several
	// rows is a geomean over its machine's rows.
	Rows   []string
	RowsOf [][]string

	// Machines label the columns, in the order of the runs.
	Machines []string

	// Strategies label the rows: a strategy's name ("pool") where each
	// machine ran one configuration of it, which may differ between
	// machines (pool's default workers follow GOMAXPROCS), or its full
	// label ("pool(workers=8)") where a run swept its parameters.
	// Labels[i][m] is the full label that machine m ran, "" for none.
	Strategies []string
	Labels     [][]string

	// Cells holds Cells[strategy][machine]; nil where that machine did
	// not run the strategy.
	Cells [][]*MachineCell

	// Confidence is the level of single-row cells' intervals.
	Confidence float64
}

// A MachineCell is one strategy on one machine in a MachineTable.
type MachineCell struct {
	// Center is the median (one row) or the geomean of the medians over
	// the machine's rows; valid if HasCenter.
	Center    float64
	HasCenter bool

	// Rows counts the workload rows the cell covers on its machine.
	Rows int

	// Speedup is how many times better than the baseline strategy on
	// the same machine, in the unit's direction; valid if HasSpeedup.
	Speedup    float64
	HasSpeedup bool

	// Rank is the cell's place among its machine's ranked strategies,
	// 1 for the best; 0 when not ranked, Excluded saying why ("failed",
	// "tasks failed: errors/op up to 2.5%", "not run on every row").
	Rank     int
	Excluded string

	// Failed says some row of the cell failed: the cell then has no
	// figure and no speedup. Unstable says some row's rounds vary more
	// than the noise limit; MaxErrors is the largest errors/op of any of
	// its rounds.
	Failed    bool
	Unstable  bool
	MaxErrors float64

	// table and col locate the cell in its run's own Table, for the
	// interval, the comparison's texts and the warnings.
	table *Table
	col   int
}

// Single returns the cell of the run's own table when the workload has
// one row, with its interval and comparison; nil for a geomean.
func (c *MachineCell) Single() *Cell {
	if c == nil || c.table == nil || len(c.table.Rows) != 1 {
		return nil
	}
	return c.table.Cells[0][c.col]
}

// MachineTables builds one MachineTable per workload and unit over runs,
// workloads in the order first seen and units as opts selects them
// (Options.Summary: TimeUnit alone). Each run's cells are its own
// Table's (Set.Tables), with their statistics, marks and eligibility to
// win; the baseline is opts' on every machine.
func MachineTables(runs []*Run, opts Options) []*MachineTable {
	opts.Units, opts.AllUnits = machineUnits(runs, opts), false
	byRun := make([]map[[2]string]*Table, len(runs))
	var keys [][2]string
	seen := map[[2]string]bool{}
	for m, r := range runs {
		byRun[m] = map[[2]string]*Table{}
		for _, t := range r.Set.Tables(opts) {
			k := [2]string{t.Workload, t.Unit}
			byRun[m][k] = t
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	// Workloads in the order first seen, each with its units in opts'
	// order.
	var workloads []string
	for _, k := range keys {
		if !slices.Contains(workloads, k[0]) {
			workloads = append(workloads, k[0])
		}
	}
	var out []*MachineTable
	for _, w := range workloads {
		units := slices.Clone(opts.Units)
		for _, k := range keys {
			if k[0] == w && !slices.Contains(units, k[1]) {
				units = append(units, k[1]) // a workload of failures alone
			}
		}
		for _, u := range units {
			k := [2]string{w, u}
			if !seen[k] {
				continue
			}
			tables := make([]*Table, len(runs))
			for m := range runs {
				tables[m] = byRun[m][k]
			}
			out = append(out, buildMachineTable(runs, tables, opts))
		}
	}
	return out
}

// machineUnits returns the units that opts selects over every run.
func machineUnits(runs []*Run, opts Options) []string {
	if opts.Summary {
		return []string{TimeUnit}
	}
	var measured []string
	for _, r := range runs {
		for _, u := range r.Set.UnitNames() {
			if !slices.Contains(measured, u) {
				measured = append(measured, u)
			}
		}
	}
	return selectUnits(measured, opts.units(), opts.AllUnits)
}

// buildMachineTable builds the table of one workload and unit from each
// run's Table of it (nil where a run lacks it).
func buildMachineTable(runs []*Run, tables []*Table, opts Options) *MachineTable {
	mt := &MachineTable{Baseline: opts.baseline(), Confidence: confidence(opts.Confidence),
		RowsOf: make([][]string, len(runs))}
	for m, r := range runs {
		mt.Machines = append(mt.Machines, r.Machine.Label)
		t := tables[m]
		if t == nil {
			continue
		}
		mt.Workload, mt.Unit, mt.Better = t.Workload, t.Unit, t.Better
		for _, row := range t.Rows {
			row = stripProcs(row)
			mt.RowsOf[m] = append(mt.RowsOf[m], row)
			if !slices.Contains(mt.Rows, row) {
				mt.Rows = append(mt.Rows, row)
			}
		}
	}
	key := strategyKeys(tables)
	index := map[string]int{}
	for m, t := range tables {
		if t == nil {
			continue
		}
		for j, label := range t.Columns {
			k := key(label)
			i, ok := index[k]
			if !ok {
				i = len(mt.Strategies)
				index[k] = i
				mt.Strategies = append(mt.Strategies, k)
				mt.Labels = append(mt.Labels, make([]string, len(runs)))
				mt.Cells = append(mt.Cells, make([]*MachineCell, len(runs)))
			}
			mt.Labels[i][m] = label
			mt.Cells[i][m] = machineCell(t, j, mt.Baseline)
		}
	}
	mt.baselineFirst()
	mt.rank()
	return mt
}

// strategyKeys returns the function that names a strategy's row: its
// name where no run has two configurations of it, its label otherwise.
func strategyKeys(tables []*Table) func(label string) string {
	swept := map[string]bool{}
	for _, t := range tables {
		if t == nil {
			continue
		}
		count := map[string]int{}
		for _, label := range t.Columns {
			name := strategyName(label)
			count[name]++
			swept[name] = swept[name] || count[name] > 1
		}
	}
	return func(label string) string {
		if name := strategyName(label); !swept[name] {
			return name
		}
		return label
	}
}

// strategyName is a strategy label without its parameters: "pool" for
// "pool(workers=8)".
func strategyName(label string) string {
	name, _, _ := strings.Cut(label, "(")
	return name
}

// machineCell summarises column col of t: its single row's median, or
// the geomean of its rows, with its speedup against baseline when that
// is t's first column.
func machineCell(t *Table, col int, baseline string) *MachineCell {
	c := &MachineCell{table: t, col: col, Excluded: t.clean(col)}
	measured := false
	for _, row := range t.Cells {
		cell := row[col]
		if cell == nil {
			continue
		}
		if cell.Failed() {
			c.Failed = true
			continue
		}
		measured = true
		c.Rows++
		c.Unstable = c.Unstable || cell.Unstable
		c.MaxErrors = max(c.MaxErrors, cell.MaxErrors)
	}
	baseOK := col > 0 && strategyName(t.Columns[0]) == baseline
	switch {
	case !measured:
	case len(t.Rows) == 1:
		cell := t.Cells[0][col]
		c.Center, c.HasCenter = cell.Summary.Center, true
		if baseOK {
			c.Speedup, c.HasSpeedup = t.Speedup(cell)
		}
	default:
		s := t.Geomean[col]
		c.Center, c.HasCenter = s.Center, s.HasCenter
		if baseOK {
			c.Speedup, c.HasSpeedup = t.GeomeanSpeedup(col)
		}
	}
	if col == 0 && strategyName(t.Columns[0]) == baseline && c.HasCenter {
		c.Speedup, c.HasSpeedup = 1, true
	}
	if c.Failed {
		// A figure over the rows that did not fail would compare a
		// strategy by what it could do.
		c.Center, c.HasCenter, c.Speedup, c.HasSpeedup = 0, false, 0, false
	}
	return c
}

// baselineFirst moves the baseline strategy's row to the top.
func (mt *MachineTable) baselineFirst() {
	i := slices.Index(mt.Strategies, mt.Baseline)
	if i <= 0 {
		return
	}
	move := func(s []string) { v := s[i]; copy(s[1:i+1], s[:i]); s[0] = v }
	move(mt.Strategies)
	labels, cells := mt.Labels[i], mt.Cells[i]
	copy(mt.Labels[1:i+1], mt.Labels[:i])
	copy(mt.Cells[1:i+1], mt.Cells[:i])
	mt.Labels[0], mt.Cells[0] = labels, cells
}

// rank ranks each machine's strategies that may win (no failure, no
// task errors, every row run) by their figure, 1 for the best; equal
// figures share a rank.
func (mt *MachineTable) rank() {
	for m := range mt.Machines {
		var ranked []*MachineCell
		for _, row := range mt.Cells {
			if c := row[m]; c != nil && c.Excluded == "" && c.HasCenter {
				ranked = append(ranked, c)
			}
		}
		slices.SortStableFunc(ranked, func(a, b *MachineCell) int {
			if mt.Better == HigherIsBetter {
				return cmp.Compare(b.Center, a.Center)
			}
			return cmp.Compare(a.Center, b.Center)
		})
		for k, c := range ranked {
			c.Rank = k + 1
			if k > 0 && c.Center == ranked[k-1].Center {
				c.Rank = ranked[k-1].Rank
			}
		}
	}
}

// RowsDiffer reports whether the machines that ran the workload ran
// different rows of it, so that their geomeans cover different rows.
func (mt *MachineTable) RowsDiffer() bool {
	var first []string
	for _, rows := range mt.RowsOf {
		if rows == nil {
			continue
		}
		if first == nil {
			first = rows
		} else if !slices.Equal(slices.Sorted(slices.Values(first)), slices.Sorted(slices.Values(rows))) {
			return true
		}
	}
	return false
}

// Winner returns the strategy ranked first on machine m, or "".
func (mt *MachineTable) Winner(m int) string {
	for i, row := range mt.Cells {
		if c := row[m]; c != nil && c.Rank == 1 {
			return mt.Strategies[i]
		}
	}
	return ""
}

// stripProcs removes the GOMAXPROCS suffix of a row label
// ("latency=1ms-2"), which differs between machines of different core
// counts; a row that is the workload alone ("Noop-2") keeps its name.
func stripProcs(row string) string {
	return procsSuffix.ReplaceAllString(row, "")
}

// A MachineVerdict is one workload's verdict (Set.Verdicts) on each
// machine: which strategy is fastest there, which has the best p99, and
// who could not be ranked.
type MachineVerdict struct {
	Workload string
	// Machines label the runs; Verdicts[m] is machine m's verdict, nil
	// where it did not run the workload.
	Machines []string
	Verdicts []*WorkloadVerdict
}

// MachineVerdicts returns each workload's verdict on every machine, in
// the order the workloads are first seen.
func MachineVerdicts(runs []*Run, opts Options) []MachineVerdict {
	var out []MachineVerdict
	index := map[string]int{}
	for m, r := range runs {
		for _, v := range r.Set.Verdicts(opts) {
			i, ok := index[v.Workload]
			if !ok {
				i = len(out)
				index[v.Workload] = i
				mv := MachineVerdict{Workload: v.Workload, Verdicts: make([]*WorkloadVerdict, len(runs))}
				for _, r := range runs {
					mv.Machines = append(mv.Machines, r.Machine.Label)
				}
				out = append(out, mv)
			}
			out[i].Verdicts[m] = &v
		}
	}
	return out
}
