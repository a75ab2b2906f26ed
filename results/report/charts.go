package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/concbench/concbench/results"
)

// A chart is one SVG figure of a report, ready to inline in HTML or to
// save as a file: no XML declaration, no external references.
type chart struct {
	title string
	svg   string
	// faults lists texts that the layout put outside the chart or over
	// another text; marks counts the elements that draw data. Tests read
	// both; Write fails on a fault.
	faults []string
	marks  int
}

func (c *svgCanvas) chart() chart {
	return chart{title: c.title, svg: c.svg(), faults: c.layoutFaults(), marks: c.marks}
}

// chartUnits are the units the charts read.
var chartUnits = []string{"sec/op", "tasks/s", "p50-sec/op", "p99-sec/op", "req/s"}

// A chartSet is every chart of a report.
type chartSet struct {
	book     *lookBook
	overview *chart // speedups of every strategy on every workload
	sections []section
}

// A section holds one workload's charts.
type section struct {
	workload string
	charts   []chart
}

// all lists every chart, the overview first.
func (s *chartSet) all() []chart {
	var out []chart
	if s.overview != nil {
		out = append(out, *s.overview)
	}
	for _, sec := range s.sections {
		out = append(out, sec.charts...)
	}
	return out
}

// buildCharts draws the charts of set: the overview of speedups, then per
// workload the throughput and latency panels, the crossover over CPU per
// task (rows with a cpu= key, the mixed workload), and latency over the
// offered rate (rows with a rate= key, serve mode).
func buildCharts(set *results.Set, opts results.Options) (*chartSet, error) {
	opts.Units = chartUnits
	opts.AllUnits = false
	tables := set.Tables(opts)
	byWorkload := map[string]map[string]*results.Table{}
	var workloads, labels []string
	for _, t := range tables {
		if byWorkload[t.Workload] == nil {
			byWorkload[t.Workload] = map[string]*results.Table{}
			workloads = append(workloads, t.Workload)
		}
		byWorkload[t.Workload][t.Unit] = t
		labels = append(labels, t.Columns...)
	}
	cs := &chartSet{book: newLookBook(labels)}
	ids := 0
	nextID := func() string { ids++; return fmt.Sprintf("c%d", ids) }
	baseline := opts.Baseline
	if baseline == "" {
		baseline = results.DefaultBaseline
	}

	if ov, ok, err := overviewChart(nextID(), tables, cs.book, baseline); err != nil {
		return nil, err
	} else if ok {
		cs.overview = &ov
	}
	for _, w := range workloads {
		units := byWorkload[w]
		sec := section{workload: w}
		add := func(c chart, err error) error {
			if err != nil {
				return err
			}
			sec.charts = append(sec.charts, c)
			return nil
		}
		if p99 := units["p99-sec/op"]; p99 != nil && hasKey(p99.Rows, "rate") {
			if err := add(serveChart(nextID(), p99, units["req/s"], cs.book)); err != nil {
				return nil, err
			}
			cs.sections = append(cs.sections, sec)
			continue
		}
		if t := throughputTable(units); t != nil && hasMeasured(t) {
			if err := add(throughputChart(nextID(), t, cs.book)); err != nil {
				return nil, err
			}
		}
		if p99 := units["p99-sec/op"]; p99 != nil && hasMeasured(p99) {
			if err := add(latencyChart(nextID(), units["p50-sec/op"], p99, cs.book)); err != nil {
				return nil, err
			}
		}
		if t := units["tasks/s"]; t != nil && hasKey(t.Rows, "cpu") && hasMeasured(t) {
			if err := add(crossoverChart(nextID(), t, cs.book)); err != nil {
				return nil, err
			}
		}
		cs.sections = append(cs.sections, sec)
	}
	return cs, nil
}

// throughputTable is the table that says how fast a workload went:
// tasks/s, or sec/op where the run has no tasks/s.
func throughputTable(units map[string]*results.Table) *results.Table {
	if t := units["tasks/s"]; t != nil {
		return t
	}
	return units["sec/op"]
}

func hasMeasured(t *results.Table) bool {
	for _, row := range t.Cells {
		for _, c := range row {
			if c != nil && !c.Failed() && c.Sample != nil {
				return true
			}
		}
	}
	return false
}

// strategiesOf lists t's columns in the book's order (Go, then Python),
// then any column the book was not made with.
func strategiesOf(t *results.Table, book *lookBook) []string {
	var out []string
	for _, l := range book.order {
		if slices.Contains(t.Columns, l) {
			out = append(out, l)
		}
	}
	for _, l := range t.Columns {
		if !slices.Contains(out, l) {
			book.look(l)
			out = append(out, l)
		}
	}
	return out
}

