package report

import (
	"fmt"
	"slices"
	"strings"
)

// Every strategy keeps one look across the report's charts: a colour,
// and for the Python systems (py-*) a hatched fill and dashed lines, so
// that Go and Python read apart at a glance even where two colours are
// close. The two palettes hold 20 colours, no two alike.

// goColors are solid fills (Observable's ten categorical colours): the
// first six go to blocking, threads, goroutines, pool, reactor and simd.
var goColors = []string{
	"#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#a463f2",
	"#ff8ab7", "#97bbf5", "#9c6b4e", "#9498a0",
}

// pythonColors are darker tones, drawn hatched: the first nine go to the
// Python systems in pythonOrder.
var pythonColors = []string{
	"#1f3d7a", "#d95f02", "#b2182b", "#00758f", "#c51b7d", "#6b8e23",
	"#8c510a", "#5e3c99", "#4d4d4d", "#b8860b",
}

var goOrder = []string{"blocking", "threads", "goroutines", "pool", "reactor", "simd"}

var pythonOrder = []string{"py-blocking", "py-threads", "py-pool", "py-asyncio", "py-uvloop",
	"py-gevent", "py-tornado", "py-twisted", "py-stackless"}

// A look is how one strategy is drawn.
type look struct {
	label  string // the full label, as in bench.txt: "pool(workers=8)"
	short  string // the label in charts: "pool"
	python bool
	color  string
	index  int // the look's number in its book: names its pattern
}

// A lookBook assigns looks to the strategy labels of one report.
type lookBook struct {
	looks map[string]*look
	order []string // Go labels first, then Python, each in first-seen order
}

// isPython reports whether a strategy label names a Python system.
func isPython(label string) bool { return strings.HasPrefix(label, "py-") }

// strategyName is the label without its parameters: "pool" for
// "pool(workers=8)".
func strategyName(label string) string {
	name, _, _ := strings.Cut(label, "(")
	return name
}

// newLookBook gives each label a colour: known strategies their own, then
// the palette's free colours in order (a sweep such as pool.workers=2,8
// gets two), cycling with darker shades beyond twenty.
func newLookBook(labels []string) *lookBook {
	b := &lookBook{looks: map[string]*look{}}
	var goLabels, pyLabels []string
	for _, l := range labels {
		if _, dup := b.looks[l]; dup {
			continue
		}
		b.looks[l] = &look{label: l, python: isPython(l)}
		if isPython(l) {
			pyLabels = append(pyLabels, l)
		} else {
			goLabels = append(goLabels, l)
		}
	}
	b.order = append(goLabels, pyLabels...)
	assign := func(labels, known, palette []string) {
		used := map[int]bool{}
		var rest []string
		for _, l := range labels {
			i := slices.Index(known, strategyName(l))
			if i >= 0 && i < len(palette) && !used[i] {
				used[i] = true
				b.looks[l].color = palette[i]
				continue
			}
			rest = append(rest, l)
		}
		next := 0
		for _, l := range rest {
			for next < len(palette) && used[next] {
				next++
			}
			c := palette[next%len(palette)]
			if next >= len(palette) {
				c = darker(c)
			}
			used[next] = true
			next++
			b.looks[l].color = c
		}
	}
	assign(goLabels, goOrder, goColors)
	assign(pyLabels, pythonOrder, pythonColors)
	for i, l := range b.order {
		b.looks[l].index = i
	}
	shorten(b)
	return b
}

// shorten gives each label a short form: the strategy's name where one
// label has that name, otherwise the name with the parameters that tell
// its labels apart ("reactor(loops=2)").
func shorten(b *lookBook) {
	byName := map[string][]string{}
	for _, l := range b.order {
		n := strategyName(l)
		byName[n] = append(byName[n], l)
	}
	for name, labels := range byName {
		if len(labels) == 1 {
			b.looks[labels[0]].short = name
			continue
		}
		// Parameters whose value differs between the labels.
		values := map[string]map[string]bool{}
		for _, l := range labels {
			for _, kv := range params(l) {
				k, v, _ := strings.Cut(kv, "=")
				if values[k] == nil {
					values[k] = map[string]bool{}
				}
				values[k][v] = true
			}
		}
		for _, l := range labels {
			var keep []string
			for _, kv := range params(l) {
				k, _, _ := strings.Cut(kv, "=")
				if len(values[k]) > 1 {
					keep = append(keep, kv)
				}
			}
			short := l
			if len(keep) > 0 {
				short = name + "(" + strings.Join(keep, ",") + ")"
			}
			b.looks[l].short = short
		}
	}
}

// params splits "reactor(loops=1,conns=0)" into "loops=1", "conns=0".
func params(label string) []string {
	_, rest, ok := strings.Cut(label, "(")
	if !ok {
		return nil
	}
	rest = strings.TrimSuffix(rest, ")")
	if rest == "" {
		return nil
	}
	return strings.Split(rest, ",")
}

// maxLabelW is the widest a strategy label may be in a chart, so that a
// sweep of long parameters cannot squeeze the plots; longer labels are
// cut with "…" (the chart's key gives them whole).
const maxLabelW = 260.0

// name is label's short form as a chart writes it, cut to maxLabelW.
func (b *lookBook) name(label string) string {
	return ellipsize(b.look(label).short, maxLabelW, labelSize, false)
}

// look returns the look of label, adding a grey one for a label the
// book was not made with.
func (b *lookBook) look(label string) *look {
	if l, ok := b.looks[label]; ok {
		return l
	}
	l := &look{label: label, short: label, python: isPython(label), color: "#777", index: len(b.order)}
	b.looks[label] = l
	b.order = append(b.order, label)
	return l
}

// fill returns the SVG fill of label's bars on canvas c, defining the
// hatch pattern there the first time a Python look is used.
func (b *lookBook) fill(c *svgCanvas, label string) string {
	l := b.look(label)
	if !l.python {
		return l.color
	}
	id := fmt.Sprintf("%s-hatch%d", c.id, l.index)
	if !strings.Contains(c.defs.String(), `id="`+id+`"`) {
		fmt.Fprintf(&c.defs, `<pattern id="%s" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">`+
			`<rect width="6" height="6" fill="%s"/><rect width="3" height="6" fill="%s"/></pattern>`+"\n",
			id, tint(l.color), l.color)
	}
	return "url(#" + id + ")"
}

// swatch draws the legend square of label at (x, y), size s.
func (b *lookBook) swatch(c *svgCanvas, label string, x, y, s float64) {
	l := b.look(label)
	c.raw(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="%s"/>`+"\n",
		num(x), num(y), num(s), num(s), b.fill(c, label), l.color)
}

// keyLines lists "short = full label" for each look whose short form
// differs, for the key under a chart.
func (b *lookBook) keyLines(labels []string) []string {
	var out []string
	for _, l := range labels {
		lk := b.look(l)
		if lk.short != lk.label {
			out = append(out, lk.short+" = "+lk.label)
		}
	}
	return out
}

// tint mixes color with white, 75% white: the light stripes of a hatch.
func tint(color string) string { return mix(color, 255, 0.75) }

// darker mixes color with black, 35% black.
func darker(color string) string { return mix(color, 0, 0.35) }

func mix(color string, with int, f float64) string {
	var r, g, bl int
	if _, err := fmt.Sscanf(color, "#%02x%02x%02x", &r, &g, &bl); err != nil {
		return color
	}
	m := func(v int) int { return int(float64(v)*(1-f) + float64(with)*f + 0.5) }
	return fmt.Sprintf("#%02x%02x%02x", m(r), m(g), m(bl))
}
