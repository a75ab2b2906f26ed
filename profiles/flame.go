package profiles

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http/httptest"
	"os"
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

// FlameGraph is one flame graph page of a cell.
type FlameGraph struct {
	Kind Kind   // CPU, BackendCPU or Wall
	Side string // SideClient or SideBackend
	Path string // <run>/flame/<cell>.html, .backend-cpu.html, .wall.html
}

// flameKinds are the profiles that get a flame graph, in the order a
// report lists them: the client's CPU, the backend's CPU beside it, then
// the wall clock.
var flameKinds = []Kind{CPU, BackendCPU, Wall}

// flameGraphPath is where the flame graph of a cell's profile of kind k goes.
func flameGraphPath(run rundir.Dir, cell string, k Kind) string {
	switch k {
	case CPU:
		return run.FlameGraph(cell)
	case Wall:
		return run.WallFlameGraph(cell)
	}
	// <cell>.<kind>.html beside the others (rundir names the CPU and wall pages).
	return strings.TrimSuffix(run.FlameGraph(cell), ".html") + "." + string(k) + ".html"
}

// FlameGraphs lists the flame graph pages that exist for a cell: its CPU
// profile's, the backend's beside it (side=backend) and the wall clock's,
// in that order, so a report can link client and backend side by side.
func FlameGraphs(run rundir.Dir, cell string) []FlameGraph {
	var out []FlameGraph
	for _, k := range flameKinds {
		path := flameGraphPath(run, cell, k)
		if _, err := os.Stat(path); err == nil {
			side := SideClient
			if k == BackendCPU {
				side = SideBackend
			}
			out = append(out, FlameGraph{Kind: k, Side: side, Path: path})
		}
	}
	return out
}

// WriteFlameGraphs writes the flame graph page of each of a cell's
// profiles that has one (CPU, BackendCPU, Wall) and returns the pages
// written. The Setup profile gets none: flame graphs show the timed part.
func WriteFlameGraphs(run rundir.Dir, cell string) ([]FlameGraph, error) {
	var out []FlameGraph
	for _, k := range flameKinds {
		prof := run.Profile(cell, string(k))
		if _, err := os.Stat(prof); err != nil {
			continue
		}
		path := flameGraphPath(run, cell, k)
		if err := WriteFlameGraphFile(path, prof); err != nil {
			return out, err
		}
		side := SideClient
		if k == BackendCPU {
			side = SideBackend
		}
		out = append(out, FlameGraph{Kind: k, Side: side, Path: path})
	}
	return out, nil
}
