package results

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter/tw"
)

// Serve mode's units that saturation reads, besides P99Unit and
// ErrorsUnit.
const (
	// RateUnit is the verified responses a second of a serve round.
	RateUnit = "req/s"
	// UnderOfferedUnit is 1 for a serve round whose load generator fell
	// behind its schedule (it did not offer the cell's rate), 0 otherwise.
	UnderOfferedUnit = "under-offered"
)

// Saturation is the sustainable throughput of each strategy on one row
// group of a serve sweep: cells that differ only in their offered rate
// (the rate= key of their names), with the p99 SLO of their slo= key.
//
// The rule: an offered rate is sustained when its cell did not fail, no
// round was under-offered (the generator kept its schedule, so the rate
// was offered), no round had a failed request, and the median p99 of the
// rounds is within the SLO. A strategy's sustainable throughput is the
// highest rate sustained with every lower rate of the sweep sustained too:
// the search stops at the first rate that is not, its Limit, so a lucky
// round above the knee does not count. When the Limit was not offered,
// the figure is a lower bound set by the generator, not the server; with
// no Limit every rate was sustained, and the figure is the sweep's top.
type Saturation struct {
	// Workload is the benchmark base name, "Serve".
	Workload string
	// Group is the cells' row without its rate: "latency=1ms/.../conns=256-2".
	Group string
	// SLO is the p99 bound, in seconds.
	SLO float64
	// Rates are the offered rates swept in the group, ascending.
	Rates []float64
	// Strategies are the group's strategies, in the tables' column order.
	Strategies []StrategySaturation
}

// StrategySaturation is one strategy's sweep of a group.
type StrategySaturation struct {
	Strategy string
	// Points are the strategy's cells, by ascending rate.
	Points []RatePoint
	// Sustained indexes the point of the sustainable throughput, -1 when
	// even the lowest rate was not sustained.
	Sustained int
	// Limit indexes the first point not sustained, -1 when every point
	// was.
	Limit int
}

// RatePoint is one serve cell: a strategy at one offered rate, summarised
// over its counted rounds.
type RatePoint struct {
	Rate float64 // offered, requests a second
	// P99 is the median p99 latency in seconds, and Achieved the median
	// verified responses a second; NaN when no round measured them.
	P99, Achieved float64
	MaxErrors     float64 // the largest errors/op of a round
	UnderOffered  bool    // some round did not offer the rate
	Failed        bool    // the harness failed the cell
	Verdict       RateVerdict
}

// RateVerdict says whether a rate was sustained, and if not, why.
type RateVerdict int

const (
	// Sustained: offered in every round, no errors, median p99 within
	// the SLO.
	Sustained RateVerdict = iota
	// CellFailed: the harness failed the cell (a wrong page, a crash).
	CellFailed
	// NotOffered: the generator fell behind its schedule in some round.
	NotOffered
	// WithErrors: some round had failed requests.
	WithErrors
	// NoLatency: no round verified a response.
	NoLatency
	// OverSLO: the median p99 is above the SLO.
	OverSLO
)

// judge applies the rule to p, in the order of the verdicts: a failed
// cell measured nothing, a rate not offered was not tested, and errors
// void a latency measured over the requests that succeeded.
func judge(p RatePoint, slo float64) RateVerdict {
	switch {
	case p.Failed:
		return CellFailed
	case p.UnderOffered:
		return NotOffered
	case p.MaxErrors > 0:
		return WithErrors
	case math.IsNaN(p.P99):
		return NoLatency
	case p.P99 > slo:
		return OverSLO
	}
	return Sustained
}

// Reason says why p was not sustained, for a table ("p99 25ms > SLO
// 10ms"), or "" when it was.
func (p RatePoint) Reason(slo float64) string {
	switch p.Verdict {
	case CellFailed:
		return "the cell failed"
	case NotOffered:
		return "not offered: the generator fell behind its schedule"
	case WithErrors:
		return fmt.Sprintf("errors: %s of requests failed", percentText(p.MaxErrors))
	case NoLatency:
		return "no verified response"
	case OverSLO:
		return fmt.Sprintf("p99 %s > SLO %s", secondsText(p.P99), secondsText(slo))
	}
	return ""
}

// Bound says how the sustainable throughput reads: "" for a measured
// knee, "≥" when no rate of the sweep failed or the first failure was the
// generator's, "<" when the lowest rate already failed, "?" when not even
// the lowest rate was offered (the generator could not: nothing is known
// of the server).
func (s *StrategySaturation) Bound() string {
	switch {
	case s.Sustained < 0 && s.Points[s.Limit].Verdict == NotOffered:
		return "?"
	case s.Sustained < 0:
		return "<"
	case s.Limit < 0, s.Points[s.Limit].Verdict == NotOffered:
		return "≥"
	}
	return ""
}

// Throughput is the sustainable throughput in requests a second: the
// rate of the Sustained point, or, with none, the lowest rate tried (with
// Bound "<").
func (s *StrategySaturation) Throughput() float64 {
	if s.Sustained < 0 {
		return s.Points[0].Rate
	}
	return s.Points[s.Sustained].Rate
}

