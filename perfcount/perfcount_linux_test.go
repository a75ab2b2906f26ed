package perfcount_test

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/perfcount"
)

// childEnv makes the test binary, run as a child by
// TestChildProcessesAreNotCounted, touch childPages fresh pages and exit.
const childEnv = "PERFCOUNT_TEST_CHILD"

const childPages = 16384 // 64 MiB

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		touchPages(childPages)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// touchPages maps n fresh pages (no huge pages, so each is one fault) and
// writes a byte to each.
func touchPages(n int) {
	size := n * os.Getpagesize()
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		panic(err)
	}
	_ = unix.Madvise(b, unix.MADV_NOHUGEPAGE)
	for i := 0; i < size; i += os.Getpagesize() {
		b[i] = 1
	}
	_ = unix.Munmap(b)
}

// open opens the counters and skips the test when events are not counted.
func open(t *testing.T, events ...perfcount.Event) *perfcount.Counters {
	t.Helper()
	c := perfcount.Open()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, e := range events {
		if !c.Has(e) {
			t.Skipf("%s not counted here: %q", e, c.Missing())
		}
	}
	return c
}

// delta reads the counters around f and returns what f did.
func delta(t *testing.T, c *perfcount.Counters, f func()) perfcount.Counts {
	t.Helper()
	before, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	f()
	after, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	return after.Sub(before)
}

func get(t *testing.T, d perfcount.Counts, e perfcount.Event) uint64 {
	t.Helper()
	v, ok := d.Get(e)
	if !ok {
		t.Fatalf("%s has no value although the counters have it", e)
	}
	return v
}

// TestCountsFaultsOfEveryThread: pages touched by threads that existed at
// Open and by threads started after it all count.
func TestCountsFaultsOfEveryThread(t *testing.T) {
	c := open(t, perfcount.MinorFaults)
	threadsAtOpen := threadCount(t)
	const workers, pages = 6, 2000
	d := delta(t, c, func() {
		// Locked goroutines parked together each hold a thread of their
		// own: the runtime has to start new ones.
		var ready, done sync.WaitGroup
		start := make(chan struct{})
		for range workers {
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				ready.Done()
				<-start
				touchPages(pages)
			}()
		}
		ready.Wait()
		if n := threadCount(t); n <= threadsAtOpen {
			t.Errorf("the workers run on %d threads, no more than at Open (%d): the test proves nothing", n, threadsAtOpen)
		}
		close(start)
		done.Wait()
	})
	if got := get(t, d, perfcount.MinorFaults); got < workers*pages {
		t.Errorf("%d minor faults for %d fresh pages touched", got, workers*pages)
	}
}

func threadCount(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestChildProcessesAreNotCounted: a child process's faults are its own
// (the backends and Python strategies run as children).
func TestChildProcessesAreNotCounted(t *testing.T) {
	c := open(t, perfcount.MinorFaults)
	var runErr error
	d := delta(t, c, func() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		runErr = cmd.Run()
	})
	if runErr != nil {
		t.Fatal(runErr)
	}
	if got := get(t, d, perfcount.MinorFaults); got >= childPages/4 {
		t.Errorf("%d minor faults while a child touched %d pages: the child's are counted", got, childPages)
	}
}

// TestCountsContextSwitches: a thread that sleeps gives up its CPU each time.
func TestCountsContextSwitches(t *testing.T) {
	c := open(t, perfcount.ContextSwitches)
	const sleeps = 20
	d := delta(t, c, func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for range sleeps {
			ts := unix.NsecToTimespec(int64(time.Millisecond))
			_ = unix.Nanosleep(&ts, nil)
		}
	})
	if got := get(t, d, perfcount.ContextSwitches); got < sleeps {
		t.Errorf("%d context switches for %d sleeps", got, sleeps)
	}
}

// TestCountsMigrations: a thread moved from one CPU to another by its
// affinity mask migrates.
func TestCountsMigrations(t *testing.T) {
	c := open(t, perfcount.Migrations)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for i := range 1024 {
		if was.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 {
		t.Skipf("one CPU allowed (%v): nowhere to migrate to", cpus)
	}
	defer unix.SchedSetaffinity(0, &was)
	d := delta(t, c, func() {
		for _, cpu := range cpus[:2] {
			var one unix.CPUSet
			one.Set(cpu)
			if err := unix.SchedSetaffinity(0, &one); err != nil {
				t.Fatal(err)
			}
			spin(5 * time.Millisecond)
		}
	})
	if got := get(t, d, perfcount.Migrations); got < 1 {
		t.Errorf("%d migrations after moving a thread from CPU %d to %d", got, cpus[0], cpus[1])
	}
	if units := d.PerTask(1); len(units) == 0 || units[0].Name != "migrations/op" || units[0].Value < 1 {
		t.Errorf("PerTask(1) = %+v", units)
	}
}

var spinSink uint64

func spin(d time.Duration) {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 1000 {
			x = x*6364136223846793005 + 1
		}
	}
	spinSink += x
}

// TestHardwareCountsOrSaysWhy: where the kernel exposes hardware counters
// they count (instructions for a spin, an IPC in reason); where it does
// not, they are absent, with one line saying why, and no unit reports a
// zero in their place.
func TestHardwareCountsOrSaysWhy(t *testing.T) {
	c := open(t)
	d := delta(t, c, func() { spin(20 * time.Millisecond) })
	hw := []perfcount.Event{perfcount.Cycles, perfcount.Instructions, perfcount.CacheMisses}
	if !c.Has(perfcount.Cycles) {
		var lines []string
		for _, m := range c.Missing() {
			if strings.HasPrefix(m, "hardware counters (cycles, instructions, cache-misses): not counted: ") {
				lines = append(lines, m)
			}
		}
		if len(lines) != 1 {
			t.Errorf("hardware not counted, and Missing says %q: want one line on it", c.Missing())
		}
		for _, e := range hw {
			if v, ok := d.Get(e); ok || c.Has(e) {
				t.Errorf("%s: value %d reported although not counted", e, v)
			}
		}
		for _, u := range d.PerTask(10) {
			if u.Name != "migrations/op" {
				t.Errorf("unit %s reported without hardware counters", u.Name)
			}
		}
		t.Skipf("hardware counters absent here; Missing: %s", lines)
	}
	if ins := get(t, d, perfcount.Instructions); ins < 1_000_000 {
		t.Errorf("%d instructions in 20ms of spinning", ins)
	}
	if ipc, ok := d.IPC(); !ok || ipc <= 0 || ipc > 10 {
		t.Errorf("IPC %v, %v", ipc, ok)
	}
}

// TestCloseReleasesDescriptors: Close closes every counter it opened.
func TestCloseReleasesDescriptors(t *testing.T) {
	before := fdCount(t)
	c := perfcount.Open()
	if !c.Has(perfcount.MinorFaults) {
		c.Close()
		t.Skipf("nothing counted: %q", c.Missing())
	}
	if fdCount(t) <= before {
		t.Fatal("Open opened no descriptor")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if after := fdCount(t); after != before {
		t.Errorf("%d descriptors after Close, %d before Open", after, before)
	}
	if _, ok := mustRead(t, c).Get(perfcount.MinorFaults); ok {
		t.Error("a closed counter still reports faults")
	}
}

func mustRead(t *testing.T, c *perfcount.Counters) perfcount.Counts {
	t.Helper()
	v, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fdCount(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// BenchmarkRead is what reading the counters around a round costs.
func BenchmarkRead(b *testing.B) {
	c := perfcount.Open()
	defer c.Close()
	for b.Loop() {
		if _, err := c.Read(); err != nil {
			b.Fatal(err)
		}
	}
}
