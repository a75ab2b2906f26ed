package placement

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperEnv makes the test binary a helper process (see runHelper): the
// tests that pin a process pin a child of their own, never the test
// binary whose other tests run in parallel.
const helperEnv = "PLACEMENT_TEST_HELPER"

// helperReport is what a helper prints, one JSON line.
type helperReport struct {
	Err        string            `json:"err,omitempty"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	Threads    map[string]string `json:"threads"` // thread id: its Cpus_allowed_list
	Backend    string            `json:"backend"` // Applied.ChildCPUs(Backend)
}

// runHelper runs one of the helper modes, named by helperEnv:
//
//	apply:PLACEMENT  Apply the placement, start a few locked threads, report
//	follow:CPUS      pin every thread to CPUS without Apply, then wait up to
//	                 10 s for the runtime to lower GOMAXPROCS by itself
//	threads          start a few locked threads and report (a child of Start)
func runHelper(mode string) int {
	var rep helperReport
	kind, arg, _ := strings.Cut(mode, ":")
	switch kind {
	case "apply":
		p, err := Parse(arg)
		if err == nil {
			var a *Applied
			a, err = Apply(p)
			if a != nil {
				rep.Backend = a.ChildCPUs(Backend).String()
			}
		}
		if err != nil {
			rep.Err = err.Error()
		}
	case "follow":
		cpus, err := ParseCPUList(arg)
		if err == nil {
			err = pinProcess(cpus)
		}
		if err != nil {
			rep.Err = err.Error()
		}
		for deadline := time.Now().Add(10 * time.Second); runtime.GOMAXPROCS(0) != cpus.Count() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	case "threads":
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		return 2
	}
	stop := lockedThreads(4) // threads started after Apply inherit its CPUs
	defer stop()
	rep.GOMAXPROCS = runtime.GOMAXPROCS(0)
	var err error
	if rep.Threads, err = threadMasks("/proc/self/task"); err != nil {
		rep.Err = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 1
	}
	return 0
}

// lockedThreads starts n goroutines, each locked to a thread of its own,
// and returns a function that ends them (and their threads).
func lockedThreads(n int) func() {
	var started, wg sync.WaitGroup
	done := make(chan struct{})
	for range n {
		started.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			started.Done()
			<-done
		}()
	}
	started.Wait()
	return func() {
		close(done)
		wg.Wait()
	}
}

// threadMasks reads Cpus_allowed_list of every thread under dir
// (/proc/PID/task).
func threadMasks(dir string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	masks := map[string]string{}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name(), "status"))
		if err != nil {
			continue // the thread exited
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Cpus_allowed_list:"); ok {
				masks[e.Name()] = strings.TrimSpace(v)
			}
		}
		f.Close()
	}
	if len(masks) == 0 {
		return nil, fmt.Errorf("no thread masks under %s", dir)
	}
	return masks, nil
}

// helper runs the test binary in helper mode with env added, and decodes
// its report.
func helper(t *testing.T, mode string, env ...string) helperReport {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper %s: %v\n%s", mode, err, out)
	}
	var rep helperReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("helper %s: %v in %q", mode, err, out)
	}
	return rep
}

// twoCPUs returns two CPUs this process may use, or skips the test.
func twoCPUs(t *testing.T) (first, last int, allowed CPUSet) {
	t.Helper()
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	cpus := allowed.CPUs()
	if len(cpus) < 2 {
		t.Skipf("this process may use only CPUs %s: placement tests need two", allowed)
	}
	return cpus[0], cpus[len(cpus)-1], allowed
}

func checkThreads(t *testing.T, what string, masks map[string]string, want string) {
	t.Helper()
	if len(masks) < 5 {
		t.Errorf("%s: only %d threads seen; the test wants several", what, len(masks))
	}
	for tid, m := range masks {
		if m != want {
			t.Errorf("%s: thread %s runs on CPUs %s, want %s (all threads: %v)", what, tid, m, want, masks)
		}
	}
}

// Apply pins every thread, those that exist and those started later, and
// GOMAXPROCS follows at once.
func TestApplyPinsEveryThreadAndGOMAXPROCS(t *testing.T) {
	t.Parallel()
	first, last, allowed := twoCPUs(t)
	rep := helper(t, fmt.Sprintf("apply:strategy=%d,backend=%d", first, last))
	if rep.Err != "" {
		t.Fatal(rep.Err)
	}
	checkThreads(t, "pinned helper", rep.Threads, fmt.Sprint(first))
	if rep.GOMAXPROCS != 1 {
		t.Errorf("GOMAXPROCS = %d after pinning to one CPU, want 1", rep.GOMAXPROCS)
	}
	if rep.Backend != fmt.Sprint(last) {
		t.Errorf("ChildCPUs(Backend) = %q, want %d", rep.Backend, last)
	}

	// Only the strategy placed: the backends are not left on its CPU.
	rep = helper(t, fmt.Sprintf("apply:strategy=%d", first))
	if rep.Err != "" || rep.Backend != allowed.String() {
		t.Errorf("strategy placed alone: ChildCPUs(Backend) = %q (%s), want the CPUs of the start, %s", rep.Backend, rep.Err, allowed)
	}

	// A GOMAXPROCS the user set is kept.
	rep = helper(t, fmt.Sprintf("apply:strategy=%d", first), "GOMAXPROCS=3")
	if rep.Err != "" || rep.GOMAXPROCS != 3 {
		t.Errorf("with GOMAXPROCS=3 in the environment: GOMAXPROCS %d (%s), want 3", rep.GOMAXPROCS, rep.Err)
	}
	checkThreads(t, "pinned helper with GOMAXPROCS=3", rep.Threads, fmt.Sprint(first))

	// Placing only children changes nothing here.
	rep = helper(t, fmt.Sprintf("apply:backend=%d", last))
	if rep.Err != "" || rep.GOMAXPROCS != runtime.GOMAXPROCS(0) {
		t.Errorf("backend placed alone: GOMAXPROCS %d (%s), want %d", rep.GOMAXPROCS, rep.Err, runtime.GOMAXPROCS(0))
	}
	checkThreads(t, "helper with only backends placed", rep.Threads, allowed.String())
}

// What the package comment says of Go's runtime (1.25 and later): with
// every thread pinned and GOMAXPROCS not set by hand, the runtime lowers
// GOMAXPROCS to the pinned CPUs by itself. Should a Go release stop doing
// so, this fails, and the comment must change.
func TestRuntimeFollowsAffinityByItself(t *testing.T) {
	t.Parallel()
	first, _, _ := twoCPUs(t)
	rep := helper(t, fmt.Sprintf("follow:%d", first))
	if rep.Err != "" {
		t.Fatal(rep.Err)
	}
	if rep.GOMAXPROCS != 1 {
		t.Errorf("GOMAXPROCS still %d 10 s after every thread was pinned to one CPU", rep.GOMAXPROCS)
	}
}

func TestApplyRefusesCPUsItMayNotUse(t *testing.T) {
	t.Parallel()
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	outside := -1
	for cpu := MaxCPU; cpu >= 0; cpu-- {
		if !allowed.Has(cpu) {
			outside = cpu
			break
		}
	}
	if outside < 0 {
		t.Skip("this process may use every CPU a mask holds")
	}
	p := (Placement{}).With(Backend, set(outside))
	a, err := Apply(p)
	if !errors.Is(err, ErrBadPlacement) || a != nil || !strings.Contains(err.Error(), fmt.Sprintf("backend=%d: CPU %d not among", outside, outside)) {
		t.Fatalf("Apply(%s) = %v, %v; want ErrBadPlacement naming the CPU", p, a, err)
	}
}

// Start gives every thread of the child the CPUs from its start, and
// leaves the starting thread (and every other thread here) as it was.
func TestStartPinsEveryThreadOfTheChild(t *testing.T) {
	t.Parallel()
	_, last, allowed := twoCPUs(t)
	before, err := threadMasks("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for tid, m := range before {
		if m != allowed.String() {
			t.Skipf("thread %s of the test runs on %s, not on all of %s: something else pins this process", tid, m, allowed)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=threads")
	rep, err := startAndRead(cmd, set(last))
	if err != nil {
		t.Fatal(err)
	}
	checkThreads(t, "child of Start", rep.Threads, fmt.Sprint(last))
	if rep.GOMAXPROCS != 1 {
		t.Errorf("the child's GOMAXPROCS is %d, want 1 (its runtime saw one CPU from the start)", rep.GOMAXPROCS)
	}
	after, err := threadMasks("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for tid, m := range after {
		if m != allowed.String() {
			t.Errorf("after Start, thread %s of this process runs on %s, want %s", tid, m, allowed)
		}
	}

	// An empty set is a plain start: the child inherits.
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=threads")
	out, err := startAndRead(cmd, CPUSet{})
	if err != nil {
		t.Fatal(err)
	}
	checkThreads(t, "child started with no CPUs given", out.Threads, allowed.String())
}

func startAndRead(cmd *exec.Cmd, cpus CPUSet) (helperReport, error) {
	var rep helperReport
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return rep, err
	}
	if err := Start(cmd, cpus); err != nil {
		return rep, err
	}
	decodeErr := json.NewDecoder(stdout).Decode(&rep)
	return rep, errors.Join(cmd.Wait(), decodeErr)
}
