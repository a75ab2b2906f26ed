//go:build unix

package loadgen

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the user and system time of this process so far.
// RUSAGE_THREAD would not separate the generator from a server in the same
// process (goroutines move between threads), hence a process of its own
// when the figure matters.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
