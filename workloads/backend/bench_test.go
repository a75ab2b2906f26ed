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
// client's cost stays out of the server's figure, and the memory test reads
// that process's resident memory. Its value configures the server:
// "default", or "queued=BYTES,size=BYTES,latency=DURATION".
const helperEnv = "CONCBENCH_BACKEND_TEST_SERVER"

// runHelperServer serves until stdin closes, after printing its address.
func runHelperServer() int {
	var cfg Config
	for _, kv := range strings.Split(os.Getenv(helperEnv), ",") {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "queued":
			cfg.MaxQueuedBytes, err = strconv.Atoi(v)
		case "size":
			cfg.ValueSize, err = strconv.Atoi(v)
		case "latency":
			cfg.Latency, err = ParseDistribution(v)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(s.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until EOF
	s.Close()
	return 0
}

// childServer starts the helper server configured by spec (see helperEnv)
// and returns its address and pid.
func childServer(tb testing.TB, spec string) (string, int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+spec)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("helper server: %v", err)
	}
	return strings.TrimSpace(line), cmd.Process.Pid
}

// BenchmarkServerGet measures GETs at latency 0 against a server in a child
// process and reports the server's own CPU time per request
// (server-cpu-us/op, from the CPU time of the child's measurement window,
// CONCBENCH.WINDOW). ns/op is the client's view.
func BenchmarkServerGet(b *testing.B) {
	for _, batch := range []int{1, 16, 128} {
		name := "one-at-a-time"
		if batch > 1 {
			name = "pipelined=" + strconv.Itoa(batch)
		}
		b.Run(name, func(b *testing.B) {
			addr, _ := childServer(b, "default")
			ctl, err := DialControl(context.Background(), addr, "")
			if err != nil {
				b.Fatal(err)
			}
			defer ctl.Close()
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
			if _, err := ctl.Window(); err != nil {
				b.Fatal(err)
			}
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
			w, err := ctl.Window()
			if err != nil {
				b.Fatal(err)
			}
			cpu := w.UserCPU + w.SystemCPU
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
