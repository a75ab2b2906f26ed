package external

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"time"

	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// ErrProtocol is wrapped by the error of a run whose child broke
// PROTOCOL.md: output that is not a known JSON line, a task reported twice
// or out of range, output that ends before the done line.
var ErrProtocol = errors.New("external: protocol violation")

// ErrChildFailed is wrapped by the error of a run whose child reported a
// fatal error or exited with a non-zero status.
var ErrChildFailed = errors.New("external: child failed")

const (
	// waitDelay bounds how long Wait waits for a killed child's pipes to
	// close (a grandchild may hold them): long enough for a clean exit,
	// short enough that a cancelled cell returns well within the harness's
	// one-second grace.
	waitDelay = 500 * time.Millisecond
	// exitGrace is how long a child may take to exit after its done line
	// before it is killed.
	exitGrace = 5 * time.Second
	// stderrTailBytes is the stderr kept for errors: a Python traceback
	// fits.
	stderrTailBytes = 4096
	// maxLine bounds one output line; a task line is under 200 bytes.
	maxLine = 1 << 20
)

// Program is a strategy executed by another process that speaks
// PROTOCOL.md: it gets the job as one JSON line on stdin, answers "ready",
// waits for "go", then prints one JSON line per task and a done line.
// Program is usable as a strategies.Strategy once Argv is set.
type Program struct {
	// Name is the strategy's name, sent to the child and used in errors.
	Name string
	// Argv is the command: Argv[0] is the executable, run without a shell.
	Argv []string
	// Dir is the child's working directory ("" for the harness's).
	Dir string
	// Env is the child's environment (nil: the harness's).
	Env []string
	// Params are the strategy parameters sent to the child, resolved.
	Params map[string]string
	// Cores and InFlight are what the child's model can overlap, before
	// capping by the task count (see Concurrency).
	Cores, InFlight int
	// Repeats says the child honours the job line's repeat field (runs
	// the task set that many times, pass after pass: PROTOCOL.md). A
	// program written before the field existed ignores it: leave Repeats
	// false and the harness gives it one pass a round (SinglePass). Run
	// sends the job's passes either way; the Python strategies, whose
	// shared module speaks the field, run a Program through a strategy
	// of their own that repeats.
	Repeats bool
}

// SinglePass reports whether the child runs only one pass a job: it does
// unless Repeats is set.
func (p *Program) SinglePass() bool { return !p.Repeats }

// Concurrency reports Cores and InFlight, capped by the number of tasks.
func (p *Program) Concurrency(spec *workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: max(1, min(p.Cores, len(spec.Tasks))), InFlight: max(1, min(p.InFlight, len(spec.Tasks)))}
}

// Run starts the child, hands it the job and records each task it reports.
// The timed region starts (job.Begin) when the child says ready; a task's
// start is the begin time plus the child's start_ns, its end the time its
// line arrives. The child is killed when ctx ends, when it breaks the
// protocol, or when it lingers after its done line.
func (p *Program) Run(ctx context.Context, job *strategies.Job) error {
	if len(p.Argv) == 0 {
		return fmt.Errorf("external %s: no command", p.Name)
	}
	backends, err := job.BackendAddrs()
	if err != nil {
		return fmt.Errorf("external %s: %w", p.Name, err)
	}
	wire, err := newWireJob(p.Name, p.Params, backends, job.FetchTimeout.Nanoseconds(), job.Passes(), job.Spec)
	if err != nil {
		return fmt.Errorf("external %s: %w", p.Name, err)
	}
	wire.Auth = wireAuthOf(job.Credentials)
	msg, err := json.Marshal(wire)
	if err != nil {
		return fmt.Errorf("external %s: encode job: %w", p.Name, err)
	}
	msg = append(msg, '\n')

	cmd := exec.CommandContext(ctx, p.Argv[0], p.Argv[1:]...)
	cmd.Dir, cmd.Env = p.Dir, p.Env
	cmd.WaitDelay = waitDelay
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("external %s: %w", p.Name, err)
	}
	// stdout goes through an io.Pipe rather than StdoutPipe so that Wait
	// (with its WaitDelay) can run while we read, and closing our end
	// unblocks exec's copying goroutine whatever the child does.
	outR, outW := io.Pipe()
	cmd.Stdout = outW
	stderr := &stderrTail{max: stderrTailBytes}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("external %s: start %s: %w", p.Name, p.Argv[0], err)
	}
	waited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		outW.Close()
		waited <- err
	}()

	convErr := p.converse(job, msg, stdin, outR)
	if convErr != nil {
		_ = cmd.Process.Kill() // may have exited already
	} else {
		stdin.Close()
		grace := time.AfterFunc(exitGrace, func() { _ = cmd.Process.Kill() })
		_, _ = io.Copy(io.Discard, outR) // ignore anything after done, until exit
		grace.Stop()
	}
	outR.CloseWithError(errStopped)
	waitErr := <-waited

	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("external %s: %w (child killed)", p.Name, ctx.Err())
	case convErr != nil:
		return p.failure(convErr, waitErr, stderr)
	case waitErr != nil:
		return p.failure(fmt.Errorf("%w after its done line", ErrChildFailed), waitErr, stderr)
	}
	return nil
}

