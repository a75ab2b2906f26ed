package report

import (
	"fmt"
	"math"
	"strings"
)

// An estimate is what a chart shows of one cell: the median of the
// rounds with its 95% interval, or why there is no number.
type estimate struct {
	state    cellState
	center   float64
	lo, hi   float64 // the interval; lo ≤ center ≤ hi
	unstable bool    // the rounds vary more than a figure should (see unstable)
	errors   float64 // the largest errors/op of a round: some tasks failed
	note     string  // the tooltip: the value with its interval, the failure, the CV
}

type cellState int

const (
	missing  cellState = iota // not run on this row
	measured                  // a number
	failed                    // the harness failed the cell
)

// A facetSpec describes a chart of small multiples: a panel (facet) per
// row of a results table, a line per strategy in every panel, the
// strategies' labels once at the left of each line of panels.
type facetSpec struct {
	id, title, subtitle string
	unit                string // of the values, for the ticks and labels: "tasks/s"
	axisTitle           string // under each panel's axis; empty: unit
	higherBetter        bool
	strategies          []string // in draw order
	facets              []facetData
	book                *lookBook

	// ranges draws each strategy's low to main (p50 to p99) as a range
	// with two markers instead of a bar.
	ranges bool

	// maxCV is the noise limit above which a cell is unstable, for the
	// legend; zero or less leaves the legend entry out.
	maxCV float64
}

// facetData is one panel: a row's values by strategy label.
type facetData struct {
	title string
	main  map[string]estimate
	low   map[string]estimate // ranges only
}

// Geometry of the charts, in pixels.
const (
	margin      = 16.0
	titleSize   = 16.0
	labelSize   = 12.0
	tickSize    = 11.0
	rowPitch    = 20.0
	barHeight   = 13.0
	facetGap    = 28.0
	maxWidth    = 1100.0 // the widest chart; report.html shows it at full size up to here
	minFacetW   = 230.0
	maxFacetW   = 640.0
	axisHeight  = 36.0 // ticks, tick labels and the axis title under a panel
	headingSize = 11.0
)

