package report

import (
	"bytes"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/concbench/concbench/results"
)

// reportCSS styles report.html; inline, so the file opens offline. The
// charts scale down with the page (never wider than it); tables scroll
// inside their own box rather than widen the page.
const reportCSS = `
*{box-sizing:border-box}
body{font:15px/1.45 'Liberation Sans',Arial,Helvetica,sans-serif;margin:0 auto;max-width:1180px;padding:1.5em 1.2em 4em;color:#222}
h1{margin:.2em 0}h2{margin:1.8em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin:1.2em 0 .3em;font-size:1em}
.meta{color:#666;margin:0 0 1em}
nav{margin:.6em 0 1em;line-height:2}nav a{margin-right:1em;white-space:nowrap}
.verdicts{padding-left:1.2em}.verdicts li{margin:.35em 0}.verdicts .wl{font-weight:bold}
.verdict{margin:.3em 0;padding:.5em .8em;background:#f5f8fc;border-left:4px solid #4269d0}
.verdict p{margin:.15em 0}
.warn{background:#fff6ea;border-left:4px solid #f28e2b;padding:.6em .9em;margin:1em 0}
.warn ul{margin:.4em 0 0;padding-left:1.2em}
figure{margin:1.2em 0;max-width:100%;overflow-x:auto}
figure svg{display:block;max-width:100%;height:auto}
.key{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:.2em 1.5em;margin:.6em 0 1em;font-size:13px}
.key div{overflow-wrap:anywhere}
.sw{display:inline-block;width:12px;height:12px;margin-right:.45em;vertical-align:-1px;border:1px solid transparent}
.table-wrap{max-width:100%;overflow-x:auto;margin:.3em 0 1.2em;border:1px solid #e3e3e3}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}
th,td{border:1px solid #e3e3e3;padding:3px 8px;text-align:right;white-space:nowrap;vertical-align:top}
th{background:#f3f3f3;font-weight:600;white-space:normal;min-width:6em}
th:first-child,td:first-child{text-align:left;position:sticky;left:0;background:#fafafa}
td .vs{display:block;color:#666;font-size:12px}
td.failed{color:#b00020;font-weight:bold}
td.unstable{background:#fff3e0}
td.errors{color:#b00020}
td.best{font-weight:bold}
details{margin:.5em 0}summary{cursor:pointer;color:#335}
.fail-list li{margin:.2em 0}.fail-list code{overflow-wrap:anywhere}
code{font-size:13px}
`

