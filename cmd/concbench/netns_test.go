//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
)

// netnsCommandTimeout bounds each command the namespace test runs: a bound
// on a hang, not a timing assertion.
const netnsCommandTimeout = 2 * time.Minute

// requireNetns skips the test, with why, where network namespaces cannot
// be made (not root, no ip or ss); with CI=true it fails instead, so a CI
// job never passes by skipping.
func requireNetns(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root"
	}
	for _, tool := range []string{"ip", "ss"} {
		if _, err := exec.LookPath(tool); err != nil && why == "" {
			why = tool + " is not installed (apt-get install iproute2)"
		}
	}
	if why != "" {
		testenv.Need(t, "network namespace test needs root, ip and ss: "+why, "run as root with iproute2 (apt-get install -y iproute2)")
	}
}

// netnsRun runs a command within netnsCommandTimeout and returns its
// output (stdout and stderr together) and exit code.
func netnsRun(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netnsCommandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		if !asExitError(err, &exit) {
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		code = exit.ExitCode()
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after %v", name, strings.Join(args, " "), netnsCommandTimeout)
	}
	return string(out), code
}

func asExitError(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, code := netnsRun(t, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", name, strings.Join(args, " "), code, out)
	}
	return out
}

// Two network namespaces joined by a veth pair stand in for two machines:
// a `concbench backend --auth` in one, `concbench run --backend
// concbench://TOKEN@...` in the other. The run's fanout cells verify over
// the veth, a wrong token is refused in one line with exit 3, and nothing
// listens outside the server's namespace. This kernel has no netem, so the
// backend's injected latency stands in for a network's.
func TestRemoteBackendAcrossNetworkNamespaces(t *testing.T) {
	t.Parallel()
	requireNetns(t)
	id := fmt.Sprintf("cb%d", os.Getpid()%1000000)
	srvNS, cliNS := id+"-srv", id+"-cli"
	srvIf, cliIf := id+"s", id+"c" // interface names: at most 15 bytes
	subnet := fmt.Sprintf("10.213.%d", os.Getpid()%250)
	srvIP, cliIP := subnet+".1", subnet+".2"

	// Namespaces left by an earlier run that was killed go first.
	for _, ns := range []string{srvNS, cliNS} {
		_, _ = netnsRun(t, "ip", "netns", "del", ns)
	}
	for _, ns := range []string{srvNS, cliNS} {
		if out, code := netnsRun(t, "ip", "netns", "add", ns); code != 0 {
			testenv.Need(t, fmt.Sprintf("ip netns add: exit %d: %s", code, strings.TrimSpace(out)), "run as root with iproute2 (apt-get install -y iproute2)")
		}
		t.Cleanup(func() {
			if out, code := netnsRun(t, "ip", "netns", "del", ns); code != 0 {
				t.Errorf("ip netns del %s: exit %d: %s", ns, code, out)
			}
		})
	}
	// Made inside the namespaces: deleting them deletes the pair.
	mustRun(t, "ip", "link", "add", srvIf, "netns", srvNS, "type", "veth", "peer", "name", cliIf, "netns", cliNS)
	for _, side := range []struct{ ns, ifname, ip string }{{srvNS, srvIf, srvIP}, {cliNS, cliIf, cliIP}} {
		mustRun(t, "ip", "-n", side.ns, "addr", "add", side.ip+"/24", "dev", side.ifname)
		mustRun(t, "ip", "-n", side.ns, "link", "set", side.ifname, "up")
		mustRun(t, "ip", "-n", side.ns, "link", "set", "lo", "up")
	}

	// The backend, beyond loopback in its namespace, with a token.
	const token = "netns-t0ken"
	backendCmd := exec.Command("ip", "netns", "exec", srvNS, binary, "backend", "--listen", srvIP+":0", "--auth", token)
	stdout, err := backendCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	backendCmd.Stderr = stderr
	if err := backendCmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() { // before the namespaces go (cleanups run last first)
		_ = backendCmd.Process.Kill()
		<-exited
	})
	lines := bufio.NewReader(stdout)
	first, err := lines.ReadString('\n')
	go func() {
		_, _ = io.Copy(io.Discard, lines)
		_ = backendCmd.Wait() // ip netns exec execs the backend: this is its pid
		close(exited)
	}()
	addr, ok := strings.CutPrefix(strings.TrimSpace(first), "listening on ")
	if err != nil || !ok {
		t.Fatalf("backend's first line %q, %v; stderr:\n%s", first, err, stderr.String())
	}
	_, port, _ := strings.Cut(addr, ":")

	// It listens in its namespace, and nowhere else.
	if out := mustRun(t, "ip", "netns", "exec", srvNS, "ss", "-ltnH"); !strings.Contains(out, addr) {
		t.Fatalf("ss in the server's namespace does not show %s listening:\n%s", addr, out)
	}
	for _, where := range []struct {
		name string
		args []string
	}{{"the root namespace", []string{"ss", "-ltnpH"}}, {"the client's namespace", []string{"ip", "netns", "exec", cliNS, "ss", "-ltnpH"}}} {
		out := mustRun(t, where.args[0], where.args[1:]...)
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, subnet+".") || strings.Contains(line, fmt.Sprintf("pid=%d,", backendCmd.Process.Pid)) {
				t.Errorf("%s has a listener of the test's: %s", where.name, line)
			}
		}
		if strings.Contains(out, ":"+port+" ") && where.name != "the root namespace" {
			t.Errorf("%s listens on the backend's port %s:\n%s", where.name, port, out)
		}
	}

	run := func(ns, url string, extra ...string) (string, int, string) {
		out := t.TempDir()
		args := append([]string{"netns", "exec", ns, binary, "run", "--quiet", "--count", "1", "--warmup", "0", "--profile=false",
			"--out", out, "--backend", url, "--workloads", "fanout,webrequest", "--strategies", "blocking,threads,goroutines,pool,reactor,simd"}, extra...)
		text, code := netnsRun(t, "ip", args...)
		return text, code, out
	}

	// A wrong token: one line, exit 3, no token shown.
	text, code, _ := run(cliNS, "concbench://wrong@"+addr)
	if code != exitError || !strings.Contains(text, "concbench backend "+addr+": wrong token: the server refused it (WRONGPASS") ||
		len(strings.Split(strings.TrimSpace(text), "\n")) != 1 || strings.Contains(text, token) {
		t.Errorf("run with a wrong token: exit %d, output %q; want exit 3 and one line", code, text)
	}

	// The run over the veth; then, for a smoke comparison, the same from
	// inside the server's namespace (the kernel's local delivery, as on
	// loopback). Figures go to the log only: a test asserts no timing.
	cells := []string{"fanout.tasks=200", "fanout.backends=2", "fanout.latency=0s,1ms", "webrequest.tasks=100", "webrequest.latency=0s"}
	for _, from := range []struct{ name, ns string }{{"veth", cliNS}, {"loopback", srvNS}} {
		// Every strategy's connections log in with the token
		// (strategies.Job.Credentials), every cell verifies against the
		// secret the run set on the server, and every round's counts
		// match the server's windows.
		text, code, out := run(from.ns, "concbench://"+token+"@"+addr, cells...)
		if code != exitOK {
			t.Fatalf("run over %s: exit %d\n%s", from.name, code, text)
		}
		bench, err := os.ReadFile(filepath.Join(out, "latest", "bench.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(bench), "\n") {
			if f := strings.Fields(line); len(f) >= 6 && strings.HasPrefix(f[0], "Benchmark") {
				t.Logf("smoke, over %s: %s %s ns/op %s tasks/s", from.name, f[0], f[2], f[4]) // name, N, ns/op, tasks/s
			}
		}
	}

	// Nothing left running: the backend stops on SIGTERM, and exits 0.
	if err := backendCmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second): // a bound on a hang, not a timing assertion
		t.Fatal("the backend did not exit within 20 s of SIGTERM")
	}
	if backendCmd.ProcessState.ExitCode() != exitOK {
		t.Errorf("backend exit %d; stderr:\n%s", backendCmd.ProcessState.ExitCode(), stderr.String())
	}
}
