package report

import (
	"fmt"
	"math"
	"strings"
)

// A lineSpec describes a chart of lines: a panel per group of rows, a
// line per strategy, the legend to the right of the panels.
type lineSpec struct {
	id, title, subtitle string
	xTitle, yTitle      string
	xUnit, yUnit        string // format the ticks: "sec/op" as durations, others as numbers

	// categories, when set, puts the x values 0, 1, ... at evenly spaced
	// positions labelled by categories (the mixed workload's CPU bursts,
	// which start at zero, so a log axis cannot hold them).
	categories []string

	panels []linePanel
	book   *lookBook

	// crossNote explains the points drawn with a cross (lineSeries'
	// points with crossed set); empty when none is.
	crossNote string
}

// A linePanel is one plot of a line chart.
type linePanel struct {
	title  string
	series []lineSeries
}

// A lineSeries is one strategy's line.
type lineSeries struct {
	label  string
	points []linePoint
}

// A linePoint is a value y (with its interval) at x; crossed marks it,
// as the spec's crossNote says.
type linePoint struct {
	x       float64
	y       estimate
	crossed bool
}

const (
	plotHeight  = 300.0
	panelWidth  = 400.0
	panelWide   = 560.0 // a chart's single panel
	legendPitch = 18.0
)

// lineChart draws spec: lines with markers and 95% whiskers, one scale
// for all panels on each axis (y logarithmic when it spans more than
// logSpread; x too, for numbers), the legend outside the plots.
func lineChart(spec lineSpec) (chart, error) {
	book := spec.book
	var labels []string
	var xs, ys []float64
	seen := map[string]bool{}
	points := 0
	for _, p := range spec.panels {
		for _, s := range p.series {
			if !seen[s.label] {
				seen[s.label] = true
				labels = append(labels, s.label)
			}
			for _, pt := range s.points {
				if pt.y.state != measured {
					continue
				}
				points++
				xs = append(xs, pt.x)
				ys = append(ys, pt.y.center, pt.y.lo, pt.y.hi)
			}
		}
	}
	if points == 0 {
		return chart{}, fmt.Errorf("report: chart %q: nothing to draw", spec.title)
	}
	// Legend order: as the book orders strategies (Go, then Python).
	var legend []string
	for _, l := range book.order {
		if seen[l] {
			legend = append(legend, l)
		}
	}
	for _, l := range labels {
		if !contains(legend, l) {
			legend = append(legend, l)
		}
	}

	// Horizontal layout: y tick labels, panels, legend.
	yScale := newScale(ys, 0, 1)
	yTick := func(v float64) string { return valueText(v, spec.yUnit) }
	yLabelW := 0.0
	for _, v := range yScale.tickCandidates()[0] {
		yLabelW = math.Max(yLabelW, textWidth(yTick(v), tickSize, false))
	}
	pw := panelWidth
	if len(spec.panels) == 1 {
		pw = panelWide
	}
	legendW := 0.0
	for _, l := range legend {
		legendW = math.Max(legendW, textWidth(book.name(l), labelSize, false))
	}
	legendW = math.Max(legendW, textWidth("95% interval", tickSize, false))
	legendW = math.Max(legendW, textWidth(spec.crossNote, tickSize, false))
	legendW += 34
	yAxisW := tickSize*lineHeight + 8 + yLabelW + 8
	width := 2*margin + yAxisW + float64(len(spec.panels))*pw + float64(len(spec.panels)-1)*facetGap + 24 + legendW

	subtitleLines := wrapLabel(spec.subtitle, width-2*margin, labelSize, false, " ")
	top := margin + titleSize
	headerLines := 0
	panelHeaders := make([][]string, len(spec.panels))
	for i, p := range spec.panels {
		panelHeaders[i] = wrapLabel(p.title, pw, labelSize, true, "/, ")
		headerLines = max(headerLines, len(panelHeaders[i]))
	}
	plotTop := top + 8 + float64(len(subtitleLines))*labelSize*lineHeight + float64(headerLines)*labelSize*lineHeight + 14
	ph := math.Max(plotHeight, float64(len(legend))*legendPitch+8)
	plotBottom := plotTop + ph
	height := plotBottom + axisHeight + 12
	notes := 0
	if spec.crossNote != "" {
		notes = 1
	}
	legendBottom := plotTop + float64(len(legend)+1+notes)*legendPitch + 8
	height = math.Max(height, legendBottom)
	var keyLines []string
	if keys := book.keyLines(legend); len(keys) > 0 {
		keyLines = wrapLabel("Labels: "+strings.Join(keys, " · "), width-2*margin, tickSize, false, " ")
	}
	keyTop := height
	height += float64(len(keyLines))*tickSize*lineHeight + margin

	c := newCanvas(spec.id, spec.title, width, height)
	c.text(margin, top, spec.title, textStyle{size: titleSize, bold: true})
	for i, l := range subtitleLines {
		c.text(margin, top+6+float64(i+1)*labelSize*lineHeight, l, textStyle{size: labelSize, color: "#555"})
	}

	yScale.p0, yScale.p1 = plotBottom, plotTop
	yTicks := yScale.ticks(func(float64) float64 { return tickSize * lineHeight }, 4)
	var xScale scale
	x0 := margin + yAxisW
	if spec.categories == nil {
		xScale = newScale(xs, 0, 1)
	}
	for pi, p := range spec.panels {
		px := x0 + float64(pi)*(pw+facetGap)
		for hi, h := range panelHeaders[pi] {
			c.text(px, plotTop-10-float64(len(panelHeaders[pi])-1-hi)*labelSize*lineHeight, h, textStyle{size: labelSize, bold: true})
		}
		// The x axis: categories evenly spaced, or numbers.
		xpos := func(x float64) float64 {
			if spec.categories != nil {
				step := pw / float64(len(spec.categories))
				return px + step*(x+0.5)
			}
			s := xScale
			s.p0, s.p1 = px+10, px+pw-10
			return s.pos(x)
		}
		// Grid and y axis.
		for _, v := range yTicks {
			y := yScale.pos(v)
			c.line(px, y, px+pw, y, "#e4e4e4", 1, "")
			if pi == 0 {
				c.line(px-4, y, px, y, "#666", 1, "")
				c.text(px-7, y+4, yTick(v), textStyle{size: tickSize, anchor: end, color: "#444"})
			}
		}
		c.line(px, plotTop, px, plotBottom, "#666", 1, "")
		c.line(px, plotBottom, px+pw, plotBottom, "#666", 1, "")
		var xTicks []float64
		var xText func(float64) string
		if spec.categories != nil {
			for i := range spec.categories {
				xTicks = append(xTicks, float64(i))
			}
			xText = func(x float64) string { return spec.categories[int(x)] }
		} else {
			s := xScale
			s.p0, s.p1 = px+10, px+pw-10
			xText = func(x float64) string { return valueText(x, spec.xUnit) }
			xTicks = s.ticks(func(v float64) float64 { return textWidth(xText(v), tickSize, false) }, 10)
		}
		for _, v := range xTicks {
			x := xpos(v)
			c.line(x, plotTop, x, plotBottom, "#f0f0f0", 1, "")
			c.line(x, plotBottom, x, plotBottom+4, "#666", 1, "")
			c.text(x, plotBottom+4+tickSize, xText(v), textStyle{size: tickSize, anchor: middle, color: "#444"})
		}
		xTitle := spec.xTitle
		if spec.categories == nil && xScale.log {
			xTitle += " · log scale"
		}
		c.text(px+pw/2, plotBottom+4+2*tickSize*lineHeight+2, xTitle, textStyle{size: tickSize, anchor: middle, color: "#666"})

		// The lines, whiskers, markers.
		for _, s := range p.series {
			lk := book.look(s.label)
			var path string
			for _, pt := range s.points {
				if pt.y.state != measured {
					continue
				}
				cmd := "L"
				if path == "" {
					cmd = "M"
				}
				path += fmt.Sprintf("%s%s %s", cmd, num(xpos(pt.x)), num(yScale.pos(pt.y.center)))
			}
			if path != "" {
				dash := ""
				if lk.python {
					dash = ` stroke-dasharray="6 3"`
				}
				c.mark("path", fmt.Sprintf(`d="%s" fill="none" stroke="%s" stroke-width="2"%s`, path, lk.color, dash), lk.label)
			}
			for _, pt := range s.points {
				if pt.y.state != measured {
					continue
				}
				x, y := xpos(pt.x), yScale.pos(pt.y.center)
				if pt.y.hi > pt.y.lo {
					l, h := yScale.pos(pt.y.lo), yScale.pos(pt.y.hi)
					if l-h >= 1 {
						c.raw(`<g class="whisker" stroke="%s" stroke-width="1.2"><line x1="%s" y1="%s" x2="%s" y2="%s"/>`+
							`<line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/></g>`+"\n",
							lk.color, num(x), num(l), num(x), num(h), num(x-3), num(l), num(x+3), num(l), num(x-3), num(h), num(x+3), num(h))
					}
				}
				tip := fmt.Sprintf("%s at %s: %s", lk.label, xLabelOf(spec, pt.x), pt.y.note)
				c.mark("path", fmt.Sprintf(`d="%s" %s`, markerPath(lk, x, y), markerPaint(lk)), tip)
				if pt.crossed {
					c.raw(`<path d="M%s %sL%s %sM%s %sL%s %s" stroke="#b00020" stroke-width="2"/>`+"\n",
						num(x-6), num(y-6), num(x+6), num(y+6), num(x-6), num(y+6), num(x+6), num(y-6))
				}
				if pt.y.unstable {
					drawUnstableMarker(c, x+9, y-9)
				}
			}
		}
	}
	// The y axis title, turned, left of the tick labels.
	yTitle := spec.yTitle
	if yScale.log {
		yTitle += " · log scale"
	}
	yTitle = ellipsize(yTitle, ph, labelSize, false)
	c.text(margin+labelSize, (plotTop+plotBottom)/2, yTitle, textStyle{size: labelSize, anchor: middle, rotate: true, color: "#444"})

	// The legend, right of the panels.
	lx := x0 + float64(len(spec.panels))*pw + float64(len(spec.panels)-1)*facetGap + 24
	ly := plotTop + 4
	for i, l := range legend {
		lk := book.look(l)
		y := ly + float64(i)*legendPitch + legendPitch/2
		dash := ""
		if lk.python {
			dash = ` stroke-dasharray="6 3"`
		}
		c.raw(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>`+"\n", num(lx), num(y), num(lx+24), num(y), lk.color, dash)
		c.raw(`<path d="%s" %s/>`+"\n", markerPath(lk, lx+12, y), markerPaint(lk))
		c.text(lx+34, y+4, book.name(l), textStyle{size: labelSize})
	}
	ny := ly + float64(len(legend))*legendPitch + legendPitch/2 + 6
	st := textStyle{size: tickSize, color: "#444"}
	c.raw(`<g stroke="#333" stroke-width="1.2"><line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/></g>`+"\n",
		num(lx+12), num(ny-6), num(lx+12), num(ny+6), num(lx+9), num(ny-6), num(lx+15), num(ny-6), num(lx+9), num(ny+6), num(lx+15), num(ny+6))
	c.text(lx+34, ny+4, "95% interval", st)
	if spec.crossNote != "" {
		ny += legendPitch
		c.raw(`<path d="M%s %sL%s %sM%s %sL%s %s" stroke="#b00020" stroke-width="2"/>`+"\n",
			num(lx+7), num(ny-5), num(lx+17), num(ny+5), num(lx+7), num(ny+5), num(lx+17), num(ny-5))
		c.text(lx+34, ny+4, spec.crossNote, st)
	}
	for i, l := range keyLines {
		c.text(margin, keyTop+float64(i+1)*tickSize*lineHeight, l, textStyle{size: tickSize, color: "#555"})
	}
	return c.chart(), nil
}

func xLabelOf(spec lineSpec, x float64) string {
	if spec.categories != nil {
		return spec.categories[int(x)]
	}
	return valueText(x, spec.xUnit)
}

// markerShapes vary with the strategy so that lines of close colours
// still differ.
var markerShapes = []string{"circle", "square", "triangle", "diamond"}

// markerPath draws lk's marker around (x, y).
func markerPath(lk *look, x, y float64) string {
	switch markerShapes[lk.index%len(markerShapes)] {
	case "square":
		r := 4.0
		return fmt.Sprintf("M%s %sh%sv%sh%sZ", num(x-r), num(y-r), num(2*r), num(2*r), num(-2*r))
	case "triangle":
		return fmt.Sprintf("M%s %sL%s %sL%s %sZ", num(x), num(y-5.5), num(x+5), num(y+4), num(x-5), num(y+4))
	case "diamond":
		return diamond(x, y, 5.5)
	}
	r := 4.5
	return fmt.Sprintf("M%s %sa%s %s 0 1 0 %s 0a%s %s 0 1 0 %s 0Z", num(x-r), num(y), num(r), num(r), num(2*r), num(r), num(r), num(-2*r))
}

// markerPaint fills Go markers and leaves Python ones hollow.
func markerPaint(lk *look) string {
	if lk.python {
		return fmt.Sprintf(`fill="#fff" stroke="%s" stroke-width="2"`, lk.color)
	}
	return fmt.Sprintf(`fill="%s" stroke="#fff" stroke-width="1"`, lk.color)
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
