package report

import (
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/concbench/concbench/results"
)

// reportCharts builds the report's charts from set's tables.
func reportCharts(set *results.Set, opts results.Options) ([]chart, error) {
	opts.Units = []string{"sec/op", "tasks/s", "p50-sec/op", "p99-sec/op"}
	opts.AllUnits = false
	tables := set.Tables(opts)
	byUnit := map[string][]*results.Table{}
	for _, t := range tables {
		byUnit[t.Unit] = append(byUnit[t.Unit], t)
	}
	var charts []chart
	add := func(c chart, err error) error {
		if err != nil {
			return err
		}
		charts = append(charts, c)
		return nil
	}

	// Tasks/s per strategy, a group of bars per row, one chart per workload.
	for _, t := range byUnit["tasks/s"] {
		var series []barSeries
		for j, col := range t.Columns {
			s := barSeries{name: col}
			for i := range t.Rows {
				s.values = append(s.values, center(t.Cells[i][j]))
			}
			series = append(series, s)
		}
		if err := add(barChart(t.Workload+" · tasks/s (median)", "tasks/s", t.Rows, series)); err != nil {
			return nil, err
		}
	}

	// Speedup against the baseline, geomean over each workload's rows.
	if ts := byUnit["sec/op"]; len(ts) > 0 {
		var workloads, strategies []string
		speed := map[[2]string]float64{}
		for _, t := range ts {
			workloads = append(workloads, t.Workload)
			for j, col := range t.Columns {
				if j == 0 {
					continue
				}
				if !slices.Contains(strategies, col) {
					strategies = append(strategies, col)
				}
				if s, ok := t.GeomeanSpeedup(j); ok {
					speed[[2]string{t.Workload, col}] = s
				}
			}
		}
		var series []barSeries
		for _, st := range strategies {
			s := barSeries{name: st}
			for _, w := range workloads {
				v, ok := speed[[2]string{w, st}]
				if !ok {
					v = math.NaN()
				}
				s.values = append(s.values, v)
			}
			series = append(series, s)
		}
		base := ts[0].Columns[0]
		if len(series) > 0 {
			if err := add(barChart("Speedup vs "+base+" (geomean sec/op over rows)", "× "+base, workloads, series)); err != nil {
				return nil, err
			}
		}
	}

	// p50 and p99 per strategy, geomean over each workload's rows.
	p99s := byWorkload(byUnit["p99-sec/op"])
	for _, t50 := range byUnit["p50-sec/op"] {
		t99 := p99s[t50.Workload]
		s50, s99 := barSeries{name: "p50"}, barSeries{name: "p99"}
		for j, col := range t50.Columns {
			s50.values = append(s50.values, geomeanCenter(t50, j)*1e3)
			v := math.NaN()
			if t99 != nil {
				if k := slices.Index(t99.Columns, col); k >= 0 {
					v = geomeanCenter(t99, k) * 1e3
				}
			}
			s99.values = append(s99.values, v)
		}
		if err := add(barChart(t50.Workload+" · latency per task (geomean of medians)", "ms", t50.Columns,
			[]barSeries{s50, s99})); err != nil {
			return nil, err
		}
	}

	// The mixed crossover: tasks/s over the CPU burst per task.
	for _, t := range byUnit["tasks/s"] {
		if !strings.EqualFold(t.Workload, "Mixed") {
			continue
		}
		c, ok, err := crossoverChart(t)
		if err != nil {
			return nil, err
		}
		if ok {
			charts = append(charts, c)
		}
	}
	return charts, nil
}

// cpuKey finds the CPU burst parameter in a row label.
var cpuKey = regexp.MustCompile(`(^|/)cpu=([^/]+?)(-[0-9]+)?(/|$)`)

// crossoverChart draws one line per strategy: tasks/s over the CPU burst
// per task (the cpu= key of each row), a chart per combination of the
// other parameters. It reports false when no row has a cpu= key.
func crossoverChart(t *results.Table) (chart, bool, error) {
	type point struct{ x, y float64 }
	lines := map[string][]point{}
	var groups []string
	for i, row := range t.Rows {
		m := cpuKey.FindStringSubmatchIndex(row)
		if m == nil {
			continue
		}
		d, err := time.ParseDuration(row[m[4]:m[5]])
		if err != nil {
			continue
		}
		rest := row[:m[2]] + "/" + row[m[8]:]
		rest = strings.Trim(strings.ReplaceAll(rest, "//", "/"), "/")
		if !slices.Contains(groups, rest) {
			groups = append(groups, rest)
		}
		for j, col := range t.Columns {
			if v := center(t.Cells[i][j]); !math.IsNaN(v) {
				key := rest + "\x00" + col
				lines[key] = append(lines[key], point{float64(d) / float64(time.Microsecond), v})
			}
		}
	}
	if len(groups) == 0 {
		return chart{}, false, nil
	}
	// One chart; with several parameter groups, a line per group and strategy.
	var series []lineSeries
	for _, g := range groups {
		for _, col := range t.Columns {
			pts := lines[g+"\x00"+col]
			if len(pts) == 0 {
				continue
			}
			sort.Slice(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
			xys := make(plotter.XYs, len(pts))
			for k, p := range pts {
				xys[k].X, xys[k].Y = p.x, p.y
			}
			name := col
			if len(groups) > 1 {
				name += " " + g
			}
			series = append(series, lineSeries{name: name, xys: xys})
		}
	}
	c, err := lineChart(t.Workload+" crossover · tasks/s over CPU burst per task", "CPU burst per task (µs)", "tasks/s", series)
	return c, err == nil, err
}

func center(c *results.Cell) float64 {
	if c == nil || c.Failed() || c.Sample == nil {
		return math.NaN()
	}
	return c.Summary.Center
}

func geomeanCenter(t *results.Table, col int) float64 {
	if s := t.Geomean[col]; s.HasCenter {
		return s.Center
	}
	return math.NaN()
}

func byWorkload(ts []*results.Table) map[string]*results.Table {
	m := map[string]*results.Table{}
	for _, t := range ts {
		m[t.Workload] = t
	}
	return m
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
