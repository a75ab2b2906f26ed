package report

import (
	"fmt"
	"html"
	"math"
	"strings"
	"sync"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
)

// The charts are hand-written SVG: every position is computed here, from
// the widths of the labels, so that nothing is clipped or drawn over
// another label. The charts name Liberation Sans first, then its metric
// twins Arial and Helvetica; where none is installed the browser falls
// back to its sans-serif, on Linux usually DejaVu Sans, which is wider.
// A label's width is therefore the wider of the two: Liberation Sans from
// gonum's embedded copy, DejaVu Sans from the table in metrics.go, with
// widthSlack on top for rounding and hinting. A rune outside DejaVu's
// table counts fallbackSlack times its Liberation width.

// fontFamily is the charts' font.
const fontFamily = `'Liberation Sans', Arial, Helvetica, sans-serif`

const (
	// widthSlack is room for rounding and hinting: Chromium drew the
	// report's labels in DejaVu Sans at the table's widths to 0.3%.
	widthSlack = 1.03
	// fallbackSlack covers a rune that DejaVu's table lacks: the widest
	// ratio of DejaVu to Liberation measured on the report's labels was
	// 1.28 (bold digits).
	fallbackSlack = 1.3
)

// lineHeight is the height of a line of text as a multiple of the font
// size: DejaVu Sans's ascent plus descent is 1.17 em, Liberation's 1.15.
const lineHeight = 1.2

var (
	facesOnce             sync.Once
	regularFace, boldFace font.Face
)

// faces loads Liberation Sans regular and bold once.
func faces() (regular, bold font.Face) {
	facesOnce.Do(func() {
		for _, f := range liberation.Collection() {
			if f.Font.Variant != "Sans" || f.Font.Style != 0 {
				continue
			}
			if f.Font.Weight == 0 {
				regularFace = f
			} else {
				boldFace = f
			}
		}
	})
	return regularFace, boldFace
}

// textWidth is the width in pixels that s needs at size pixels, in
// whichever of the charts' fonts draws it widest.
func textWidth(s string, size float64, bold bool) float64 {
	regular, b := faces()
	f, dv := regular, &dejaVuRegular
	if bold {
		f, dv = b, &dejaVuBold
	}
	f.Font.Size = font.Length(size)
	lib := float64(f.Width(s))
	w, ok := dv.width(s, size)
	if !ok {
		w = lib * fallbackSlack
	}
	return math.Max(lib, w) * widthSlack
}

// A box is the rectangle a piece of text or a mark covers, in the
// chart's pixels.
type box struct{ x0, y0, x1, y1 float64 }

func (b box) overlaps(o box) bool {
	const eps = 0.5
	return b.x0 < o.x1-eps && o.x0 < b.x1-eps && b.y0 < o.y1-eps && o.y0 < b.y1-eps
}

func (b box) inside(w, h float64) bool {
	const eps = 0.5
	return b.x0 >= -eps && b.y0 >= -eps && b.x1 <= w+eps && b.y1 <= h+eps
}

// An anchor is where a text's x lies: at its start, middle or end.
type anchor int

const (
	start anchor = iota
	middle
	end
)

func (a anchor) String() string { return [...]string{"start", "middle", "end"}[a] }

// A textStyle is how a text is drawn.
type textStyle struct {
	size   float64
	bold   bool
	anchor anchor
	color  string // empty: the default ink
	// rotate turns the text by -90° around (x, y), for a vertical axis
	// title.
	rotate bool
	class  string
	// clear asks that the text cover no mark the canvas was told of
	// (occupy): a value label next to its bar, not on its whisker.
	clear bool
}

// svgCanvas accumulates one chart. It records the box of every text it
// draws, so that a test can check the layout without a browser.
type svgCanvas struct {
	w, h  float64
	id    string // prefixes ids of pattern definitions: unique per page
	title string
	defs  strings.Builder
	body  strings.Builder
	texts []placedText
	marks int
	// occupied are the boxes of marks that clear texts must not cover.
	occupied []box
}

// A placedText is a drawn text and the box it covers.
type placedText struct {
	text  string
	box   box
	clear bool
}

// occupy records the box of a mark that clear texts must not cover.
func (c *svgCanvas) occupy(b box) { c.occupied = append(c.occupied, b) }

func newCanvas(id, title string, w, h float64) *svgCanvas {
	return &svgCanvas{id: id, title: title, w: math.Ceil(w), h: math.Ceil(h)}
}

// ink is the default color of text and axes.
const ink = "#222"

// text draws s with its baseline at y. Texts are single lines: wrapping is
// the caller's, so that each line's box is known.
func (c *svgCanvas) text(x, y float64, s string, st textStyle) box {
	w := textWidth(s, st.size, st.bold)
	asc, desc := 0.93*st.size, 0.24*st.size
	var b box
	switch st.anchor {
	case start:
		b = box{x, y - asc, x + w, y + desc}
	case middle:
		b = box{x - w/2, y - asc, x + w/2, y + desc}
	case end:
		b = box{x - w, y - asc, x, y + desc}
	}
	attrs := fmt.Sprintf(`x="%s" y="%s" font-size="%s"`, num(x), num(y), num(st.size))
	if st.anchor != start {
		attrs += ` text-anchor="` + st.anchor.String() + `"`
	}
	if st.bold {
		attrs += ` font-weight="bold"`
	}
	if st.color != "" {
		attrs += ` fill="` + st.color + `"`
	}
	if st.class != "" {
		attrs += ` class="` + st.class + `"`
	}
	if st.rotate {
		attrs += fmt.Sprintf(` transform="rotate(-90 %s %s)"`, num(x), num(y))
		// The box turns with the text around (x, y).
		b = rotatedBox(x, y, w, asc, desc, st.anchor)
	}
	fmt.Fprintf(&c.body, "<text %s>%s</text>\n", attrs, html.EscapeString(s))
	c.texts = append(c.texts, placedText{s, b, st.clear})
	return b
}

