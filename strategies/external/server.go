package external

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/concbench/concbench/serve"
)

// ServerProgram is a serve mode server model run by another process that
// speaks serve/PROTOCOL.md: it inherits the listening socket as fd 3, reads
// one job line on stdin, answers {"ready":true} once it accepts and its
// backend is reachable, serves GET /page/{id} until its stdin closes, then
// exits 0. ServerProgram implements serve.Server once Argv is set.
//
// The child dies with this process: on Linux through the parent-death
// signal (the child is forked from a thread kept for its whole life, see
// spawnLocked), everywhere because it must exit when its stdin, a pipe
// only this process holds, closes.
type ServerProgram struct {
	// Name is the server model's name, sent to the child and used in
	// errors.
	Name string
	// Argv is the command: Argv[0] is the executable, run without a shell.
	Argv []string
	// Dir is the child's working directory ("" for this process's).
	Dir string
	// Env is the child's environment (nil: this process's).
	Env []string
	// Params are the model's parameters sent to the child, resolved.
	Params map[string]string
	// TermAfter is how long the child has to exit once its stdin closes
	// before it is sent SIGTERM, and again before SIGKILL (0: 5 s, as
	// PROTOCOL.md says).
	TermAfter time.Duration
}

const (
	// serverReadyTimeout bounds the wait for the ready line: Twisted's
	// imports take about a second on a cold cache; a loaded machine, more.
	serverReadyTimeout = 30 * time.Second
	// serverTermAfter is PROTOCOL.md's stop sequence: stdin closes,
	// SIGTERM 5 s later, SIGKILL 10 s later.
	serverTermAfter = 5 * time.Second
	// serverLogLines bounds the child's stderr lines passed to Env.Logf: a
	// child that floods it is still shown by its tail in errors.
	serverLogLines = 100
)

// ErrServerExited is wrapped by Serve's error when the child exited
// before its context ended, or did not exit cleanly when asked to.
var ErrServerExited = errors.New("external: server process exited")

// Serve implements serve.Server: it runs the child on ln's socket until ctx
// ends, then closes the child's stdin and waits for it to exit (SIGTERM
// after TermAfter, SIGKILL after twice that). It returns nil when the
// child served and exited 0 on its stdin's end; an error when it could not
// start, broke the protocol, exited early or had to be killed, with the
// tail of its stderr. ln is closed at once: the child holds the socket.
func (p *ServerProgram) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	f, err := listenerFile(ln)
	_ = ln.Close() // the child's copy (and f until it starts) keep the socket
	if err != nil {
		return fmt.Errorf("external %s: %w", p.Name, err)
	}
	defer f.Close()
	if len(p.Argv) == 0 {
		return fmt.Errorf("external %s: no command", p.Name)
	}
	env, err = env.WithDefaults()
	if err != nil {
		return fmt.Errorf("external %s: %w", p.Name, err)
	}
	job, err := serve.NewJob(p.Name, p.Params, env, 3, "")
	if err != nil {
		return fmt.Errorf("external %s: %w", p.Name, err)
	}
	line, err := job.Line()
	if err != nil {
		return fmt.Errorf("external %s: %w", p.Name, err)
	}

	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	cmd.Dir, cmd.Env = p.Dir, p.Env
	cmd.ExtraFiles = []*os.File{f} // fd 3
	cmd.SysProcAttr = serverProcAttr()
	cmd.WaitDelay = waitDelay
	stderr := &serverLog{tail: stderrTail{max: stderrTailBytes}, logf: env.Logf, prefix: p.Name + ": "}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("external %s: %w", p.Name, err)
	}
	// Our own pipe, read by our goroutine: exec's StdoutPipe would be
	// closed by Wait under the reader.
	outR, outW, err := os.Pipe()
	if err != nil {
		stdin.Close()
		return fmt.Errorf("external %s: %w", p.Name, err)
	}
	cmd.Stdout = outW
	c, err := spawnLocked(cmd)
	outW.Close()
	f.Close()
	if err != nil {
		outR.Close()
		stdin.Close()
		return fmt.Errorf("external %s: start %s: %w", p.Name, p.Argv[0], err)
	}
	quit := make(chan struct{})
	defer close(quit)
	lines := readServerLines(outR, quit)

	// The job line fits in the pipe's buffer; a child that died makes the
	// write fail (or finds the pipe closed by Wait, which closes it once
	// the child has exited), and its stderr says why.
	if _, err := stdin.Write(line); err != nil {
		return c.fail(p, stdin, fmt.Errorf("%w: exited before the ready line (write job: %v)", ErrChildFailed, err), stderr)
	}
	if err := awaitReady(ctx, lines); err != nil {
		return c.fail(p, stdin, err, stderr)
	}
	select {
	case <-ctx.Done():
	case <-c.exited:
		stdin.Close()
		return p.failure(fmt.Errorf("%w while serving", ErrServerExited), c.waitErr, stderr)
	}
	return c.stop(p, stdin, stderr)
}