// html is report.html.
func (r *page) html() []byte {
	var h bytes.Buffer
	esc := html.EscapeString
	fmt.Fprintf(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>%s</style></head><body>\n",
		esc(r.title), reportCSS)
	fmt.Fprintf(&h, "<h1>%s</h1>\n<p class=\"meta\">%s", esc(r.title), esc(machine(r.set)))
	fmt.Fprintf(&h, "<br>written %s</p>\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))

	if len(r.charts.sections) > 1 {
		h.WriteString("<nav>")
		for _, s := range r.charts.sections {
			fmt.Fprintf(&h, "<a href=\"#%s\">%s</a>", sectionID(s.workload), esc(s.workload))
		}
		if len(r.set.Failures) > 0 {
			h.WriteString("<a href=\"#failed\">Failed cells</a>")
		}
		h.WriteString("</nav>\n")
	}

	// The summary: verdicts, then what may mislead.
	if len(r.verdicts) > 0 {
		h.WriteString("<h2>Verdicts</h2>\n<ul class=\"verdicts\">\n")
		for _, v := range r.verdicts {
			fmt.Fprintf(&h, "<li><a class=\"wl\" href=\"#%s\">%s</a><br>%s</li>\n", sectionID(v.Workload), esc(v.Workload),
				strings.Join(escapeAll(verdictLines(v, r.short)), "<br>"))
		}
		h.WriteString("</ul>\n")
	}
	r.writeWarnings(&h)

	if ov := r.charts.overview; ov != nil {
		fmt.Fprintf(&h, "<figure>%s</figure>\n", ov.svg)
	}
	r.writeKey(&h)

	tablesBy := map[string][]*results.Table{}
	for _, t := range r.tables {
		tablesBy[t.Workload] = append(tablesBy[t.Workload], t)
	}
	verdictBy := map[string]results.WorkloadVerdict{}
	for _, v := range r.verdicts {
		verdictBy[v.Workload] = v
	}
	shown := map[string]bool{}
	for _, s := range r.charts.sections {
		shown[s.workload] = true
		fmt.Fprintf(&h, "<section id=\"%s\">\n<h2>%s</h2>\n", sectionID(s.workload), esc(s.workload))
		if v, ok := verdictBy[s.workload]; ok {
			if lines := verdictLines(v, r.short); len(lines) > 0 {
				h.WriteString("<div class=\"verdict\">")
				for _, l := range lines {
					fmt.Fprintf(&h, "<p>%s</p>", esc(l))
				}
				h.WriteString("</div>\n")
			}
		}
		for _, c := range s.charts {
			fmt.Fprintf(&h, "<figure>%s</figure>\n", c.svg)
		}
		r.writeTables(&h, tablesBy[s.workload])
		h.WriteString("</section>\n")
	}
	// Workloads without a chart (every cell failed) still show their tables.
	for _, t := range r.tables {
		if !shown[t.Workload] {
			shown[t.Workload] = true
			fmt.Fprintf(&h, "<section id=\"%s\">\n<h2>%s</h2>\n", sectionID(t.Workload), esc(t.Workload))
			r.writeTables(&h, tablesBy[t.Workload])
			h.WriteString("</section>\n")
		}
	}

	writeHTMLBandwidth(&h, r.set.Bandwidth(r.opts))
	writeHTMLSaturation(&h, r.set.Saturation(r.opts))
	if len(r.set.Failures) > 0 {
		h.WriteString("<h2 id=\"failed\">Failed cells</h2>\n<ul class=\"fail-list\">\n")
		for _, f := range r.set.Failures {
			fmt.Fprintf(&h, "<li><code>%s</code>: %s</li>\n", esc(f.Name), strings.ReplaceAll(esc(f.Reason), "\n", "<br>"))
		}
		h.WriteString("</ul>\n")
	}
	if len(r.flames) > 0 {
		h.WriteString("<h2>Flame graphs</h2>\n<ul>\n")
		for _, f := range r.flames {
			fmt.Fprintf(&h, "<li><a href=\"%s\">%s</a></li>\n", esc(f.href), esc(f.cell))
		}
		h.WriteString("</ul>\n")
	}
	h.WriteString("</body></html>\n")
	return h.Bytes()
}

func escapeAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = html.EscapeString(l)
	}
	return out
}

// writeWarnings lists failed and unstable cells before the charts, so
// that nobody reads a number without knowing.
func (r *page) writeWarnings(h *bytes.Buffer) {
	esc := html.EscapeString
	if n := len(r.set.Failures); n > 0 {
		fmt.Fprintf(h, "<div class=\"warn\"><b>%d failed %s</b>: shown as FAILED, never as a number; "+
			"<a href=\"#failed\">the reasons</a>.</div>\n", n, plural(n, "cell", "cells"))
	}
	if len(r.unstable) > 0 {
		fmt.Fprintf(h, "<div class=\"warn\"><b>%d %s unstable</b>: their rounds vary by more than %.0f%% (CV, time per task), "+
			"so their medians and speedups are less certain than they look. Marked ▲ in the charts, tinted in the tables.\n<ul>\n",
			len(r.unstable), plural(len(r.unstable), "cell seems", "cells seem"), 100*maxCV(r.opts))
		var causes []results.Cause
		for _, u := range r.unstable {
			fmt.Fprintf(h, "<li>%s %s · %s: CV %.1f%% over %d rounds, %s: %s</li>\n", esc(u.Workload), esc(rowTitle(u.Row)),
				esc(r.short(u.Strategy)), 100*u.CV, u.Rounds, esc(u.Cause.String()), esc(u.Detail))
			if !slices.Contains(causes, u.Cause) {
				causes = append(causes, u.Cause)
			}
		}
		h.WriteString("</ul>Likely causes and cures:<ul>\n")
		for _, c := range causes {
			fmt.Fprintf(h, "<li><b>%s</b>: %s. Cure: %s.</li>\n", esc(c.String()), esc(c.Why()), esc(c.Cure()))
		}
		h.WriteString("</ul></div>\n")
	}
}

