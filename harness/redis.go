package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// RedisBackend serves fetch steps from a real Redis (or any server speaking
// RESP): it stores every key a spec fetches with pipelined SETs before the
// spec's first cell. A real Redis cannot inject latency, so specs must ask
// for latency 0 (the run command arranges that); every backend instance of
// a spec maps to the same server.
type RedisBackend struct {
	addr   string
	loaded map[*workloads.Spec]bool
}

// NewRedisBackend checks that a RESP server answers PING at addr.
func NewRedisBackend(addr string, _ io.Writer) (*RedisBackend, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("redis backend %s: %w", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(resp.AppendCommand(nil, "PING")); err != nil {
		return nil, fmt.Errorf("redis backend %s: %w", addr, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "+PONG") {
		return nil, fmt.Errorf("redis backend %s: PING answered %q, %v", addr, strings.TrimSpace(line), err)
	}
	return &RedisBackend{addr: addr, loaded: map[*workloads.Spec]bool{}}, nil
}

// Describe implements BackendProvider.
func (r *RedisBackend) Describe() string { return "redis " + r.addr + " (no injected latency)" }

// Prepare implements BackendProvider.
func (r *RedisBackend) Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error) {
	if spec.Backend.Latency != 0 {
		return nil, fmt.Errorf("redis backend cannot inject latency, but %s asks for latency=%v", spec.Workload, spec.Backend.Latency)
	}
	if !r.loaded[spec] {
		if err := r.load(ctx, spec); err != nil {
			return nil, err
		}
		r.loaded[spec] = true
	}
	addrs := make([]string, spec.Backend.Instances)
	for i := range addrs {
		addrs[i] = r.addr
	}
	return addrs, nil
}

// load SETs every key of spec, 512 commands a pipelined batch.
func (r *RedisBackend) load(ctx context.Context, spec *workloads.Spec) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return fmt.Errorf("redis backend: load: %w", err)
	}
	defer c.Close()
	rd := bufio.NewReader(c)
	keys := spec.Keys()
	const batch = 512
	var buf []byte
	for lo := 0; lo < len(keys); lo += batch {
		hi := min(lo+batch, len(keys))
		buf = buf[:0]
		for _, k := range keys[lo:hi] {
			buf = resp.AppendCommand(buf, "SET", k, string(workloads.Value(k, spec.Backend.ValueSize)))
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write(buf); err != nil {
			return fmt.Errorf("redis backend: load: %w", err)
		}
		for range keys[lo:hi] {
			line, err := rd.ReadString('\n')
			if err != nil {
				return fmt.Errorf("redis backend: load: %w", err)
			}
			if !strings.HasPrefix(line, "+OK") {
				return fmt.Errorf("redis backend: load: SET answered %q", strings.TrimSpace(line))
			}
		}
	}
	return nil
}

// Close implements BackendProvider.
func (r *RedisBackend) Close() error { return nil }