// listenerFile returns a copy of ln's socket for the child to inherit.
func listenerFile(ln net.Listener) (*os.File, error) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, fmt.Errorf("needs a TCP listener to hand over, got %T", ln)
	}
	f, err := tl.File()
	if err != nil {
		return nil, fmt.Errorf("listening socket: %w", err)
	}
	return f, nil
}

// awaitReady reads the child's lines until its ready line, a fatal line,
// the end of its output, ctx's end or serverReadyTimeout.
func awaitReady(ctx context.Context, lines <-chan []byte) error {
	timeout := time.NewTimer(serverReadyTimeout)
	defer timeout.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w before the server was ready", ctx.Err())
		case <-timeout.C:
			return fmt.Errorf("%w: no ready line within %v", ErrChildFailed, serverReadyTimeout)
		case b, ok := <-lines:
			if !ok {
				return fmt.Errorf("%w: output ended before the ready line", ErrChildFailed)
			}
			var l struct {
				Ready bool   `json:"ready"`
				Fatal string `json:"fatal"`
			}
			switch err := json.Unmarshal(b, &l); {
			case err != nil:
				return fmt.Errorf("%w: line %d is not JSON (%v): %q", ErrProtocol, n, err, clip(b))
			case l.Fatal != "":
				return fmt.Errorf("%w: %s", ErrChildFailed, l.Fatal)
			case l.Ready:
				return nil
			default:
				return fmt.Errorf("%w: line %d is neither ready nor fatal: %q", ErrProtocol, n, clip(b))
			}
		}
	}
}

// readServerLines sends each line the child prints on its stdout until
// quit is closed (the ready line has come), then reads and drops the rest
// until the end, so the child never blocks on a full pipe.
func readServerLines(out *os.File, quit <-chan struct{}) <-chan []byte {
	lines := make(chan []byte)
	go func() {
		defer out.Close()
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 4096), maxLine)
		for sc.Scan() {
			select {
			case lines <- bytes.Clone(sc.Bytes()):
			case <-quit:
			}
		}
	}()
	return lines
}

// serverChild is a started child and how it ended.
type serverChild struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when Wait has returned
	waitErr error         // Wait's error, once exited is closed
}

