package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/loadgen"
)

// serveWait bounds each wait of these tests on the serve process: its
// start (a backend child, a verified page 0) and its stop take well under
// a second; the bound is for a loaded machine.
const serveWait = 30 * time.Second

// `concbench serve` alone, its load job given to `concbench loadgen` in
// another process, as on another machine: every response is verified
// against the server's backend (and none with another secret: the check
// can fail), and SIGINT stops the server and its backend child cleanly.
// Not parallel: goleak sees this test's goroutines only.
func TestServeCommandEndToEnd(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := startServe(t, "serve", "--strategy", "goroutines", "--listen", "127.0.0.1:0",
		"serve.rate=100", "serve.duration=200ms", "serve.pages=20")
	addr := p.listening(t)
	job, err := serve.DecodeLoadJob(strings.NewReader(p.waitLine(t, p.stdout, "{")))
	if err != nil {
		t.Fatal(err)
	}
	if job.Config.Addr != addr || job.Config.Rate != 100 || job.Config.Duration != 200*time.Millisecond ||
		job.Pages != 20 || job.Secret == 0 {
		t.Fatalf("job %+v: want addr %s, rate 100, duration 200ms, 20 pages and the backend's secret", job, addr)
	}
	children := childrenOf(t, p.cmd.Process.Pid)
	backends := 0
	for _, cmdline := range children {
		if strings.Contains(cmdline, "backend\x00--control-stdin") {
			backends++
		}
	}
	if backends == 0 {
		t.Fatalf("no backend child among the server's children %v", children)
	}

	res := runLoadgenBinary(t, job)
	if res.Scheduled < 10 || res.OK != res.Scheduled || res.Failed() != 0 || !(res.AchievedRate > 0) {
		t.Fatalf("%d of %d responses verified, errors %v %v, achieved %v/s", res.OK, res.Scheduled, res.Errors, res.ErrorSamples, res.AchievedRate)
	}
	job.Secret ^= 1
	if res := runLoadgenBinary(t, job); res.OK != 0 || res.Errors[loadgen.KindBody.String()] == 0 {
		t.Fatalf("with a wrong secret: %d responses verified, errors %v; want every page refused", res.OK, res.Errors)
	}

	if code := p.stop(t, syscall.SIGINT); code != exitOK {
		t.Fatalf("exit %d after SIGINT\nstderr:\n%s", code, p.stderr)
	}
	// The backend child prints its counters when it stops as asked; one
	// killed with its parent (the parent-death signal) prints nothing.
	for _, want := range []string{"concbench backend: ", "concbench serve: stopped"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
	for pid, cmdline := range children {
		if now, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && string(now) == cmdline {
			t.Errorf("child %d (%q) outlived the server", pid, cmdline)
		}
	}
}

// --job writes the job to a file only its owner reads; another server
// model (the reactor, with the in-process backend) verifies too, and
// SIGTERM stops it as SIGINT does.
func TestServeCommandJobFile(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	file := filepath.Join(t.TempDir(), "job.json")
	p := startServe(t, "serve", "--strategy", "reactor", "--listen", "127.0.0.1:0", "--job", file, "--backend", "inprocess",
		"reactor.loops=2", "serve.rate=100", "serve.duration=200ms", "serve.pages=10", "serve.latency=0s")
	addr := p.listening(t)
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600: it holds the backend's secret", file, info.Mode().Perm())
	}
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	job, err := serve.DecodeLoadJob(bytes.NewReader(text))
	if err != nil || job.Config.Addr != addr {
		t.Fatalf("job %s (%v): want addr %s", text, err, addr)
	}
	res := runLoadgenBinary(t, job)
	if res.Scheduled < 10 || res.OK != res.Scheduled || res.Failed() != 0 {
		t.Fatalf("%d of %d responses verified, errors %v %v", res.OK, res.Scheduled, res.Errors, res.ErrorSamples)
	}
	if code := p.stop(t, syscall.SIGTERM); code != exitOK {
		t.Fatalf("exit %d after SIGTERM\nstderr:\n%s", code, p.stderr)
	}
	if p.stdout.String() != "" {
		t.Errorf("stdout %q, want nothing: the job went to --job", p.stdout)
	}
	if !strings.Contains(p.stderr.String(), "reactor(loops=2,") {
		t.Errorf("stderr does not name the server model:\n%s", p.stderr)
	}
}

