package external_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/servetest"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/external"
)

// serverParams keep the servers' pools small, so the tests see them
// bounded.
var serverParams = map[string]params.Values{
	"py-threads": {"max": "4"},
	"py-pool":    {"workers": "3"},
	"py-asyncio": {"conns": "4"},
	"py-uvloop":  {"conns": "4"},
	"py-gevent":  {"conns": "4"},
	"py-tornado": {"conns": "4"},
	"py-twisted": {"conns": "4"},
}

// pythonServer builds the strategy called name as the harness does and
// returns it as a serve.Server. It skips the test when the strategy's
// Python system is not installed, unless CI=true (CI installs them all:
// a skip there would hide a broken install).
func pythonServer(t *testing.T, name string) serve.Server {
	t.Helper()
	def, err := strategies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := def.CheckAvailable(); err != nil {
		testenv.Need(t, err.Error(), external.InstallCommand)
	}
	s, _, err := def.New(serverParams[name])
	if err != nil {
		t.Fatal(err)
	}
	srv, ok := s.(serve.Server)
	if !ok {
		t.Fatalf("strategy %s (%T) is not a serve.Server", name, s)
	}
	return srv
}

// TestPythonServersConform runs serve/servetest's whole suite against each
// Python server model in its own process: every page verified byte for
// byte against the Go reference, 404s, 502 with the backend gone, an
// open-loop load, bad input, and a clean exit when its stdin closes.
func TestPythonServersConform(t *testing.T) {
	for _, name := range pythonStrategies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			servetest.Conformance(t, pythonServer(t, name))
		})
	}
}

// Every Python strategy that runs has a server model; a name without one is
// refused.
func TestNewPythonServer(t *testing.T) {
	t.Parallel()
	for _, name := range pythonStrategies {
		s, err := external.NewPythonServer(name, external.DebianPython, nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if s.Summary() == "" {
			t.Errorf("%s: no summary", name)
		}
	}
	if _, err := external.NewPythonServer("py-stackless", external.DebianPython, nil); err == nil {
		t.Error("py-stackless has a server model")
	}
	// The connection bounds the conformance suite and the load respect.
	for _, tt := range []struct {
		name   string
		params map[string]string
		want   int
	}{
		{"py-blocking", nil, 1},
		{"py-threads", map[string]string{"max": "4"}, 4},
		{"py-threads", nil, 256},
		{"py-pool", map[string]string{"workers": "3"}, 0},
		{"py-asyncio", map[string]string{"conns": "4"}, 0},
	} {
		s, err := external.NewPythonServer(tt.name, external.DebianPython, tt.params)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.MaxConns(); got != tt.want {
			t.Errorf("%s %v: MaxConns %d, want %d", tt.name, tt.params, got, tt.want)
		}
	}
}

// fakeServer is a ServerProgram whose child is the shell script given: the
// protocol's failures, without Python.
func fakeServer(t *testing.T, script string, args ...string) *external.ServerProgram {
	t.Helper()
	p := filepath.Join(t.TempDir(), "server.sh")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &external.ServerProgram{Name: "fake", Argv: append([]string{"/bin/sh", p}, args...),
		Params: map[string]string{"conns": "3"}, TermAfter: 200 * time.Millisecond}
}

// serveFake runs srv on a fresh loopback listener until ctx ends.
func serveFake(ctx context.Context, t *testing.T, srv serve.Server) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return srv.Serve(ctx, ln, serve.Env{Backends: []string{"127.0.0.1:1"}, Pages: 7, ValueSize: 64,
		Logf: t.Logf})
}

