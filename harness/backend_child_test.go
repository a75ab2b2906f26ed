package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/placement"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

// buildConcbench builds the concbench binary, whose `backend` command
// ChildBackends runs, into a folder of the test.
func buildConcbench(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "concbench")
	build := exec.Command("go", "build", "-o", bin, "github.com/concbench/concbench/cmd/concbench")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building concbench: %v\n%s", err, out)
	}
	return bin
}

// TestBuiltinBackends builds concbench once for the tests of the built-in
// providers that run it as child processes.
func TestBuiltinBackends(t *testing.T) {
	bin := buildConcbench(t)
	t.Run("providers", func(t *testing.T) { testBuiltinProviders(t, bin) })
	t.Run("child restarted once", func(t *testing.T) { testChildBackendRestartedOnce(t, bin) })
	t.Run("children die with their parent", func(t *testing.T) { testChildBackendsDieWithTheirParent(t, bin, "") })
	t.Run("placed children", func(t *testing.T) { testPlacedChildBackends(t, bin) })
}

// The built-in providers, in process and as child processes, behave alike:
// values carry the secret, servers are reused while they fit (latency set
// through the control connection), and windows count a cell's fetches.
func testBuiltinProviders(t *testing.T, bin string) {
	for _, tt := range []struct {
		name string
		new  func(secret uint64) ObservedBackends
	}{
		{"in-process", func(s uint64) ObservedBackends { return &InProcessBackends{Secret: s} }},
		{"child", func(s uint64) ObservedBackends { return &ChildBackends{Executable: bin, Stderr: os.Stderr, Secret: s} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const secret = 0xc0ffee
			p := tt.new(secret)
			defer func() {
				if err := p.Close(); err != nil {
					t.Error(err)
				}
			}()
			ctx := context.Background()
			spec := smallSpec(t, "fanout", params.Values{"tasks": "30", "backends": "2", "latency": "0s"})
			addrs, err := p.Prepare(ctx, spec)
			if err != nil || len(addrs) != 2 {
				t.Fatalf("Prepare = %v, %v", addrs, err)
			}
			c, err := resp.Dial(ctx, addrs[1], 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if v, err := c.Get("item:3"); err != nil || string(v) != string(workloads.SecretValue(secret, "item:3", 64)) {
				t.Fatalf("GET item:3 = %q, %v; want the secret's value", v, err)
			}
			// Same value size and secret, another latency: the same servers.
			slow := smallSpec(t, "fanout", params.Values{"tasks": "30", "backends": "2", "latency": "2ms"})
			again, err := p.Prepare(ctx, slow)
			if err != nil || strings.Join(again, ",") != strings.Join(addrs, ",") {
				t.Fatalf("Prepare with another latency: %v, %v; want the servers reused (%v)", again, err, addrs)
			}
			ctl, err := backend.DialControl(ctx, addrs[0], "")
			if err != nil {
				t.Fatal(err)
			}
			defer ctl.Close()
			if d, err := ctl.Latency(); err != nil || d != backend.Constant(2*time.Millisecond) {
				t.Fatalf("latency after Prepare: %v, %v", d, err)
			}
			child := tt.name == "child" // in process, the profiler may be the harness's (profiled cells of other tests)
			if child {
				if err := p.StartCPUProfiles(); err != nil {
					t.Fatal(err)
				}
			}
			// The provider gives the spec its secret and checks the
			// round against its windows (a RoundCheck): the cell verifies.
			res := runCell(ctx, blockingCell(t, slow), Options{Timeout: time.Minute, FetchTimeout: 5 * time.Second, Backends: p})
			if res.Err != nil || res.Errors != 0 || res.Verified != res.Tasks {
				t.Fatalf("cell: %v, %d task errors (first %v), %d of %d verified", res.Err, res.Errors, res.FirstError, res.Verified, res.Tasks)
			}
			// The windows between two reads count what happened between
			// them: one GET of ours, on instance 1.
			if _, err := p.Windows(); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get("item:4"); err != nil {
				t.Fatal(err)
			}
			ws, err := p.Windows()
			if err != nil || len(ws) != 2 {
				t.Fatalf("Windows = %v, %v", ws, err)
			}
			if ws[0].Gets != 0 || ws[1].Gets != 1 || ws[1].GetsAnswered != 1 || ws[1].MaxInFlight != 1 {
				t.Fatalf("windows %+v: want one get, answered, on instance 1", ws)
			}
			if child {
				profs, err := p.StopCPUProfiles()
				if err != nil || len(profs) != 2 {
					t.Fatalf("StopCPUProfiles: %d profiles, %v", len(profs), err)
				}
				for _, data := range profs {
					prof, err := profile.ParseData(data)
					if err != nil || len(prof.SampleType) == 0 || prof.SampleType[0].Type != "samples" {
						t.Fatalf("backend profile: %v, %v", prof, err)
					}
				}
			}
			sts, err := p.Stats()
			if err != nil || sts[1].Gets != 17 { // 15 of the cell's, 2 of ours
				t.Fatalf("stats of instance 1: %+v, %v", sts[1], err)
			}
			if child && sts[0].UserCPU+sts[0].SystemCPU <= 0 {
				t.Errorf("a child's stats show no CPU time: %+v", sts[0])
			}
			// Another value size: new servers.
			big := smallSpec(t, "fanout", params.Values{"tasks": "3", "backends": "1", "size": "100", "latency": "0s"})
			if next, err := p.Prepare(ctx, big); err != nil || next[0] == addrs[0] {
				t.Fatalf("Prepare with another value size: %v, %v; want new servers", next, err)
			}
		})
	}
}

// alive reports whether process pid exists and is not a zombie (a child
// that died after its parent is reparented to init, which a container's
// init may never reap).
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// A child that dies is restarted once, recorded, and a second death stops
// the I/O cells with ErrBackendDied.
func testChildBackendRestartedOnce(t *testing.T, bin string) {
	p := &ChildBackends{Executable: bin, Stderr: os.Stderr}
	defer p.Close()
	ctx := context.Background()
	spec := smallSpec(t, "fanout", params.Values{"tasks": "10", "backends": "2", "latency": "0s"})
	addrs, err := p.Prepare(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	kill := func(i int) {
		t.Helper()
		in := p.running[i]
		if err := syscall.Kill(in.pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for in.died() == nil { // Wait reaps it soon
			time.Sleep(time.Millisecond)
		}
	}
	kill(1)
	next, err := p.Prepare(ctx, spec)
	if err != nil {
		t.Fatalf("Prepare after a child died: %v", err)
	}
	if next[0] != addrs[0] || next[1] == addrs[1] {
		t.Fatalf("addresses %v after restarting instance 1 of %v", next, addrs)
	}
	rs := p.Restarts()
	if len(rs) != 1 || rs[0].Instance != 1 || rs[0].Addr != addrs[1] || rs[0].NewAddr != next[1] || rs[0].Exit != "signal: killed" {
		t.Fatalf("restarts %+v", rs)
	}
	if res := runCell(ctx, blockingCell(t, spec), Options{Timeout: time.Minute, FetchTimeout: 5 * time.Second, Backends: p}); res.Errors != 0 || res.Err != nil {
		t.Fatalf("a cell on the restarted backends: %v, %d task errors (first %v)", res.Err, res.Errors, res.FirstError)
	}
	kill(1)
	if _, err := p.Prepare(ctx, spec); !errors.Is(err, ErrBackendDied) || !strings.Contains(err.Error(), "died again") {
		t.Fatalf("Prepare after the restarted child died too: %v, want ErrBackendDied", err)
	}
}

const (
	helperEnv     = "CONCBENCH_HARNESS_TEST_CHILDREN_OF"
	helperCPUsEnv = "CONCBENCH_HARNESS_TEST_CHILDREN_CPUS" // ChildBackends.CPUs of the helper
)

// TestChildBackendsHelperProcess is not a test: run by
// testChildBackendsDieWithTheirParent as a separate process, it starts
// backend children and waits to be killed. Run as a test, it does nothing.
func TestChildBackendsHelperProcess(t *testing.T) {
	bin := os.Getenv(helperEnv)
	if bin == "" {
		return
	}
	p := &ChildBackends{Executable: bin, Stderr: os.Stderr}
	if cpus := os.Getenv(helperCPUsEnv); cpus != "" {
		var err error
		if p.CPUs, err = placement.ParseCPUList(cpus); err != nil {
			fmt.Println("error", err)
			return
		}
	}
	spec := smallSpec(t, "fanout", params.Values{"tasks": "10", "backends": "2", "latency": "0s"})
	// Start the children from a goroutine locked to a thread that then
	// ends: the parent-death signal follows the thread that forked, so a
	// provider that forked here would lose its children with the thread.
	type result struct {
		tid int
		err error
	}
	done := make(chan result)
	for {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
			tid := unix.Gettid()
			if tid == os.Getpid() {
				// The runtime never ends the main thread (it parks it for
				// good instead): try again on another thread.
				done <- result{tid: tid}
				return
			}
			_, err := p.Prepare(context.Background(), spec)
			done <- result{tid, err}
		}()
		if res := <-done; res.tid != os.Getpid() {
			if res.err != nil {
				fmt.Println("error", res.err)
				return
			}
			for deadline := time.Now().Add(20 * time.Second); alive(res.tid); time.Sleep(time.Millisecond) { // /proc/TID works for a thread of ours too
				if time.Now().After(deadline) {
					fmt.Println("error: the locked thread did not end")
					return
				}
			}
			break
		}
	}
	for i, in := range p.running {
		if err := in.died(); err != nil {
			fmt.Printf("error: child %d died when the thread that started it ended: %v\n", i, err)
			return
		}
		if err := in.ctl.Ping(); err != nil {
			fmt.Printf("error: child %d: %v\n", i, err)
			return
		}
		fmt.Println("child", in.pid)
	}
	fmt.Println("ready")
	// Until killed; should the test go first, its end closes our stdin.
	_, _ = io.Copy(io.Discard, os.Stdin)
	p.Close()
}

// Backend children die with the process that started them, even when it
// is killed with SIGKILL and has no chance to stop them; so do children
// placed on CPUs of their own (cpus, if not empty).
func testChildBackendsDieWithTheirParent(t *testing.T, bin, cpus string) {
	helper := exec.Command(os.Args[0], "-test.run=^TestChildBackendsHelperProcess$")
	helper.Env = append(os.Environ(), helperEnv+"="+bin, helperCPUsEnv+"="+cpus)
	helper.Stderr = os.Stderr
	if _, err := helper.StdinPipe(); err != nil { // closed when the helper is reaped, or this process ends
		t.Fatal(err)
	}
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	defer func() {
		_ = helper.Process.Kill()
		for range lines { // until its stdout closes
		}
		_ = helper.Wait()
	}()
	var pids []int
	timeout := time.After(time.Minute) // a bound on a hang, not a timing assertion
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok || line == "ready" {
				break wait
			}
			pid, isChild := strings.CutPrefix(line, "child ")
			if !isChild {
				t.Fatalf("helper: %s", line)
			}
			n, err := strconv.Atoi(pid)
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, n)
		case <-timeout:
			t.Fatal("the helper did not start its children within a minute")
		}
	}
	if len(pids) != 2 {
		t.Fatalf("helper started %d children, want 2", len(pids))
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		deadline := time.Now().Add(20 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("backend child %d still running 20 s after its parent was killed", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// threadCPUs returns the Cpus_allowed_list of every thread of process pid.
func threadCPUs(t *testing.T, pid int) map[string]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	masks := map[string]string{}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), "status"))
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				masks[e.Name()] = strings.TrimSpace(v)
			}
		}
	}
	return masks
}