// rotatedBox is the box of a text turned by -90° around its anchor point
// (x, y): it reads upwards, its baseline at x.
func rotatedBox(x, y, w, asc, desc float64, a anchor) box {
	var lo, hi float64 // along the text, measured upwards from y
	switch a {
	case start:
		lo, hi = 0, w
	case middle:
		lo, hi = -w/2, w/2
	case end:
		lo, hi = -w, 0
	}
	return box{x - asc, y - hi, x + desc, y - lo}
}

// raw adds SVG markup as is.
func (c *svgCanvas) raw(format string, args ...any) {
	fmt.Fprintf(&c.body, format, args...)
}

// mark adds SVG markup that draws data (a bar, a point, a line of a
// series): the class "mark" lets a test count what a chart shows.
func (c *svgCanvas) mark(element, attrs, tooltip string) {
	c.marks++
	if tooltip == "" {
		fmt.Fprintf(&c.body, "<%s class=\"mark\" %s/>\n", element, attrs)
		return
	}
	fmt.Fprintf(&c.body, "<%s class=\"mark\" %s><title>%s</title></%s>\n", element, attrs, html.EscapeString(tooltip), element)
}

// line draws a plain line (an axis, a grid line, a whisker).
func (c *svgCanvas) line(x1, y1, x2, y2 float64, stroke string, width float64, extra string) {
	fmt.Fprintf(&c.body, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`+"\n",
		num(x1), num(y1), num(x2), num(y2), stroke, num(width), extra)
}

// svg returns the finished chart: a standalone SVG document that also
// inlines in HTML (no XML declaration, no external reference).
func (c *svgCanvas) svg() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %s %s" width="%s" height="%s" font-family="%s" role="img" aria-label="%s">`+"\n",
		num(c.w), num(c.h), num(c.w), num(c.h), html.EscapeString(fontFamily), html.EscapeString(c.title))
	fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString(c.title))
	if c.defs.Len() > 0 {
		b.WriteString("<defs>\n" + c.defs.String() + "</defs>\n")
	}
	fmt.Fprintf(&b, `<rect width="%s" height="%s" fill="#fff"/>`+"\n", num(c.w), num(c.h))
	b.WriteString(c.body.String())
	b.WriteString("</svg>\n")
	return b.String()
}

// layoutFaults lists texts that leave the canvas, overlap another text,
// or (clear texts) cover a mark, as the layout computed them.
func (c *svgCanvas) layoutFaults() []string {
	var faults []string
	for i, t := range c.texts {
		if !t.box.inside(c.w, c.h) {
			faults = append(faults, fmt.Sprintf("%q leaves the %gx%g chart: %+v", t.text, c.w, c.h, t.box))
		}
		if t.clear {
			for _, o := range c.occupied {
				if t.box.overlaps(o) {
					faults = append(faults, fmt.Sprintf("%q covers a mark at %+v", t.text, o))
					break
				}
			}
		}
		for _, u := range c.texts[i+1:] {
			if t.box.overlaps(u.box) {
				faults = append(faults, fmt.Sprintf("%q overlaps %q", t.text, u.text))
			}
		}
	}
	return faults
}

// num formats a coordinate with at most two decimals.
func num(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// wrapLabel splits a label such as "latency=1ms/cpu=500us/tasks=500" into
// lines of at most width pixels, breaking after the separators in seps
// ("/", ",", " "); a part longer than a line is cut with an ellipsis.
func wrapLabel(s string, width, size float64, bold bool, seps string) []string {
	var parts []string
	last := 0
	for i, r := range s {
		if strings.ContainsRune(seps, r) {
			parts = append(parts, s[last:i+len(string(r))])
			last = i + len(string(r))
		}
	}
	if last < len(s) {
		parts = append(parts, s[last:])
	}
	var lines []string
	cur := ""
	for _, p := range parts {
		if cur != "" && textWidth(cur+p, size, bold) > width {
			lines = append(lines, strings.TrimRight(cur, " "))
			cur = ""
		}
		cur += p
	}
	if cur != "" {
		lines = append(lines, strings.TrimRight(cur, " "))
	}
	for i, l := range lines {
		lines[i] = ellipsize(l, width, size, bold)
	}
	return lines
}

// ellipsize cuts s with "…" so that it fits width.
func ellipsize(s string, width, size float64, bold bool) string {
	if textWidth(s, size, bold) <= width {
		return s
	}
	r := []rune(s)
	for n := len(r) - 1; n > 0; n-- {
		if t := string(r[:n]) + "…"; textWidth(t, size, bold) <= width {
			return t
		}
	}
	return "…"
}
