package profiles

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/rundir"
)

// staticStyle hides the parts of pprof's page that need its server (the
// View, Sample, Refine, Config and Download menus, and the source links of
// a frame's menu); the flame graph, its zoom, search and tooltips are all
// client-side and keep working from file://.
const staticStyle = `<style type="text/css">
#view, #sample, #refine, #config, #download, #action-source, #action-source-tab,
#action-focus, #action-ignore, #action-hide, #action-showfrom, #action-menu hr { display: none !important; }
.concbench-note { font: 12px sans-serif; padding: 4px 8px; background: #fffbe6; border-bottom: 1px solid #eee; }
</style>
`

// WriteFlameGraph writes a self-contained HTML flame graph of p to w: pprof's
// own flame graph page (its /flamegraph view, rendered by the driver package
// and captured instead of served), with its scripts and styles inline, so it
// opens from file:// without a network. note, if not empty, is shown above
// the graph (say how to get the interactive UI).
func WriteFlameGraph(w io.Writer, p *profile.Profile, note string) error {
	handlers, err := webUI(map[string]*profile.Profile{"profile": p}, "profile")
	if err != nil {
		return err
	}
	rec := httptest.NewRecorder()
	handlers["/flamegraph"].ServeHTTP(rec, httptest.NewRequest("GET", "/flamegraph", nil))
	if rec.Code != 200 {
		return fmt.Errorf("profiles: pprof flame graph: %d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	page := rec.Body.Bytes()
	page = insertAfter(page, "<head>", staticStyle)
	if note != "" {
		page = insertAfter(page, "<body>", `<div class="concbench-note">`+html.EscapeString(note)+"</div>\n")
	}
	_, err = w.Write(page)
	return err
}

func insertAfter(page []byte, tag, text string) []byte {
	i := bytes.Index(page, []byte(tag))
	if i < 0 {
		return page
	}
	i += len(tag)
	return append(page[:i:i], append([]byte("\n"+text), page[i:]...)...)
}

// WriteFlameGraphFile renders the profile file profPath as a flame graph
// page at htmlPath (write-then-rename).
func WriteFlameGraphFile(htmlPath, profPath string) error {
	p, err := ReadFile(profPath)
	if err != nil {
		return err
	}
	note := "Static flame graph of " + profPath + ". Click a frame to zoom. " +
		"Interactive (top, graph, source, tag focus): go tool pprof -http=127.0.0.1:0 " + profPath +
		" or concbench view RUN."
	if c, ok := CellOf(p); ok {
		note = c.Name + " — " + note
	}
	return rundir.WriteFile(htmlPath, func(w io.Writer) error { return WriteFlameGraph(w, p, note) })
}
