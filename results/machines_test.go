package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// Two synthetic runs of one matrix (Hash, and Fanout over two rows) on
// two machines: an EPYC 7763 at GOMAXPROCS 2 and a Xeon 8370C at
// GOMAXPROCS 4, where pool's default workers and simd's kernel path
// differ, and simd fails Fanout's 1ms row.
var (
	epycBench = filepath.Join("testdata", "machines", "epyc", "bench.txt")
	xeonBench = filepath.Join("testdata", "machines", "xeon", "bench.txt")
)

// readRuns reads bench files as runs, their machines labelled.
func readRuns(t *testing.T, paths ...string) []*Run {
	t.Helper()
	var runs []*Run
	for _, p := range paths {
		set, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, &Run{Path: p, Set: set, Machine: MachineOf(set)})
	}
	LabelMachines(runs)
	return runs
}

func TestShortCPU(t *testing.T) {
	t.Parallel()
	tests := []struct{ model, want string }{
		{"AMD EPYC 7763 64-Core Processor", "EPYC 7763"},
		{"AMD EPYC 7B13", "EPYC 7B13"},
		{"AMD EPYC", "EPYC"},
		{"Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz", "Xeon 8370C"},
		{"Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "Xeon E5-2686 v4"},
		{"Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "Core i7-8700K"},
		{"13th Gen Intel(R) Core(TM) i9-13900K", "Core i9-13900K"},
		{"AMD Ryzen 7 5800H with Radeon Graphics", "Ryzen 7 5800H"},
		{"AMD Ryzen 9 7950X 16-Core Processor", "Ryzen 9 7950X"},
		{"Apple M2 Pro", "Apple M2 Pro"},
		{"Neoverse-N2", "Neoverse-N2"},
		{"  Intel CPU  ", "Intel CPU"}, // nothing left: the model as it is
		{"unknown", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ShortCPU(tt.model); got != tt.want {
			t.Errorf("ShortCPU(%q) = %q, want %q", tt.model, got, tt.want)
		}
	}
}

func TestLabelMachines(t *testing.T) {
	t.Parallel()
	m := func(label, cpu string, procs int, arch, id string) Machine {
		return Machine{Label: label, CPU: cpu, GOMAXPROCS: procs, GOOS: "linux", GOARCH: arch, GOEXPERIMENT: "simd",
			Placement: "none", RunID: id}
	}
	const epyc, xeon = "AMD EPYC 7763 64-Core Processor", "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"
	tests := []struct {
		name     string
		machines []Machine
		want     []string
	}{
		{"different CPUs", []Machine{m("", epyc, 4, "amd64", "a"), m("", xeon, 4, "amd64", "b")},
			[]string{"EPYC 7763", "Xeon 8370C"}},
		{"unknown CPU: goos/goarch", []Machine{m("", epyc, 4, "amd64", "a"), m("", "unknown", 4, "arm64", "b")},
			[]string{"EPYC 7763", "linux/arm64"}},
		{"one CPU, core counts apart", []Machine{m("", epyc, 2, "amd64", "a"), m("", epyc, 4, "amd64", "b"), m("", xeon, 4, "amd64", "c")},
			[]string{"EPYC 7763 P=2", "EPYC 7763 P=4", "Xeon 8370C"}},
		{"one machine twice: the run ids", []Machine{m("", epyc, 4, "amd64", "20261130-101500"), m("", epyc, 4, "amd64", "20261130-111500")},
			[]string{"EPYC 7763 20261130-101500", "EPYC 7763 20261130-111500"}},
		{"nothing tells them apart: positions", []Machine{m("", epyc, 4, "amd64", "x"), m("", epyc, 4, "amd64", "x")},
			[]string{"EPYC 7763 #1", "EPYC 7763 #2"}},
		{"labels given are kept", []Machine{m("laptop", epyc, 4, "amd64", "a"), m("ci", epyc, 4, "amd64", "b")},
			[]string{"laptop", "ci"}},
		{"a label given wins a clash", []Machine{m("EPYC 7763", xeon, 4, "amd64", "a"), m("", epyc, 4, "amd64", "b")},
			[]string{"EPYC 7763", "EPYC 7763 b"}},
	}
	for _, tt := range tests {
		var runs []*Run
		for _, m := range tt.machines {
			runs = append(runs, &Run{Machine: m})
		}
		LabelMachines(runs)
		for i, r := range runs {
			if r.Machine.Label != tt.want[i] {
				t.Errorf("%s: run %d labelled %q, want %q", tt.name, i, r.Machine.Label, tt.want[i])
			}
		}
	}
}

func TestMachineOf(t *testing.T) {
	t.Parallel()
	runs := readRuns(t, epycBench)
	m := runs[0].Machine
	if m.CPU != "AMD EPYC 7763 64-Core Processor" || m.GOMAXPROCS != 2 || m.GOARCH != "amd64" || m.Placement != "none" ||
		m.GOEXPERIMENT != "simd" || m.SIMD != "avx2" || m.Header["backend"] != "built-in, child process" {
		t.Errorf("machine %+v", m)
	}
	if len(m.MixedMachineKeys()) != 0 {
		t.Errorf("one machine's run mixes %v", m.MixedMachineKeys())
	}
	// Two machines' lines in one file: the keys that differ say so.
	a, _ := os.ReadFile(epycBench)
	b, _ := os.ReadFile(xeonBench)
	set, err := Decode(bytes.NewReader(append(a, b...)), "both.txt")
	if err != nil {
		t.Fatal(err)
	}
	mixed := MachineOf(set)
	if got := strings.Join(mixed.MixedMachineKeys(), "; "); !strings.Contains(got, "cpu: AMD EPYC 7763") ||
		!strings.Contains(got, "gomaxprocs: 2, 4") {
		t.Errorf("mixed keys %q", got)
	}
}

// The machine tables put each strategy in a row and each machine in a
// column: the median (one row) or geomean (several), the speedup against
// blocking on that machine and the rank there; a strategy whose label
// follows the machine is one row; a failed cell is never ranked.
func TestMachineTables(t *testing.T) {
	t.Parallel()
	runs := readRuns(t, epycBench, xeonBench)
	tables := MachineTables(runs, Options{Summary: true})
	if len(tables) != 2 {
		t.Fatalf("%d tables, want 2 (Hash, Fanout on sec/op)", len(tables))
	}
	type cell struct {
		value   float64 // want, within 0.1 %
		speedup float64 // 0: none
		rank    int
		failed  bool
	}
	tests := []struct {
		workload string
		rows     []string
		cells    map[string][2]cell // strategy → per machine
	}{
		{"Hash", []string{"tasks=500/size=64"}, map[string][2]cell{
			"blocking": {{200e-9, 1, 3, false}, {300e-9, 1, 3, false}},
			"pool":     {{100e-9, 2, 2, false}, {60e-9, 5, 2, false}},
			"simd":     {{20e-9, 10, 1, false}, {30e-9, 10, 1, false}},
		}},
		{"Fanout", []string{"latency=0s/tasks=32/size=64", "latency=1ms/tasks=32/size=64"}, map[string][2]cell{
			"blocking": {{math.Sqrt(100e-6 * 1000e-6), 1, 3, false}, {math.Sqrt(200e-6 * 2000e-6), 1, 2, false}},
			"pool":     {{math.Sqrt(50e-6 * 500e-6), 2, 2, false}, {math.Sqrt(40e-6 * 400e-6), 5, 1, false}},
			"simd":     {{math.Sqrt(10e-6 * 100e-6), 10, 1, false}, {0, 0, 0, true}},
		}},
	}
	for i, tt := range tests {
		mt := tables[i]
		if mt.Workload != tt.workload || mt.Unit != TimeUnit || strings.Join(mt.Rows, " ") != strings.Join(tt.rows, " ") {
			t.Errorf("table %d: %s %s rows %q", i, mt.Workload, mt.Unit, mt.Rows)
		}
		if got := strings.Join(mt.Machines, ","); got != "EPYC 7763,Xeon 8370C" {
			t.Errorf("%s: machines %q", mt.Workload, got)
		}
		if got := strings.Join(mt.Strategies, ","); got != "blocking,pool,simd" {
			t.Errorf("%s: strategies %q", mt.Workload, got)
		}
		if got := strings.Join(mt.Labels[1], ","); got != "pool(workers=8),pool(workers=16)" {
			t.Errorf("%s: pool's labels %q", mt.Workload, got)
		}
		for s, name := range mt.Strategies {
			for m, want := range tt.cells[name] {
				c := mt.Cells[s][m]
				switch {
				case c == nil:
					t.Errorf("%s %s on %s: no cell", mt.Workload, name, mt.Machines[m])
				case want.failed:
					if !c.Failed || c.HasCenter || c.HasSpeedup || c.Rank != 0 || c.Excluded != "failed" {
						t.Errorf("%s %s on %s: failed %v rank %d excluded %q", mt.Workload, name, mt.Machines[m], c.Failed, c.Rank, c.Excluded)
					}
				default:
					if !c.HasCenter || math.Abs(c.Center/want.value-1) > 1e-3 || c.Rank != want.rank ||
						!c.HasSpeedup || math.Abs(c.Speedup/want.speedup-1) > 1e-3 {
						t.Errorf("%s %s on %s: %g (speedup %g, rank %d), want %g (%g, %d)", mt.Workload, name, mt.Machines[m],
							c.Center, c.Speedup, c.Rank, want.value, want.speedup, want.rank)
					}
				}
			}
		}
	}
	if got := tables[1].Winner(0) + "," + tables[1].Winner(1); got != "simd,pool" {
		t.Errorf("Fanout's winners %q, want simd on the EPYC and pool on the Xeon", got)
	}
	// --all's units: a table per workload and unit, tasks/s ranked
	// higher first.
	all := MachineTables(runs, Options{})
	if len(all) != 6 { // sec/op, tasks/s, errors/op of each workload
		t.Errorf("%d tables with the default units, want 6", len(all))
	}
	for _, mt := range all {
		if mt.Unit == "tasks/s" && mt.Workload == "Hash" && mt.Winner(1) != "simd" {
			t.Errorf("tasks/s: winner on the Xeon %q, want simd", mt.Winner(1))
		}
	}
}

// A strategy swept on one machine keeps its full labels as rows; a
// machine that ran other rows is said to.
func TestMachineTablesSweepAndRows(t *testing.T) {
	t.Parallel()
	a, err := Decode(strings.NewReader("cpu: AMD EPYC 7763\ngomaxprocs: 2\n"+
		"BenchmarkHash/tasks=500/strategy=blocking-2 10 200 ns/op\n"+
		"BenchmarkHash/tasks=500/strategy=pool(workers=2)-2 10 100 ns/op\n"+
		"BenchmarkHash/tasks=500/strategy=pool(workers=8)-2 10 50 ns/op\n"), "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode(strings.NewReader("cpu: Intel Xeon 8370C\ngomaxprocs: 4\n"+
		"BenchmarkHash/tasks=500/strategy=blocking-4 10 300 ns/op\n"+
		"BenchmarkHash/tasks=500/strategy=pool(workers=8)-4 10 60 ns/op\n"+
		"BenchmarkHash/tasks=900/strategy=blocking-4 10 300 ns/op\n"), "b.txt")
	if err != nil {
		t.Fatal(err)
	}
	runs := []*Run{{Path: "a.txt", Set: a, Machine: MachineOf(a)}, {Path: "b.txt", Set: b, Machine: MachineOf(b)}}
	LabelMachines(runs)
	mt := MachineTables(runs, Options{Summary: true})[0]
	if got := strings.Join(mt.Strategies, ","); got != "blocking,pool(workers=2),pool(workers=8)" {
		t.Errorf("strategies %q", got)
	}
	if c := mt.Cells[1][1]; c != nil {
		t.Errorf("pool(workers=2) on the Xeon: %+v, want none", c)
	}
	if !mt.RowsDiffer() {
		t.Errorf("rows %v differ between machines, RowsDiffer says not", mt.RowsOf)
	}
	var out bytes.Buffer
	if err := WriteMachines(&out, runs, Options{Summary: true, Compact: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "the machines ran different rows (EPYC 7763 ran tasks=500; Xeon 8370C ran tasks=500, tasks=900)") {
		t.Errorf("no note that the rows differ:\n%s", out.String())
	}
}

// Every format carries the machine: text and Markdown as the columns of
// the tables, CSV as a column, JSON as each run's machine object and the
// tables' machines. Dropping it from any fails here.
func TestWriteMachinesFormats(t *testing.T) {
	t.Parallel()
	runs := readRuns(t, epycBench, xeonBench)
	write := func(opts Options) string {
		t.Helper()
		var b bytes.Buffer
		if err := WriteMachines(&b, runs, opts); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	text := write(Options{Summary: true, Compact: true})
	for _, want := range []string{
		"EPYC 7763 = AMD EPYC 7763 64-Core Processor · linux/amd64 · GOMAXPROCS 2",
		"│ Hash     │    EPYC 7763 │ speedup │ rank │   Xeon 8370C │ speedup │ rank │",
		"│ simd     │  20.00n ± 1% │  10.00× │    1 │  30.00n ± 0% │  10.00× │    1 │",
		"│ simd     │    31.62µ │  10.00× │    1 │     FAILED │         │    - │",
		"Hash: simd is fastest on every machine: 10.00× vs blocking on EPYC 7763, 10.00× on Xeon 8370C",
		"Fanout: fastest: simd on EPYC 7763 (10.00× vs blocking), pool on Xeon 8370C (5.00× vs blocking)",
		"Fanout: not ranked: simd on Xeon 8370C (failed)",
		"pool = pool(workers=8) on EPYC 7763; pool(workers=16) on Xeon 8370C",
		"Failed cells on Xeon 8370C:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "\n┌"); n != 2 {
		t.Errorf("text: %d machine tables, want 2", n)
	}
	md := write(Options{Format: Markdown, Summary: true})
	if !strings.Contains(md, "| Hash     |    EPYC 7763 |") || !strings.Contains(md, "### Machines (2 runs, a column each)") {
		t.Errorf("markdown lacks the machine columns:\n%s", md)
	}

	records, err := csv.NewReader(strings.NewReader(write(Options{Format: CSV}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(records[0][:5], ","); got != "machine,cpu,goarch,gomaxprocs,workload" {
		t.Errorf("csv header starts %q", got)
	}
	seen := map[string]int{}
	for _, r := range records[1:] {
		seen[r[0]+"/"+r[3]]++
	}
	// 3 strategies × 3 rows × 3 units on each machine (the Xeon's failed
	// cell as a failed record in each unit).
	if seen["EPYC 7763/2"] != 27 || seen["Xeon 8370C/4"] != 27 || len(seen) != 2 {
		t.Errorf("csv records by machine/gomaxprocs: %v", seen)
	}

	var doc JSONMachines
	dec := json.NewDecoder(strings.NewReader(write(Options{Format: JSON, AllUnits: true})))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != MachinesSchema || doc.Version != 1 || len(doc.Runs) != 2 {
		t.Fatalf("schema %q v%d, %d runs", doc.Schema, doc.Version, len(doc.Runs))
	}
	if m := doc.Runs[1].Machine; m.Label != "Xeon 8370C" || m.CPU != "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz" ||
		m.GOMAXPROCS != 4 || doc.Runs[1].Results == nil || doc.Runs[1].Results.Machine["gomaxprocs"] != "4" {
		t.Errorf("second run: %+v", doc.Runs[1])
	}
	var fanout *JSONMachineTable
	for i, jt := range doc.Tables {
		if jt.Workload == "Fanout" && jt.Unit == TimeUnit {
			fanout = &doc.Tables[i]
		}
	}
	if fanout == nil || strings.Join(fanout.Machines, ",") != "EPYC 7763,Xeon 8370C" || fanout.Strategies[1].Labels["Xeon 8370C"] != "pool(workers=16)" {
		t.Fatalf("fanout table %+v", fanout)
	}
	for _, c := range fanout.Cells {
		if c.Strategy == "pool" && c.Machine == "Xeon 8370C" && (c.Rank != 1 || c.Figure != "geomean" || c.Rows != 2 || c.Speedup == nil) {
			t.Errorf("pool on the Xeon: %+v", c)
		}
		if c.Strategy == "simd" && c.Machine == "Xeon 8370C" && (c.Status != "failed" || c.Value != nil || c.Speedup != nil ||
			c.Rank != 0 || c.Excluded != "failed") {
			t.Errorf("simd on the Xeon: %+v", c)
		}
	}
	winners := map[string]string{}
	for _, v := range doc.Verdicts {
		if v.Workload == "Fanout" && v.Fastest != nil {
			winners[v.Machine] = v.Fastest.Strategy
		}
	}
	if winners["EPYC 7763"] != "simd(batch=256,path=avx2)" || winners["Xeon 8370C"] != "pool(workers=16)" {
		t.Errorf("fanout's verdicts: %v", winners)
	}
}

// Three machines of 14 strategies and 8 workloads still fit 120 columns,
// the tables split by machine where they must.
func TestWriteMachinesFits120Columns(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(matrixPath)
	if err != nil {
		t.Fatal(err)
	}
	var runs []*Run
	for _, cpu := range []string{"AMD EPYC 7763 64-Core Processor", "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz", "unknown"} {
		text := strings.Replace(string(data), "cpu: AMD EPYC\n", "cpu: "+cpu+"\n", 1)
		set, err := Decode(strings.NewReader(text), cpu)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, &Run{Path: "out/" + cpu, Set: set, Machine: MachineOf(set)})
	}
	LabelMachines(runs)
	for _, opts := range []Options{{Summary: true, Compact: true}, {Compact: true}, {Format: ASCII, Compact: true}} {
		var b bytes.Buffer
		if err := WriteMachines(&b, runs, opts); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(b.String(), "\n") {
			if utf8.RuneCountInString(l) > 120 {
				t.Errorf("%+v: a line of %d columns: %s", opts, utf8.RuneCountInString(l), l)
				break
			}
		}
		if !strings.Contains(b.String(), "│ linux/amd64 │") && !strings.Contains(b.String(), "| linux/amd64 |") {
			t.Errorf("%+v: no column of the third machine", opts)
		}
	}
}
