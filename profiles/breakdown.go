package profiles

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/rundir"
)

// Breakdown is where one cell's samples of one profile went.
type Breakdown struct {
	Cell  Cell
	Kind  Kind // CPU or Wall
	Total int64
	// By holds the samples of each Category.
	By [numCategories]int64
	// Top are the functions with the most samples as the leaf (flat), most first.
	Top []FuncSamples
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
		if len(stack) > 0 {
			flat[stack[0].Function] += v
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

// LoadBreakdowns reads the CPU and wall profiles of a run folder and
// returns their breakdowns in the run's cell order (from meta.json when it
// lists the cells, else by file name).
func LoadBreakdowns(runDir string) ([]*Breakdown, error) {
	var out []*Breakdown
	for _, k := range []Kind{CPU, Wall} {
		files, err := rundir.Dir(runDir).ProfileFiles(string(k))
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

// WriteBreakdown writes the "where the time went" tables of a run folder as
// markdown: for each workload and parameter set, one table per profile kind
// (CPU, and wall clock for cells with a backend) with the strategies as
// columns and the categories of Classify as rows, each a percentage of the
// samples of the cell's profiled pass, then each cell's top functions.
// It writes nothing for a run without profiles.
func WriteBreakdown(w io.Writer, runDir string) error {
	bs, err := LoadBreakdowns(runDir)
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		return nil
	}
	type group struct {
		title string
		cpu   []*Breakdown
		wall  []*Breakdown
	}
	var groups []*group
	byTitle := map[string]*group{}
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
			g = &group{title: title}
			byTitle[title] = g
			groups = append(groups, g)
		}
		if b.Kind == Wall {
			g.wall = append(g.wall, b)
		} else {
			g.cpu = append(g.cpu, b)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# Where the time went\n\n" +
		"Share of the profile samples of each cell's profiled pass (run after its timed rounds), by where the " +
		"sample was: its first decisive frame from the leaf (GC or profiler anywhere in the stack wins; helpers " +
		"such as memmove count for their caller; a sample in the runtime that is not a syscall, netpoll or " +
		"scheduler path is runtime). Wall-clock samples (fgprof, cells with a backend) count every goroutine, " +
		"running or waiting. Rule in full: `go doc github.com/concbench/concbench/profiles Classify`.\n")
	for _, g := range groups {
		fmt.Fprintf(&buf, "\n## %s\n", g.title)
		if len(g.cpu) > 0 {
			buf.WriteString("\nCPU samples\n\n")
			writeShareTable(&buf, g.cpu)
		}
		if len(g.wall) > 0 {
			buf.WriteString("\nWall-clock samples (all goroutines)\n\n")
			writeShareTable(&buf, g.wall)
		}
		buf.WriteString("\nTop functions (flat share of samples)\n\n")
		writeTopTable(&buf, append(slices.Clone(g.cpu), g.wall...))
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func columnName(b *Breakdown) string {
	if b.Cell.Strategy != "" {
		return b.Cell.Strategy
	}
	return b.Cell.Name
}

func writeShareTable(w io.Writer, bs []*Breakdown) {
	fmt.Fprint(w, "| where |")
	for _, b := range bs {
		fmt.Fprintf(w, " %s |", mdEscape(columnName(b)))
	}
	fmt.Fprint(w, "\n|---|")
	for range bs {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for c := Category(0); c < numCategories; c++ {
		seen := false
		for _, b := range bs {
			seen = seen || b.By[c] > 0
		}
		if !seen {
			continue
		}
		fmt.Fprintf(w, "| %s |", c)
		for _, b := range bs {
			fmt.Fprintf(w, " %.1f%% |", 100*b.Share(c))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "| samples |")
	for _, b := range bs {
		fmt.Fprintf(w, " %d |", b.Total)
	}
	fmt.Fprintln(w)
}

func writeTopTable(w io.Writer, bs []*Breakdown) {
	fmt.Fprint(w, "| strategy | profile |")
	for i := 1; i <= topN; i++ {
		fmt.Fprintf(w, " %d |", i)
	}
	fmt.Fprint(w, "\n|---|---|")
	for i := 0; i < topN; i++ {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, b := range bs {
		fmt.Fprintf(w, "| %s | %s |", mdEscape(columnName(b)), b.Kind)
		for i := 0; i < topN; i++ {
			if i < len(b.Top) && b.Total > 0 {
				t := b.Top[i]
				fmt.Fprintf(w, " `%s` %.1f%% |", shortName(t.Function), 100*float64(t.Samples)/float64(b.Total))
			} else {
				fmt.Fprint(w, " |")
			}
		}
		fmt.Fprintln(w)
	}
}

// shortName drops the module path from concbench's own functions.
func shortName(fn string) string {
	return strings.TrimPrefix(fn, module+"/")
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

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
