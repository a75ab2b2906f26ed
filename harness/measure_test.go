package harness

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/perfcount"
	"github.com/concbench/concbench/workloads/backend"
)

// benchUnits reads the result lines of a bench.txt: each benchmark's
// units and values, by name.
func benchUnits(t *testing.T, path string) map[string][]map[string]float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string][]map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		units := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				t.Fatalf("%s: value %q: %v", f[0], f[i], err)
			}
			units[f[i+1]] = v
		}
		lines[f[0]] = append(lines[f[0]], units)
	}
	return lines
}

// A recorded run writes the OS counters of every counted round per task
// (migrations/op; IPC and cache-misses/op where the kernel counts the
// hardware's events), and otherwise no such unit but one note, in the
// progress and in meta.json, saying which events are not counted and why.
// The I/O cell, served by child backends, reports its backends' CPU per
// task (backend-cpu-sec/op), the CPU cell none.
func TestBenchLinesCarryOSCountersAndBackendCPU(t *testing.T) {
	probe := perfcount.Open() // what this machine counts
	missing := probe.Missing()
	counted := map[perfcount.Event]bool{}
	for _, e := range []perfcount.Event{perfcount.Migrations, perfcount.Cycles, perfcount.CacheMisses} {
		counted[e] = probe.Has(e)
	}
	if err := probe.Close(); err != nil {
		t.Fatal(err)
	}

	backends := &ChildBackends{Executable: buildConcbench(t), Stderr: os.Stderr}
	defer backends.Close()
	fanout := blockingCell(t, smallSpec(t, "fanout", params.Values{"latency": "0s", "tasks": "64", "backends": "2"}))
	hash := blockingCell(t, smallSpec(t, "hash", params.Values{"tasks": "200"}))
	var progress bytes.Buffer
	rec, err := Record(&Plan{Cells: []*Cell{fanout, hash}}, Options{Count: 2, Warmup: 1,
		RoundTime: 20 * time.Millisecond, Backends: backends, Progress: &progress}, RecordOptions{Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := rec.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for c, err := range sum.Failed {
		t.Fatalf("%s failed: %v", c.Name, err)
	}

	lines := benchUnits(t, rec.Bench.Path())
	for _, c := range []*Cell{fanout, hash} {
		if len(lines[c.Name]) != 2 {
			t.Fatalf("%s: %d lines in bench.txt, want 2", c.Name, len(lines[c.Name]))
		}
		for _, units := range lines[c.Name] {
			for unit, event := range map[string]perfcount.Event{"migrations/op": perfcount.Migrations,
				"IPC": perfcount.Cycles, "cache-misses/op": perfcount.CacheMisses} {
				v, ok := units[unit]
				switch {
				case ok != counted[event]:
					t.Errorf("%s: %s present=%v, but this machine counts %s: %v", c.Name, unit, ok, event, counted[event])
				case ok && (v < 0 || math.IsInf(v, 0) || math.IsNaN(v)):
					t.Errorf("%s: %s = %g", c.Name, unit, v)
				}
			}
			cpu, ok := units["backend-cpu-sec/op"]
			switch {
			case c == hash && ok:
				t.Errorf("%s: backend-cpu-sec/op %g for a cell without a backend", c.Name, cpu)
			case c == fanout && !(ok && cpu > 0 && cpu < 1):
				t.Errorf("%s: backend-cpu-sec/op = %g (present: %v), want the child backends' CPU per task", c.Name, cpu, ok)
			}
		}
	}

	meta, err := rec.Dir.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		if !strings.Contains(progress.String(), "note: "+m+"\n") {
			t.Errorf("the progress does not say %q:\n%s", m, progress.String())
		}
	}
	if !slices.Equal(meta.NotCounted, missing) {
		t.Errorf("meta.json says %q is not counted, want %q", meta.NotCounted, missing)
	}
	header, err := os.ReadFile(rec.Bench.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Unit IPC better=higher\n", "Unit migrations/op better=lower\n"} {
		if !bytes.Contains(header, []byte(want)) {
			t.Errorf("bench.txt does not declare %q", want)
		}
	}
}

// statsSequence serves Stats from a list, one entry a call.
type statsSequence [][]backend.Stats

func (s *statsSequence) Stats() ([]backend.Stats, error) {
	st := (*s)[0]
	*s = (*s)[1:]
	return st, nil
}

// The backends' CPU of a round is what their processes' CPU grew by in
// it, summed over the servers, in counted rounds of I/O cells only; a
// server restarted during the round (its CPU counted again from 0) leaves
// the round unmeasured rather than wrong.
func TestBackendCPUIsTheServersGrowthInTheRound(t *testing.T) {
	ioCell := cell(smallSpec(t, "fanout", params.Values{"tasks": "4"}), probeStrategy{}, "probe")
	cpu := cell(smallSpec(t, "noop", params.Values{"tasks": "4"}), probeStrategy{}, "probe")
	st := func(user, sys time.Duration) backend.Stats { return backend.Stats{UserCPU: user, SystemCPU: sys} }
	ms := time.Millisecond
	for _, tt := range []struct {
		name     string
		cell     *Cell
		counted  bool
		stats    statsSequence
		measured bool
		want     time.Duration
	}{
		{"two servers", ioCell, true, statsSequence{{st(10*ms, 5*ms), st(20*ms, 1*ms)}, {st(13*ms, 6*ms), st(25*ms, 3*ms)}},
			true, 11 * ms},
		{"restarted server", ioCell, true, statsSequence{{st(10*ms, 5*ms)}, {st(1*ms, 1*ms)}}, false, 0},
		{"round not counted", ioCell, false, nil, false, 0},
		{"CPU cell", cpu, true, nil, false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			check := &backendCPU{backends: &tt.stats}
			r := &Round{Cell: tt.cell, Passes: 1, Counted: tt.counted}
			res := &CellResult{Cell: tt.cell}
			if err := check.BeginRound(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if err := check.EndRound(context.Background(), r, res); err != nil {
				t.Fatal(err)
			}
			if res.BackendCPUMeasured != tt.measured || res.BackendCPU != tt.want {
				t.Errorf("BackendCPU = %v (measured %v), want %v (%v)", res.BackendCPU, res.BackendCPUMeasured, tt.want,
					tt.measured)
			}
		})
	}
	if backendCPUCheck(&InProcessBackends{}) != nil {
		t.Error("backends in this process are measured apart: their CPU is the client's own")
	}
}
