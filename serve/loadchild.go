package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/concbench/concbench/placement"
	"github.com/concbench/concbench/serve/loadgen"
	"github.com/concbench/concbench/workloads"
)

// LoadJob is a load generator's run as one JSON document: what
// `concbench loadgen` reads on its stdin. A generator in a process of its
// own measures its own CPU (loadgen.Result.CPU), apart from the server's
// and the backend's. The child computes the Reference itself, from the
// pages, the value size and the backend's secret.
type LoadJob struct {
	Config loadgen.Config `json:"config"`
	// Pages and ValueSize are the served pages' (Env.Pages, Env.ValueSize).
	Pages     int `json:"pages"`
	ValueSize int `json:"value_size"`
	// Secret is the backend's (workloads.SecretValue); 0 means none. It
	// travels on the child's stdin, never on its command line.
	Secret uint64 `json:"secret,omitempty"`
}

// maxLoadJob bounds the document DecodeLoadJob reads: a job is a few
// hundred bytes.
const maxLoadJob = 1 << 20

// DecodeLoadJob reads a LoadJob: all of r, one JSON document.
func DecodeLoadJob(r io.Reader) (LoadJob, error) {
	var j LoadJob
	b, err := io.ReadAll(io.LimitReader(r, maxLoadJob+1))
	switch {
	case err != nil:
		return j, fmt.Errorf("serve: read load job: %w", err)
	case len(b) > maxLoadJob:
		return j, fmt.Errorf("serve: load job over %d bytes", maxLoadJob)
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return j, fmt.Errorf("serve: decode load job: %w", err)
	}
	return j, nil
}

// Reference computes the pages the job's responses are verified against.
func (j LoadJob) Reference() (*Reference, error) {
	secret := j.Secret
	return NewReference(j.Pages, j.ValueSize, func(dst []byte, key string, size int) []byte {
		return workloads.AppendSecretValue(dst, secret, key, size)
	})
}

// Run runs the job's load in this process: the child's side of LoadChild.
// On interruption (ctx ends) it returns the partial result with
// Interrupted set and an error wrapping ctx's.
func (j LoadJob) Run(ctx context.Context) (*loadgen.Result, error) {
	ref, err := j.Reference()
	if err != nil {
		return nil, err
	}
	return loadgen.Run(ctx, j.Config, ref)
}

// LoadChild runs load generators in child processes (`concbench
// loadgen`), so that a cell's CPU splits between generator, server and
// backend processes. Its zero value runs this executable's loadgen
// command.
type LoadChild struct {
	// Argv is the command, without the job's flags: nil means this
	// executable with "loadgen".
	Argv []string
	// Env is the child's environment (nil: this process's).
	Env []string
	// Stderr receives the child's diagnostics (nil: none are passed on;
	// their tail is in errors either way).
	Stderr io.Writer
	// CPUs, if not empty, are the CPUs the child runs on from its first
	// instruction (placement.Start): the Loadgen role of a run's
	// placement (placement.Applied.ChildCPUs).
	CPUs placement.CPUSet
}

const (
	// loadStopGrace is how long an interrupted child has to write its
	// partial result after SIGTERM before it is killed: it closes its
	// connections and encodes a few kilobytes.
	loadStopGrace = 5 * time.Second
	// loadOutputMax bounds what is read of the child's stdout: a result
	// is a few kilobytes.
	loadOutputMax = 1 << 20
)

// Exit statuses of `concbench loadgen` (RunLoadJob), those of every
// concbench command.
const (
	ExitLoadOK          = 0   // the result is on stdout (failed requests are in it)
	ExitLoadRefused     = 2   // the job was refused; nothing was sent
	ExitLoadError       = 3   // the result could not be written
	ExitLoadInterrupted = 130 // stopped early; the partial result is on stdout
)

