package results

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter/tw"
)

// BandwidthUnit is the unit of memory bandwidth the harness writes for
// workloads that count their memory traffic (dot and stream).
const BandwidthUnit = "B/s"

// StreamWorkload is the benchmark base name of the workload whose cells
// measure this machine's memory bandwidth.
const StreamWorkload = "Stream"

// Bandwidth relates every cell that reports B/s to the memory bandwidth
// measured in the same set: Peak is the highest median B/s of any stream
// cell, and each cell's fraction of it says how close that cell comes to
// what the memory can deliver. A cell above 100% was served (in part) from
// cache.
type Bandwidth struct {
	// Peak is the highest median B/s of a stream cell; 0 when the set
	// has no stream cell.
	Peak float64
	// PeakCell names that cell: "Stream op=sum/… · simd(…)".
	PeakCell string
	// Columns are the strategies, in the order the tables show them.
	Columns []string
	// Rows hold one row per workload row that reports B/s.
	Rows []BandwidthRow
}

// A BandwidthRow is one row of one workload.
type BandwidthRow struct {
	// Label is the workload and its row: "Dot tasks=16384/…".
	Label string
	// Median holds each column's median B/s, indexed like Columns; NaN
	// where the strategy was not run, failed, or has no samples.
	Median []float64
}

// Fraction returns median/Peak, or false without a peak or a value.
func (b *Bandwidth) Fraction(median float64) (float64, bool) {
	if b.Peak <= 0 || math.IsNaN(median) {
		return 0, false
	}
	return median / b.Peak, true
}

// Bandwidth builds the bandwidth summary of the set, or returns nil when
// no result reports B/s. opts selects the baseline column (shown first)
// and the confidence level, as for Tables; its units are ignored.
func (s *Set) Bandwidth(opts Options) *Bandwidth {
	opts.Units, opts.AllUnits = []string{BandwidthUnit}, false
	b := &Bandwidth{}
	colIndex := map[string]int{}
	for _, t := range s.Tables(opts) {
		if t.Unit != BandwidthUnit {
			continue
		}
		for _, col := range t.Columns {
			if _, ok := colIndex[col]; !ok {
				colIndex[col] = len(b.Columns)
				b.Columns = append(b.Columns, col)
			}
		}
		for i, label := range t.Rows {
			row := BandwidthRow{Label: t.Workload + " " + label}
			measured := false
			for j, c := range t.Cells[i] {
				v := math.NaN()
				if c != nil && !c.Failed() && c.Sample != nil && len(c.Sample.Values) > 0 {
					v, measured = c.Summary.Center, true
				}
				col := colIndex[t.Columns[j]]
				for len(row.Median) <= col {
					row.Median = append(row.Median, math.NaN())
				}
				row.Median[col] = v
				if t.Workload == StreamWorkload && v > b.Peak {
					b.Peak, b.PeakCell = v, row.Label+" · "+t.Columns[j]
				}
			}
			if measured {
				b.Rows = append(b.Rows, row)
			}
		}
	}
	if len(b.Rows) == 0 {
		return nil
	}
	for i := range b.Rows {
		for len(b.Rows[i].Median) < len(b.Columns) {
			b.Rows[i].Median = append(b.Rows[i].Median, math.NaN())
		}
	}
	return b
}

// Title describes the table: what the percentages are of.
func (b *Bandwidth) Title() string {
	if b.Peak <= 0 {
		return "Memory bandwidth · median GB/s (no stream cell in this run: add --workloads stream for a % of the machine's bandwidth)"
	}
	return fmt.Sprintf("Memory bandwidth · median GB/s and %% of the fastest stream cell of this run (%s: %s)",
		b.PeakCell, gbps(b.Peak))
}

// cellText is "56.2 GB/s (91%)", or "" for no value.
func (b *Bandwidth) cellText(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	text := gbps(v)
	if f, ok := b.Fraction(v); ok {
		text += fmt.Sprintf(" (%.0f%%)", 100*f)
	}
	return text
}

// gbps formats a rate in decimal gigabytes a second, the unit in which
// memory bandwidth is usually quoted.
func gbps(v float64) string { return fmt.Sprintf("%.1f GB/s", v/1e9) }

// Grid returns the table's texts: a header ("workload", then Columns) and
// a row per Rows entry, its label then each column's figure, such as
// "45.0 GB/s (90%)" ("" where the strategy has no value).
func (b *Bandwidth) Grid() (header []string, body [][]string) {
	header = append([]string{"workload"}, b.Columns...)
	for _, r := range b.Rows {
		row := []string{r.Label}
		for _, v := range r.Median {
			row = append(row, b.cellText(v))
		}
		body = append(body, row)
	}
	return header, body
}

// bandwidth prints the bandwidth table, if the set has one. A compact
// printer shortens the row labels (the parameters that every row of a
// workload shares move to a line under the table) and, when the table is
// wider than its width, puts the strategies in rows.
func (p *printer) bandwidth(b *Bandwidth) {
	if b == nil {
		return
	}
	p.line("")
	p.title(b.Title())
	header, body := b.Grid()
	var shared []string
	if p.width > 0 {
		var labels []string
		for _, row := range body {
			labels = append(labels, row[0])
		}
		labels, shared = factorLabels(labels)
		for i := range body {
			body[i][0] = labels[i]
		}
	}
	g := &grid{header: header, aligns: []tw.Align{tw.AlignLeft}}
	for i := 1; i < len(header); i++ {
		header[i] = p.column(header[i])
		g.aligns = append(g.aligns, tw.AlignRight)
		g.groups = append(g.groups, 1)
	}
	g.body = body
	if p.width > 0 && g.width() > p.width {
		if tg := g.transpose(); tg.width() < g.width() {
			g = tg
		}
	}
	p.render(g)
	for _, s := range shared {
		p.para(p.bullet()+s, "    ")
	}
}

// factorLabels shortens "Workload params" labels, workload by workload,
// as factorRows shortens a table's rows, and returns what each workload's
// rows share, as "Dot: tasks=16384/size=4096-2".
func factorLabels(labels []string) (short []string, shared []string) {
	var order []string
	rows := map[string][]int{}
	for i, l := range labels {
		w, _, _ := strings.Cut(l, " ")
		if rows[w] == nil {
			order = append(order, w)
		}
		rows[w] = append(rows[w], i)
	}
	short = slices.Clone(labels)
	for _, w := range order {
		var params []string
		for _, i := range rows[w] {
			_, p, _ := strings.Cut(labels[i], " ")
			params = append(params, p)
		}
		if len(params) < 2 {
			continue
		}
		ls, common := factorRows(w, params)
		for k, i := range rows[w] {
			short[i] = w + " " + ls[k]
			if ls[k] == w {
				short[i] = w
			}
		}
		if common != "" {
			shared = append(shared, w+": "+common)
		}
	}
	return short, shared
}

// transpose swaps g's rows and columns: the header's first cell stays,
// the other header cells become the first column.
func (g *grid) transpose() *grid {
	t := &grid{header: []string{g.header[0]}, aligns: []tw.Align{tw.AlignLeft}}
	for _, row := range g.body {
		t.header = append(t.header, row[0])
		t.aligns = append(t.aligns, tw.AlignRight)
		t.groups = append(t.groups, 1)
	}
	for j := 1; j < len(g.header); j++ {
		row := []string{g.header[j]}
		for _, r := range g.body {
			row = append(row, r[j])
		}
		t.body = append(t.body, row)
	}
	return t
}