// maxCV is the noise limit of opts, as package results applies it.
func maxCV(opts results.Options) float64 {
	if opts.MaxCV == 0 {
		return results.DefaultMaxCV
	}
	return opts.MaxCV
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeKey lists every strategy with its colour and full label.
func (r *page) writeKey(h *bytes.Buffer) {
	book := r.charts.book
	if len(book.order) == 0 {
		return
	}
	h.WriteString("<h3>Strategies</h3>\n<div class=\"key\">\n")
	for _, l := range book.order {
		lk := book.look(l)
		style := "background:" + lk.color
		if lk.python {
			style = fmt.Sprintf("background:repeating-linear-gradient(45deg,%s 0 2px,%s 2px 4px);border-color:%s", lk.color, tint(lk.color), lk.color)
		}
		text := html.EscapeString(lk.short)
		if lk.short != lk.label {
			text += " = " + html.EscapeString(lk.label)
		}
		fmt.Fprintf(h, "<div><span class=\"sw\" style=\"%s\"></span>%s</div>\n", style, text)
	}
	h.WriteString("</div>\n")
}

// writeTables writes a workload's tables inside a closed <details>:
// strategies as rows, the workload's parameter rows as columns (a table
// of thirteen strategies stays narrow), each value with its speedup.
func (r *page) writeTables(h *bytes.Buffer, tables []*results.Table) {
	if len(tables) == 0 {
		return
	}
	var units []string
	for _, t := range tables {
		units = append(units, t.Unit)
	}
	fmt.Fprintf(h, "<details><summary>Tables: %s</summary>\n", html.EscapeString(strings.Join(units, ", ")))
	fmt.Fprintf(h, "<p class=\"meta\">Median ± 95%% interval over the rounds; under it, n× is n times better than %s, "+
		"÷n n times worse, ~ where the difference may be noise (hover for benchstat's test). Bold: the best of each column; "+
		"▲ unstable; ✗ tasks failed.</p>\n", html.EscapeString(baselineOf(tables)))
	for _, t := range tables {
		r.writeTable(h, t)
	}
	h.WriteString("</details>\n")
}

// baselineOf names the baseline of tables: the first column.
func baselineOf(tables []*results.Table) string {
	for _, t := range tables {
		if len(t.Columns) > 0 {
			return t.Columns[0]
		}
	}
	return "the baseline"
}

func (r *page) writeTable(h *bytes.Buffer, t *results.Table) {
	esc := html.EscapeString
	fmt.Fprintf(h, "<h3>%s</h3>\n<div class=\"table-wrap\"><table>\n<tr><th>strategy</th>", esc(t.Title()))
	for _, row := range t.Rows {
		fmt.Fprintf(h, "<th>%s</th>", strings.ReplaceAll(esc(rowTitle(row)), "/", "/<wbr>"))
	}
	if len(t.Rows) > 1 {
		h.WriteString("<th>geomean</th>")
	}
	h.WriteString("</tr>\n")
	best := bestColumns(t)
	for _, label := range strategyRows(t, r.charts.book) {
		j := indexOf(t.Columns, label)
		fmt.Fprintf(h, "<tr><td title=\"%s\">%s</td>", esc(label), esc(r.short(label)))
		for i := range t.Rows {
			c := t.Cells[i][j]
			var class []string
			title := ""
			body := esc(t.ValueText(i, j))
			switch {
			case c == nil:
			case c.Failed():
				class = append(class, "failed")
				title = c.Failure.Reason
			default:
				if cv, ok := unstable(c); ok {
					class = append(class, "unstable")
					body += " ▲"
					title = fmt.Sprintf("unstable: the rounds vary %.0f%% (CV)", 100*cv)
				}
				if c.MaxErrors > 0 {
					class = append(class, "errors")
					body += " ✗"
					if title != "" {
						title += "; "
					}
					title += fmt.Sprintf("tasks failed: errors/op up to %.2g%%", 100*c.MaxErrors)
				}
				if best[i] == j {
					class = append(class, "best")
				}
				if cmp := t.ComparisonText(i, j); cmp != "" {
					if title != "" {
						title += "; "
					}
					title += "vs " + t.Columns[0] + ": " + cmp
					if sp, ok := t.Speedup(c); ok {
						vs := speedText(sp)
						if strings.Contains(cmp, " ~ ") {
							vs += " ~"
						}
						body += "<span class=\"vs\">" + esc(vs) + "</span>"
					}
				}
			}
			attrs := ""
			if len(class) > 0 {
				attrs += fmt.Sprintf(" class=\"%s\"", strings.Join(class, " "))
			}
			if title != "" {
				attrs += fmt.Sprintf(" title=\"%s\"", esc(title))
			}
			fmt.Fprintf(h, "<td%s>%s</td>", attrs, body)
		}
		if len(t.Rows) > 1 {
			g := t.Geomean[j]
			text := ""
			if g.HasCenter {
				text = valueText(g.Center, t.Unit)
			}
			if sp, ok := t.GeomeanSpeedup(j); ok {
				text += "<span class=\"vs\">" + esc(speedText(sp)) + "</span>"
			}
			fmt.Fprintf(h, "<td>%s</td>", text)
		}
		h.WriteString("</tr>\n")
	}
	h.WriteString("</table></div>\n")
}

// strategyRows lists t's columns in the book's order.
func strategyRows(t *results.Table, book *lookBook) []string { return strategiesOf(t, book) }

// bestColumns gives, per row of t, the column with the best value in the
// unit's direction (-1 where none or the unit has none).
func bestColumns(t *results.Table) []int {
	best := make([]int, len(t.Rows))
	for i, row := range t.Cells {
		best[i] = -1
		if t.Better == results.Neutral {
			continue
		}
		for j, c := range row {
			if c == nil || c.Failed() || c.Sample == nil || c.MaxErrors > 0 {
				continue
			}
			if best[i] < 0 {
				best[i] = j
				continue
			}
			b := row[best[i]].Summary.Center
			if (t.Better == results.HigherIsBetter && c.Summary.Center > b) || (t.Better == results.LowerIsBetter && c.Summary.Center < b) {
				best[i] = j
			}
		}
	}
	return best
}

func indexOf(list []string, s string) int {
	for i, l := range list {
		if l == s {
			return i
		}
	}
	return -1
}

// sectionID makes a workload name an HTML id.
func sectionID(workload string) string { return "w-" + fileStem(workload) }

// writeHTMLSaturation writes serve mode's sustainable throughput
// (results.Saturation), a table per group of serve cells, if there are
// any.
func writeHTMLSaturation(h *bytes.Buffer, groups []*results.Saturation) {
	if len(groups) == 0 {
		return
	}
	h.WriteString("<h2 id=\"saturation\">Sustainable throughput</h2>\n")
	for _, g := range groups {
		header, body := g.Grid()
		fmt.Fprintf(h, "<h3>%s</h3>\n<div class=\"table-wrap\"><table>\n<tr>", html.EscapeString(g.Title()))
		for _, c := range header {
			fmt.Fprintf(h, "<th>%s</th>", html.EscapeString(c))
		}
		h.WriteString("</tr>\n")
		for _, row := range body {
			h.WriteString("<tr>")
			for _, c := range row {
				fmt.Fprintf(h, "<td>%s</td>", html.EscapeString(c))
			}
			h.WriteString("</tr>\n")
		}
		h.WriteString("</table></div>\n")
	}
	fmt.Fprintf(h, "<p>%s</p>\n", html.EscapeString(results.SaturationNote))
}

// writeHTMLBandwidth writes the bandwidth table (results.Bandwidth), if
// the set has one.
func writeHTMLBandwidth(h *bytes.Buffer, b *results.Bandwidth) {
	if b == nil {
		return
	}
	header, body := b.Grid()
	fmt.Fprintf(h, "<h2>Memory bandwidth</h2>\n<h3>%s</h3>\n<div class=\"table-wrap\"><table>\n<tr>", html.EscapeString(b.Title()))
	for _, c := range header {
		fmt.Fprintf(h, "<th>%s</th>", html.EscapeString(c))
	}
	h.WriteString("</tr>\n")
	for _, row := range body {
		h.WriteString("<tr>")
		for _, c := range row {
			fmt.Fprintf(h, "<td>%s</td>", html.EscapeString(c))
		}
		h.WriteString("</tr>\n")
	}
	h.WriteString("</table></div>\n")
}
