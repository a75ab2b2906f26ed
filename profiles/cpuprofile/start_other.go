//go:build !linux

package cpuprofile

import "io"

// startAt samples at pprof's own rate: this platform has no quiet way to
// set another (see the package comment).
func startAt(w io.Writer, _ int) (int, error) {
	return PprofRate, startPprof(w)
}