// estimateOf summarizes cell c of table t for a chart.
func estimateOf(t *results.Table, c *results.Cell) estimate {
	switch {
	case c == nil:
		return estimate{state: missing, note: "not run"}
	case c.Failed():
		reason, _, _ := strings.Cut(c.Failure.Reason, "\n")
		return estimate{state: failed, note: "FAILED: " + reason}
	case c.Sample == nil:
		return estimate{state: missing, note: "no rounds"}
	}
	s := c.Summary
	e := estimate{state: measured, center: s.Center, lo: s.Lo, hi: s.Hi}
	n := len(c.Sample.Values)
	if math.IsInf(e.lo, 0) || math.IsInf(e.hi, 0) || math.IsNaN(e.lo) || math.IsNaN(e.hi) {
		e.lo, e.hi = e.center, e.center
		e.note = fmt.Sprintf("%s %s, median of %d rounds (too few for a 95%% interval)", valueText(e.center, t.Unit), t.Unit, n)
	} else {
		e.note = fmt.Sprintf("%s %s, 95%% interval %s to %s over %d rounds",
			valueText(e.center, t.Unit), t.Unit, valueText(e.lo, t.Unit), valueText(e.hi, t.Unit), n)
	}
	if cv, ok := unstable(c); ok {
		e.unstable = true
		e.note += fmt.Sprintf("; unstable: CV %.0f%%", 100*cv)
	}
	if c.MaxErrors > 0 {
		e.errors = c.MaxErrors
		e.note += fmt.Sprintf("; tasks failed: errors/op up to %.2g%%", 100*c.MaxErrors)
	}
	return e
}

// rowTitle is a row label without the GOMAXPROCS suffix:
// "latency=1ms/cpu=500us/tasks=500" for "latency=1ms/cpu=500us/tasks=500-2".
func rowTitle(row string) string {
	if j := strings.LastIndex(row, "-"); j > 0 && j < len(row)-1 && strings.Trim(row[j+1:], "0123456789") == "" {
		return row[:j]
	}
	return row
}

// throughputChart draws t (tasks/s) as bars, a panel per row.
func throughputChart(id string, t *results.Table, book *lookBook) (chart, error) {
	strategies := strategiesOf(t, book)
	spec := facetSpec{
		id:           id,
		title:        t.Workload + " · " + throughputWord(t.Unit) + " (" + t.Unit + ", " + t.Better.String() + ")",
		subtitle:     "Median of the rounds per strategy; bold: the best of each panel. A panel per row of parameters; all panels share one axis.",
		unit:         t.Unit,
		higherBetter: t.Better == results.HigherIsBetter,
		strategies:   strategies,
		book:         book,
		maxCV:        t.MaxCV,
	}
	for i, row := range t.Rows {
		f := facetData{title: rowTitle(row), main: map[string]estimate{}}
		for j, col := range t.Columns {
			f.main[col] = estimateOf(t, t.Cells[i][j])
		}
		spec.facets = append(spec.facets, f)
	}
	return facetChart(spec)
}

// throughputWord names what a throughput chart's unit measures.
func throughputWord(unit string) string {
	if isSeconds(unit) {
		return "time per task"
	}
	return "throughput"
}

// latencyChart draws p50 to p99 per strategy, a panel per row of p99.
func latencyChart(id string, p50, p99 *results.Table, book *lookBook) (chart, error) {
	spec := facetSpec{
		id:         id,
		title:      p99.Workload + " · latency per task (p50 to p99, lower is better)",
		subtitle:   "Medians over the rounds of each round's p50 and p99 per-task latency; the label is the p99, bold: the lowest of each panel.",
		unit:       p99.Unit,
		axisTitle:  "latency per task",
		strategies: strategiesOf(p99, book),
		book:       book,
		ranges:     true,
		maxCV:      p99.MaxCV,
	}
	for i, row := range p99.Rows {
		f := facetData{title: rowTitle(row), main: map[string]estimate{}, low: map[string]estimate{}}
		for j, col := range p99.Columns {
			f.main[col] = estimateOf(p99, p99.Cells[i][j])
			if p50 != nil {
				f.low[col] = cellAt(p50, row, col)
			}
		}
		spec.facets = append(spec.facets, f)
	}
	return facetChart(spec)
}

// cellAt is the estimate of table t at the row and column labelled so.
func cellAt(t *results.Table, row, col string) estimate {
	i, j := slices.Index(t.Rows, row), slices.Index(t.Columns, col)
	if i < 0 || j < 0 {
		return estimate{state: missing}
	}
	return estimateOf(t, t.Cells[i][j])
}

