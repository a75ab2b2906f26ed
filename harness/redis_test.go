package harness

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
)

// startRedis starts a real redis-server on a free loopback port, with no
// persistence, and stops it when the test ends.
func startRedis(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s within 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRealRedisGivesTheSameDigests runs the I/O workloads against a real
// redis-server and against the built-in backend. runCell fails a cell whose
// any task differs from the scalar reference, so a clean cell with no task
// errors on both backends means equal results, task by task, and so equal
// digests.
func TestRealRedisGivesTheSameDigests(t *testing.T) {
	addr := startRedis(t)
	redis, err := NewRedisBackend(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	builtin := &InProcessBackends{}
	defer builtin.Close()
	for _, w := range []struct {
		name string
		v    params.Values
	}{
		{"fanout", params.Values{"tasks": "50", "backends": "2", "latency": "0s"}},
		{"webrequest", params.Values{"tasks": "30", "latency": "0s"}},
		{"mixed", params.Values{"tasks": "20", "cpu": "10us", "latency": "0s"}},
	} {
		spec := smallSpec(t, w.name, w.v)
		for _, provider := range []BackendProvider{redis, builtin} {
			c := blockingCell(t, spec)
			res := runCell(context.Background(), c, Options{Timeout: time.Minute, FetchTimeout: 5 * time.Second, Backends: provider})
			if res.Err != nil || res.Errors != 0 {
				t.Fatalf("%s on %s: %v (%d task errors, first %v)", w.name, provider.Describe(), res.Err, res.Errors, res.FirstError)
			}
			if len(res.Latencies) != len(spec.Tasks) {
				t.Fatalf("%s on %s: %d of %d tasks verified", w.name, provider.Describe(), len(res.Latencies), len(spec.Tasks))
			}
		}
	}
	if _, err := redis.Prepare(context.Background(), smallSpec(t, "fanout", params.Values{"tasks": "5", "latency": "1ms"})); err == nil {
		t.Error("the redis backend accepted a spec that needs injected latency")
	}
}
