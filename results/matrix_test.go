package results

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// matrixPath is a realistic run of the whole matrix with the Python
// strategies, as make bench-python writes it: 14 strategies (13 that
// make bench-python runs, and simd), their labels in full, every unit
// the harness writes, and what the tables must show: unstable cells of
// each shape, task errors, a failed cell with a long reason, and a
// workload whose fastest strategy has a poor p99. The width tests of
// this package and of cmd/concbench read it.
var matrixPath = filepath.Join("testdata", "matrix.txt")

// matrixStrategies are the strategy labels, Go's first.
var matrixStrategies = []string{
	"blocking", "threads(max=256)", "goroutines(conns=256)", "pool(workers=8)",
	"reactor(loops=1,conns=0,depth=1,offload=off)", "simd(batch=256,path=avx512)",
	"py-blocking", "py-threads(max=256)", "py-pool(workers=0)", "py-asyncio(conns=256)",
	"py-uvloop(conns=256)", "py-gevent(conns=256)", "py-tornado(conns=256)", "py-twisted(conns=256)",
}

// matrixRows are the workload rows of the default matrix, with their tasks
// and the time a task takes for blocking.
var matrixRows = []struct {
	name  string
	tasks int
	ns    float64
}{
	{"Dot/tasks=16384/size=4096/span=65536", 16384, 2700},
	{"Dot/tasks=16384/size=4096/span=33554432", 16384, 6300},
	{"Fanout/latency=0s/tasks=2000/size=64/backends=2", 2000, 58000},
	{"Fanout/latency=1ms/tasks=2000/size=64/backends=2", 2000, 1.36e6},
	{"Hash/tasks=20000/size=64", 20000, 211},
	{"Mandelbrot/width=1024/rows=512/iter=256", 512, 190000},
	{"Mixed/latency=1ms/cpu=0s/tasks=500", 500, 1.30e6},
	{"Mixed/latency=1ms/cpu=50us/tasks=500", 500, 1.36e6},
	{"Mixed/latency=1ms/cpu=500us/tasks=500", 500, 1.89e6},
	{"Noop/tasks=20000", 20000, 80},
	{"Stream/op=sum/bytes=268435456/chunk=262144", 256, 1.6e5},
	{"Stream/op=triad/bytes=268435456/chunk=262144", 256, 3.1e5},
	{"Webrequest/latency=1ms/tasks=500", 500, 2.7e6},
}

const matrixRounds = 6

// generateMatrix writes the matrix run: a header, unit metadata, then
// round by round every cell, and the failed cell at the end.
func generateMatrix() []byte {
	rng := rand.New(rand.NewPCG(2026, 17))
	var b bytes.Buffer
	b.WriteString("goos: linux\ngoarch: amd64\ncpu: AMD EPYC\ncpu-features: avx2,avx512f\ngomaxprocs: 2\n" +
		"go: go1.26.8-X:simd\ngoexperiment: simd\ncommit: 0123456789ab\nkernel: 6.18.44\nsimd: avx512\n" +
		"backend: built-in, child process\nUnit tasks/s better=higher\nUnit B/s better=higher\nUnit %bound better=higher\n\n")
	const failedCell = "Webrequest/latency=1ms/tasks=500/strategy=py-twisted(conns=256)-2"
	for round := range matrixRounds {
		for _, row := range matrixRows {
			workload, _, _ := strings.Cut(row.name, "/")
			for s, strategy := range matrixStrategies {
				name := row.name + "/strategy=" + strategy + "-2"
				if name == failedCell {
					continue
				}
				// Go strategies beat blocking, Python ones trail it.
				speed := []float64{1, 0.9, 2.3, 2.3, 1.9, 20, 0.1, 0.2, 0.3, 0.5, 0.7, 0.6, 0.4, 0.3}[s]
				ns := row.ns / speed * (1 + 0.015*rng.NormFloat64())
				p99 := ns * 1.3e-9
				errs := 0.0
				switch {
				case workload == "Noop" && strategy == "blocking":
					// Two levels: the bimodal rounds of issue 13.
					ns = []float64{80, 370}[round%2] * (1 + 0.01*rng.NormFloat64())
				case workload == "Hash" && strategy == "pool(workers=8)":
					ns *= 1 + 0.04*float64(round) // drift
				case workload == "Dot" && strategy == "simd(batch=256,path=avx512)" && round == 3:
					ns *= 3 // one round stands out
				case workload == "Webrequest" && strategy == "simd(batch=256,path=avx512)":
					p99 = ns * 400e-9 // fastest, with a poor tail
				case workload == "Fanout" && strategy == "py-asyncio(conns=256)" && round%3 == 0:
					errs = 0.025 // some tasks fail
				}
				reps := 1 + int(0.2e9/(ns*float64(row.tasks)))
				iters := row.tasks * reps
				fmt.Fprintf(&b, "Benchmark%s\t%d\t%.6g ns/op\t%.6g tasks/s\t%.4g p50-sec/op\t%.4g p99-sec/op\t"+
					"%.4g p999-sec/op\t%.4g cpu-sec/op\t%.4g bound-sec/op\t%.4g %%bound\t%.3g B/op\t%.3g allocs/op\t"+
					"%g errors/op\t%g spawns/op\t%d peak-goroutines\t%d peak-threads",
					name, iters, ns, 1e9/ns, ns*0.8e-9, p99, p99*1.5, ns*1.1e-9, ns*0.5e-9, 50.0, 29.6, 0.37,
					errs, 1.0, 12+s, 8+s)
				// Bytes a task reads and writes: dot 8 a float of
				// 4096, sum 4 and triad 12 an element of 256 Ki.
				if bytes := map[string]float64{"Dot": 32768, "Stream": 1 << 20}[workload]; bytes > 0 {
					if strings.Contains(row.name, "triad") {
						bytes *= 3
					}
					fmt.Fprintf(&b, "\t%.4g B/s", bytes/(ns*1e-9))
				}
				b.WriteString("\n")
			}
		}
	}
	b.WriteString("--- FAIL: Benchmark" + failedCell + "\n" +
		"    external: py-twisted: the child exited with status 1 after its ready line: Traceback (most recent call last): " +
		"File \"/usr/lib/python3/dist-packages/twisted/internet/tcp.py\", line 1334, in connectionLost: ConnectionRefusedError\n")
	return b.Bytes()
}

