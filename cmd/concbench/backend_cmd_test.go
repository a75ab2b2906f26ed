package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/concbench/concbench/harness"
	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

// backendProcess is a running 'concbench backend'.
type backendProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	addr   string
	exited chan struct{}
	stderr *syncBuffer
}

// startBackend runs the built binary's backend command, writes input on
// its stdin (left open), and waits for its address.
func startBackend(t *testing.T, input string, args ...string) *backendProcess {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"backend"}, args...)...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &backendProcess{cmd: cmd, stdin: stdin, exited: make(chan struct{}), stderr: stderr}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-b.exited
	})
	if _, err := io.WriteString(stdin, input); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(b.exited)
	}()
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("first line %q, %v; stderr:\n%s", line, err, stderr.String())
	}
	b.addr = addr
	return b
}

// waitExit waits for the process to exit, for up to 20 seconds (a bound on
// a hang, not a timing assertion), and returns its exit code.
func (b *backendProcess) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-b.exited:
		return b.cmd.ProcessState.ExitCode()
	case <-time.After(20 * time.Second):
		t.Fatalf("backend still running 20 s later; stderr:\n%s", b.stderr.String())
		return -1
	}
}

func TestBackendRefusesToListenBeyondLoopbackWithoutAuth(t *testing.T) {
	t.Parallel()
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		_, stderr, code := concbench(t, t.TempDir(), "backend", "--listen", listen)
		if code != exitUsage || !strings.Contains(stderr, "--auth TOKEN") {
			t.Errorf("backend --listen %s: exit %d, stderr %q; want exit 2 asking for --auth", listen, code, stderr)
		}
	}
}

