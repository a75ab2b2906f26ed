package report

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// A chart is one SVG figure of a report, ready to inline in HTML: no
// XML declaration, no external references.
type chart struct {
	title string
	svg   string
}

// A barSeries is one colored set of bars, a value per group; NaN leaves
// a gap.
type barSeries struct {
	name   string
	values []float64
}

// chartSize fits two charts side by side on a laptop screen.
const chartWidth, chartHeight = 16 * vg.Centimeter, 9 * vg.Centimeter

// barChart draws grouped bars: a group per label on x, a bar per series.
func barChart(title, ylabel string, groups []string, series []barSeries) (chart, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	if len(series) == 0 || len(groups) == 0 {
		return chart{}, fmt.Errorf("report: chart %q: nothing to draw", title)
	}
	width := vg.Points(math.Max(4, math.Min(24, 300/float64(len(groups)*len(series)))))
	for i, s := range series {
		vals := make(plotter.Values, len(s.values))
		for j, v := range s.values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0
			}
			vals[j] = v
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return chart{}, fmt.Errorf("report: chart %q: %w", title, err)
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = vg.Length(float64(i)-float64(len(series)-1)/2) * width
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.NominalX(shortLabels(groups)...)
	return render(p, title)
}

// A lineSeries is one line of (x, y) points.
type lineSeries struct {
	name string
	xys  plotter.XYs
}

// lineChart draws one line with points per series.
func lineChart(title, xlabel, ylabel string, series []lineSeries) (chart, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, s := range series {
		line, points, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return chart{}, fmt.Errorf("report: chart %q: %w", title, err)
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		points.Color = plotutil.Color(i)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(s.name, line, points)
	}
	return render(p, title)
}

func render(p *plot.Plot, title string) (chart, error) {
	c := vgsvg.New(chartWidth, chartHeight)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return chart{}, fmt.Errorf("report: chart %q: %w", title, err)
	}
	svg := b.String()
	// Inline SVG in HTML takes no XML declaration or DOCTYPE.
	if i := strings.Index(svg, "<svg"); i > 0 {
		svg = svg[i:]
	}
	return chart{title: title, svg: svg}, nil
}

// shortLabels trims the GOMAXPROCS suffix and long parameter lists so
// that axis labels stay readable.
func shortLabels(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		if j := strings.LastIndex(l, "-"); j > 0 && strings.Trim(l[j+1:], "0123456789") == "" {
			l = l[:j]
		}
		if len(l) > 28 {
			l = l[:27] + "…"
		}
		out[i] = l
	}
	return out
}
