//go:build race

package loadgen

// raceEnabled: the race detector slows every goroutine operation and
// allocates on its own, so allocation counts mean nothing under it.
const raceEnabled = true