var errStopped = errors.New("external: stopped reading the child's output")

// failure builds a run's error: what went wrong, how the child ended, and
// the tail of its stderr.
func (p *Program) failure(err, waitErr error, stderr *stderrTail) error {
	msg := fmt.Sprintf("external %s: %v", p.Name, err)
	if waitErr != nil {
		msg += fmt.Sprintf(" (%s: %v)", p.Argv[0], waitErr)
	}
	if tail := stderr.String(); tail != "" {
		msg += "\nstderr of the child:\n" + tail
	}
	if errors.Is(err, ErrProtocol) {
		return fmt.Errorf("%s%w", msg, wrapOnly{ErrProtocol})
	}
	return fmt.Errorf("%s%w", msg, wrapOnly{ErrChildFailed})
}

// wrapOnly wraps a sentinel without adding its text to the message.
type wrapOnly struct{ err error }

func (w wrapOnly) Error() string { return "" }
func (w wrapOnly) Unwrap() error { return w.err }

// converse writes the job, then reads the child's lines until its done
// line. Every reported task is recorded with job.Finish as it arrives.
func (p *Program) converse(job *strategies.Job, msg []byte, stdin io.WriteCloser, out io.Reader) error {
	// Written in full before reading: the child reads the whole job before
	// it prints anything. A child that does not read blocks this write
	// until ctx kills it.
	if _, err := stdin.Write(msg); err != nil {
		return fmt.Errorf("%w: write job: %v", ErrChildFailed, err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var (
		begin    time.Time
		ready    bool
		tasks    = job.Tasks()
		finished = make([]uint64, (tasks+63)/64) // a bit a task: reported
		left     = tasks
	)
	for n := 1; sc.Scan(); n++ {
		var l wireLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("%w: line %d is not JSON (%v): %q", ErrProtocol, n, err, clip(sc.Bytes()))
		}
		switch {
		case l.Fatal != "":
			return fmt.Errorf("%w: %s", ErrChildFailed, l.Fatal)
		case l.Ready:
			if ready {
				return fmt.Errorf("%w: line %d: a second ready line", ErrProtocol, n)
			}
			ready = true
			job.Begin()
			begin = job.Began()
			if _, err := io.WriteString(stdin, "go\n"); err != nil {
				return fmt.Errorf("%w: write go: %v", ErrChildFailed, err)
			}
		case l.Task != nil:
			i := *l.Task
			switch {
			case !ready:
				return fmt.Errorf("%w: line %d: task %d reported before ready", ErrProtocol, n, i)
			case i < 0 || i >= tasks:
				return fmt.Errorf("%w: line %d: task %d out of range [0,%d)", ErrProtocol, n, i, tasks)
			case finished[i/64]&(1<<(i%64)) != 0:
				return fmt.Errorf("%w: line %d: task %d reported twice", ErrProtocol, n, i)
			}
			r, taskErr, err := l.result()
			if err != nil {
				return fmt.Errorf("%w: line %d: task %d: %v", ErrProtocol, n, i, err)
			}
			start := begin.Add(time.Duration(max(l.StartNs, 0)))
			if now := time.Now(); start.After(now) {
				start = now // the child's clock ran ahead of ours
			}
			finished[i/64] |= 1 << (i % 64)
			left--
			job.Finish(i, start, r, taskErr)
		case l.Done:
			if left > 0 {
				return fmt.Errorf("%w: done after %d of %d tasks", ErrProtocol, tasks-left, tasks)
			}
			return nil
		default:
			return fmt.Errorf("%w: line %d is none of ready, task, done, fatal: %q", ErrProtocol, n, clip(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: reading output: %v", ErrProtocol, err)
	}
	return fmt.Errorf("%w: output ended before the done line (%d of %d tasks reported)", ErrProtocol, tasks-left, tasks)
}

// result decodes a task line: its result and its task error, or why the
// line is malformed.
func (l *wireLine) result() (r workloads.Result, taskErr, malformed error) {
	if l.Error != "" {
		return r, errors.New(l.Error), nil
	}
	if l.Sum == nil {
		return r, nil, errors.New(`no "sum" and no "error"`)
	}
	sum, err := strconv.ParseUint(*l.Sum, 10, 64)
	if err != nil {
		return r, nil, fmt.Errorf(`"sum" %q is not a decimal uint64`, *l.Sum)
	}
	r.Sum = sum
	if l.Value != nil {
		r.Value = *l.Value
	}
	return r, nil, nil
}

func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}
