package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

// binary is the concbench binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "concbench-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "concbench")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building concbench: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func concbench(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return concbenchWith(t, binary, dir, nil, args...)
}

// concbenchWith runs the binary bin in dir with env added to the test's
// environment.
func concbenchWith(t *testing.T, bin, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// The stream workload's cells set the bandwidth that dot's cells are
// compared with, in the same run's output.
func TestRunReportsBandwidthAgainstStream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, code := concbench(t, dir, "run", "--quiet", "--count", "1", "--warmup", "0", "--profile=false",
		"--workloads", "stream,dot", "--strategies", "blocking,simd",
		"stream.bytes=4Mi", "stream.op=sum", "dot.tasks=512", "dot.span=1Mi")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Memory bandwidth", "% of the fastest stream cell of this run (Stream op=sum/bytes=4194304/",
		"Dot tasks=512/size=4096/span=1048576", " GB/s ("} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	bench, err := os.ReadFile(filepath.Join(dir, "out", "latest", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bench), "\nsimd: ") {
		t.Errorf("bench.txt header does not name the simd kernel path:\n%s", bench)
	}
	if !strings.Contains(string(bench), "Unit B/s better=higher") || !strings.Contains(string(bench), " B/s\t") {
		t.Errorf("bench.txt has no B/s figures:\n%s", bench)
	}
}

func TestRunWritesBenchstatReadableResults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, code := concbench(t, dir, "run", "--quick", "--quiet", "--count", "2", "--warmup", "0",
		"--workloads", "hash,fanout", "--strategies", "blocking,pool",
		"hash.tasks=500", "fanout.tasks=40", "fanout.latency=0s", "pool.workers=2,4")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	bench := filepath.Join(dir, "out", "latest", "bench.txt")
	f, err := os.Open(bench)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]int{}
	r := benchfmt.NewReader(f, bench)
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.Result:
			names[string(rec.Name.Full())]++
		case *benchfmt.SyntaxError:
			t.Fatal(rec)
		}
	}
	// 2 workloads × 3 strategy instances, 2 rounds each.
	if len(names) != 6 {
		t.Fatalf("%d cells in bench.txt, want 6: %v", len(names), names)
	}
	p := runtime.GOMAXPROCS(0)
	for _, want := range []string{
		"Hash/tasks=500/size=64/strategy=blocking",
		"Hash/tasks=500/size=64/strategy=pool(workers=4)",
		"Fanout/latency=0s/tasks=40/size=64/backends=2/strategy=pool(workers=2)",
	} {
		full := want + "-" + strconv.Itoa(p)
		if names[full] != 2 {
			t.Errorf("%s: %d rounds, want 2 (have %v)", full, names[full], names)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "latest", "meta.json")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stdout, "blocking") || !strings.Contains(stdout, "pool(workers=4)") {
		t.Errorf("stdout has no table with the strategies:\n%s", stdout)
	}
}

func TestBadInputGivesUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--workloads", "nope"}, `unknown workload "nope" (valid: dot, fanout, hash, mandelbrot, mixed, noop, serve, stream, webrequest)`},
		{[]string{"run", "--strategies", "nope"}, `unknown strategy "nope" (valid: blocking, threads, goroutines, pool`},
		{[]string{"run", "pool.workers=many"}, `strategy pool: invalid parameter value: workers="many": not an integer`},
		{[]string{"run", "pool.size=1"}, `unknown parameter "size" (valid: workers)`},
		{[]string{"run", "hash.tasks=0"}, `tasks="0": must be between 1 and`},
		{[]string{"run", "nothing.x=1"}, `"nothing" is neither a workload`},
		{[]string{"run", "justaword"}, `want NAME.PARAM=VALUE`},
		{[]string{"run", "--count", "0"}, `--count must be between 1 and`},
		{[]string{"run", "--backend", "mysql://x"}, `want builtin, inprocess or redis://HOST:PORT`},
		{[]string{"run", "--no-such-flag"}, `flag provided but not defined`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		_, stderr, code := concbench(t, dir, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, exitUsage, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a rejected command created a run folder")
	}
}

func TestHelpAndList(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"list", "--help"}, {"report", "--help"}, {"backend", "--help"}, {"doctor", "--help"}, {"version", "--help"}, {"help", "run"}} {
		out, errOut, code := concbench(t, t.TempDir(), args...)
		if code != 0 || !strings.Contains(out+errOut, "Usage") {
			t.Errorf("%v: exit %d, no usage text:\n%s%s", args, code, out, errOut)
		}
	}
	out, _, code := concbench(t, t.TempDir(), "list")
	for _, want := range []string{"blocking", "threads", "goroutines", "pool", "mandelbrot", "fanout", "pool.workers=", "mixed.cpu"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("list (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
}
