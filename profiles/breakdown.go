package profiles

import (
	"bytes"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/rundir"
)

// Breakdown is where one cell's samples of one profile went.
type Breakdown struct {
	Cell  Cell
	Kind  Kind // CPU, BackendCPU or Wall
	Total int64
	// By holds the samples of each Category.
	By [numCategories]int64
	// Top are the functions with the most samples as the leaf (flat), most
	// first; a leaf runtime.asyncPreempt counts for the frame it interrupted.
	Top []FuncSamples
	// Setup is, for a CPU breakdown, the CPU samples of the same pass taken
	// outside the timed part (the Setup profile): excluded from Total.
	Setup int64
}

// FuncSamples is a function and its flat sample count.
type FuncSamples struct {
	Function string
	Samples  int64
}

// Share is the fraction of the samples in category c.
func (b *Breakdown) Share(c Category) float64 {
	if b.Total == 0 {
		return 0
	}
	return float64(b.By[c]) / float64(b.Total)
}

// Enough reports whether the breakdown rests on at least
// MinBreakdownSamples samples; the tables print no shares for one that
// does not.
func (b *Breakdown) Enough() bool { return b.Total >= MinBreakdownSamples }

// Side is SideBackend for the backend's CPU profile, else SideClient.
func (b *Breakdown) Side() string {
	if b.Kind == BackendCPU {
		return SideBackend
	}
	return SideClient
}

// topN is how many functions a breakdown lists per cell.
const topN = 5

// NewBreakdown classifies every sample of p (see Classify) by its first
// sample value, which is the sample count for CPU and fgprof profiles.
func NewBreakdown(p *profile.Profile, k Kind) *Breakdown {
	c, _ := CellOf(p)
	b := &Breakdown{Cell: c, Kind: k}
	flat := map[string]int64{}
	var stack []Frame
	for _, s := range p.Sample {
		if len(s.Value) == 0 {
			continue
		}
		v := s.Value[0]
		stack = stack[:0]
		for _, loc := range s.Location {
			for _, ln := range loc.Line { // innermost inlined call first, like the locations
				if ln.Function != nil {
					stack = append(stack, Frame{Function: ln.Function.Name, File: ln.Function.Filename})
				}
			}
		}
		b.Total += v
		b.By[Classify(stack)] += v
		leaf := stack
		if len(leaf) > 1 && isPreemptEntry(leaf[0].Function) {
			leaf = leaf[1:] // the interrupted frame's time (see Classify)
		}
		if len(leaf) > 0 {
			flat[leaf[0].Function] += v
		}
	}
	for fn, v := range flat {
		b.Top = append(b.Top, FuncSamples{fn, v})
	}
	sort.Slice(b.Top, func(i, j int) bool {
		if b.Top[i].Samples != b.Top[j].Samples {
			return b.Top[i].Samples > b.Top[j].Samples
		}
		return b.Top[i].Function < b.Top[j].Function
	})
	if len(b.Top) > topN {
		b.Top = b.Top[:topN]
	}
	return b
}

// breakdownKinds are the profiles a breakdown reads, in table order.
var breakdownKinds = []Kind{CPU, BackendCPU, Wall}

// LoadBreakdowns reads the CPU, backend CPU and wall profiles of a run
// folder and returns their breakdowns in the run's cell order (from
// meta.json when it lists the cells, else by file name). A CPU
// breakdown's Setup is the sample count of the cell's Setup profile.
func LoadBreakdowns(runDir string) ([]*Breakdown, error) {
	run := rundir.Dir(runDir)
	setup := map[string]int64{} // by file stem
	files, err := run.ProfileFiles(string(Setup))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		p, err := ReadFile(f.Path)
		if err != nil {
			return nil, err
		}
		setup[f.Stem] = sampleCount(p)
	}
	var out []*Breakdown
	for _, k := range breakdownKinds {
		files, err := run.ProfileFiles(string(k))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			p, err := ReadFile(f.Path)
			if err != nil {
				return nil, err
			}
			b := NewBreakdown(p, k)
			if b.Cell.Name == "" {
				b.Cell.Name = f.Stem
			}
			if k == CPU {
				b.Setup = setup[f.Stem]
			}
			out = append(out, b)
		}
	}
	order := cellOrder(runDir)
	sort.SliceStable(out, func(i, j int) bool {
		oi, iok := order[out[i].Cell.Name]
		oj, jok := order[out[j].Cell.Name]
		if iok && jok {
			return oi < oj
		}
		if iok != jok {
			return iok
		}
		return out[i].Cell.Name < out[j].Cell.Name
	})
	return out, nil
}