// keyValue finds a key=value element in a row label ("cpu" in
// "latency=1ms/cpu=50us/tasks=500-2") and the row without it: the value,
// the rest (without GOMAXPROCS suffix) and whether the key is there.
func keyValue(row, key string) (value, rest string, ok bool) {
	parts := strings.Split(rowTitle(row), "/")
	for i, p := range parts {
		if v, found := strings.CutPrefix(p, key+"="); found {
			rest := strings.Join(append(slices.Clone(parts[:i]), parts[i+1:]...), "/")
			return v, rest, true
		}
	}
	return "", "", false
}

func hasKey(rows []string, key string) bool {
	for _, r := range rows {
		if _, _, ok := keyValue(r, key); ok {
			return true
		}
	}
	return false
}

// crossoverChart draws tasks/s over the CPU burst per task (the cpu= key
// of t's rows), a line per strategy, a panel per combination of the
// other parameters: where strategies built for I/O give way to those
// built for CPU.
func crossoverChart(id string, t *results.Table, book *lookBook) (chart, error) {
	type rowAt struct {
		row int
		cpu time.Duration
	}
	var groups []string
	byGroup := map[string][]rowAt{}
	var bursts []time.Duration
	for i, row := range t.Rows {
		v, rest, ok := keyValue(row, "cpu")
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			continue
		}
		if _, seen := byGroup[rest]; !seen {
			groups = append(groups, rest)
		}
		byGroup[rest] = append(byGroup[rest], rowAt{i, d})
		if !slices.Contains(bursts, d) {
			bursts = append(bursts, d)
		}
	}
	slices.Sort(bursts)
	var categories []string
	for _, d := range bursts {
		categories = append(categories, burstText(d))
	}
	spec := lineSpec{
		id:         id,
		title:      t.Workload + " · crossover: throughput as CPU per task grows",
		subtitle:   "tasks/s (median of the rounds) at each CPU burst per task; where lines cross, the best model changes.",
		xTitle:     "CPU burst per task",
		yTitle:     t.Unit,
		yUnit:      t.Unit,
		categories: categories,
		book:       book,
	}
	for _, g := range groups {
		p := linePanel{title: g}
		for _, col := range strategiesOf(t, book) {
			j := slices.Index(t.Columns, col)
			s := lineSeries{label: col}
			rows := byGroup[g]
			sort.Slice(rows, func(a, b int) bool { return rows[a].cpu < rows[b].cpu })
			for _, r := range rows {
				e := estimateOf(t, t.Cells[r.row][j])
				s.points = append(s.points, linePoint{x: float64(slices.Index(bursts, r.cpu)), y: e})
			}
			p.series = append(p.series, s)
		}
		spec.panels = append(spec.panels, p)
	}
	return lineChart(spec)
}

// burstText writes a CPU burst as the axis shows it: "0", "50 µs".
func burstText(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return duration(d.Seconds())
}

// A ratePanel is one plot of serve mode's latency over offered rate.
type ratePanel struct {
	title  string
	series []rateSeries
}

// A rateSeries is one strategy's serve cells.
type rateSeries struct {
	strategy string
	points   []ratePoint
}

// A ratePoint is one serve cell: the offered rate (requests a second),
// the p99 latency, and the rate achieved (0: unknown).
type ratePoint struct {
	rate     float64
	p99      estimate
	achieved float64
}

// saturation is the share of the offered rate below which a server did
// not keep up: its point is crossed out.
const saturation = 0.9

// rateLatencyChart draws p99 latency over the offered rate, a line per
// strategy (serve mode: cells such as
// Serve/rate=20000/latency=1ms/strategy=reactor-2 with p99-sec/op and
// req/s). Points where the achieved rate fell below 90% of the offered
// one are crossed out: past saturation, latency measures the queue.
func rateLatencyChart(id, title string, panels []ratePanel, book *lookBook) (chart, error) {
	spec := lineSpec{
		id:        id,
		title:     title,
		subtitle:  "p99 latency (from each request's intended send time, median of the rounds) at each offered rate; a knee marks saturation.",
		xTitle:    "offered rate (requests/s)",
		xUnit:     "req/s",
		yTitle:    "p99 latency",
		yUnit:     "sec/op",
		book:      book,
		crossNote: fmt.Sprintf("saturated: served < %.0f%% of offered", 100*saturation),
	}
	for _, p := range panels {
		lp := linePanel{title: p.title}
		for _, s := range p.series {
			ls := lineSeries{label: s.strategy}
			pts := slices.Clone(s.points)
			sort.Slice(pts, func(a, b int) bool { return pts[a].rate < pts[b].rate })
			for _, pt := range pts {
				ls.points = append(ls.points, linePoint{x: pt.rate, y: pt.p99,
					crossed: pt.achieved > 0 && pt.achieved < saturation*pt.rate})
			}
			lp.series = append(lp.series, ls)
		}
		spec.panels = append(spec.panels, lp)
	}
	return lineChart(spec)
}

