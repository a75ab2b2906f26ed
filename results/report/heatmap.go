package report

import (
	"fmt"
	"math"
)

// A heatSpec describes the overview: a row per strategy, a column per
// workload, each cell the strategy's speedup against the baseline.
type heatSpec struct {
	id, title, subtitle string
	rows                []string // strategy labels
	cols                []string // workloads
	cells               map[[2]string]heatCell
	book                *lookBook
}

// A heatCell is one strategy on one workload.
type heatCell struct {
	state   cellState
	speedup float64
	// partial: some rows of the workload failed or were not run, so the
	// speedup covers fewer rows than the baseline's.
	partial  bool
	unstable bool
	note     string
}

// heatRange is the speedup at which the colour saturates: 100× either way.
const heatRange = 2.0 // decades

// heatmap draws spec: blue where a strategy is faster than the baseline,
// red where slower, white at par, with the speedup written in each cell.
func heatmap(spec heatSpec) (chart, error) {
	if len(spec.rows) == 0 || len(spec.cols) == 0 {
		return chart{}, fmt.Errorf("report: chart %q: nothing to draw", spec.title)
	}
	book := spec.book
	const swatch, rowH = 10.0, 24.0
	labelW := 0.0
	for _, r := range spec.rows {
		labelW = math.Max(labelW, textWidth(book.name(r), labelSize, false))
	}
	labelW += swatch + 14
	cellW := textWidth("÷10.9k*", labelSize, true) + 26 // and the unstable marker
	var headers [][]string
	headerLines := 1
	for _, col := range spec.cols {
		cellW = math.Max(cellW, math.Min(textWidth(col, labelSize, true)+12, 130))
	}
	for _, col := range spec.cols {
		h := wrapLabel(col, cellW-8, labelSize, true, " /")
		headers = append(headers, h)
		headerLines = max(headerLines, len(h))
	}
	gridW := float64(len(spec.cols)) * cellW
	width := math.Max(2*margin+labelW+gridW, 520)
	subtitleLines := wrapLabel(spec.subtitle, width-2*margin, labelSize, false, " ")
	top := margin + titleSize
	gridTop := top + 10 + float64(len(subtitleLines))*labelSize*lineHeight + float64(headerLines)*labelSize*lineHeight + 8
	gridBottom := gridTop + float64(len(spec.rows))*rowH
	legendTop := gridBottom + 18
	height := legendTop + 12 + 8 + tickSize*lineHeight + tickSize*lineHeight*2 + margin

	c := newCanvas(spec.id, spec.title, width, height)
	c.text(margin, top, spec.title, textStyle{size: titleSize, bold: true})
	for i, l := range subtitleLines {
		c.text(margin, top+6+float64(i+1)*labelSize*lineHeight, l, textStyle{size: labelSize, color: "#555"})
	}
	gx := margin + labelW
	for j, h := range headers {
		cx := gx + (float64(j)+0.5)*cellW
		for k, line := range h {
			y := gridTop - 8 - float64(len(h)-1-k)*labelSize*lineHeight
			c.text(cx, y, line, textStyle{size: labelSize, bold: true, anchor: middle})
		}
	}
	for i, r := range spec.rows {
		y := gridTop + float64(i)*rowH
		book.swatch(c, r, margin, y+rowH/2-swatch/2, swatch)
		c.text(margin+swatch+6, y+rowH/2+4, book.name(r), textStyle{size: labelSize})
		for j, col := range spec.cols {
			x := gx + float64(j)*cellW
			cell := spec.cells[[2]string{r, col}]
			tip := book.look(r).label + " on " + col + ": " + cell.note
			switch cell.state {
			case missing:
				c.raw(`<rect x="%s" y="%s" width="%s" height="%s" fill="#fafafa" stroke="#fff"/>`+"\n",
					num(x), num(y), num(cellW), num(rowH))
				c.text(x+cellW/2, y+rowH/2+4, "–", textStyle{size: labelSize, anchor: middle, color: "#bbb"})
			case failed:
				c.mark("rect", fmt.Sprintf(`x="%s" y="%s" width="%s" height="%s" fill="#e0e0e0" stroke="#fff"`,
					num(x), num(y), num(cellW), num(rowH)), tip)
				c.text(x+cellW/2, y+rowH/2+4, "FAILED", textStyle{size: tickSize, bold: true, anchor: middle, color: "#b00020"})
			default:
				t := heatPosition(cell.speedup)
				c.mark("rect", fmt.Sprintf(`x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#fff"`,
					num(x), num(y), num(cellW), num(rowH), heatColor(t)), tip)
				text := speedText(cell.speedup)
				if cell.partial {
					text += "*"
				}
				color := ink
				if math.Abs(t) > 0.55 {
					color = "#fff"
				}
				b := c.text(x+cellW/2, y+rowH/2+4, text, textStyle{size: labelSize, bold: r == spec.rows[0], anchor: middle, color: color})
				if cell.unstable {
					drawUnstableMarker(c, math.Min(b.x1+7, x+cellW-6), y+rowH/2)
				}
			}
		}
	}
	// The colour key, under the grid.
	const keyW = 300.0
	kx := margin + textWidth(speedText(math.Pow(10, -heatRange)), tickSize, false)/2
	steps := 40
	for s := range steps {
		t := -1 + 2*(float64(s)+0.5)/float64(steps)
		c.raw(`<rect x="%s" y="%s" width="%s" height="12" fill="%s"/>`+"\n",
			num(kx+float64(s)*keyW/float64(steps)), num(legendTop), num(keyW/float64(steps)+0.3), heatColor(t))
	}
	for _, d := range []float64{-2, -1, 0, 1, 2} {
		x := kx + (d/heatRange+1)/2*keyW
		c.line(x, legendTop+12, x, legendTop+16, "#666", 1, "")
		label := speedText(math.Pow(10, d))
		c.text(x, legendTop+16+tickSize, label, textStyle{size: tickSize, anchor: middle, color: "#444"})
	}
	ny := legendTop + 16 + tickSize + tickSize*lineHeight + 4
	c.text(margin, ny, "n×: n times faster than the baseline · ÷n: n times slower", textStyle{size: tickSize, color: "#444"})
	c.text(margin, ny+tickSize*lineHeight, "* fewer rows than the baseline (failed or not run)", textStyle{size: tickSize, color: "#444"})
	return c.chart(), nil
}

// heatPosition maps a speedup to -1 (100× slower) … 1 (100× faster).
func heatPosition(s float64) float64 {
	if s <= 0 || math.IsNaN(s) {
		return 0
	}
	return math.Max(-1, math.Min(1, math.Log10(s)/heatRange))
}

// heatColor is a diverging red-white-blue colour for t in [-1, 1]
// (ColorBrewer RdBu ends).
func heatColor(t float64) string {
	lo, mid, hi := [3]float64{178, 24, 43}, [3]float64{247, 247, 247}, [3]float64{33, 102, 172}
	from, to, f := mid, hi, t
	if t < 0 {
		to, f = lo, -t
	}
	var c [3]int
	for i := range c {
		c[i] = int(from[i]*(1-f) + to[i]*f + 0.5)
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}
