package report

import (
	"bytes"
	"fmt"
	"html"

	"github.com/concbench/concbench/results"
)

// reportCSS styles report.html; inline, so the file opens offline.
const reportCSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}
td.failed{color:#b00;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0}figcaption{text-align:center;color:#555}
.meta,.notes{color:#666}
`

func writeHTMLTable(h *bytes.Buffer, t *results.Table) {
	fmt.Fprintf(h, "<h3>%s</h3>\n<table>\n<tr><th>%s</th>", html.EscapeString(t.Title()), html.EscapeString(t.Workload))
	for j, col := range t.Columns {
		fmt.Fprintf(h, "<th>%s</th>", html.EscapeString(col))
		if j > 0 {
			fmt.Fprintf(h, "<th>vs %s</th>", html.EscapeString(t.Columns[0]))
		}
	}
	h.WriteString("</tr>\n")
	for i, label := range t.Rows {
		fmt.Fprintf(h, "<tr><td>%s</td>", html.EscapeString(label))
		for j, c := range t.Cells[i] {
			class := ""
			if c != nil && c.Failed() {
				class = ` class="failed"`
			}
			fmt.Fprintf(h, "<td%s>%s</td>", class, html.EscapeString(t.ValueText(i, j)))
			if j > 0 {
				fmt.Fprintf(h, "<td>%s</td>", html.EscapeString(t.ComparisonText(i, j)))
			}
		}
		h.WriteString("</tr>\n")
	}
	h.WriteString("</table>\n")
}

// writeHTMLBandwidth writes the bandwidth table (results.Bandwidth), if
// the set has one.
func writeHTMLBandwidth(h *bytes.Buffer, b *results.Bandwidth) {
	if b == nil {
		return
	}
	header, body := b.Grid()
	fmt.Fprintf(h, "<h3>%s</h3>\n<table>\n<tr>", html.EscapeString(b.Title()))
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
	h.WriteString("</table>\n")
}
