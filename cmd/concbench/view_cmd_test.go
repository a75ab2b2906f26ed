package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/goleak"

	"github.com/concbench/concbench/profiles"
	"github.com/concbench/concbench/rundir"
)

// writeTinyProfile writes one labelled CPU profile of a made-up cell.
func writeTinyProfile(t *testing.T, run string) {
	t.Helper()
	cell := profiles.Cell{Name: "BenchmarkMandelbrot/rows=1/strategy=blocking-2", Workload: "mandelbrot",
		Params: "rows=1", Strategy: "blocking"}
	fn := &profile.Function{ID: 1, Name: "github.com/concbench/concbench/workloads.MandelbrotRowScalar"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, Period: 1e7,
		Sample: []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{5, 5e7},
			Label: map[string][]string{"strategy": {"blocking"}}}},
		Location: []*profile.Location{loc}, Function: []*profile.Function{fn},
		Comments: profiles.CommentsOf(cell),
	}
	path := rundir.Dir(run).Profile(cell.Name, string(profiles.CPU))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is an io.Writer that a test may read while runView writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestViewServesUntilCancelled runs 'concbench view' in process (not
// parallel, so goleak sees only its goroutines).
func TestViewServesUntilCancelled(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	run := t.TempDir()
	writeTinyProfile(t, run)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runView(ctx, []string{run, "--workload", "mandelbrot", "--strategy", "blocking"}, pw, &stderr)
		pw.Close()
	}()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL: %v\nstderr: %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL %q is not on 127.0.0.1", url)
	}
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	resp, err := client.Get(url + "flamegraph")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "MandelbrotRowScalar") {
		t.Errorf("GET flamegraph: %s, kernel frame shown: %v", resp.Status, strings.Contains(string(body), "MandelbrotRowScalar"))
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d; stderr: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("view did not stop after cancel")
	}
}

func TestViewUsageErrors(t *testing.T) {
	t.Parallel()
	run := t.TempDir()
	writeTinyProfile(t, run)
	for _, args := range [][]string{
		{filepath.Join(run, "nope")},
		{run, "--workload", "nope"},
		{run, "--kind", "heap"},
		{run, "--diff-base", "nope"},
		{run, "extra"},
	} {
		var stderr bytes.Buffer
		if code := runView(context.Background(), args, io.Discard, &stderr); code != exitUsage {
			t.Errorf("view %q: exit %d, want %d (usage); stderr: %s", args, code, exitUsage, stderr.String())
		}
	}
}

// writeCellProfile writes a labelled CPU profile of one made-up cell whose
// samples are all in fn.
func writeCellProfile(t *testing.T, run, workload, strategy, fn string, samples int64) {
	t.Helper()
	cell := profiles.Cell{Name: "Benchmark" + workload + "/n=1/strategy=" + strategy + "-2", Workload: workload,
		Params: "n=1", Strategy: strategy}
	f := &profile.Function{ID: 1, Name: "github.com/concbench/concbench/workloads." + fn}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: f}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, Period: 1e7,
		Sample: []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{samples, samples * 1e7},
			Label: map[string][]string{"strategy": {strategy}}}},
		Location: []*profile.Location{loc}, Function: []*profile.Function{f},
		Comments: profiles.CommentsOf(cell),
	}
	path := rundir.Dir(run).Profile(cell.Name, string(profiles.CPU))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rundir.WriteFile(path, p.Write); err != nil {
		t.Fatal(err)
	}
}

// TestViewDiffBaseIsAStrategy runs the README's command,
// view --workload mandelbrot --strategy pool --diff-base blocking, on a
// run where blocking has a cell in every workload (it used to exit 2,
// "blocking matches 13 cells"), and checks the UI shows pool's mandelbrot
// minus blocking's.
func TestViewDiffBaseIsAStrategy(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	run := t.TempDir()
	for _, w := range []string{"dot", "hash", "noop", "stream", "fanout", "webrequest", "mixed"} {
		writeCellProfile(t, run, w, "blocking", "Other", 10)
		writeCellProfile(t, run, w, "pool(workers=8)", "Other", 10)
	}
	writeCellProfile(t, run, "mandelbrot", "blocking", "MandelbrotRowScalar", 10)
	writeCellProfile(t, run, "mandelbrot", "pool(workers=8)", "MandelbrotRowScalar", 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runView(ctx, []string{run, "--workload", "mandelbrot", "--strategy", "pool", "--diff-base", "blocking"},
			pw, &stderr)
		pw.Close()
	}()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL: %v\nstderr: %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	resp, err := client.Get(strings.TrimSpace(url) + "top")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	if got := stderr.String(); !strings.Contains(got, "diff base: Benchmarkmandelbrot/n=1/strategy=blocking-2\n") ||
		strings.Count(got, "diff base:") != 1 {
		t.Errorf("diff base is not blocking's mandelbrot cell alone:\n%s", got)
	}
	// Equal shares, normalized: nothing differs, so the kernel is not listed.
	if strings.Contains(string(body), `workloads.MandelbrotRowScalar","InlineLabel":"","Flat":1`) {
		t.Errorf("top shows a difference in the kernel:\n%.2000s", body)
	}
}

func TestViewHelpNamesPprofsParameters(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	runView(context.Background(), []string{"--help"}, io.Discard, &stderr)
	help := stderr.String()
	if strings.Contains(help, "tagfocus=") || !strings.Contains(help, "?tf=strategy=pool") {
		t.Errorf("help view should advise pprof's tf= URL parameter:\n%s", help)
	}
}