// Saturation finds the sustainable throughput of every strategy on every
// serve sweep of the set: each workload whose rows have rate= and slo=
// keys, grouped by the rest of the row. opts selects the baseline column
// (first) and the confidence, as for Tables; its units are ignored. Nil
// when the set has no serve cells.
func (s *Set) Saturation(opts Options) []*Saturation {
	opts.Units, opts.AllUnits = []string{P99Unit, RateUnit, ErrorsUnit, UnderOfferedUnit}, false
	byWorkload := map[string]map[string]*Table{}
	var workloads []string
	for _, t := range s.Tables(opts) {
		if byWorkload[t.Workload] == nil {
			byWorkload[t.Workload] = map[string]*Table{}
			workloads = append(workloads, t.Workload)
		}
		byWorkload[t.Workload][t.Unit] = t
	}
	var out []*Saturation
	for _, w := range workloads {
		out = append(out, saturationOf(byWorkload[w])...)
	}
	return out
}

// saturationOf builds the saturation groups of one workload's tables, by
// unit: its rows and columns are those of any of them (a cell may lack a
// unit, such as p99 when no response was verified).
func saturationOf(tables map[string]*Table) []*Saturation {
	units := []string{P99Unit, RateUnit, ErrorsUnit, UnderOfferedUnit}
	var rows, cols []string
	workload := ""
	for _, u := range units {
		if t := tables[u]; t != nil {
			workload = t.Workload
			for _, r := range t.Rows {
				if !slices.Contains(rows, r) {
					rows = append(rows, r)
				}
			}
			for _, c := range t.Columns {
				if !slices.Contains(cols, c) {
					cols = append(cols, c)
				}
			}
		}
	}
	var groups []*Saturation
	byGroup := map[string]*Saturation{}
	for _, row := range rows {
		rate, group, slo, ok := serveRow(row)
		if !ok {
			continue
		}
		g := byGroup[group]
		if g == nil {
			g = &Saturation{Workload: workload, Group: group, SLO: slo}
			byGroup[group] = g
			groups = append(groups, g)
		}
		if !slices.Contains(g.Rates, rate) {
			g.Rates = append(g.Rates, rate)
		}
		for _, col := range cols {
			var any *Cell // the cell in any unit: failures and errors are in each
			for _, u := range units {
				if c := cellOf(tables[u], row, col); c != nil {
					any = c
					break
				}
			}
			if any == nil {
				continue
			}
			p := RatePoint{Rate: rate, P99: cellMedian(cellOf(tables[P99Unit], row, col)),
				Achieved: cellMedian(cellOf(tables[RateUnit], row, col)), Failed: any.Failed(), MaxErrors: any.MaxErrors,
				UnderOffered: largest(cellOf(tables[UnderOfferedUnit], row, col)) > 0}
			p.Verdict = judge(p, slo)
			k := slices.IndexFunc(g.Strategies, func(s StrategySaturation) bool { return s.Strategy == col })
			if k < 0 {
				k = len(g.Strategies)
				g.Strategies = append(g.Strategies, StrategySaturation{Strategy: col})
			}
			g.Strategies[k].Points = append(g.Strategies[k].Points, p)
		}
	}
	for _, g := range groups {
		slices.Sort(g.Rates)
		slices.SortStableFunc(g.Strategies, func(a, b StrategySaturation) int {
			return slices.Index(cols, a.Strategy) - slices.Index(cols, b.Strategy)
		})
		for k := range g.Strategies {
			st := &g.Strategies[k]
			slices.SortFunc(st.Points, func(a, b RatePoint) int { return compareFloats(a.Rate, b.Rate) })
			st.Sustained, st.Limit = -1, -1
			for i, p := range st.Points {
				if p.Verdict != Sustained {
					st.Limit = i
					break
				}
				st.Sustained = i
			}
		}
	}
	return groups
}

// serveRow reads a serve cell's row, "rate=500/latency=1ms/slo=10ms/...-2":
// its offered rate, the row without the rate (its group) and the SLO in
// seconds; false for a row without both keys.
func serveRow(row string) (rate float64, group string, slo float64, ok bool) {
	body, procs := row, ""
	if i := strings.LastIndexByte(row, '-'); i >= 0 && isDigits(row[i+1:]) {
		body, procs = row[:i], row[i:]
	}
	var rest []string
	haveRate, haveSLO := false, false
	for _, kv := range strings.Split(body, "/") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "rate":
			rate, haveRate = parseRate(v)
		case "slo":
			d, err := time.ParseDuration(v)
			slo, haveSLO = d.Seconds(), err == nil && d > 0
			rest = append(rest, kv)
		default:
			rest = append(rest, kv)
		}
	}
	return rate, strings.Join(rest, "/") + procs, slo, haveRate && haveSLO
}

