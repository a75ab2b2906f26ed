package cpuprofile

import (
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
)

// PprofRate is the rate runtime/pprof.StartCPUProfile uses by itself.
const PprofRate = 100

// DefaultRate is the rate profiles use: the most samples a CPU-second that
// a kernel with the common CONFIG_HZ=250 delivers (measured on this
// project's VM: 241 at 250 Hz, 249 at 500, 1000 and 2000 Hz), two and a
// half times pprof's own.
const DefaultRate = 250

// MaxRate bounds the rate Start accepts; above it the signal handler's
// stack walks would dominate the profile.
const MaxRate = 2000

// ErrBusy means a CPU profile was already running in the process (go test
// -cpuprofile, net/http/pprof, another capture): the runtime runs one.
var ErrBusy = errors.New("cpuprofile: a CPU profile is already running in this process")

// Start starts the process's CPU profile, writing to w as
// pprof.StartCPUProfile does, at hz samples per CPU-second per thread (0
// means DefaultRate). It returns the rate it asked the runtime for: hz, or
// PprofRate where the platform cannot set another one quietly. Stop the
// profile with pprof.StopCPUProfile.
func Start(w io.Writer, hz int) (int, error) {
	switch {
	case hz == 0:
		hz = DefaultRate
	case hz < 0 || hz > MaxRate:
		return 0, fmt.Errorf("cpuprofile: rate %d Hz outside 1..%d", hz, MaxRate)
	}
	if hz == PprofRate {
		return PprofRate, startPprof(w)
	}
	return startAt(w, hz)
}

func startPprof(w io.Writer) error {
	if err := pprof.StartCPUProfile(w); err != nil {
		return fmt.Errorf("%w: %v", ErrBusy, err)
	}
	return nil
}
