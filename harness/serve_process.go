package harness

import (
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// selfCPU is this process's CPU time, user and system, of all its threads
// (RUSAGE_SELF, without the children measure.go's snapshot adds: a serve
// round reaps its load generator, whose CPU is the generator's, not the
// server's).
func selfCPU() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru) // cannot fail with these arguments
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// newProcesses returns the processes in after that are not in before,
// sorted: the children a server started.
func newProcesses(before, after map[int]bool) []int {
	var pids []int
	for pid := range after {
		if !before[pid] {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}
