package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

// BackendProvider starts and configures the servers that fetch steps talk to.
type BackendProvider interface {
	// Prepare returns the address of every instance the spec's backend
	// needs, serving its keys' values with its injected latency.
	Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error)
	// Describe says what the provider is, for the run's header.
	Describe() string
	Close() error
}

// instances is the part of a provider that reuses running servers between
// cells: value size and count are fixed when servers start; latency is
// changed through the CONCBENCH.LATENCY command.
type instances struct {
	addrs     []string
	valueSize int
	latency   time.Duration
	stop      func() error
}

// reuse reports whether the running servers fit b, setting their latency if
// it differs.
func (in *instances) reuse(ctx context.Context, b workloads.Backend) (bool, error) {
	if in.stop == nil || in.valueSize != b.ValueSize || len(in.addrs) < b.Instances {
		return false, nil
	}
	if in.latency != b.Latency {
		for _, a := range in.addrs {
			if err := setLatency(ctx, a, b.Latency); err != nil {
				return false, err
			}
		}
		in.latency = b.Latency
	}
	return true, nil
}

func (in *instances) close() error {
	if in.stop == nil {
		return nil
	}
	err := in.stop()
	*in = instances{}
	return err
}

// setLatency sends CONCBENCH.LATENCY to the server at addr.
func setLatency(ctx context.Context, addr string, d time.Duration) error {
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("set latency on %s: %w", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(resp.AppendCommand(nil, "CONCBENCH.LATENCY", params.FormatDuration(d))); err != nil {
		return fmt.Errorf("set latency on %s: %w", addr, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("set latency on %s: %w", addr, err)
	}
	if !strings.HasPrefix(line, "+") {
		return fmt.Errorf("set latency on %s: server answered %q", addr, strings.TrimSpace(line))
	}
	return nil
}

// InProcessBackends runs the built-in backend inside this process: simplest,
// and what tests use. Its CPU time and allocations count in the cells'
// figures, so runs that report cpu-sec/op use ChildBackends.
type InProcessBackends struct{ instances }

// Describe implements BackendProvider.
func (p *InProcessBackends) Describe() string { return "built-in, in-process" }

// Prepare implements BackendProvider.
func (p *InProcessBackends) Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error) {
	b := spec.Backend
	if ok, err := p.reuse(ctx, b); ok || err != nil {
		return p.addrs, err
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	var servers []*backend.Server
	stop := func() error {
		var first error
		for _, s := range servers {
			if err := s.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	for i := 0; i < b.Instances; i++ {
		s, err := backend.Start(context.WithoutCancel(ctx), backend.Config{
			Listen: "127.0.0.1:0", ValueSize: b.ValueSize, Latency: backend.Constant(b.Latency)})
		if err != nil {
			stop()
			return nil, fmt.Errorf("start backend: %w", err)
		}
		servers = append(servers, s)
		p.addrs = append(p.addrs, s.Addr())
	}
	p.valueSize, p.latency, p.stop = b.ValueSize, b.Latency, stop
	return p.addrs, nil
}

// Close implements BackendProvider.
func (p *InProcessBackends) Close() error { return p.close() }

// ChildBackends runs each backend instance as a child process of this
// binary (`concbench backend`), so the backend's CPU time, allocations,
// goroutines and garbage collections stay out of the strategies' figures.
type ChildBackends struct {
	// Executable is the concbench binary; empty means this process's own.
	Executable string
	// Stderr receives the children's diagnostics. May be nil.
	Stderr io.Writer
	instances
}

// Describe implements BackendProvider.
func (p *ChildBackends) Describe() string { return "built-in, child process" }

// Prepare implements BackendProvider.
func (p *ChildBackends) Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error) {
	b := spec.Backend
	if ok, err := p.reuse(ctx, b); ok || err != nil {
		return p.addrs, err
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	exe := p.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("start backend: %w", err)
		}
	}
	var cmds []*exec.Cmd
	stop := func() error {
		for _, c := range cmds {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
		var first error
		for _, c := range cmds {
			if err := c.Wait(); err != nil && first == nil {
				first = fmt.Errorf("backend process: %w", err)
			}
		}
		return first
	}
	for i := 0; i < b.Instances; i++ {
		cmd := exec.Command(exe, "backend", "--listen", "127.0.0.1:0",
			"--value-size", strconv.Itoa(b.ValueSize), "--latency", params.FormatDuration(b.Latency))
		cmd.Stderr = p.Stderr
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			stop()
			return nil, fmt.Errorf("start backend %s: %w", exe, err)
		}
		cmds = append(cmds, cmd)
		addr, err := readListening(out)
		if err != nil {
			stop()
			return nil, fmt.Errorf("start backend %s: %w", exe, err)
		}
		p.addrs = append(p.addrs, addr)
	}
	p.valueSize, p.latency, p.stop = b.ValueSize, b.Latency, stop
	return p.addrs, nil
}

// readListening reads the child's first line, "listening on ADDR", within
// ten seconds, then keeps draining its stdout so it never blocks on a full
// pipe.
func readListening(out io.ReadCloser) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
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

// Close implements BackendProvider.
func (p *ChildBackends) Close() error { return p.close() }
