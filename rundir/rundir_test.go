package rundir_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concbench/concbench/rundir"
)

// The layout is what users, scripts and docs know: a change here is a
// change of the run folder's format.
func TestLayout(t *testing.T) {
	t.Parallel()
	d := rundir.Dir("out/20261123-131900")
	cell := "BenchmarkFanout/latency=1ms/strategy=pool(workers=8)-2"
	stem := "Fanout_latency=1ms_strategy=pool_workers=8_-2"
	for _, tt := range []struct{ got, want string }{
		{d.ID(), "20261123-131900"},
		{d.Bench(), "out/20261123-131900/bench.txt"},
		{d.Meta(), "out/20261123-131900/meta.json"},
		{d.ProfileDir(), "out/20261123-131900/profiles"},
		{d.Profile(cell, "cpu"), "out/20261123-131900/profiles/" + stem + ".cpu.pprof"},
		{d.Profile(cell, "wall"), "out/20261123-131900/profiles/" + stem + ".wall.pprof"},
		{d.Trace(cell), "out/20261123-131900/profiles/" + stem + ".trace"},
		{d.Breakdown(), "out/20261123-131900/profiles/breakdown.md"},
		{d.FlameDir(), "out/20261123-131900/flame"},
		{d.FlameGraph(cell), "out/20261123-131900/flame/" + stem + ".html"},
		{d.WallFlameGraph(cell), "out/20261123-131900/flame/" + stem + ".wall.html"},
		{d.ChartDir(), "out/20261123-131900/charts"},
		{d.Chart("01-x.svg"), "out/20261123-131900/charts/01-x.svg"},
		{d.ReportMarkdown(), "out/20261123-131900/report.md"},
		{d.ReportHTML(), "out/20261123-131900/report.html"},
		{string(rundir.Latest("out")), "out/latest"},
	} {
		if tt.got != filepath.FromSlash(tt.want) {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestCellStem(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"BenchmarkDot/size=4096/strategy=pool(workers=8)-2": "Dot_size=4096_strategy=pool_workers=8_-2",
		"Mixed/cpu=50µs/strategy=simd(batch=256)-2":         "Mixed_cpu=50_s_strategy=simd_batch=256_-2",
		"Benchmark": "cell",
		"":          "cell",
		"a b+c,d":   "a_b+c,d",
	} {
		if got := rundir.CellStem(in); got != want {
			t.Errorf("CellStem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCreateNamesRunsAndLinksLatest(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "nested", "out") // created on demand
	now := time.Date(2026, 11, 23, 13, 19, 0, 0, time.UTC)
	var ids []string
	for range 3 {
		d, err := rundir.Create(out, now)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID())
		if st, err := os.Stat(string(d)); err != nil || !st.IsDir() {
			t.Fatalf("%s is not a folder: %v", d, err)
		}
		if link, err := os.Readlink(string(rundir.Latest(out))); err != nil || link != d.ID() {
			t.Errorf("latest → %q (%v), want %q", link, err, d.ID())
		}
	}
	if want := []string{"20261123-131900", "20261123-131900-2", "20261123-131900-3"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}
}

// Issue 14: four runs started at once into one --out, five times, and one
// of the 20 failed with "rename latest.tmp: no such file or directory".
// Every run now links latest through a temporary name of its own.
func TestParallelCreatesIntoOneOutAllSucceed(t *testing.T) {
	t.Parallel()
	for try := range 20 {
		out := t.TempDir()
		now := time.Date(2026, 11, 23, 13, 19, try, 0, time.UTC)
		const runs = 8
		var wg sync.WaitGroup
		dirs := make([]rundir.Dir, runs)
		errs := make([]error, runs)
		for i := range runs {
			wg.Go(func() { dirs[i], errs[i] = rundir.Create(out, now) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("try %d: %v", try, err)
		}
		seen := map[string]bool{}
		for _, d := range dirs {
			if seen[d.ID()] {
				t.Fatalf("try %d: two runs got %s", try, d.ID())
			}
			seen[d.ID()] = true
		}
		link, err := os.Readlink(string(rundir.Latest(out)))
		if err != nil || !seen[link] {
			t.Fatalf("try %d: latest → %q (%v), not one of the runs", try, link, err)
		}
		entries, _ := os.ReadDir(out)
		if len(entries) != runs+1 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("try %d: %s holds %q, want the %d runs and latest", try, out, names, runs)
		}
	}
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// Issue 14: bench.txt was created 0600 (a temporary file's mode) while
// every other output is 0644.
func TestWriteFileIsWholeAnd0644(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "bench.txt")
	if err := rundir.WriteFile(path, writeString("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := rundir.WriteFile(path, writeString("one\ntwo\n")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	// A failed write leaves the old file whole and no temporary file.
	boom := errors.New("disk full")
	err = rundir.WriteFile(path, func(w io.Writer) error {
		io.WriteString(w, "torn")
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one wrapping %v and naming %s", err, boom, path)
	}
	if data, _ := os.ReadFile(path); string(data) != "one\ntwo\n" {
		t.Errorf("after a failed write the file holds %q", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files left, want only bench.txt: %v", len(entries), entries)
	}
}

func TestMetaRoundTrip(t *testing.T) {
	t.Parallel()
	d := rundir.Dir(t.TempDir())
	lo, hi := 1.9e-7, 2.1e-7
	m := &rundir.Meta{ID: "20261123-131900", Args: []string{"run", "--quick"},
		Started: time.Date(2026, 11, 23, 13, 19, 0, 0, time.UTC), Ended: time.Date(2026, 11, 23, 13, 20, 0, 0, time.UTC),
		Finished: true, Backend: "built-in, child process", Count: 6, Warmup: 1,
		RoundTime: 200 * time.Millisecond, MaxErrors: 0.01, Placement: "strategy=0 backend=1",
		Machine: &rundir.Machine{Summary: "machine: ok", Findings: []rundir.MachineFinding{{Check: "load", Status: "ok", Value: "idle"}}},
		BackendRestarts: []rundir.BackendRestart{{Instance: 1, Addr: "127.0.0.1:1", NewAddr: "127.0.0.1:2", Exit: "signal: killed",
			At: time.Date(2026, 11, 23, 13, 19, 30, 0, time.UTC)}},
		Notes: map[string]string{"dot/size=4096: span": "L2"},
		Cells: []rundir.CellMeta{{Name: "Dot/strategy=blocking-2", Rounds: 6, Passes: 38,
			Result: &rundir.CellSummary{SecPerOp: 2e-7, Lo: &lo, Hi: &hi, N: 6, CV: 0.02, MaxErrorsPerOp: 0.001}},
			{Name: "Dot/strategy=x-2", Failed: "digest mismatch"}}}
	if err := d.WriteMeta(m); err != nil {
		t.Fatal(err)
	}
	got, err := d.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("read back %+v, want %+v", got, m)
	}
	data, _ := os.ReadFile(d.Meta())
	for _, want := range []string{`"id": "20261123-131900"`, `"finished": true`, `"cells": [`, `"failed": "digest mismatch"`,
		`"round_time_ns": 200000000`, `"max_errors": 0.01`, `"placement": "strategy=0 backend=1"`, `"passes": 38`,
		`"sec_per_op": 2e-7`, `"unstable": false`, `"summary": "machine: ok"`, `"new_addr": "127.0.0.1:2"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("meta.json lacks %s:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), `"skipped"`) || strings.Count(string(data), `"failed"`) != 1 || strings.Count(string(data), `"result"`) != 1 {
		t.Errorf("meta.json writes empty optional fields:\n%s", data)
	}
	if _, err := rundir.Dir(t.TempDir()).ReadMeta(); err == nil {
		t.Error("ReadMeta of a folder without meta.json: no error")
	}
}

func TestProfileFiles(t *testing.T) {
	t.Parallel()
	d := rundir.Dir(t.TempDir())
	if files, err := d.ProfileFiles("cpu"); err != nil || len(files) != 0 {
		t.Errorf("a run without profiles: %v, %v", files, err)
	}
	for _, name := range []string{"B_x-2.cpu.pprof", "A_x-2.cpu.pprof", "A_x-2.wall.pprof", ".A_x-2.cpu.pprof.123.tmp",
		"A_x-2.trace", "breakdown.md"} {
		if err := rundir.WriteFile(filepath.Join(d.ProfileDir(), name), writeString("x")); err != nil {
			t.Fatal(err)
		}
	}
	files, err := d.ProfileFiles("cpu")
	if err != nil {
		t.Fatal(err)
	}
	want := []rundir.ProfileFile{{d.Profile("A_x-2", "cpu"), "A_x-2"}, {d.Profile("B_x-2", "cpu"), "B_x-2"}}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("got %v, want %v", files, want)
	}
}

func TestBenchOf(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "old.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		dir:                           filepath.Join(dir, "bench.txt"),
		file:                          file,
		filepath.Join(dir, "missing"): filepath.Join(dir, "missing"),
	} {
		if got := rundir.BenchOf(in); got != want {
			t.Errorf("BenchOf(%s) = %s, want %s", in, got, want)
		}
	}
}