// parseRate reads an offered rate as a cell's name writes it: "20000",
// and also "20k" or "1.5M".
func parseRate(s string) (float64, bool) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, false
	}
	return v * mult, true
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func compareFloats(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cellOf returns the cell of t at row and column, or nil.
func cellOf(t *Table, row, col string) *Cell {
	if t == nil {
		return nil
	}
	i, j := slices.Index(t.Rows, row), slices.Index(t.Columns, col)
	if i < 0 || j < 0 {
		return nil
	}
	return t.Cells[i][j]
}

// cellMedian is the cell's median, NaN without samples.
func cellMedian(c *Cell) float64 {
	if c == nil || c.Sample == nil || len(c.Sample.Values) == 0 {
		return math.NaN()
	}
	return c.Summary.Center
}

// largest is the cell's largest value, 0 without samples.
func largest(c *Cell) float64 {
	if c == nil || c.Sample == nil || len(c.Sample.Values) == 0 {
		return 0
	}
	return slices.Max(c.Sample.Values)
}

// Title heads the group's table: "Serve latency=1ms/...-2 · sustainable
// throughput · p99 within 10ms · rates 500/s to 8000/s".
func (g *Saturation) Title() string {
	rates := "no rate"
	switch n := len(g.Rates); {
	case n == 1:
		rates = "rate " + rateText(g.Rates[0])
	case n > 1:
		rates = "rates " + rateText(g.Rates[0]) + " to " + rateText(g.Rates[n-1])
	}
	return fmt.Sprintf("%s %s · sustainable throughput · p99 within %s · %s", g.Workload, g.Group, secondsText(g.SLO), rates)
}

// SaturationNote says how to read a saturation table (Saturation's rule).
const SaturationNote = "sustainable: the highest offered rate whose median p99 is within the SLO, with no failed request " +
	"and the rate offered (the load generator on schedule), every lower rate sustained too; ≥: no rate of the sweep " +
	"failed, or the first to fail was not offered (the generator's limit, not the server's); <: not even the lowest rate; " +
	"unknown: not even the lowest rate was offered"

// Grid returns the group's table as texts: a header and a row per
// strategy, its sustainable throughput ("≥8000/s" where the sweep or
// the generator set the limit, "<500/s" when no rate was sustained,
// "unknown" when not even the lowest was offered), the p99 and the
// verified rate at it, and the first rate not sustained with why.
func (g *Saturation) Grid() (header []string, body [][]string) {
	header = []string{"strategy", "sustainable", "p99 there", "served there", "first rate not sustained"}
	for i := range g.Strategies {
		s := &g.Strategies[i]
		row := []string{s.Strategy, s.Bound() + rateText(s.Throughput()), "", "", "none of the sweep"}
		if s.Bound() == "?" {
			row[1] = "unknown"
		}
		if s.Sustained >= 0 {
			p := s.Points[s.Sustained]
			row[2], row[3] = secondsText(p.P99), rateText(p.Achieved)
		}
		if s.Limit >= 0 {
			p := s.Points[s.Limit]
			row[4] = rateText(p.Rate) + ": " + p.Reason(g.SLO)
		}
		body = append(body, row)
	}
	return header, body
}

// WriteSaturation writes the saturation tables of set (Set.Saturation),
// if it has serve cells, in opts.Format (Text, ASCII or Markdown; other
// formats write nothing). Compact text shortens strategy labels as the
// tables do, with a legend.
func WriteSaturation(w io.Writer, set *Set, opts Options) error {
	groups := set.Saturation(opts)
	if len(groups) == 0 {
		return nil
	}
	switch opts.Format {
	case Text, ASCII, Markdown:
	default:
		return nil
	}
	p := &printer{w: w, format: opts.Format}
	if opts.Compact && opts.Format != Markdown {
		var labels []string
		for _, g := range groups {
			for _, s := range g.Strategies {
				labels = append(labels, s.Strategy)
			}
		}
		p.names = shortNames([]*Table{{Columns: labels}})
		p.width = opts.width()
		p.legend()
	}
	for _, g := range groups {
		p.line("")
		p.title(g.Title())
		header, body := g.Grid()
		for _, row := range body {
			row[0] = p.column(row[0])
		}
		aligns := []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}
		p.render(&grid{header: header, aligns: aligns, body: body, groups: []int{1, 1, 1, 1}})
	}
	p.para(p.bullet()+SaturationNote, "    ")
	return p.done("write saturation")
}

// rateText writes a rate in requests a second: "8000/s", "1.5/s".
func rateText(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	if v >= 100 {
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + "/s"
}

// secondsText writes seconds as a duration of three significant digits:
// "4.23ms", "1.2s".
func secondsText(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	d := time.Duration(v * 1e9)
	unit := time.Duration(1)
	for d/unit >= 1000 {
		unit *= 10
	}
	return d.Round(unit).String()
}

// percentText writes a fraction as a percentage of two significant
// digits: "0.4%", "12%", "100%".
func percentText(f float64) string {
	switch v := 100 * f; {
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + "%"
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	default:
		return strconv.FormatFloat(v, 'g', 2, 64) + "%"
	}
}
