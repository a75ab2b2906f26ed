package results

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteTables writes the summary lines, the tables and the failures of
// set to w in opts.Format: Text, ASCII, Markdown or CSV. JSON is for
// comparisons only (WriteDiff): WriteTables fails on it, writing nothing.
func WriteTables(w io.Writer, set *Set, opts Options) error {
	if !opts.Format.forTables() {
		return fmt.Errorf("results: tables cannot be written as %v: want text, ascii, markdown or csv", opts.Format)
	}
	tables := set.Tables(opts)
	if opts.Format == CSV {
		return writeCSV(w, tables)
	}
	p := &printer{w: w, format: opts.Format}
	if opts.Compact && (opts.Format == Text || opts.Format == ASCII) {
		p.names = shortNames(tables)
	}
	for _, win := range Winners(tables) {
		win.Strategy, win.Baseline = p.column(win.Strategy), p.column(win.Baseline)
		p.line(p.bullet() + win.String())
	}
	p.legend()
	for _, t := range tables {
		p.line("")
		p.table(t)
	}
	p.bandwidth(set.Bandwidth(opts))
	if len(set.Failures) > 0 {
		p.line("")
		p.line(p.heading("Failed cells"))
		for _, f := range set.Failures {
			p.line(p.bullet() + f.Name + ": " + strings.ReplaceAll(f.Reason, "\n", "; "))
		}
	}
	if p.err != nil {
		return fmt.Errorf("results: write tables: %w", p.err)
	}
	return nil
}

// A printer writes text or Markdown, remembering the first error so that
// callers can write a whole report and check once.
type printer struct {
	w      io.Writer
	format Format
	err    error
	// names maps strategy labels to the short column names of a compact
	// table; nil for full tables.
	names map[string]string
}

// column returns the header of a strategy column.
func (p *printer) column(label string) string {
	if short, ok := p.names[label]; ok {
		return short
	}
	return label
}

// legend lists the full labels behind a compact table's short names.
func (p *printer) legend() {
	var labels []string
	for label, short := range p.names {
		if short != label {
			labels = append(labels, label)
		}
	}
	if len(labels) == 0 {
		return
	}
	sort.Strings(labels)
	p.line("")
	p.line("Strategies (full labels, as in bench.txt):")
	for _, l := range labels {
		p.line("  " + p.names[l] + " = " + l)
	}
}

// shortNames maps each strategy label of tables to the strategy's name
// ("pool" for "pool(workers=8)") where only one label has that name, and
// to itself otherwise (a sweep such as pool.workers=2,8 keeps its labels).
func shortNames(tables []*Table) map[string]string {
	byName := map[string]map[string]bool{}
	for _, t := range tables {
		for _, col := range t.Columns {
			name, _, _ := strings.Cut(col, "(")
			if byName[name] == nil {
				byName[name] = map[string]bool{}
			}
			byName[name][col] = true
		}
	}
	names := map[string]string{}
	for name, labels := range byName {
		for label := range labels {
			names[label] = label
			if len(labels) == 1 {
				names[label] = name
			}
		}
	}
	return names
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, s+"\n")
	}
}

func (p *printer) bullet() string {
	if p.format == Markdown {
		return "- "
	}
	return ""
}

func (p *printer) heading(s string) string {
	if p.format == Markdown {
		return "### " + s
	}
	return s + ":"
}

// title writes the line that heads a table: a third-level heading and a
// blank line in Markdown, the text alone otherwise.
func (p *printer) title(s string) {
	if p.format == Markdown {
		p.line("### " + s)
		p.line("")
		return
	}
	p.line(s)
}

