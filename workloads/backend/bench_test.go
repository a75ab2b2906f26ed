package backend

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

// helperEnv makes the test binary run a bare server instead of the tests:
// the benchmark measures the CPU time of that process alone, so the
// client's cost stays out of the server's figure.
const helperEnv = "CONCBENCH_BACKEND_TEST_SERVER"

// runHelperServer serves until stdin closes, after printing its address.
func runHelperServer() int {
	s, err := Start(context.Background(), Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(s.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until EOF
	s.Close()
	return 0
}

// childServer starts the helper server and returns its address and pid.
func childServer(b *testing.B) (string, int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("helper server: %v", err)
	}
	return strings.TrimSpace(line), cmd.Process.Pid
}

// processCPU returns the user+system time of process pid from /proc.
func processCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th fields overall, in clock ticks of 1/100 s.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// BenchmarkServerGet measures GETs at latency 0 against a server in a child
// process and reports the server's own CPU time per request
// (server-cpu-us/op, from the child's utime+stime; run with -benchtime=2s or
// more, the clock ticks are 10 ms). ns/op is the client's view.
func BenchmarkServerGet(b *testing.B) {
	for _, batch := range []int{1, 16, 128} {
		name := "one-at-a-time"
		if batch > 1 {
			name = "pipelined=" + strconv.Itoa(batch)
		}
		b.Run(name, func(b *testing.B) {
			addr, pid := childServer(b)
			c, err := resp.Dial(context.Background(), addr, 5*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			keys := make([]string, batch)
			for i := range keys {
				keys[i] = "item:" + strconv.Itoa(i)
			}
			ignore := func(int, []byte) error { return nil }
			before := processCPU(b, pid)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				if batch == 1 {
					_, err = c.Get(keys[0])
				} else {
					err = c.GetMany(keys[:min(batch, b.N-i)], ignore)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := processCPU(b, pid) - before
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server-cpu-us/op")
		})
	}
}

// BenchmarkServerGetInProcess is the same with the server in this process:
// allocs/op and B/op cover client and server together.
func BenchmarkServerGetInProcess(b *testing.B) {
	s := start(b, Config{})
	c := dial(b, s, 5*time.Second)
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get("item:1"); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "process-cpu-us/op")
}