// serveChart wires serve mode's tables into rateLatencyChart: the rate=
// key of p99's rows is the offered rate, the other keys make panels, and
// reqs (req/s, may be nil) tells which points saturated.
func serveChart(id string, p99, reqs *results.Table, book *lookBook) (chart, error) {
	var groups []string
	series := map[string]map[string]*rateSeries{}
	for i, row := range p99.Rows {
		v, rest, ok := keyValue(row, "rate")
		if !ok {
			continue
		}
		rate, ok := parseRate(v)
		if !ok {
			continue
		}
		if series[rest] == nil {
			series[rest] = map[string]*rateSeries{}
			groups = append(groups, rest)
		}
		for j, col := range p99.Columns {
			pt := ratePoint{rate: rate, p99: estimateOf(p99, p99.Cells[i][j])}
			if reqs != nil {
				if a := cellAt(reqs, row, col); a.state == measured {
					pt.achieved = a.center
				}
			}
			s := series[rest][col]
			if s == nil {
				s = &rateSeries{strategy: col}
				series[rest][col] = s
			}
			s.points = append(s.points, pt)
		}
	}
	var panels []ratePanel
	for _, g := range groups {
		p := ratePanel{title: g}
		for _, col := range strategiesOf(p99, book) {
			if s := series[g][col]; s != nil {
				p.series = append(p.series, *s)
			}
		}
		panels = append(panels, p)
	}
	return rateLatencyChart(id, p99.Workload+" · p99 latency over offered rate (lower is better)", panels, book)
}

// parseRate reads an offered rate as a serve cell's name may write it:
// "20000", "20k", "1.5M", "20000/s".
func parseRate(s string) (float64, bool) {
	s = strings.TrimSuffix(strings.TrimSuffix(s, "/s"), "rps")
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, false
	}
	return v * mult, true
}

// overviewChart draws every strategy's speedup against the baseline on
// every workload (geomean of sec/op over the rows); false if no table
// has sec/op.
func overviewChart(id string, tables []*results.Table, book *lookBook, baseline string) (chart, bool, error) {
	spec := heatSpec{
		id:       id,
		title:    "Speedup against " + baseline + ", every workload",
		subtitle: "Geomean over each workload's rows of the median time per task, as times faster than " + baseline + " (blue) or slower (red).",
		cells:    map[[2]string]heatCell{},
		book:     book,
	}
	var labels []string
	for _, t := range tables {
		if t.Unit != "sec/op" || len(t.Columns) == 0 {
			continue
		}
		spec.cols = append(spec.cols, t.Workload)
		labels = append(labels, t.Columns...)
		base := t.Columns[0]
		for j, col := range t.Columns {
			cell := heatCell{}
			covered, failedRows, unstableRows := 0, 0, 0
			for i := range t.Rows {
				c := t.Cells[i][j]
				switch {
				case c == nil:
				case c.Failed():
					failedRows++
				default:
					covered++
					if _, u := unstable(c); u {
						unstableRows++
					}
				}
			}
			switch {
			case covered == 0 && failedRows > 0:
				cell.state, cell.note = failed, fmt.Sprintf("failed in %d of %d rows", failedRows, len(t.Rows))
			case j == 0:
				if t.Geomean[0].HasCenter {
					cell.state, cell.speedup = measured, 1
					cell.note = "the baseline: " + duration(t.Geomean[0].Center) + " a task (geomean)"
				}
			default:
				if s, ok := t.GeomeanSpeedup(j); ok {
					cell.state, cell.speedup = measured, s
					cell.note = fmt.Sprintf("%s vs %s over %d rows", speedText(s), base, covered)
				}
			}
			if cell.state == measured && covered < len(t.Rows) {
				cell.partial = true
				cell.note += fmt.Sprintf("; %d of %d rows failed or not run", len(t.Rows)-covered, len(t.Rows))
			}
			cell.unstable = unstableRows > 0
			if cell.unstable {
				cell.note += fmt.Sprintf("; %d unstable rows", unstableRows)
			}
			spec.cells[[2]string{col, t.Workload}] = cell
		}
	}
	if len(spec.cols) == 0 {
		return chart{}, false, nil
	}
	for _, l := range book.order {
		if slices.Contains(labels, l) {
			spec.rows = append(spec.rows, l)
		}
	}
	c, err := heatmap(spec)
	return c, err == nil, err
}

// fileStem makes a chart title a file name.
func fileStem(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}