// cellOrder is the plan order of the cells: from meta.json when it lists
// them, else (during a run, before meta.json is written) the order their
// CPU profiles were written in, which is the plan's.
func cellOrder(runDir string) map[string]int {
	order := map[string]int{}
	run := rundir.Dir(runDir)
	if meta, err := run.ReadMeta(); err == nil && len(meta.Cells) > 0 {
		for i, c := range meta.Cells {
			order[c.Name] = i
		}
		return order
	}
	files, _ := run.ProfileFiles(string(CPU))
	type written struct {
		cell string
		at   int64
	}
	var ws []written
	for _, f := range files {
		st, err := os.Stat(f.Path)
		p, perr := ReadFile(f.Path)
		if err != nil || perr != nil {
			continue
		}
		if c, ok := CellOf(p); ok {
			ws = append(ws, written{c.Name, st.ModTime().UnixNano()})
		}
	}
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].at < ws[j].at })
	for i, w := range ws {
		order[w.cell] = i
	}
	return order
}

// breakdownGroup is one workload and parameter set: its tables.
type breakdownGroup struct {
	title string
	cpu   []*Breakdown // client CPU, each followed by its cell's backend CPU when there is one
	wall  []*Breakdown
}

// hasBackend reports whether the group's CPU table has backend columns.
func (g *breakdownGroup) hasBackend() bool {
	for _, b := range g.cpu {
		if b.Kind == BackendCPU {
			return true
		}
	}
	return false
}

// groupBreakdowns puts breakdowns in tables: one group per workload and
// parameters, in the order of bs, a cell's backend column right after its
// client column.
func groupBreakdowns(bs []*Breakdown) []*breakdownGroup {
	var groups []*breakdownGroup
	byTitle := map[string]*breakdownGroup{}
	backend := map[string]*Breakdown{}
	client := map[string]bool{}
	for _, b := range bs {
		switch b.Kind {
		case BackendCPU:
			backend[b.Cell.Name] = b
		case CPU:
			client[b.Cell.Name] = true
		}
	}
	for _, b := range bs {
		title := b.Cell.Workload
		if title == "" {
			title = b.Cell.Name
		}
		if b.Cell.Params != "" {
			title += " " + b.Cell.Params
		}
		g := byTitle[title]
		if g == nil {
			g = &breakdownGroup{title: title}
			byTitle[title] = g
			groups = append(groups, g)
		}
		switch b.Kind {
		case Wall:
			g.wall = append(g.wall, b)
		case CPU:
			g.cpu = append(g.cpu, b)
			if be := backend[b.Cell.Name]; be != nil {
				g.cpu = append(g.cpu, be)
			}
		case BackendCPU:
			if !client[b.Cell.Name] {
				g.cpu = append(g.cpu, b)
			}
		}
	}
	return groups
}

// tooFew returns the breakdowns of bs that rest on too few samples.
func tooFew(bs []*Breakdown) []*Breakdown {
	var out []*Breakdown
	for _, b := range bs {
		if !b.Enough() {
			out = append(out, b)
		}
	}
	return out
}

// usedCategories are the categories with a sample in some breakdown of bs
// that has enough samples to show.
func usedCategories(bs []*Breakdown) []Category {
	var cs []Category
	for c := Category(0); c < numCategories; c++ {
		for _, b := range bs {
			if b.Enough() && b.By[c] > 0 {
				cs = append(cs, c)
				break
			}
		}
	}
	return cs
}

// maxError is the widest 95 % sampling error of any share shown among bs,
// in points, and the sample count it comes from.
func maxError(bs []*Breakdown) (float64, int64) {
	var worst float64
	var at int64
	for _, b := range bs {
		if !b.Enough() {
			continue
		}
		for c := Category(0); c < numCategories; c++ {
			if e := 100 * SamplingError(b.Share(c), b.Total); e > worst {
				worst, at = e, b.Total
			}
		}
	}
	return worst, at
}

// WriteBreakdownFile writes WriteBreakdown's tables to
// <runDir>/profiles/breakdown.md (rundir.Dir.Breakdown), write-then-rename.
func WriteBreakdownFile(runDir string) error {
	var buf bytes.Buffer
	if err := WriteBreakdown(&buf, runDir); err != nil {
		return err
	}
	return rundir.WriteFile(rundir.Dir(runDir).Breakdown(), func(w io.Writer) error {
		_, err := buf.WriteTo(w)
		return err
	})
}

// shortName drops the module path from concbench's own functions.
func shortName(fn string) string {
	return strings.TrimPrefix(fn, module+"/")
}
