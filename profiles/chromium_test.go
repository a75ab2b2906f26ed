package profiles_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/rundir"
)

// chromium finds a headless-capable browser, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: install it (apt-get install -y chromium) to render the flame graph end to end")
	return ""
}

// TestFlameGraphRendersInChromium opens a run's static flame graph from
// file:// in headless Chromium with networking disabled, and checks that
// the page's script drew the kernel's frame into the chart.
func TestFlameGraphRendersInChromium(t *testing.T) {
	browser := chromium(t)
	dir := runDir(t)
	files, _ := filepath.Glob(filepath.Join(rundir.Dir(dir).FlameDir(), "Mandelbrot*blocking*.html"))
	if len(files) != 1 {
		t.Fatalf("flame graphs: %v", files)
	}
	abs, _ := filepath.Abs(files[0])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size=1200,800",
		// Any fetch from the network fails: the page must not need one.
		"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--dump-dom", "file://"+abs)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	dom := string(out)
	// Everything after the chart's opening tag up to the first script is
	// what the script drew: the frame boxes with their names.
	_, chart, ok := strings.Cut(dom, `id="stack-chart"`)
	if !ok {
		t.Fatalf("no stack chart in the page:\n%.3000s", dom)
	}
	chart, _, _ = strings.Cut(chart, "<script")
	if !strings.Contains(chart, "MandelbrotRowScalar") {
		t.Errorf("the rendered chart lacks the kernel frame MandelbrotRowScalar:\n%.3000s", chart)
	}
}