// RunLoadJob is the child's side of LoadChild, all of `concbench loadgen`
// but its flags: it reads a job from r, runs it (aimed beyond loopback
// only when allowRemote: the job's own AllowRemote is ignored), and writes
// the result to w as one JSON line. It returns the exit status and, unless
// it is ExitLoadOK, what to print.
func RunLoadJob(ctx context.Context, r io.Reader, w io.Writer, allowRemote bool) (int, error) {
	job, err := DecodeLoadJob(r)
	if err != nil {
		return ExitLoadRefused, err
	}
	job.Config.AllowRemote = allowRemote
	res, runErr := job.Run(ctx)
	if res == nil {
		return ExitLoadRefused, runErr
	}
	line, err := res.Encode()
	if err == nil {
		_, err = w.Write(append(line, '\n'))
	}
	switch {
	case err != nil:
		return ExitLoadError, fmt.Errorf("serve: write load result: %w", err)
	case runErr != nil:
		return ExitLoadInterrupted, runErr
	}
	return ExitLoadOK, nil
}

// ErrLoadChild is wrapped by LoadChild.Run's errors when the child failed
// (bad job, crash, no result); interruption wraps ctx's error instead.
var ErrLoadChild = errors.New("serve: load generator process failed")

// Run starts the generator with job on its stdin (the address allowed
// beyond loopback only when job.Config.AllowRemote, passed as the
// command's --allow-remote), waits for it and returns its result. When
// ctx ends first the child is sent SIGTERM (killed 5 s later) and Run
// returns its partial result, if it wrote one, with an error wrapping
// ctx's. The run itself is bounded (loadgen.Run stops by itself), so the
// child needs no parent-death signal: an orphan ends with its window.
func (c LoadChild) Run(ctx context.Context, job LoadJob) (*loadgen.Result, error) {
	argv := c.Argv
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("serve: load generator: %w", err)
		}
		argv = []string{exe, "loadgen"}
	}
	if job.Config.AllowRemote {
		argv = append(argv[:len(argv):len(argv)], "--allow-remote")
	}
	in, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("serve: encode load job: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.Env
	cmd.Stdin = bytes.NewReader(in)
	out := &limitedBuffer{max: loadOutputMax}
	cmd.Stdout = out
	tail := &tailBuffer{max: 4096}
	cmd.Stderr = tail
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(tail, c.Stderr)
	}
	cmd.WaitDelay = time.Second // a grandchild holding the pipes
	if err := placement.Start(cmd, c.CPUs); err != nil {
		return nil, fmt.Errorf("%w: start %s: %v", ErrLoadChild, argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		if cmd.Process.Signal(syscall.SIGTERM) != nil {
			_ = cmd.Process.Kill()
		}
		select {
		case waitErr = <-done:
		case <-time.After(loadStopGrace):
			_ = cmd.Process.Kill()
			waitErr = <-done
		}
	}
	res, decodeErr := loadgen.DecodeResult(bytes.TrimSpace(out.Bytes()))
	code := cmd.ProcessState.ExitCode()
	switch {
	case code == 0 && decodeErr == nil:
		return res, nil
	case code == ExitLoadInterrupted && decodeErr == nil && res.Interrupted && ctx.Err() != nil:
		return res, fmt.Errorf("serve: load generator interrupted: %w", ctx.Err())
	case ctx.Err() != nil:
		return nil, fmt.Errorf("serve: load generator stopped without a result (%v): %w", waitErr, ctx.Err())
	}
	msg := fmt.Sprintf("%s (%v)", strings.Join(argv, " "), waitErr)
	if waitErr == nil {
		msg = fmt.Sprintf("%s: no result: %v", strings.Join(argv, " "), decodeErr)
	}
	if t := tail.String(); t != "" {
		msg += "\nstderr of the load generator:\n" + t
	}
	return nil, fmt.Errorf("%w: %s", ErrLoadChild, msg)
}

// limitedBuffer keeps the first max bytes written to it and drops the
// rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