// Beyond loopback with --auth: a warning, and every command but AUTH is
// refused with NOAUTH until the client authenticates.
func TestBackendBeyondLoopbackWithAuth(t *testing.T) {
	t.Parallel()
	b := startBackend(t, "", "--listen", "0.0.0.0:0", "--auth", "tok3n")
	_, port, err := net.SplitHostPort(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	local := "127.0.0.1:" + port
	ctx := context.Background()
	c, err := resp.Dial(ctx, local, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, args := range [][]string{{"GET", "k"}, {"CONCBENCH.LATENCY", "1s"}, {"SET", "k", "v"}} {
		r, err := c.Do(args...)
		if err != nil || r.Kind != resp.KindError || !strings.HasPrefix(string(r.Str), "NOAUTH") {
			t.Fatalf("%v before AUTH: %v, %v; want NOAUTH", args, r, err)
		}
	}
	if err := c.Auth("", "wrong"); err == nil {
		t.Fatal("AUTH with the wrong token succeeded")
	}
	if err := c.Auth("", "tok3n"); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get("item:1"); err != nil || string(v) != string(workloads.Value("item:1", 64)) {
		t.Fatalf("GET after AUTH: %q, %v", v, err)
	}
	if !strings.Contains(b.stderr.String(), "warning: listening on") {
		t.Errorf("no warning on stderr:\n%s", b.stderr.String())
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := b.waitExit(t); code != exitOK {
		t.Fatalf("exit %d after SIGTERM", code)
	}
}

// --control-stdin: the secret arrives on stdin, and the server exits when
// stdin closes (the fallback that makes a child die with its parent where
// there is no parent-death signal).
func TestBackendControlStdin(t *testing.T) {
	t.Parallel()
	const secret = 0xabcdef
	var cfg strings.Builder
	if err := backend.WriteChildConfig(&cfg, backend.Config{Secret: secret}); err != nil {
		t.Fatal(err)
	}
	b := startBackend(t, cfg.String(), "--control-stdin", "--value-size", "32")
	c, err := resp.Dial(context.Background(), b.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Get("item:9"); err != nil || string(v) != string(workloads.SecretValue(secret, "item:9", 32)) {
		t.Fatalf("GET = %q, %v; want the value of the secret given on stdin", v, err)
	}
	if strings.Contains(strings.Join(b.cmd.Args, " "), fmt.Sprintf("%x", secret)) {
		t.Fatalf("the secret is on the command line: %v", b.cmd.Args)
	}
	b.stdin.Close()
	if code := b.waitExit(t); code != exitOK {
		t.Fatalf("exit %d after stdin closed; stderr:\n%s", code, b.stderr.String())
	}
	// A bad control line is a usage error.
	cmd := exec.Command(binary, "backend", "--control-stdin")
	cmd.Stdin = strings.NewReader("password hunter2\n\n")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || strings.Contains(string(out), "hunter2") {
		t.Fatalf("bad control line: %v, %s; want exit 2 without the value", err, out)
	}
}

func TestBackendHelpDocumentsEveryFlagAndCommand(t *testing.T) {
	t.Parallel()
	_, stderr, code := concbench(t, t.TempDir(), "backend", "--help")
	for _, want := range []string{"-listen", "-value-size", "-latency", "-reset", "-stall", "-partial", "-drip", "-max-conns",
		"-max-queued", "-max-stored", "-auth", "-control-stdin", "-seed", "-verbose",
		"AUTH", "CONCBENCH.LATENCY", "CONCBENCH.SECRET", "CONCBENCH.VALUESIZE", "concbench://TOKEN@", "CONCBENCH.STATS", "CONCBENCH.WINDOW", "CONCBENCH.PROFILE", "max_in_flight", "gets_answered"} {
		if code != exitOK || !strings.Contains(stderr, want) {
			t.Errorf("backend --help (exit %d) does not mention %q", code, want)
		}
	}
}

// backendProvider tells a wrong --backend (a usage error) from a backend
// that cannot be reached or refuses the password (an error).
func TestBackendProviderErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		spec  string
		usage bool
		want  string
	}{
		{"mysql://x", true, "want builtin, inprocess or redis://HOST:PORT"},
		{"redis://127.0.0.1", true, "no host:port"},
		{"redis://:pw@h:1:2", true, "no host:port"},
		{"redis://127.0.0.1:1", false, "redis backend 127.0.0.1:1: connection refused"},
		{"redis://:pw@h:1,h:1", true, "h:1 is listed twice"},
		{"concbench://tok@h", true, `no host:port in "h"`},
		{"concbench://127.0.0.1:1", false, "concbench backend 127.0.0.1:1: connection refused"},
	} {
		p, err := backendProvider(tt.spec, io.Discard)
		if err == nil {
			p.Close()
			t.Errorf("--backend %s: accepted", tt.spec)
			continue
		}
		if errors.Is(err, errBackendUsage) != tt.usage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("--backend %s: %v (usage error: %t); want %q, usage error %t", tt.spec, err, errors.Is(err, errBackendUsage), tt.want, tt.usage)
		}
	}
	if _, ok := mustProvider(t, "builtin").(*harness.ChildBackends); !ok {
		t.Error("builtin is not ChildBackends")
	}
	if _, ok := mustProvider(t, "inprocess").(*harness.InProcessBackends); !ok {
		t.Error("inprocess is not InProcessBackends")
	}
}

func mustProvider(t *testing.T, spec string) harness.BackendProvider {
	t.Helper()
	p, err := backendProvider(spec, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// An unreachable redis, or one that wants a password, is an error (exit
// 3), not bad usage, and says why; a wrong URL is bad usage (exit 2).
func TestRunRedisBackendErrors(t *testing.T) {
	t.Parallel()
	addr := testenv.RedisServer(t, "--requirepass", "pw")
	for _, tt := range []struct {
		url  string
		code int
		want string
	}{
		{"redis://127.0.0.1:1", exitError, "redis backend 127.0.0.1:1: "},
		{"redis://" + addr, exitError, "NOAUTH"},
		{"redis://:wrong@" + addr, exitError, "WRONGPASS"},
		{"redis://:pw@" + addr + ":9", exitUsage, "bad backend URL"},
	} {
		_, stderr, code := concbench(t, t.TempDir(), "run", "--backend", tt.url, "--workloads", "fanout", "--count", "1")
		if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "<nil>") {
			t.Errorf("run --backend %s: exit %d, stderr %q; want exit %d and %q", tt.url, code, stderr, tt.code, tt.want)
		}
	}
}

// run --backend concbench://: fanout's instances spread over 'concbench
// backend' servers started apart, whose latency the run sets through their
// control connections; the cells verify.
func TestRunRemoteBackends(t *testing.T) {
	t.Parallel()
	a, b := startBackend(t, ""), startBackend(t, "")
	dir := t.TempDir()
	url := "concbench://" + a.addr + "," + b.addr
	stdout, stderr, code := concbench(t, dir, "run", "--quiet", "--count", "1", "--warmup", "0", "--profile=false",
		"--backend", url, "--workloads", "fanout", "--strategies", "blocking,goroutines",
		"fanout.tasks=40", "fanout.backends=2", "fanout.latency=3ms")
	if code != exitOK {
		t.Fatalf("run --backend %s: exit %d\nstdout:\n%s\nstderr:\n%s", url, code, stdout, stderr)
	}
	for _, s := range []*backendProcess{a, b} {
		ctl, err := backend.DialControl(context.Background(), s.addr, "")
		if err != nil {
			t.Fatal(err)
		}
		d, err := ctl.Latency()
		ctl.Close()
		if err != nil || d != backend.Constant(3*time.Millisecond) {
			t.Errorf("backend %s: latency %v, %v after the run; want the run's 3ms", s.addr, d, err)
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := s.waitExit(t); code != exitOK {
			t.Fatalf("backend exit %d", code)
		}
		// Half of each strategy's 40 fetches: one instance on each server.
		if !strings.Contains(s.stderr.String(), " 40 gets,") {
			t.Errorf("backend %s served other than 40 gets:\n%s", s.addr, s.stderr.String())
		}
	}
	bench, err := os.ReadFile(filepath.Join(dir, "out", "latest", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bench), "remote "+a.addr+","+b.addr) {
		t.Errorf("bench.txt does not name the remote backends:\n%s", bench)
	}
}

// Bad remote backends: each is one line on stderr, exit 3, and the token
// never shows; a wrong URL is a usage error (exit 2).
func TestRunRemoteBackendBadInput(t *testing.T) {
	t.Parallel()
	const token = "run-bad-input-t0ken"
	authed := startBackend(t, "", "--auth", token)
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, tt := range []struct {
		url  string
		code int
		want string
	}{
		{"concbench://wrong@" + authed.addr, exitError, "concbench backend " + authed.addr + ": wrong token: the server refused it (WRONGPASS"},
		{"concbench://" + authed.addr, exitError, "the server requires a token, and the URL gives none"},
		{"concbench://" + token + "@" + closed, exitError, "concbench backend " + closed + ": connection refused"},
		{"concbench://" + token + "@no-such-host.invalid:6380", exitError, `cannot resolve host "no-such-host.invalid"`},
		{"concbench://" + web.Listener.Addr().String(), exitError, "it does not speak the Redis protocol (RESP)"},
		{"concbench://" + token + "@" + authed.addr + "/x", exitUsage, "bad backend URL"},
		{"concbench://" + token + "@", exitUsage, "bad backend URL"},
	} {
		_, stderr, code := concbench(t, t.TempDir(), "run", "--backend", tt.url, "--workloads", "fanout", "--count", "1")
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != tt.code || !strings.Contains(stderr, tt.want) || len(lines) != 1 || !strings.HasPrefix(lines[0], "concbench run: ") {
			t.Errorf("run --backend %s: exit %d, stderr %q; want exit %d and one line with %q", tt.url, code, stderr, tt.code, tt.want)
		}
		if strings.Contains(stderr, token) {
			t.Errorf("run --backend %s: the token shows: %q", tt.url, stderr)
		}
	}
}
