package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"golang.org/x/perf/benchunit"
)

// The marks that tables put after a cell's value, each explained once
// under the table that shows it.
const (
	// unstableMark flags a cell whose rounds vary more than the noise
	// limit (Cell.Unstable).
	unstableMark = "!"
	// errorsMark flags a cell with task errors in some round
	// (Cell.MaxErrors).
	errorsMark = "✗"
)

// WriteTables writes the verdict lines, the tables and the failures of
// set to w in opts.Format: Text, ASCII, Markdown, CSV or JSON (WriteJSON).
// With opts.Summary it writes one table per workload, on its headline
// unit; otherwise one per selected unit. Compact text fits opts.Width
// columns (see Options.Compact).
func WriteTables(w io.Writer, set *Set, opts Options) error {
	switch opts.Format {
	case JSON:
		return WriteJSON(w, set, opts)
	case CSV:
		return writeCSV(w, set.Tables(opts))
	case Text, ASCII, Markdown:
	default:
		return fmt.Errorf("results: tables cannot be written as %v: want text, ascii, markdown, csv or json", opts.Format)
	}
	tableOpts := opts
	if opts.Summary {
		tableOpts.Units, tableOpts.AllUnits = []string{TimeUnit}, false
	}
	tables := set.Tables(tableOpts)
	p := &printer{w: w, format: opts.Format}
	if opts.Compact && opts.Format != Markdown {
		p.names = shortNames(tables)
		p.width = opts.width()
	}
	for _, v := range set.Verdicts(opts) {
		for _, line := range v.lines(p.column) {
			p.para(p.bullet()+line, "    ")
		}
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
			p.para(p.bullet()+f.Name+": "+strings.ReplaceAll(f.Reason, "\n", "; "), "    ")
		}
	}
	return p.done("write tables")
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
	// width is the number of columns that lines and tables fit; 0 for
	// no limit (Markdown, full tables).
	width int
}