// facetChart draws spec: bars (or p50-p99 ranges) with 95% whiskers, a
// panel per row, all panels on one scale (logarithmic when the values
// span more than logSpread).
func facetChart(spec facetSpec) (chart, error) {
	if len(spec.strategies) == 0 || len(spec.facets) == 0 {
		return chart{}, fmt.Errorf("report: chart %q: nothing to draw", spec.title)
	}
	book := spec.book

	// The rows of each panel: strategies, under "Go" and "Python"
	// headings when both kinds are present.
	type gridRow struct{ heading, label string }
	var rows []gridRow
	var goN, pyN int
	for _, s := range spec.strategies {
		if isPython(s) {
			pyN++
		} else {
			goN++
		}
	}
	headings := goN > 0 && pyN > 0
	lastKind := ""
	for _, s := range spec.strategies {
		kind := "Go"
		if isPython(s) {
			kind = "Python"
		}
		if headings && kind != lastKind {
			rows = append(rows, gridRow{heading: kind})
			lastKind = kind
		}
		rows = append(rows, gridRow{label: s})
	}

	// The label column.
	const swatch = 10.0
	labelW := 0.0
	for _, s := range spec.strategies {
		labelW = math.Max(labelW, textWidth(book.name(s), labelSize, false))
	}
	labelW += swatch + 14

	// Panels per line and their width.
	n := len(spec.facets)
	perLine := n
	facetW := 0.0
	for {
		facetW = (maxWidth - 2*margin - labelW - float64(perLine-1)*facetGap) / float64(perLine)
		if facetW >= minFacetW || perLine == 1 {
			break
		}
		perLine--
	}
	facetW = math.Min(facetW, maxFacetW)
	width := 2*margin + labelW + float64(perLine)*facetW + float64(perLine-1)*facetGap

	// Every value on one scale; the value labels' width.
	var all []float64
	valW := 0.0
	for _, f := range spec.facets {
		for _, s := range spec.strategies {
			for _, e := range []estimate{f.main[s], f.low[s]} {
				if e.state == measured {
					all = append(all, e.center, e.lo, e.hi)
				}
			}
			if e := f.main[s]; e.state == measured {
				valW = math.Max(valW, textWidth(valueText(e.center, spec.unit), labelSize, true))
			}
		}
	}
	valW = math.Max(valW, textWidth("FAILED", labelSize, true)) + 34 // gap, the unstable and errors markers

	// Heights.
	var headerLines [][]string
	headerH := 0.0
	for _, f := range spec.facets {
		lines := wrapLabel(f.title, facetW, labelSize, true, "/, ")
		headerLines = append(headerLines, lines)
		headerH = math.Max(headerH, float64(len(lines))*labelSize*lineHeight)
	}
	headerH += 6
	rowsH := float64(len(rows)) * rowPitch
	lineCount := (n + perLine - 1) / perLine
	keys := book.keyLines(spec.strategies)

	y := margin
	top := y + titleSize
	subtitleLines := wrapLabel(spec.subtitle, width-2*margin, labelSize, false, " ")
	legendY := top + 6 + float64(len(subtitleLines))*labelSize*lineHeight + labelSize*lineHeight
	legend := facetLegend(spec)
	legendPos, legendLines := placeLegend(legend, margin, legendY, width-2*margin)
	gridTop := legendY + float64(legendLines-1)*(tickSize*lineHeight+4) + 14
	lineH := headerH + rowsH + axisHeight + 14
	var keyLines []string
	if len(keys) > 0 {
		keyLines = wrapLabel("Labels: "+strings.Join(keys, " · "), width-2*margin, tickSize, false, " ")
	}
	keyH := 0.0
	if len(keyLines) > 0 {
		keyH = float64(len(keyLines))*tickSize*lineHeight + 8
	}
	height := gridTop + float64(lineCount)*lineH + keyH + margin

	c := newCanvas(spec.id, spec.title, width, height)
	c.text(margin, top, spec.title, textStyle{size: titleSize, bold: true})
	for i, l := range subtitleLines {
		c.text(margin, top+6+float64(i+1)*labelSize*lineHeight, l, textStyle{size: labelSize, color: "#555"})
	}
	drawLegend(c, legend, legendPos)

	probe := newScale(all, 0, 1)
	for li := range lineCount {
		y0 := gridTop + float64(li)*lineH
		rowsTop := y0 + headerH
		// Strategy labels, once per line of panels.
		for ri, r := range rows {
			cy := rowsTop + float64(ri)*rowPitch + rowPitch/2
			if r.heading != "" {
				c.text(margin, cy+4, strings.ToUpper(r.heading), textStyle{size: headingSize, bold: true, color: "#777"})
				continue
			}
			book.swatch(c, r.label, margin, cy-swatch/2, swatch)
			c.text(margin+swatch+6, cy+4, book.name(r.label), textStyle{size: labelSize})
		}
		for k := 0; k < perLine && li*perLine+k < n; k++ {
			fi := li*perLine + k
			f := spec.facets[fi]
			fx := margin + labelW + float64(k)*(facetW+facetGap)
			for hi, h := range headerLines[fi] {
				c.text(fx, y0+labelSize+float64(hi)*labelSize*lineHeight, h, textStyle{size: labelSize, bold: true})
			}
			x0, x1 := fx+2, fx+facetW-valW
			sc := probe
			sc.p0, sc.p1 = x0, x1
			drawAxis(c, sc, x0, rowsTop, rowsTop+rowsH, spec.unit, spec.axisTitle)
			best := bestOf(f.main, spec.strategies, spec.higherBetter)
			for ri, r := range rows {
				if r.heading != "" {
					continue
				}
				cy := rowsTop + float64(ri)*rowPitch + rowPitch/2
				drawFacetRow(c, spec, sc, f, r.label, cy, r.label == best)
			}
		}
	}
	ky := gridTop + float64(lineCount)*lineH + 4
	for _, l := range keyLines {
		ky += tickSize * lineHeight
		c.text(margin, ky, l, textStyle{size: tickSize, color: "#555"})
	}
	return c.chart(), nil
}

// A legendItem is one entry of a legend: a marker drawn by draw,
// centered at (x+markerW/2, cy), then text.
type legendItem struct {
	markerW float64
	draw    func(c *svgCanvas, x, cy float64)
	text    string
}

// placeLegend lays items out in lines from (x0, y) no wider than maxW,
// returning each item's position and the number of lines.
func placeLegend(items []legendItem, x0, y, maxW float64) (pos [][2]float64, lines int) {
	x, lines := x0, 1
	for _, it := range items {
		w := it.markerW + 5 + textWidth(it.text, tickSize, false)
		if x > x0 && x+w > x0+maxW {
			x, y, lines = x0, y+tickSize*lineHeight+4, lines+1
		}
		pos = append(pos, [2]float64{x, y})
		x += w + 16
	}
	return pos, lines
}

// drawLegend draws items at the positions placeLegend gave.
func drawLegend(c *svgCanvas, items []legendItem, pos [][2]float64) {
	for i, it := range items {
		x, y := pos[i][0], pos[i][1]
		it.draw(c, x, y-4)
		c.text(x+it.markerW+5, y, it.text, textStyle{size: tickSize, color: "#444"})
	}
}

