package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/concbench/concbench/workloads"
)

// mutation is a change of one line (or a few) of a strategy's source that
// makes it answer its fetches locally instead of asking the backend.
type mutation struct {
	file     string // relative to the module root
	from, to string // from must occur exactly once
	add      string // appended to the file
}

// answerLocally are the mutation (blocking's connections replaced
// by nil: `job.RunTaskFrom(i, t, workloads.Scalar, nil)`) and the same in
// the other Go strategies: the thread, goroutine and pool strategies run
// their tasks with no fetcher; the reactor and simd, which drive cursors
// themselves, fold values made locally (workloads.Value) instead of
// sending their GETs.
var answerLocally = []mutation{
	{file: "strategies/blocking.go",
		from: "t = job.RunTaskFrom(i, t, workloads.Scalar, conns)", to: "t = job.RunTaskFrom(i, t, workloads.Scalar, nil)"},
	{file: "strategies/threads.go",
		from: "job.RunTask(i, workloads.Scalar, conns)", to: "job.RunTask(i, workloads.Scalar, nil)"},
	{file: "strategies/goroutines.go",
		from: "job.RunTask(i, workloads.Scalar, conns)", to: "job.RunTask(i, workloads.Scalar, nil)"},
	{file: "strategies/pool.go",
		from: "job.RunTask(i, workloads.Scalar, conns[w])", to: "job.RunTask(i, workloads.Scalar, nil); _ = w"},
	{file: "strategies/reactor/task_linux.go",
		from: "l.issue(t, st.Backend, t.cur.Key())\n\t\treturn",
		to:   "t.err = t.cur.Fetched(workloads.Value(t.cur.Key(), l.run.job.Spec.Backend.ValueSize))\n\t\tcontinue"},
	{file: "strategies/simd/lockstep_io.go",
		from: "w.conns.GetMany(ctx, b, g.keys, func(i int, v []byte, err error) {",
		to:   "localGetMany(g.keys, w.job.Spec.Backend.ValueSize, func(i int, v []byte, err error) {",
		add: "\nfunc localGetMany(keys []string, size int, fn func(i int, v []byte, err error)) {\n" +
			"\tfor i, k := range keys {\n\t\tfn(i, workloads.Value(k, size), nil)\n\t}\n}\n"},
}

// buildMutant builds concbench with the mutations applied (go build
// -overlay: the tree is not touched) into a folder of the test.
func buildMutant(t *testing.T, muts []mutation) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	replace := map[string]string{}
	for _, m := range muts {
		path := filepath.Join(root, m.file)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(src, []byte(m.from)); n != 1 {
			t.Fatalf("%s holds %q %d times, want once: update the mutation to the strategy's code", m.file, m.from, n)
		}
		out := append(bytes.Replace(src, []byte(m.from), []byte(m.to), 1), m.add...)
		mutant := filepath.Join(dir, strings.ReplaceAll(m.file, "/", "_"))
		if err := os.WriteFile(mutant, out, 0o644); err != nil {
			t.Fatal(err)
		}
		replace[path] = mutant
	}
	overlay, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	overlayPath := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayPath, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "concbench")
	build := exec.Command("go", "build", "-overlay", overlayPath, "-o", bin, "github.com/concbench/concbench/cmd/concbench")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the mutant: %v\n%s", err, out)
	}
	return bin
}

// The mutation, and the same in every Go strategy: a concbench
// whose strategies answer their fetches locally fails every I/O cell
// (exit 1), each with a message that says what the strategy did wrong,
// and never names a winner.
func TestMutantsThatAnswerLocallyFail(t *testing.T) {
	t.Parallel()
	bin := buildMutant(t, answerLocally)
	out := t.TempDir()
	cmd := exec.Command(bin, "run", "--quiet", "--count", "1", "--warmup", "0", "--profile=false", "--out", out,
		"--workloads", "fanout,webrequest", "--strategies", "blocking,threads,goroutines,pool,reactor,simd",
		"fanout.tasks=64", "fanout.latency=0s", "webrequest.tasks=32", "webrequest.latency=0s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("the mutant's run: %v, want exit 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	text := stderr.String()
	t.Logf("the mutant's run said:\n%s", text)
	noFetcher := "fetch step run with no Fetcher: the strategy must fetch through the job's backends"
	for _, c := range []struct{ strategy, want string }{
		{"blocking", noFetcher}, {"threads", noFetcher}, {"goroutines", noFetcher}, {"pool", noFetcher},
		{"reactor", workloads.ErrAnsweredLocally.Error()}, {"simd", workloads.ErrAnsweredLocally.Error()},
	} {
		for _, w := range []string{"BenchmarkFanout/", "BenchmarkWebrequest/"} {
			line := failureLine(text, w, "/strategy="+c.strategy)
			if line == "" || !strings.Contains(line, c.want) {
				t.Errorf("%s%s: failure %q, want one that says %q", w, c.strategy, line, c.want)
			}
		}
	}
	if strings.Contains(stdout.String(), "is fastest") {
		t.Errorf("a winner was named among failed cells:\n%s", stdout.String())
	}
}

// failureLine returns the line of the run's failure list for the cell
// whose name starts with prefix and holds strategy, or "".
func failureLine(stderr, prefix, strategy string) string {
	for _, line := range strings.Split(stderr, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), ":")
		if strings.HasPrefix(name, prefix) && strings.Contains(name, strategy) {
			return line
		}
	}
	return ""
}
