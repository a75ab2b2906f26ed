// Package cpuprofile starts runtime/pprof's CPU profile at a chosen
// sampling rate instead of pprof's fixed 100 Hz.
//
// runtime/pprof has no rate setting: StartCPUProfile always asks the
// runtime for 100 Hz. The documented way to sample faster is to call
// runtime.SetCPUProfileRate first; the runtime then keeps the first rate
// and refuses pprof's, printing
//
//	runtime: cannot set cpu profile rate until previous profile has finished.
//
// to the process's standard error (Go 1.26 still does). A profiled pass
// that starts a profile for every round would print that line hundreds of
// times, so on Linux Start points file descriptor 2 at a pipe for the
// microseconds the two calls take, drops that one line and copies
// anything else written meanwhile back to the real standard error. On
// other systems Start uses pprof's 100 Hz.
//
// The rate is per thread of CPU time (Linux arms a CPU-time timer per
// thread), and the kernel checks those timers on its scheduler tick, so it
// cannot deliver more than CONFIG_HZ samples a CPU-second: on this
// project's VM (HZ=250) asking for 1000 Hz gave 249 samples a CPU-second,
// while the profile's period still claimed 1 ms each, a quarter of the
// CPU time. Hence DefaultRate is 250, and callers compare the samples they
// got with the CPU time they measured (see profiles.Pass).
//
//	var buf bytes.Buffer
//	hz, err := cpuprofile.Start(&buf, cpuprofile.DefaultRate)
//	if err != nil { ... }
//	work()
//	pprof.StopCPUProfile() // buf holds the profile, sampled at hz
package cpuprofile