func TestMatrixIsCurrent(t *testing.T) {
	want := generateMatrix()
	if *update {
		if err := os.WriteFile(matrixPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(matrixPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestMatrixIsCurrent -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test -run TestMatrixIsCurrent -update", matrixPath)
	}
}

// widest returns the widest line of out, with its width in columns.
func widest(out string) (string, int) {
	line, width := "", 0
	for _, l := range strings.Split(out, "\n") {
		if w := displayWidth(l); w > width {
			line, width = l, w
		}
	}
	return line, width
}

// The terminal output of a realistic matrix fits 120 columns: summary,
// every table, text and ASCII, and the unstable-cells warning.
func TestCompactOutputFitsWidth(t *testing.T) {
	t.Parallel()
	set, err := Read(matrixPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"summary", Options{Compact: true, Summary: true}},
		{"all units", Options{Compact: true, AllUnits: true}},
		{"ascii", Options{Compact: true, Format: ASCII}},
		{"narrow", Options{Compact: true, Summary: true, Width: 80}},
	} {
		var b bytes.Buffer
		if err := WriteTables(&b, set, tc.opts); err != nil {
			t.Fatal(err)
		}
		if err := WriteUnstable(&b, set, tc.opts); err != nil {
			t.Fatal(err)
		}
		limit := tc.opts.width()
		if line, w := widest(b.String()); w > limit {
			t.Errorf("%s: a line of %d columns, over %d:\n%s\n\nwhole output:\n%s", tc.name, w, limit, line, b.String())
		}
		// 14 strategies do not fit as columns: they are the rows of
		// every workload's table.
		if n := strings.Count(b.String(), "\n│ py-twisted "); tc.name == "summary" && n != 8+1 {
			t.Errorf("%s: %d rows of py-twisted, want one in each of the 8 tables and in the bandwidth table", tc.name, n)
		}
		for _, want := range []string{"py-twisted", "py-uvloop", "FAILED", unstableMark, errorsMark, "trade-off"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, want, b.String())
			}
		}
	}
	// The full form is the wide one: it does not fit, and says more.
	var wide bytes.Buffer
	if err := WriteTables(&wide, set, Options{Summary: true}); err != nil {
		t.Fatal(err)
	}
	if _, w := widest(wide.String()); w <= DefaultWidth {
		t.Errorf("the wide form is %d columns: the test matrix no longer needs fitting", w)
	}
}

// Every column of a table shows its values with one unit prefix.
func TestOneScalePerColumn(t *testing.T) {
	t.Parallel()
	set, err := Read(matrixPath)
	if err != nil {
		t.Fatal(err)
	}
	prefix := func(text string) string {
		v, _, _ := strings.Cut(text, " ")
		return strings.TrimLeft(v, "0123456789.")
	}
	for _, tab := range set.Tables(Options{AllUnits: true}) {
		for j := range tab.Columns {
			seen := map[string]bool{}
			for i := range tab.Rows {
				if c := tab.Cells[i][j]; c != nil && !c.Failed() {
					seen[prefix(tab.ValueText(i, j))] = true
				}
			}
			if len(seen) > 1 {
				t.Errorf("%s %s, column %s mixes prefixes %v", tab.Workload, tab.Unit, tab.Columns[j], seen)
			}
		}
	}
	// In a compact table with the strategies as rows, a column is a
	// workload row: one prefix down each.
	var b bytes.Buffer
	if err := WriteTables(&b, set, Options{Compact: true, Summary: true}); err != nil {
		t.Fatal(err)
	}
	for _, tab := range strings.Split(b.String(), "\n\n") {
		var cols map[int]map[string]bool
		for _, line := range strings.Split(tab, "\n") {
			if !strings.HasPrefix(line, "│") {
				continue
			}
			cells := strings.Split(strings.Trim(line, "│"), "│")
			if cols == nil {
				cols = map[int]map[string]bool{} // the header row
				continue
			}
			for k, c := range cells[1:] {
				c = strings.TrimSpace(c)
				if !strings.Contains(c, "±") {
					continue
				}
				if cols[k] == nil {
					cols[k] = map[string]bool{}
				}
				cols[k][prefix(c)] = true
			}
		}
		for k, p := range cols {
			if len(p) > 1 {
				t.Errorf("column %d mixes prefixes %v in:\n%s", k+1, p, tab)
			}
		}
	}
}