// spawnLocked starts cmd from a goroutine locked to its OS thread and waits
// for it there. Linux's parent-death signal fires when the *thread* that
// forked a child exits, not the process: forking from whichever thread the
// scheduler picked would kill the child as soon as the runtime retired
// that thread (it does, for a thread whose goroutine exits locked). This
// thread stays until the child has exited.
func spawnLocked(cmd *exec.Cmd) (*serverChild, error) {
	c := &serverChild{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// stop closes the child's stdin and waits for it to exit: SIGTERM after
// p.TermAfter, SIGKILL after twice that. Only an exit 0 before any signal
// is clean.
func (c *serverChild) stop(p *ServerProgram, stdin io.Closer, stderr *serverLog) error {
	stdin.Close()
	after := cmp.Or(p.TermAfter, serverTermAfter)
	term := time.NewTimer(after)
	defer term.Stop()
	kill := time.NewTimer(2 * after)
	defer kill.Stop()
	var signalled string
	for {
		select {
		case <-c.exited:
			if signalled == "" && c.waitErr == nil {
				return nil
			}
			why := "did not exit cleanly after its stdin closed"
			if signalled != "" {
				why = fmt.Sprintf("did not exit within %v of its stdin closing (sent %s)", after, signalled)
			}
			return p.failure(fmt.Errorf("%w: %s", ErrServerExited, why), c.waitErr, stderr)
		case <-term.C:
			signalled = "SIGTERM"
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
		case <-kill.C:
			signalled = "SIGTERM, then SIGKILL"
			_ = c.cmd.Process.Kill()
		}
	}
}

// fail kills the child after err and returns err with how it ended.
func (c *serverChild) fail(p *ServerProgram, stdin io.Closer, err error, stderr *serverLog) error {
	stdin.Close()
	_ = c.cmd.Process.Kill() // may have exited already
	<-c.exited
	return p.failure(err, c.waitErr, stderr)
}

// failure builds an error: what went wrong, how the child ended, and the
// tail of its stderr.
func (p *ServerProgram) failure(err, waitErr error, stderr *serverLog) error {
	msg := fmt.Sprintf("external %s: %v", p.Name, err)
	if waitErr != nil {
		msg += fmt.Sprintf(" (%s: %v)", p.Argv[0], waitErr)
	}
	if tail := stderr.tail.String(); tail != "" {
		msg += "\nstderr of the server:\n" + tail
	}
	return fmt.Errorf("%s%w", msg, wrapOnly{err})
}

// serverLog is a server child's stderr: its tail is kept for errors, and
// its first serverLogLines lines go to Env.Logf as they come.
type serverLog struct {
	tail   stderrTail
	logf   func(format string, args ...any)
	prefix string
	mu     sync.Mutex
	part   []byte // a line not yet ended
	lines  int
}

func (l *serverLog) Write(p []byte) (int, error) {
	_, _ = l.tail.Write(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		l.emit(l.part[:i])
		l.part = l.part[i+1:]
	}
	if len(l.part) > maxLine {
		l.emit(l.part)
		l.part = nil
	}
	l.part = append([]byte(nil), l.part...) // do not pin what was emitted
	return len(p), nil
}

func (l *serverLog) emit(line []byte) {
	l.lines++
	switch {
	case l.lines <= serverLogLines:
		l.logf("%s%s", l.prefix, clip(line))
	case l.lines == serverLogLines+1:
		l.logf("%s(further lines of its stderr not shown)", l.prefix)
	}
}

// pythonServer is a Python server model: its script in python/ and what
// it does.
type pythonServer struct {
	script, summary string
}

// pythonServers maps each Python strategy to its server model, serving
// serve/doc.go's endpoint with the same lookups and bodies.
var pythonServers = map[string]pythonServer{
	"py-blocking": {"serve_blocking.py",
		"http.server.HTTPServer: one connection at a time, its lookups blocking the server on one backend connection"},
	"py-threads": {"serve_threads.py",
		"http.server.ThreadingHTTPServer: a thread per connection, at most max, blocking lookups from a pool of max connections"},
	"py-pool": {"serve_pool.py",
		"http.server's handler on a ThreadPoolExecutor of workers threads taking requests, a backend connection per worker"},
	"py-asyncio": {"serve_asyncio.py",
		"asyncio.start_server with a hand-written HTTP/1.1 parser, a coroutine per connection, lookups on asyncio streams from a pool of conns"},
	"py-uvloop": {"serve_uvloop.py",
		"py-asyncio's server on uvloop's event loop"},
	"py-gevent": {"serve_gevent.py",
		"gevent.pywsgi: a greenlet per connection, lookups on gevent sockets from a pool of conns"},
	"py-tornado": {"serve_tornado.py",
		"tornado.web on Tornado's HTTPServer, lookups on IOStreams from a pool of conns"},
	"py-twisted": {"serve_twisted.py",
		"twisted.web's Site, lookups through a RESP Protocol on the reactor from a pool of conns"},
}

// PythonServer runs one of the Python server models (python/serve_*.py)
// with a given interpreter. It implements serve.Server. The Python
// strategies themselves are serve.Servers too (pythonStrategy.Serve): the
// harness asks the strategy it built.
type PythonServer struct {
	// Name is the strategy whose server model runs: "py-asyncio".
	Name string
	// Python is the interpreter, an absolute path.
	Python string
	// Params are the strategy's resolved parameters (conns, max, workers).
	Params map[string]string
	model  pythonServer
}

// NewPythonServer returns the server model of the Python strategy called
// name, run by the interpreter python with the strategy's resolved params.
func NewPythonServer(name, python string, params map[string]string) (*PythonServer, error) {
	m, ok := pythonServers[name]
	if !ok {
		return nil, fmt.Errorf("external: %s has no server model", name)
	}
	return &PythonServer{Name: name, Python: python, Params: params, model: m}, nil
}

// Summary says what the server model is and how its lookups overlap.
func (s *PythonServer) Summary() string { return s.model.summary }

// MaxConns implements serve.ConnLimit: the most connections the model
// serves at once, the others left waiting unanswered (0: no bound).
// py-blocking serves one; py-threads one a thread, at most max (256, as
// serve_threads.py, when Params has none).
func (s *PythonServer) MaxConns() int {
	switch s.Name {
	case "py-blocking":
		return 1
	case "py-threads":
		if n, err := strconv.Atoi(s.Params["max"]); err == nil && n > 0 {
			return n
		}
		return 256
	}
	return 0
}

// Serve implements serve.Server: it writes the scripts to a fresh
// directory and runs the model's script there as a ServerProgram.
func (s *PythonServer) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	if s.model.script == "" {
		_ = ln.Close()
		return fmt.Errorf("external: %s has no server model (use NewPythonServer)", s.Name)
	}
	dir, err := os.MkdirTemp("", "concbench-serve-")
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("external %s: %w", s.Name, err)
	}
	defer os.RemoveAll(dir)
	if err := writePythonFiles(dir); err != nil {
		_ = ln.Close()
		return fmt.Errorf("external %s: %w", s.Name, err)
	}
	p := ServerProgram{Name: s.Name, Dir: dir, Params: s.Params,
		Argv: append(append([]string{s.Python}, pythonFlags...), "-B", filepath.Join(dir, s.model.script))}
	return p.Serve(ctx, ln, env)
}

// Serve makes every Python strategy a serve.Server: the strategy's server
// model, on the interpreter chosen for the strategy.
func (s *pythonStrategy) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	srv, err := NewPythonServer(s.program.Name, s.python, s.program.Params)
	if err != nil {
		_ = ln.Close()
		return err
	}
	return srv.Serve(ctx, ln, env)
}

// MaxConns implements serve.ConnLimit for the strategy's server model (see
// PythonServer.MaxConns).
func (s *pythonStrategy) MaxConns() int {
	return (&PythonServer{Name: s.program.Name, Params: s.program.Params}).MaxConns()
}

var (
	_ serve.Server    = (*pythonStrategy)(nil)
	_ serve.ConnLimit = (*pythonStrategy)(nil)
	_ serve.ConnLimit = (*PythonServer)(nil)
)