// done returns the first error, wrapped with what was being written.
func (p *printer) done(what string) error {
	if p.err != nil {
		return fmt.Errorf("results: %s: %w", what, p.err)
	}
	return nil
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
		p.para("  "+p.names[l]+" = "+l, "      ")
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

// para writes s as one line, or wrapped to the printer's width with
// indent before each continued line.
func (p *printer) para(s, indent string) {
	if p.width <= 0 {
		p.line(s)
		return
	}
	for _, l := range wrap(s, p.width, indent) {
		p.line(l)
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
	p.para(s, "    ")
}

// A grid is a table's texts before rendering: a label column, then
// groups of columns that stay together when a wide table is split (a
// strategy's value and its comparison).
type grid struct {
	header []string
	aligns []tw.Align
	body   [][]string
	// groups holds the number of columns of each group after the label.
	groups []int
}

// width is how many columns the grid takes rendered with a padding of
// one and a rule between columns.
func (g *grid) width() int {
	total := 1
	for j := range g.header {
		w := displayWidth(g.header[j])
		for _, row := range g.body {
			if j < len(row) {
				w = max(w, displayWidth(row[j]))
			}
		}
		total += w + 3
	}
	return total
}

// columns returns the grid of the label column and columns [from, to).
func (g *grid) columns(from, to int) *grid {
	pick := func(row []string) []string { return append([]string{row[0]}, row[from:to]...) }
	out := &grid{header: pick(g.header), aligns: append([]tw.Align{g.aligns[0]}, g.aligns[from:to]...)}
	for _, row := range g.body {
		out.body = append(out.body, pick(row))
	}
	return out
}

// split cuts g into grids of whole groups that each fit width (a group
// wider than width alone gets a grid of its own).
func (g *grid) split(width int) []*grid {
	if width <= 0 || g.width() <= width {
		return []*grid{g}
	}
	var parts []*grid
	from, to := 1, 1
	for _, n := range g.groups {
		if to > from && g.columns(from, to+n).width() > width {
			parts = append(parts, g.columns(from, to))
			from = to
		}
		to += n
	}
	return append(parts, g.columns(from, to))
}

// displayWidth counts the columns s takes on a terminal: one per rune,
// which holds for what tables contain (Latin text, µ, ±, ×, superscripts,
// box drawing).
func displayWidth(s string) int { return utf8.RuneCountInString(s) }

// render writes g as one table, or for a compact printer as several that
// each fit its width.
func (p *printer) render(g *grid) {
	parts := []*grid{g}
	if p.width > 0 {
		parts = g.split(p.width)
	}
	for i, part := range parts {
		if i > 0 {
			p.line("")
		}
		if p.err == nil {
			p.err = p.grid(part.header, part.aligns, part.body)
		}
	}
}

// table writes one table: a title, the grid, then numbered notes for
// the warnings that the grid marks with superscripts, and what the marks
// mean. A compact table wider than the printer's width is written with
// the strategies as rows, and split if it is still too wide.
func (p *printer) table(t *Table) {
	labels, common := t.Rows, ""
	if p.width > 0 {
		labels, common = factorRows(t.Workload, t.Rows)
	}
	title := t.Title()
	if common != "" {
		sep := " "
		if strings.HasPrefix(common, "-") {
			sep = "" // just the GOMAXPROCS suffix: "Mandelbrot-2"
		}
		title = strings.Replace(title, t.Workload, t.Workload+sep+common, 1)
	}
	p.title(title)

	var notes footnotes
	g := p.tableGrid(t, labels, &notes, false)
	if p.width > 0 && g.width() > p.width {
		var transposedNotes footnotes
		if tg := p.tableGrid(t, labels, &transposedNotes, true); tg.width() < g.width() {
			g, notes = tg, transposedNotes
		}
	}
	p.render(g)
	for i, n := range notes.list {
		p.para(p.bullet()+superscript(i+1)+" "+n, "    ")
	}
	for _, n := range t.markNotes(p.column) {
		p.para(p.bullet()+n, "    ")
	}
}

// cellText is the value of cell (i, j) as the printer shows it: the
// median with its interval in the given scale, then the marks of its
// warnings, instability and errors.
func (t *Table) cellText(i, j int, scaler benchunit.Scaler, notes *footnotes) string {
	c := t.Cells[i][j]
	text := valueText(c, scaler)
	if c == nil {
		return text
	}
	return text + notes.mark(c.Warnings) + cellMarks(c)
}

// cellMarks returns the marks of a cell: " !" when unstable, " ✗" with
// task errors.
func cellMarks(c *Cell) string {
	var s string
	if c.Unstable && !c.Failed() {
		s += " " + unstableMark
	}
	if c.MaxErrors > 0 && !c.Failed() {
		s += " " + errorsMark
	}
	return s
}

// Marks returns the marks that the tables put after the value of the
// cell at row, col: "!" when its rounds are unstable (Cell.Unstable),
// "✗" when some of its tasks failed (Cell.MaxErrors), both, or "".
// MarkNotes explains them.
func (t *Table) Marks(row, col int) string {
	c := t.Cells[row][col]
	if c == nil {
		return ""
	}
	return strings.TrimSpace(cellMarks(c))
}

// MarkNotes returns the lines that explain the marks the table uses (see
// Marks), once each, or nothing when it uses none.
func (t *Table) MarkNotes() []string { return t.markNotes(func(s string) string { return s }) }

func (t *Table) markNotes(name func(string) string) []string {
	unstable, worst := false, 0.0
	var erring []string
	for j := range t.Columns {
		colWorst := 0.0
		for i := range t.Rows {
			if c := t.Cells[i][j]; c != nil && !c.Failed() {
				unstable = unstable || c.Unstable
				colWorst = max(colWorst, c.MaxErrors)
			}
		}
		if colWorst > 0 {
			erring = append(erring, name(t.Columns[j])+" "+errorRate(colWorst))
			worst = max(worst, colWorst)
		}
	}
	var notes []string
	if unstable {
		notes = append(notes, fmt.Sprintf("%s unstable: its rounds of %s vary by more than %s (CV); the figure is less certain than its interval says",
			unstableMark, TimeUnit, shortPercent(t.MaxCV)))
	}
	if len(erring) > 0 {
		notes = append(notes, fmt.Sprintf("%s tasks failed in some rounds (most errors/op of a round: %s): failed tasks are not work done, so these never win",
			errorsMark, strings.Join(erring, ", ")))
	}
	return notes
}

// tableGrid lays t out with a row per workload row and a column per
// strategy, or transposed with a row per strategy.
func (p *printer) tableGrid(t *Table, labels []string, notes *footnotes, transposed bool) *grid {
	if transposed {
		return p.transposedGrid(t, labels, notes)
	}
	g := &grid{header: []string{t.Workload}, aligns: []tw.Align{tw.AlignLeft}}
	scalers := make([]benchunit.Scaler, len(t.Columns))
	for j, col := range t.Columns {
		scalers[j] = t.colScaler(j)
		g.header, g.aligns = append(g.header, p.column(col)), append(g.aligns, tw.AlignRight)
		if j > 0 {
			g.header, g.aligns = append(g.header, "vs "+p.column(t.Columns[0])), append(g.aligns, tw.AlignRight)
			g.groups = append(g.groups, 2)
		} else {
			g.groups = append(g.groups, 1)
		}
	}
	for i, label := range labels {
		row := []string{label}
		for j, c := range t.Cells[i] {
			row = append(row, t.cellText(i, j, scalers[j], notes))
			if j > 0 {
				row = append(row, p.comparison(t, c))
			}
		}
		g.body = append(g.body, row)
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
			row = append(row, t.geomeanText(j, scalers[j])+notes.mark(t.Geomean[j].Warnings))
			if j > 0 {
				row = append(row, p.geomeanComparison(t, j))
			}
		}
		g.body = append(g.body, row)
	}
	return g
}

// transposedGrid lays t out with a row per strategy and, per workload
// row, a column of values and one of comparisons, then the geomean.
func (p *printer) transposedGrid(t *Table, labels []string, notes *footnotes) *grid {
	g := &grid{header: []string{t.Workload}, aligns: []tw.Align{tw.AlignLeft}}
	scalers := make([]benchunit.Scaler, len(t.Rows))
	// The title says what the speedups are against; "vs blocking" over
	// every row's column would only widen the table.
	for i, label := range labels {
		scalers[i] = t.rowScaler(i)
		g.header = append(g.header, label, "speedup")
		g.aligns = append(g.aligns, tw.AlignRight, tw.AlignRight)
		g.groups = append(g.groups, 2)
	}
	withGeomean := len(t.Rows) > 1
	if withGeomean {
		g.header = append(g.header, "geomean", "speedup")
		g.aligns = append(g.aligns, tw.AlignRight, tw.AlignRight)
		g.groups = append(g.groups, 2)
	}
	geomeanScaler := benchunit.CommonScale(t.geomeanCenters(), benchunit.ClassOf(t.Unit))
	for j, col := range t.Columns {
		row := []string{p.column(col)}
		for i := range t.Rows {
			row = append(row, t.cellText(i, j, scalers[i], notes))
			if j > 0 {
				row = append(row, p.comparison(t, t.Cells[i][j]))
			} else {
				row = append(row, "")
			}
		}
		if withGeomean {
			if onlyFailures(t, j) {
				row = append(row, "", "")
			} else {
				row = append(row, t.geomeanText(j, geomeanScaler)+notes.mark(t.Geomean[j].Warnings))
				if j > 0 {
					row = append(row, p.geomeanComparison(t, j))
				} else {
					row = append(row, "")
				}
			}
		}
		g.body = append(g.body, row)
	}
	return g
}

// geomeanCenters returns the centers of the geomean row that exist.
func (t *Table) geomeanCenters() []float64 {
	var cs []float64
	for _, s := range t.Geomean {
		if s.HasCenter {
			cs = append(cs, s.Center)
		}
	}
	return cs
}

// procsSuffix matches the GOMAXPROCS suffix of a benchmark name: "-2".
var procsSuffix = regexp.MustCompile(`-[0-9]+$`)

// factorRows shortens row labels for a compact table: the parts that
// every row shares ("tasks=2000", the GOMAXPROCS suffix "-2") move to
// common, for the title, and each row keeps what tells it apart
// ("latency=1ms"). A row left with nothing is labeled by the workload.
func factorRows(workload string, rows []string) (labels []string, common string) {
	if len(rows) == 0 {
		return nil, ""
	}
	type parsed struct {
		parts  []string
		suffix string
	}
	ps := make([]parsed, len(rows))
	for i, r := range rows {
		suffix := procsSuffix.FindString(r)
		body := strings.TrimSuffix(r, suffix)
		if body == workload {
			body = ""
		}
		var parts []string
		if body != "" {
			parts = strings.Split(body, "/")
		}
		ps[i] = parsed{parts, suffix}
	}
	shared := func(part string) bool {
		for _, p := range ps {
			if !slices.Contains(p.parts, part) {
				return false
			}
		}
		return true
	}
	var commonParts []string
	for _, part := range ps[0].parts {
		if shared(part) {
			commonParts = append(commonParts, part)
		}
	}
	suffixShared := true
	for _, p := range ps {
		suffixShared = suffixShared && p.suffix == ps[0].suffix
	}
	for _, p := range ps {
		var keep []string
		for _, part := range p.parts {
			if !slices.Contains(commonParts, part) {
				keep = append(keep, part)
			}
		}
		label := strings.Join(keep, "/")
		if !suffixShared {
			label += p.suffix
		}
		if label == "" {
			label = workload
		}
		labels = append(labels, label)
	}
	common = strings.Join(commonParts, "/")
	if suffixShared {
		common += ps[0].suffix
	}
	return labels, common
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
	var buf bytes.Buffer
	table := tablewriter.NewTable(&buf,
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
	_, err := p.w.Write(buf.Bytes())
	return err
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