// A server child is handed the job line and the listening socket as fd 3.
func TestServerProgramJob(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "job")
	srv := fakeServer(t, `IFS= read -r job
printf '%s\n' "$job" > "$1"
readlink /proc/$$/fd/3 > "$1.fd"
echo '{"ready":true}'
cat >/dev/null
`, out)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := serveFake(ctx, t, srv); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var job serve.Job
	if err := json.Unmarshal(b, &job); err != nil {
		t.Fatalf("job line %q: %v", b, err)
	}
	if job.Protocol != serve.ProtocolVersion || job.Mode != "serve" || job.Server != "fake" || job.ListenFD != 3 ||
		job.Params["conns"] != "3" || job.Pages != 7 || job.ValueSize != 64 || job.Backends[0] != "127.0.0.1:1" ||
		job.FetchTimeout != serve.DefaultFetchTimeout || job.MaxHead == 0 {
		t.Errorf("job line %s", b)
	}
	if runtime.GOOS == "linux" {
		fd, err := os.ReadFile(out + ".fd")
		if err != nil || !strings.HasPrefix(string(fd), "socket:") {
			t.Errorf("fd 3 of the child is %q (%v), want a socket", fd, err)
		}
	}
}

// How each way a server child can fail reaches Serve's caller.
func TestServerProgramFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string
		want   error
		says   []string // in the error
	}{
		{name: "clean", script: "read job\necho '{\"ready\":true}'\ncat >/dev/null\n"},
		{name: "fatal", script: "read job\necho '{\"fatal\":\"no backend here\"}'\nexit 1\n",
			want: external.ErrChildFailed, says: []string{"no backend here"}},
		{name: "not JSON", script: "read job\necho hello\ncat >/dev/null\n",
			want: external.ErrProtocol, says: []string{`"hello"`}},
		{name: "exit before ready", script: "echo 'Traceback: boom' >&2\nexit 3\n",
			want: external.ErrChildFailed, says: []string{"before the ready line", "exit status 3", "Traceback: boom"}},
		{name: "exit while serving", script: "read job\necho '{\"ready\":true}'\n",
			want: external.ErrServerExited, says: []string{"while serving"}},
		{name: "unclean exit", script: "read job\necho '{\"ready\":true}'\ncat >/dev/null\nexit 4\n",
			want: external.ErrServerExited, says: []string{"did not exit cleanly", "exit status 4"}},
		{name: "deaf to stdin", script: "read job\necho '{\"ready\":true}'\nexec sleep 30\n",
			want: external.ErrServerExited, says: []string{"sent SIGTERM", "signal: terminated"}},
		{name: "deaf to SIGTERM", script: "read job\necho '{\"ready\":true}'\ntrap '' TERM\nexec sleep 30\n",
			want: external.ErrServerExited, says: []string{"sent SIGTERM, then SIGKILL", "signal: killed"}},
		{name: "never ready", script: "read job\nexec sleep 30\n",
			want: context.DeadlineExceeded, says: []string{"before the server was ready"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			err := serveFake(ctx, t, fakeServer(t, tt.script))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Serve = %v, want %v", err, tt.want)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Serve took %v", d)
			}
		})
	}
}

// serverHelperEnv makes this test binary, run as TestServerChildHelper,
// serve a fake server child whose pid it writes to the named file, until
// it is killed.
const serverHelperEnv = "CONCBENCH_TEST_SERVER_PARENT"

// TestServerChildHelper is not a test: it is the parent process of
// TestServerChildDiesWithParent.
func TestServerChildHelper(t *testing.T) {
	pidFile := os.Getenv(serverHelperEnv)
	if pidFile == "" {
		return
	}
	// The child ignores its stdin's end: only the parent-death signal ends it.
	srv := fakeServer(t, "read job\necho $$ > \"$1.tmp\"\nmv \"$1.tmp\" \"$1\"\necho '{\"ready\":true}'\nexec sleep 60\n", pidFile)
	_ = serveFake(context.Background(), t, srv)
	os.Exit(1) // not reached: the test kills this process
}

// A server child dies with the process that started it, even when that
// process is killed (Linux's parent-death signal).
func TestServerChildDiesWithParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	parent := exec.Command(os.Args[0], "-test.run=^TestServerChildHelper$")
	parent.Env = append(os.Environ(), serverHelperEnv+"="+pidFile)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = parent.Process.Kill()
		_ = parent.Wait()
	}()
	var pid int
	for deadline := time.Now().Add(20 * time.Second); ; {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper's server child did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // past the ready line: serving
	if !alive(pid) {
		t.Fatalf("child %d is not running", pid)
	}
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	for deadline := time.Now().Add(5 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			_ = syscallKill(pid)
			t.Fatalf("server child %d outlived its killed parent", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