// facetLegend explains the marks of spec, drawn above the panels:
// outside the plotting area.
func facetLegend(spec facetSpec) []legendItem {
	var items []legendItem
	if spec.ranges {
		items = append(items,
			legendItem{10, func(c *svgCanvas, x, cy float64) {
				c.raw(`<circle cx="%s" cy="%s" r="4" fill="#555"/>`+"\n", num(x+5), num(cy))
			}, "p50"},
			legendItem{12, func(c *svgCanvas, x, cy float64) {
				c.raw(`<path d="%s" fill="#555"/>`+"\n", diamond(x+6, cy, 5))
			}, "p99 (labelled)"})
	}
	items = append(items,
		legendItem{14, func(c *svgCanvas, x, cy float64) {
			c.raw(`<g stroke="#333" stroke-width="1.2"><line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/></g>`+"\n",
				num(x), num(cy-4), num(x), num(cy+4), num(x), num(cy), num(x+14), num(cy), num(x+14), num(cy-4), num(x+14), num(cy+4))
		}, "95% interval over the rounds"})
	if spec.maxCV > 0 && !math.IsInf(spec.maxCV, 1) {
		items = append(items, legendItem{10, func(c *svgCanvas, x, cy float64) { drawUnstableMarker(c, x+5, cy) },
			fmt.Sprintf("unstable: rounds vary (CV > %.0f%%)", 100*spec.maxCV)})
	}
	if anyErrors(spec) {
		items = append(items, legendItem{10, func(c *svgCanvas, x, cy float64) { drawErrorsMarker(c, x+5, cy) }, "some tasks failed"})
	}
	if hasPython(spec.strategies) {
		items = append(items, legendItem{10, func(c *svgCanvas, x, cy float64) {
			c.raw(`<rect x="%s" y="%s" width="10" height="10" fill="url(#%s)" stroke="#555"/>`+"\n", num(x), num(cy-5), hatchLegend(c))
		}, "hatched, hollow or dashed: Python"})
	}
	return items
}

// hatchLegend defines a grey hatch for legends and returns its id.
func hatchLegend(c *svgCanvas) string {
	id := c.id + "-hatchkey"
	if !strings.Contains(c.defs.String(), `id="`+id+`"`) {
		fmt.Fprintf(&c.defs, `<pattern id="%s" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">`+
			`<rect width="6" height="6" fill="%s"/><rect width="3" height="6" fill="#555"/></pattern>`+"\n", id, tint("#555555"))
	}
	return id
}

// anyErrors reports whether a cell of spec lost tasks.
func anyErrors(spec facetSpec) bool {
	for _, f := range spec.facets {
		for _, e := range f.main {
			if e.errors > 0 {
				return true
			}
		}
	}
	return false
}

func hasPython(labels []string) bool {
	for _, l := range labels {
		if isPython(l) {
			return true
		}
	}
	return false
}

// drawAxis draws a panel's grid lines, axis, ticks and tick labels.
func drawAxis(c *svgCanvas, sc scale, x0, top, bottom float64, unit, title string) {
	fmtTick := func(v float64) string { return valueText(v, unit) }
	ticks := sc.ticks(func(v float64) float64 { return textWidth(fmtTick(v), tickSize, false) }, 8)
	for _, v := range ticks {
		x := sc.pos(v)
		c.line(x, top, x, bottom, "#e4e4e4", 1, "")
		c.line(x, bottom, x, bottom+4, "#666", 1, "")
		c.text(x, bottom+4+tickSize, fmtTick(v), textStyle{size: tickSize, anchor: middle, color: "#444"})
	}
	c.line(sc.p0, bottom, sc.p1, bottom, "#666", 1, "")
	c.line(x0, top, x0, bottom, "#666", 1, "")
	if title == "" {
		title = unit
	}
	if sc.log {
		title += " · log scale"
	}
	c.text((sc.p0+sc.p1)/2, bottom+4+2*tickSize*lineHeight+2, title, textStyle{size: tickSize, anchor: middle, color: "#666"})
}

