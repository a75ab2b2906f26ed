package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

// A serve sweep end to end, through the real binary: two rates, a
// strategy's own server model and net/http, the built-in backend in child
// processes and the load generator in another. Every request of every
// round is answered with the page the reference expects (a wrong page
// fails the cell; errors/op counts the rest), bench.txt declares and holds
// the serve units, benchstat reads it, and the report and the terminal
// show the sustainable throughput.
func TestServeRunEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, code := concbench(t, dir, "run", "--quiet", "--count", "2", "--warmup", "1", "--profile=false",
		"--workloads", "serve", "--strategies", "goroutines,nethttp",
		"serve.rate=100,300", "serve.duration=200ms", "serve.pages=20")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	bench := filepath.Join(dir, "out", "latest", "bench.txt")
	text, err := os.ReadFile(bench)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Unit req/s better=higher\n", "Unit under-offered better=lower\n"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("bench.txt does not declare %q", want)
		}
	}
	if bytes.Contains(text, []byte("--- FAIL")) {
		t.Errorf("bench.txt has failed cells:\n%s", text)
	}

	rounds := map[string]int{}
	r := benchfmt.NewReader(bytes.NewReader(text), bench)
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Fatal(rec)
		case *benchfmt.Result:
			name := string(rec.Name.Full())
			rounds[name]++
			values := map[string]float64{}
			for _, v := range rec.Values {
				values[v.Unit] = v.Value
			}
			for _, u := range []string{"req/s", "p50-sec/op", "p90-sec/op", "p99-sec/op", "p999-sec/op", "max-sec/op",
				"cpu-sec/op", "loadgen-cpu-sec/op", "backend-cpu-sec/op", "lag-p99-sec/op"} {
				if !(values[u] > 0) {
					t.Errorf("%s: %s = %v, want a figure above 0", name, u, values[u])
				}
			}
			if e, ok := values["errors/op"]; !ok || e != 0 {
				t.Errorf("%s: errors/op %v (present %v): every request must be answered with its page", name, e, ok)
			}
			if u, ok := values["under-offered"]; !ok || (u != 0 && u != 1) {
				t.Errorf("%s: under-offered %v (present %v)", name, u, ok)
			}
			if rec.Iters < 20 {
				t.Errorf("%s: %d requests in a 200ms window at 100/s or more", name, rec.Iters)
			}
		}
	}
	var names []string
	for name, n := range rounds {
		names = append(names, name)
		if n != 2 {
			t.Errorf("%s: %d rounds, want 2", name, n)
		}
	}
	slices.Sort(names)
	if len(names) != 4 || !strings.HasPrefix(names[0], "Serve/rate=100/latency=1ms/arrival=constant/duration=200ms/slo=10ms/pages=20/conns=256/strategy=goroutines(conns=256)-") ||
		!strings.Contains(strings.Join(names, "\n"), "Serve/rate=300/latency=1ms/arrival=constant/duration=200ms/slo=10ms/pages=20/conns=256/strategy=nethttp(conns=256)-") {
		t.Errorf("cells:\n%s", strings.Join(names, "\n"))
	}

	cmd := exec.Command("go", "tool", "benchstat", "-col", "/strategy", bench)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil || errOut.Len() > 0 {
		t.Fatalf("benchstat: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"req/s", "p99-sec/op", "loadgen-cpu-sec/op", "goroutines(conns=256)", "nethttp(conns=256)", "rate=300"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("benchstat's tables lack %q:\n%s", want, out.String())
		}
	}

	report, err := os.ReadFile(filepath.Join(dir, "out", "latest", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "out", "latest", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []struct{ name, text string }{{"report.md", string(report)}, {"report.html", string(page)}, {"stdout", stdout}} {
		words := strings.Join(strings.Fields(doc.text), " ") // the terminal's lines are wrapped
		if !strings.Contains(words, "sustainable throughput · p99 within 10ms · rates 100/s to 300/s") {
			t.Errorf("%s has no saturation table:\n%s", doc.name, doc.text)
		}
	}
}

// list says which strategies serve, how, and which parameters are their
// server models' alone; the serve workload's parameters are listed.
func TestListSaysWhichStrategiesServe(t *testing.T) {
	t.Parallel()
	out, stderr, code := concbench(t, t.TempDir(), "list")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for name, want := range map[string]string{
		"blocking":   "serves (one connection at a time)",
		"threads":    "serves (at most 256 connections at once)",
		"reactor":    "serves]",
		"nethttp":    "serve only: runs in serve cells and nowhere else",
		"gnet":       "serve only",
		"fasthttp":   "serve only",
		"py-asyncio": "serves", // when its Python is here; otherwise unavailable
	} {
		line := strategyLine(t, out, name)
		if !strings.Contains(line, want) && !strings.Contains(line, "unavailable") {
			t.Errorf("%s: %q does not say %q", name, line, want)
		}
	}
	for _, want := range []string{"simd.window=200us", "(default 200us; serve only)", "serve.rate=1000",
		"--workloads serve sweeps 500, 1000, 2000, 4000, 8000", "serve.slo=10ms", "serve.arrival=constant", "gnet.loops="} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

// Serve-mode misuse is a usage error that says what to do.
func TestServeUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--workloads", "hash", "--strategies", "nethttp"}, "nethttp: strategy unavailable: it runs only in serve cells: select --workloads serve"},
		{[]string{"run", "--workloads", "hash", "simd.window=1ms"}, "window is a parameter of its server model: it applies to --workloads serve"},
		{[]string{"run", "--workloads", "serve", "serve.arrival=bursty"}, `arrival="bursty": must be one of constant, poisson`},
		{[]string{"run", "--workloads", "serve", "serve.rate=1", "serve.duration=100ms"}, "offers no request"},
	} {
		_, stderr, code := concbench(t, dir, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, exitUsage, tt.want)
		}
	}
}
