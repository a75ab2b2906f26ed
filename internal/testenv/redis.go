package testenv

import (
	"net"
	"os/exec"
	"testing"
	"time"
)

// RedisServer starts a real redis-server on a free loopback port, with no
// persistence and the extra arguments given (such as "--requirepass",
// "pw"), waits until it listens, stops it when the test ends and returns
// its address. Without redis-server the test ends as [Need] says.
func RedisServer(t testing.TB, args ...string) string {
	t.Helper()
	path := LookPath(t, "redis-server", "apt-get install -y redis-server (.ci/run installs it)")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	l.Close()
	cmd := exec.Command(path, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir()}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s within 10s", addr)
		}
	}
}