// Children placed on CPUs run every thread there, from their start; this
// process's threads keep theirs; the children still die with their parent.
func testPlacedChildBackends(t *testing.T, bin string) {
	allowed, err := placement.Allowed()
	if errors.Is(err, placement.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cpus := allowed.CPUs()
	if len(cpus) < 2 {
		t.Skipf("this process may use only CPUs %s: placing children needs two", allowed)
	}
	var last placement.CPUSet
	last.Add(cpus[len(cpus)-1])
	p := &ChildBackends{Executable: bin, Stderr: os.Stderr}
	defer p.Close()
	p.CPUs = last
	spec := smallSpec(t, "fanout", params.Values{"tasks": "10", "backends": "2", "latency": "0s"})
	if _, err := p.Prepare(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	for _, in := range p.running {
		masks := threadCPUs(t, in.pid)
		if len(masks) < 3 {
			t.Errorf("child %d has %d threads; want a Go runtime's several", in.pid, len(masks))
		}
		for tid, m := range masks {
			if m != last.String() {
				t.Errorf("thread %s of backend child %d runs on CPUs %s, want %s", tid, in.pid, m, last)
			}
		}
	}
	for tid, m := range threadCPUs(t, os.Getpid()) {
		if m != allowed.String() {
			t.Errorf("thread %s of this process runs on %s after starting placed children, want %s", tid, m, allowed)
		}
	}
	testChildBackendsDieWithTheirParent(t, bin, last.String())
}

func TestPlaceBackends(t *testing.T) {
	t.Parallel()
	start, err := placement.ParseCPUList("0-3")
	if err != nil {
		t.Fatal(err)
	}
	applied := func(s string) *placement.Applied {
		p, err := placement.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return &placement.Applied{Placement: p, Start: start}
	}
	child := &ChildBackends{}
	if err := PlaceBackends(child, applied("strategy=0,backend=2-3")); err != nil || child.CPUs.String() != "2-3" {
		t.Fatalf("PlaceBackends(child, backend=2-3): CPUs %q, %v", child.CPUs, err)
	}
	if err := PlaceBackends(child, applied("strategy=0")); err != nil || child.CPUs.String() != "0-3" {
		t.Fatalf("PlaceBackends(child, strategy=0): CPUs %q, %v; want the CPUs of the start", child.CPUs, err)
	}
	if err := PlaceBackends(child, nil); err != nil || child.CPUs.String() != "0-3" {
		t.Fatalf("PlaceBackends(child, nil) changed the CPUs to %q, %v", child.CPUs, err)
	}
	for _, tt := range []struct {
		provider BackendProvider
		want     string
	}{
		{&InProcessBackends{}, "in-process backends run on the strategy's threads: use --backend builtin"},
		{&RemoteBackends{}, "this run does not start those servers"},
		{&RedisBackend{}, "this run does not start those servers"},
	} {
		if err := PlaceBackends(tt.provider, applied("strategy=0")); err != nil {
			t.Errorf("%T with only the strategy placed: %v", tt.provider, err)
		}
		err := PlaceBackends(tt.provider, applied("backend=1"))
		if !errors.Is(err, placement.ErrBadPlacement) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "backend=1 with ") {
			t.Errorf("%T with backend=1: %v; want ErrBadPlacement with %q", tt.provider, err, tt.want)
		}
	}
}