// drawFacetRow draws one strategy in one panel: its bar or range, the
// whiskers, and the value label, or why there is no value.
func drawFacetRow(c *svgCanvas, spec facetSpec, sc scale, f facetData, label string, cy float64, best bool) {
	book := spec.book
	lk := book.look(label)
	e := f.main[label]
	switch e.state {
	case missing:
		c.text(sc.p0+4, cy+4, "not run", textStyle{size: tickSize, color: "#999"})
		return
	case failed:
		c.raw(`<g class="failed-cell"><title>%s</title>`, htmlText(e.note))
		c.text(sc.p0+4, cy+4, "FAILED", textStyle{size: tickSize, bold: true, color: "#b00020"})
		c.raw("</g>\n")
		return
	}
	tip := lk.label + ": " + e.note
	end := sc.pos(e.center)
	if spec.ranges {
		lowE := f.low[label]
		dash := ""
		if lk.python {
			dash = ` stroke-dasharray="4 2"`
		}
		if lowE.state == measured {
			lx := sc.pos(lowE.center)
			c.occupy(box{math.Min(lx, end) - 5, cy - 5, math.Max(lx, end) + 5, cy + 5})
			c.mark("line", fmt.Sprintf(`x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="3"%s`,
				num(lx), num(cy), num(end), num(cy), lk.color, dash), tip)
			whisker(c, sc, lowE, cy, 6)
			fill := lk.color
			if lk.python {
				fill = "#fff"
			}
			c.mark("circle", fmt.Sprintf(`cx="%s" cy="%s" r="4.5" fill="%s" stroke="%s" stroke-width="1.5"`,
				num(lx), num(cy), fill, lk.color), lk.label+" p50: "+lowE.note)
		}
		whisker(c, sc, e, cy, 8)
		fill := lk.color
		if lk.python {
			fill = "#fff"
		}
		c.mark("path", fmt.Sprintf(`d="%s" fill="%s" stroke="%s" stroke-width="1.5"`, diamond(end, cy, 6), fill, lk.color),
			lk.label+" p99: "+e.note)
		c.occupy(box{end - 6.75, cy - 6.75, end + 6.75, cy + 6.75})
	} else {
		w := math.Max(end-sc.p0, 1)
		c.mark("rect", fmt.Sprintf(`x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="%s" stroke-width="1"`,
			num(sc.p0), num(cy-barHeight/2), num(w), num(barHeight), book.fill(c, label), lk.color), tip)
		c.occupy(box{sc.p0, cy - barHeight/2, sc.p0 + w + 0.5, cy + barHeight/2})
		whisker(c, sc, e, cy, 7)
	}
	// The label goes right of everything drawn on the row: the bar or
	// marker and both whiskers.
	tx := math.Max(end, sc.pos(e.hi)) + 6
	if spec.ranges {
		tx += 2
		if low := f.low[label]; low.state == measured {
			tx = math.Max(tx, sc.pos(low.hi)+6)
		}
	}
	b := c.text(tx, cy+4, valueText(e.center, spec.unit), textStyle{size: labelSize, bold: best, color: ink, clear: true})
	x := b.x1 + 7
	if e.unstable {
		drawUnstableMarker(c, x, cy)
		x += 12
	}
	if e.errors > 0 {
		drawErrorsMarker(c, x, cy)
	}
}

// whisker draws e's interval as a line with end caps.
func whisker(c *svgCanvas, sc scale, e estimate, cy, capH float64) {
	if e.state != measured || !(e.hi > e.lo) {
		return
	}
	l, h := sc.pos(e.lo), sc.pos(e.hi)
	if h-l < 1 {
		return
	}
	c.occupy(box{l - 0.6, cy - capH/2, h + 0.6, cy + capH/2})
	c.raw(`<g class="whisker" stroke="#222" stroke-width="1.2"><line x1="%s" y1="%s" x2="%s" y2="%s"/>`+
		`<line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/></g>`+"\n",
		num(l), num(cy), num(h), num(cy),
		num(l), num(cy-capH/2), num(l), num(cy+capH/2),
		num(h), num(cy-capH/2), num(h), num(cy+capH/2))
}

// drawUnstableMarker draws a small orange warning triangle centered at (x, cy).
func drawUnstableMarker(c *svgCanvas, x, cy float64) {
	c.raw(`<path class="unstable" d="M%s %sL%s %sL%s %sZ" fill="#f28e2b" stroke="#a85b00" stroke-width="0.8"/>`+"\n",
		num(x), num(cy-5), num(x+5), num(cy+4), num(x-5), num(cy+4))
}

// drawErrorsMarker draws a small red cross centered at (x, cy): some
// tasks of the cell failed.
func drawErrorsMarker(c *svgCanvas, x, cy float64) {
	c.raw(`<path class="errors" d="M%s %sL%s %sM%s %sL%s %s" stroke="#b00020" stroke-width="2"/>`+"\n",
		num(x-4), num(cy-4), num(x+4), num(cy+4), num(x-4), num(cy+4), num(x+4), num(cy-4))
}

// diamond is the path of a diamond of half-size r around (x, y).
func diamond(x, y, r float64) string {
	return fmt.Sprintf("M%s %sL%s %sL%s %sL%s %sZ", num(x), num(y-r), num(x+r), num(y), num(x), num(y+r), num(x-r), num(y))
}

// bestOf returns the strategy with the best measured value, or "".
func bestOf(values map[string]estimate, strategies []string, higherBetter bool) string {
	best := ""
	for _, s := range strategies {
		e := values[s]
		if e.state != measured {
			continue
		}
		if best == "" || (higherBetter && e.center > values[best].center) || (!higherBetter && e.center < values[best].center) {
			best = s
		}
	}
	return best
}

func htmlText(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}