// table writes one table: a title, the grid, then numbered notes for
// the warnings that the grid marks with superscripts.
func (p *printer) table(t *Table) {
	p.title(t.Title())

	var notes footnotes
	header := []string{t.Workload}
	aligns := []tw.Align{tw.AlignLeft}
	for j, col := range t.Columns {
		header, aligns = append(header, p.column(col)), append(aligns, tw.AlignRight)
		if j > 0 {
			header, aligns = append(header, "vs "+p.column(t.Columns[0])), append(aligns, tw.AlignRight)
		}
	}
	var body [][]string
	for i, label := range t.Rows {
		scaler := t.rowScaler(i)
		row := []string{label}
		for j, c := range t.Cells[i] {
			text := valueText(c, scaler)
			if c != nil {
				text += notes.mark(c.Warnings)
			}
			row = append(row, text)
			if j > 0 {
				row = append(row, p.comparison(t, c))
			}
		}
		body = append(body, row)
	}
	// As benchstat, a geomean of one row would only repeat it.
	if len(t.Rows) > 1 {
		row := []string{"geomean"}
		for j := range t.Columns {
			// A column of failures has nothing to summarize;
			// benchstat's warnings about that would be noise.
			if onlyFailures(t, j) {
				row = append(row, "")
				if j > 0 {
					row = append(row, "")
				}
				continue
			}
			row = append(row, t.geomeanText(j)+notes.mark(t.Geomean[j].Warnings))
			if j > 0 {
				row = append(row, p.geomeanComparison(t, j))
			}
		}
		body = append(body, row)
	}

	if p.err == nil {
		p.err = p.grid(header, aligns, body)
	}
	for i, n := range notes.list {
		p.line(p.bullet() + superscript(i+1) + " " + n)
	}
}

// comparison is the comparison of c with its baseline: benchstat's full
// text, or in a compact table the speedup alone ("2.30×", "1.03× ~").
func (p *printer) comparison(t *Table, c *Cell) string {
	if p.names == nil {
		return t.comparisonText(c)
	}
	return t.compactComparisonText(c)
}

// geomeanComparison is comparison for the geomean row.
func (p *printer) geomeanComparison(t *Table, col int) string {
	if p.names != nil {
		if sp, ok := t.GeomeanSpeedup(col); ok {
			return speedupText(sp)
		}
	}
	return t.geomeanComparisonText(col)
}

// grid renders rows with tablewriter in the printer's format.
func (p *printer) grid(header []string, aligns []tw.Align, body [][]string) error {
	var r tw.Renderer
	switch p.format {
	case Markdown:
		r = renderer.NewMarkdown()
	case ASCII:
		r = renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})
	default:
		r = renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})
	}
	cells := tw.CellConfig{
		Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone, AutoFormat: tw.Off},
		Alignment:  tw.CellAlignment{PerColumn: aligns},
		Padding:    tw.CellPadding{Global: tw.PaddingDefault},
	}
	table := tablewriter.NewTable(p.w,
		tablewriter.WithRenderer(r),
		tablewriter.WithHeaderConfig(cells),
		tablewriter.WithRowConfig(cells),
		tablewriter.WithTrimSpace(tw.Off),
	)
	table.Header(header)
	for _, row := range body {
		if err := table.Append(row); err != nil {
			return err
		}
	}
	if err := table.Render(); err != nil {
		return errors.Join(errors.New("render"), err)
	}
	return nil
}

// footnotes numbers distinct warnings in order of first mention.
type footnotes struct {
	list  []string
	index map[string]int
}

// mark returns " ¹ ²" for the given warnings, numbering new ones.
func (n *footnotes) mark(warnings []error) string {
	var marks []string
	for _, w := range warnings {
		msg := w.Error()
		i, ok := n.index[msg]
		if !ok {
			if n.index == nil {
				n.index = make(map[string]int)
			}
			n.list = append(n.list, msg)
			i = len(n.list)
			n.index[msg] = i
		}
		marks = append(marks, superscript(i))
	}
	if len(marks) == 0 {
		return ""
	}
	return " " + strings.Join(marks, " ")
}

// superscript writes i in superscript digits, as benchstat's footnotes.
func superscript(i int) string {
	const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹"
	runes := []rune(digits)
	s := fmt.Sprint(i)
	var b strings.Builder
	for _, d := range s {
		b.WriteRune(runes[d-'0'])
	}
	return b.String()
}
