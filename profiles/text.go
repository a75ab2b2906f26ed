package profiles

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// TextOptions shape WriteBreakdownText's output.
type TextOptions struct {
	// Width is the most columns a line may take; 0 means 120. Tables
	// with more strategies than fit are split into several, each with the
	// category names.
	Width int
	// Top adds each profile's top functions (one line each).
	Top bool
}

// DefaultTextWidth is the terminal width WriteBreakdownText fits by default.
const DefaultTextWidth = 120

// WriteBreakdownText writes the breakdown of WriteBreakdown as plain-text
// tables for a terminal: categories as rows, strategies as columns (the
// backend's column next to its client's), each share with its sample
// count ("91.2% 467"; "-" for none), no line wider than opt.Width. A profile with fewer
// than MinBreakdownSamples samples shows no shares, its samples row says
// "too few", and the end names those cells. It writes nothing for a run
// without profiles.
func WriteBreakdownText(w io.Writer, runDir string, opt TextOptions) error {
	bs, err := LoadBreakdowns(runDir)
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		return nil
	}
	width := opt.Width
	if width <= 0 {
		width = DefaultTextWidth
	}
	var buf bytes.Buffer
	writeWrapped(&buf, breakdownIntro(), width)
	for _, g := range groupBreakdowns(bs) {
		fmt.Fprintf(&buf, "\n%s\n", fit(g.title, width))
		if len(g.cpu) > 0 {
			title := "CPU samples, timed part"
			if g.hasBackend() {
				title += " (client and backend processes)"
			}
			writeTextTable(&buf, title, g.cpu, width)
		}
		if len(g.wall) > 0 {
			writeTextTable(&buf, "wall-clock samples, timed part (all goroutines)", g.wall, width)
		}
		if opt.Top {
			writeTextTop(&buf, append(append([]*Breakdown(nil), g.cpu...), g.wall...), width)
		}
	}
	if few := tooFew(bs); len(few) > 0 {
		fmt.Fprintf(&buf, "\n%s\n", fit(fmt.Sprintf("Too few samples (fewer than %d) for shares; rerun with a longer "+
			"--profile-time (or more tasks):", MinBreakdownSamples), width))
		for _, b := range few {
			fmt.Fprintf(&buf, "  %s\n", fit(fmt.Sprintf("%s (%s): %d samples", b.Cell.Name, b.Kind, b.Total), width-2))
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// textColumn is one column of a text table.
type textColumn struct {
	head  []string // strategy, then side when the table has a backend column
	cells []string // by row
	width int
}

func writeTextTable(w io.Writer, title string, bs []*Breakdown, width int) {
	cats := usedCategories(bs)
	rows := make([]string, 0, len(cats)+2)
	for _, c := range cats {
		rows = append(rows, c.String())
	}
	rows = append(rows, "samples")
	withSetup := setupShown(bs)
	if withSetup {
		rows = append(rows, "setup, left out")
	}
	sides := false
	for _, b := range bs {
		sides = sides || b.Kind == BackendCPU
	}
	labels := shortLabels(bs)
	cols := make([]textColumn, len(bs))
	for i, b := range bs {
		col := textColumn{head: []string{labels[i]}}
		if sides {
			col.head = append(col.head, b.Side())
		}
		for _, c := range cats {
			cell := ""
			switch {
			case b.Enough() && b.By[c] == 0:
				cell = "-"
			case b.Enough():
				cell = fmt.Sprintf("%.1f%% %d", 100*b.Share(c), b.By[c])
			}
			col.cells = append(col.cells, cell)
		}
		if b.Enough() {
			col.cells = append(col.cells, fmt.Sprint(b.Total))
		} else {
			col.cells = append(col.cells, fmt.Sprintf("%d too few", b.Total))
		}
		if withSetup {
			cell := ""
			if b.Kind == CPU {
				cell = setupText(b)
			}
			col.cells = append(col.cells, strings.ReplaceAll(cell, " %", "%"))
		}
		for _, s := range append(append([]string(nil), col.head...), col.cells...) {
			col.width = max(col.width, utf8.RuneCountInString(s))
		}
		cols[i] = col
	}
	fmt.Fprintf(w, "\n%s\n", fit(title, width))
	labelWidth := 0
	for _, r := range rows {
		labelWidth = max(labelWidth, utf8.RuneCountInString(r))
	}
	labelWidth = min(labelWidth, 24, width/3)
	// Split the columns into tables that fit the width, keeping a backend
	// column with its client's.
	unitEnd := func(i int) int { // one past the last column of the unit at i
		if i+1 < len(bs) && bs[i+1].Kind == BackendCPU && bs[i].Kind == CPU && bs[i+1].Cell.Name == bs[i].Cell.Name {
			return i + 2
		}
		return i + 1
	}
	for start := 0; start < len(cols); {
		end, used := start, labelWidth
		for end < len(cols) {
			next, grow := unitEnd(end), 0
			for _, c := range cols[end:next] {
				grow += 2 + c.width
			}
			if end > start && used+grow > width {
				break
			}
			used += grow
			end = next
		}
		part := cols[start:end]
		if start > 0 {
			fmt.Fprintln(w)
		}
		for h := range part[0].head {
			line := strings.Repeat(" ", labelWidth)
			for _, c := range part {
				line += "  " + pad(fit(c.head[h], c.width), c.width, true)
			}
			fmt.Fprintln(w, fit(strings.TrimRight(line, " "), width))
		}
		for r, row := range rows {
			line := pad(fit(row, labelWidth), labelWidth, false)
			for _, c := range part {
				line += "  " + pad(c.cells[r], c.width, true)
			}
			fmt.Fprintln(w, fit(strings.TrimRight(line, " "), width))
		}
		start = end
	}
	if e, n := maxError(bs); n > 0 {
		fmt.Fprintln(w, fit(fmt.Sprintf("widest 95%% sampling error of a share: ±%.1f points (%d samples)", e, n), width))
	}
}

func writeTextTop(w io.Writer, bs []*Breakdown, width int) {
	labels := shortLabels(bs)
	fmt.Fprintln(w, "\ntop functions (flat share of samples)")
	for i, b := range bs {
		line := fmt.Sprintf("  %s %s: ", labels[i], b.Kind)
		if !b.Enough() {
			line += tooFewText(b)
		} else {
			var parts []string
			for _, t := range b.Top {
				parts = append(parts, fmt.Sprintf("%s %.1f%% %d", shortName(t.Function),
					100*float64(t.Samples)/float64(b.Total), t.Samples))
			}
			line += strings.Join(parts, " · ")
		}
		fmt.Fprintln(w, fit(line, width))
	}
}

// shortLabels names the columns of bs for a narrow table: the strategy's
// name without its parameters where that tells the columns apart, the
// full label otherwise, at most maxLabel characters either way.
func shortLabels(bs []*Breakdown) []string {
	const maxLabel = 22
	name := func(b *Breakdown) string {
		label := b.Cell.Strategy
		if label == "" {
			label = b.Cell.Name
		}
		return label
	}
	labelsOf := map[string]map[string]bool{} // short name -> full labels
	for _, b := range bs {
		full := name(b)
		short, _, _ := strings.Cut(full, "(")
		if labelsOf[short] == nil {
			labelsOf[short] = map[string]bool{}
		}
		labelsOf[short][full] = true
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		full := name(b)
		short, _, _ := strings.Cut(full, "(")
		if len(labelsOf[short]) == 1 {
			out[i] = short
		} else {
			out[i] = fit(full, maxLabel)
		}
	}
	return out
}

// fit shortens s to at most n characters, ending in "…" when cut.
func fit(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:max(n, 0)])
	}
	return string([]rune(s)[:n-1]) + "…"
}

// pad widens s to n characters, on the left when right-aligned.
func pad(s string, n int, right bool) string {
	gap := n - utf8.RuneCountInString(s)
	if gap <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", gap) + s
	}
	return s + strings.Repeat(" ", gap)
}

// writeWrapped writes text as lines of at most width characters.
func writeWrapped(w io.Writer, text string, width int) {
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			fmt.Fprintln(w, line)
			line = word
		}
	}
	if line != "" {
		fmt.Fprintln(w, fit(line, width))
	}
}