// Bad input is a usage error that says what to do, and nothing is served.
func TestServeCommandUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--strategy is required"},
		{[]string{"serve", "--strategy", "nope"}, `unknown strategy "nope" (valid: blocking, threads, goroutines, pool, reactor`},
		{[]string{"serve", "--strategy", "goroutines", "--listen", "0.0.0.0:8080"},
			"--listen 0.0.0.0:8080 reaches beyond loopback: anyone who can connect could load the server, and through it the backend; give --allow-remote"},
		{[]string{"serve", "--strategy", "goroutines", "--listen", ":8080"}, "give --allow-remote"},
		{[]string{"serve", "--strategy", "goroutines", "--listen", "8080"}, "missing port in address"},
		{[]string{"serve", "--strategy", "goroutines", "serve.rate=100,200"}, "rate=100,200 is a sweep; a server serves one value of each parameter"},
		{[]string{"serve", "--strategy", "goroutines", "fanout.tasks=10"}, "fanout.tasks: invalid parameter value: only serve.PARAM and goroutines.PARAM apply"},
		{[]string{"serve", "--strategy", "goroutines", "pool.workers=2"}, "the server is --strategy goroutines"},
		{[]string{"serve", "--strategy", "goroutines", "goroutines.size=2"}, `unknown parameter "size" (valid: conns)`},
		{[]string{"serve", "--strategy", "goroutines", "justaword"}, "want NAME.PARAM=VALUE"},
		{[]string{"serve", "--strategy", "goroutines", "--backend", "mysql://x"}, "bad --backend"},
	} {
		stdout, stderr, code := concbench(t, dir, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, stdout, stderr, exitUsage, tt.want)
		}
	}
	for _, args := range [][]string{{"serve", "--help"}, {"help", "serve"}} {
		stdout, stderr, code := concbench(t, dir, args...)
		if code != exitOK || !strings.Contains(stderr, "Usage: concbench serve --strategy NAME") {
			t.Errorf("%v: exit %d, no usage:\n%s%s", args, code, stdout, stderr)
		}
	}
	if stdout, _, _ := concbench(t, dir, "--help"); !strings.Contains(stdout, "concbench serve --strategy NAME [flags]") {
		t.Errorf("the command list lacks serve:\n%s", stdout)
	}
}

// serveProcess is a `concbench serve` started by startServe.
type serveProcess struct {
	cmd            *exec.Cmd
	stdout, stderr *outputWatch
	exited         chan struct{} // closed once Wait returned
	waitErr        error
}

// startServe starts the binary with args; the test's cleanup kills it if
// it still runs.
func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(binary, args...), stdout: newOutputWatch(), stderr: newOutputWatch(),
		exited: make(chan struct{})}
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// listening waits for the "listening on ADDR" line and returns ADDR.
func (p *serveProcess) listening(t *testing.T) string {
	t.Helper()
	addr := strings.TrimPrefix(p.waitLine(t, p.stderr, "listening on "), "listening on ")
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
		t.Fatalf("listening on %q: want the port picked", addr)
	}
	return addr
}

// waitLine waits for a whole line of out that starts with prefix and
// returns it, failing the test if the process exits or serveWait passes
// first.
func (p *serveProcess) waitLine(t *testing.T, out *outputWatch, prefix string) string {
	t.Helper()
	deadline := time.After(serveWait)
	for {
		if l := out.findLine(prefix); l != "" {
			return l
		}
		select {
		case <-out.wrote:
		case <-p.exited: // Wait has copied all the output
			if l := out.findLine(prefix); l != "" {
				return l
			}
			t.Fatalf("exited (%v) before a line starting %q\nstdout:\n%s\nstderr:\n%s", p.waitErr, prefix, p.stdout, p.stderr)
		case <-deadline:
			t.Fatalf("no line starting %q within %v\nstdout:\n%s\nstderr:\n%s", prefix, serveWait, p.stdout, p.stderr)
		}
	}
}

// stop sends sig and returns the exit status.
func (p *serveProcess) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(serveWait):
		t.Fatalf("still running %v after %v\nstderr:\n%s", sig, serveWait, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// runLoadgenBinary runs `concbench loadgen` with job and returns its
// result.
func runLoadgenBinary(t *testing.T, job serve.LoadJob) *loadgen.Result {
	t.Helper()
	in, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "loadgen")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("loadgen: %v\n%s", err, stderr.String())
	}
	res, err := loadgen.DecodeResult(bytes.TrimSpace(out))
	if err != nil {
		t.Fatalf("loadgen's result: %v\n%s", err, out)
	}
	return res
}

// childrenOf returns the command lines (NUL-separated, as /proc has them)
// of pid's child processes, by pid.
func childrenOf(t *testing.T, pid int) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	kids := map[int]string{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		// Fields after the command name, which may hold spaces: state, ppid, ...
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", child)); err == nil {
			kids[child] = string(cmdline)
		}
	}
	return kids
}

// outputWatch is a process's stdout or stderr as it is written, for a
// test to wait on.
type outputWatch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{} // holds a token after a write
}

func newOutputWatch() *outputWatch { return &outputWatch{wrote: make(chan struct{}, 1)} }

func (o *outputWatch) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.buf.Write(p)
	o.mu.Unlock()
	select {
	case o.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (o *outputWatch) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// findLine returns the first whole line written that starts with prefix,
// or "".
func (o *outputWatch) findLine(prefix string) string {
	for _, l := range strings.SplitAfter(o.String(), "\n") {
		if strings.HasPrefix(l, prefix) && strings.HasSuffix(l, "\n") {
			return strings.TrimSuffix(l, "\n")
		}
	}
	return ""
}
