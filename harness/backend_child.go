package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/placement"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
)

// ChildBackends runs each backend instance as a child process of this
// binary (`concbench backend --control-stdin`), so the backend's CPU time,
// allocations, goroutines and garbage collections stay out of the
// strategies' figures.
//
// The children die with this process, even when it is killed: on Linux
// through the parent-death signal, elsewhere because each child exits when
// its stdin, a pipe only this process holds, closes. The secret reaches
// them on that pipe, never on their command lines. A child that dies while
// the run goes on is restarted once by the next Prepare (see Restarts).
// It checks every round against the children's own counts (RoundCheck;
// see verify_backend.go).
type ChildBackends struct {
	// Executable is the concbench binary; empty means this process's own.
	Executable string
	// Stderr receives the children's diagnostics. May be nil.
	Stderr io.Writer
	// Secret is mixed into every value the children derive
	// (backend.Config.Secret) and into the references of the specs
	// prepared (Spec.UseSecret). 0, the default, draws a fresh random one
	// at the first Prepare (workloads.NewSecret) and keeps it here; a test
	// may set its own before. A change restarts the children.
	Secret uint64
	// CPUs, if not empty, are the CPUs every child runs on, from its
	// first instruction (placement.Start): the Backend role of a run's
	// placement, placement.Applied.ChildCPUs(placement.Backend). Set it
	// before the first Prepare (PlaceBackends does).
	CPUs placement.CPUSet
	builtin
	spawn spawner
}

// Describe implements BackendProvider.
func (p *ChildBackends) Describe() string { return "built-in, child process" }

// Prepare implements BackendProvider.
func (p *ChildBackends) Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error) {
	return p.prepare(ctx, spec, p.runSecret(), p.launch)
}

// runSecret implements secretHolder.
func (p *ChildBackends) runSecret() uint64 { return drawSecret(&p.Secret) }

// Close implements BackendProvider: it stops the children and waits for
// them.
func (p *ChildBackends) Close() error {
	err := p.close()
	p.spawn.close()
	return err
}

// childStopGrace is how long a child has to exit after SIGTERM before it is
// killed: it only closes its sockets and prints its counters.
const childStopGrace = 10 * time.Second

func (p *ChildBackends) launch(ctx context.Context, i int, cfg backend.Config) (*instance, error) {
	exe := p.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(exe, "backend", "--control-stdin", "--listen", cfg.Listen,
		"--value-size", strconv.Itoa(cfg.ValueSize), "--latency", params.FormatDuration(cfg.Latency.A),
		"--max-queued", strconv.Itoa(cfg.MaxQueuedBytes))
	cmd.Stderr = p.Stderr
	cmd.SysProcAttr = childProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Our own pipe rather than StdoutPipe, which Wait (running from the
	// start, to see the child die) would close under the reader.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = outW
	err = p.spawn.start(cmd, p.CPUs)
	outW.Close()
	if err != nil {
		outR.Close()
		return nil, fmt.Errorf("%s: %w", exe, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		if waitErr == nil {
			waitErr = errors.New("exit status 0")
		}
		close(exited)
	}()
	stop := func() error {
		stdin.Close() // the child exits on its own when its stdin closes
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(childStopGrace):
			_ = cmd.Process.Kill()
			<-exited
		}
		if cmd.ProcessState.Success() {
			return nil
		}
		return fmt.Errorf("backend process %d: %w", cmd.Process.Pid, waitErr)
	}
	fail := func(err error) (*instance, error) {
		_ = cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("%s (pid %d): %w", exe, cmd.Process.Pid, err)
	}
	if err := backend.WriteChildConfig(stdin, cfg); err != nil {
		return fail(err)
	}
	addr, err := readListening(outR)
	if err != nil {
		return fail(err)
	}
	ctl, err := dialControl(ctx, addr)
	if err != nil {
		return fail(err)
	}
	return &instance{addr: addr, pid: cmd.Process.Pid, ctl: ctl,
		stop: func() error {
			ctl.Close()
			return stop()
		},
		died: func() error {
			select {
			case <-exited:
				return waitErr
			default:
				return nil
			}
		},
	}, nil
}

// readListening reads the child's first line, "listening on ADDR", within
// ten seconds, then keeps draining its stdout so it never blocks on a full
// pipe, and closes out when the child has exited.
func readListening(out io.ReadCloser) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		defer out.Close()
		r := bufio.NewReader(out)
		line, err := r.ReadString('\n')
		ch <- result{line, err}
		_, _ = io.Copy(io.Discard, r) // ends when the child exits
	}()
	select {
	case res := <-ch:
		if res.err != nil {
			return "", fmt.Errorf("reading its address: %w", res.err)
		}
		addr, ok := strings.CutPrefix(strings.TrimSpace(res.line), "listening on ")
		if !ok {
			return "", fmt.Errorf("unexpected first line %q", res.line)
		}
		return addr, nil
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("no address within 10s")
	}
}

// spawner starts child processes from one goroutine locked to its OS
// thread for as long as the provider runs children. Linux's parent-death
// signal fires when the *thread* that forked a child exits, not the
// process: forking from whichever thread the Go scheduler picked would kill
// a child as soon as the runtime retired that thread (it does, for a thread
// whose goroutine exits locked). This thread exits only when close ends
// the goroutine (still locked, so the runtime ends the thread), after the
// children are stopped. A child placed on CPUs of its own is forked with
// this thread's affinity set to them for the moment of the fork
// (placement.Start), so the thread stays its parent.
type spawner struct {
	mu   sync.Mutex
	reqs chan spawnRequest
	errs chan error
	done chan struct{}
}

type spawnRequest struct {
	cmd  *exec.Cmd
	cpus placement.CPUSet // empty: the affinity the child inherits
}

func (s *spawner) start(cmd *exec.Cmd, cpus placement.CPUSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reqs == nil {
		s.reqs, s.errs, s.done = make(chan spawnRequest), make(chan error), make(chan struct{})
		go s.loop(s.reqs, s.errs, s.done)
	}
	s.reqs <- spawnRequest{cmd, cpus}
	return <-s.errs
}

func (s *spawner) loop(reqs <-chan spawnRequest, errs chan<- error, done chan<- struct{}) {
	runtime.LockOSThread() // never unlocked: see spawner
	defer close(done)
	for r := range reqs {
		errs <- placement.Start(r.cmd, r.cpus)
	}
}

// close ends the spawning goroutine; a later start makes a new one.
func (s *spawner) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reqs == nil {
		return
	}
	close(s.reqs)
	<-s.done
	s.reqs = nil
}
