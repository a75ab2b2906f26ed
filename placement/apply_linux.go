package placement

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Allowed returns the CPUs this process may run on: its main thread's
// affinity mask, which the kernel bounds by the cgroup's cpuset.
func Allowed() (CPUSet, error) {
	return threadCPUs(os.Getpid())
}

// Apply pins this process to the placement's Strategy CPUs, when it
// places the strategy, and resets GOMAXPROCS to the runtime's default for
// them (unless the GOMAXPROCS environment variable is set, which it
// respects). It first checks that every role's CPUs are ones this process
// may use (Allowed); an error then wraps ErrBadPlacement and nothing has
// changed. Call it before anything reads GOMAXPROCS (the run's header,
// strategies' defaults) and before starting children.
func Apply(p Placement) (*Applied, error) {
	start, err := Allowed()
	if err != nil {
		return nil, err
	}
	if err := p.Check(start); err != nil {
		return nil, err
	}
	a := &Applied{Placement: p, Start: start}
	cpus := p.CPUs(Strategy)
	if cpus.IsEmpty() {
		return a, nil
	}
	if err := pinProcess(cpus); err != nil {
		return nil, err
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// The runtime would lower GOMAXPROCS to the pinned CPUs by
		// itself, about a second later (see the package comment): at
		// once, the run's header and every cell see the same value.
		runtime.SetDefaultGOMAXPROCS()
	}
	return a, nil
}

// maxPinPasses bounds pinProcess's passes over the threads: each pass
// pins the threads started since the one before, and threads are started
// by the runtime only now and then.
const maxPinPasses = 100

// pinProcess sets the affinity of every thread of this process to cpus.
// Affinity is per thread: a thread started later inherits the mask of the
// thread that starts it, so once every thread is pinned, every later one
// is too. A pass reads each listed thread's mask and sets those that
// differ; passes repeat until one finds every thread pinned, which also
// catches a thread started by a not yet pinned one during a pass.
func pinProcess(cpus CPUSet) error {
	mask := cpus.unixSet()
	for pass := 0; pass < maxPinPasses; pass++ {
		tids, err := threads()
		if err != nil {
			return err
		}
		changed := false
		for _, tid := range tids {
			var have unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &have); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue // the thread exited
				}
				return fmt.Errorf("placement: read the CPUs of thread %d: %w", tid, err)
			}
			if have == mask {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &mask); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue
				}
				return fmt.Errorf("placement: pin thread %d to CPUs %s: %w", tid, cpus, err)
			}
			changed = true
		}
		if !changed {
			return nil
		}
	}
	return fmt.Errorf("placement: threads kept appearing unpinned after %d passes", maxPinPasses)
}

// threads lists the thread ids of this process.
func threads() ([]int, error) {
	f, err := os.Open("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("placement: list threads: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("placement: list threads: %w", err)
	}
	tids := make([]int, 0, len(names))
	for _, n := range names {
		if tid, err := strconv.Atoi(n); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// threadCPUs returns the affinity of thread (or process) tid; 0 is the
// calling thread.
func threadCPUs(tid int) (CPUSet, error) {
	var mask unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &mask); err != nil {
		return CPUSet{}, fmt.Errorf("placement: sched_getaffinity: %w", err)
	}
	var s CPUSet
	for cpu := 0; cpu <= MaxCPU; cpu++ {
		if mask.IsSet(cpu) {
			s.Add(cpu)
		}
	}
	return s, nil
}

func (s CPUSet) unixSet() unix.CPUSet {
	var mask unix.CPUSet
	for _, cpu := range s.CPUs() {
		mask.Set(cpu)
	}
	return mask
}

// startPinned forks cmd on the calling goroutine's thread with that
// thread's affinity set to cpus for the moment of the fork: a process
// starts with the mask of the thread that forked it, and so do all the
// threads it starts. The goroutine is locked to its thread throughout, so
// the Go scheduler cannot move the fork to another thread, and the mask
// is restored before the lock is released. A caller that holds its thread
// (runtime.LockOSThread, for Linux's parent-death signal, which follows
// the forking thread) keeps it. Should restoring fail, the lock is kept:
// the runtime ends the thread when the goroutine exits, so the child's
// CPUs never leak into other goroutines' scheduling.
func startPinned(cmd *exec.Cmd, cpus CPUSet) error {
	runtime.LockOSThread()
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("placement: sched_getaffinity: %w", err)
	}
	mask := cpus.unixSet()
	if err := unix.SchedSetaffinity(0, &mask); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("placement: start %s on CPUs %s: %w", cmd.Path, cpus, err)
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &was); rerr != nil {
		return errors.Join(err, fmt.Errorf("placement: restore the starting thread's CPUs: %w", rerr))
	}
	runtime.UnlockOSThread()
	return err
}
