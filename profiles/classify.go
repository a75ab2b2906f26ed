package profiles

import (
	"path"
	"strings"
)

// Category is where a sample's time went, for the breakdown.
type Category int

// The categories, in the order the breakdown shows them.
const (
	Kernel    Category = iota // the workload's own kernels: workloads, strategies/simd vector kernels
	Strategy                  // the strategy's own code and the RESP client it uses
	Syscall                   // syscalls, netpoll, net, internal/poll, golang.org/x/sys/unix
	Scheduler                 // scheduling and synchronization: schedule, findRunnable, park, channels, sync
	GC                        // garbage collection, including assists and write barriers
	Runtime                   // the rest of the runtime: allocation, maps, stack growth, ...
	Harness                   // the harness (timing, verification) and other concbench packages
	Backend                   // the RESP backend's own code: in the backend's profile, or in-process (--backend inprocess)
	Profiler                  // the profilers themselves (fgprof, runtime/pprof's writer)
	Other                     // anything else
	numCategories
)

var categoryNames = [numCategories]string{"workload kernel", "strategy code", "syscalls & netpoll",
	"scheduler & sync", "GC", "runtime (other)", "harness", "backend code", "profiler", "other"}

func (c Category) String() string {
	if c < 0 || c >= numCategories {
		return "?"
	}
	return categoryNames[c]
}

// Frame is one function of a stack: its full name as pprof writes it
// ("github.com/concbench/concbench/workloads.MandelbrotRowScalar",
// "internal/poll.(*FD).Read") and its source file, which may be empty.
type Frame struct {
	Function string
	File     string
}

const module = "github.com/concbench/concbench"

// Classify says where a sample went, from its stack (leaf first). The rule:
//
//  1. A stack with a garbage-collector frame anywhere (gcBgMarkWorker,
//     gcAssistAlloc, gcDrain, markroot, bgsweep, runtime.GC, ...) is GC, and
//     one with a profiler frame anywhere (fgprof, runtime/pprof) is Profiler:
//     that work is on behalf of neither the leaf nor the caller.
//  2. Otherwise walk from the leaf towards the root, skipping helper frames
//     that work for their caller (memmove, memclr, internal/bytealg, math,
//     hash, strconv, bytes, strings, slices, simd/archsimd, fmt, and
//     workloads.(*Spec).Check, which is the harness verifying a result),
//     and a leaf runtime.asyncPreempt: the entry of an asynchronous
//     preemption, where a profiling signal that was pending together with
//     the preemption signal is delivered. The CPU time that sample stands
//     for was the interrupted frame's (on a loaded machine such samples
//     were 9–41 % of a mandelbrot cell's, all directly on the kernel); the
//     preemption's own work (asyncPreempt2, the scheduler) is decided by
//     its frames as usual.
//  3. While the frames are the runtime's, the first one that names a
//     syscall or netpoll path (entersyscall, netpoll, netpollblock, ...)
//     makes the sample Syscall, and the first scheduler or synchronization
//     frame (schedule, findRunnable, park_m, mcall, chanrecv, selectgo,
//     semacquire, newproc, ...) makes it Scheduler. runtime.gopark itself is
//     not decisive, so a goroutine parked in netpollblock counts as netpoll.
//  4. If the run of runtime frames ends without such a frame, the sample is
//     Runtime (allocation, maps, stack growth...), whatever called it.
//  5. The first non-runtime frame decides by its package: workloads and
//     the strategies/simd kernels (kernels.go, vector_*.go) are Kernel, other
//     strategies code and workloads/resp Strategy, syscall, internal/poll,
//     net, os and golang.org/x/sys/unix Syscall, sync Scheduler, harness,
//     params, results and cmd Harness, workloads/backend Backend, anything
//     else Other.
func Classify(stack []Frame) Category {
	for _, f := range stack {
		switch {
		case isGC(f.Function):
			return GC
		case isProfiler(f.Function):
			return Profiler
		}
	}
	inRuntime := false
	for i, f := range stack {
		if isHelper(f.Function) || i == 0 && isPreemptEntry(f.Function) {
			continue
		}
		pkg := packageOf(f.Function)
		if isRuntimePackage(pkg) {
			if c, ok := runtimeCategory(f.Function); ok {
				return c
			}
			inRuntime = true
			continue
		}
		if inRuntime {
			return Runtime
		}
		return packageCategory(pkg, f)
	}
	if inRuntime {
		return Runtime
	}
	return Other
}

// packageOf is the import path of a function name: everything before the
// first '.' after the last '/' (type parameters removed first).
func packageOf(fn string) string {
	if i := strings.IndexByte(fn, '['); i >= 0 {
		fn = fn[:i]
	}
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}

func isRuntimePackage(pkg string) bool {
	return pkg == "runtime" || strings.HasPrefix(pkg, "internal/runtime/") || strings.HasPrefix(pkg, "runtime/internal/")
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func isGC(fn string) bool {
	if fn == "runtime.gcount" { // counts goroutines: not the collector
		return false
	}
	return hasAnyPrefix(fn, "runtime.gc", "runtime.GC", "runtime._GC", "runtime.markroot", "runtime.scanobject",
		"runtime.scanblock", "runtime.scanstack", "runtime.scanframeworker", "runtime.scanSpan", "runtime.greyobject",
		"runtime.bgsweep", "runtime.bgscavenge", "runtime.sweepone", "runtime.(*sweepLocked)", "runtime.(*gcWork)",
		"runtime.wbBuf", "runtime.deductSweepCredit", "runtime.(*gcControllerState)", "runtime.(*mheap).reclaim",
		"runtime.(*scavengerState)", "runtime.(*spanQueue)", "runtime.tryDeferToSpanScan", "runtime.markBits",
		"internal/runtime/gc/", "runtime.(*mspan).moveInlineMarks", "runtime.(*mspan).sweep",
		"runtime.(*mspan).scan", "runtime.(*gcBits)", "runtime.finishsweep_m")
}

func isProfiler(fn string) bool {
	if hasAnyPrefix(fn, "runtime/pprof.Do", "runtime/pprof.Label", "runtime/pprof.WithLabels",
		"runtime/pprof.SetGoroutineLabels", "runtime/pprof.(*labelMap)", "runtime/pprof.ForLabels") {
		return false // labelling the strategy's goroutines: at the root of every labelled stack
	}
	return hasAnyPrefix(fn, "github.com/felixge/fgprof.", "runtime/pprof.", "github.com/google/pprof/",
		"runtime.pprof_", "runtime.goroutineProfileWithLabels", "runtime/trace.")
}

// Helper frames work for their caller; Classify looks past them.
var helperPackages = map[string]bool{
	"internal/bytealg": true, "math": true, "math/bits": true, "simd/archsimd": true, "hash": true,
	"hash/fnv": true, "hash/crc32": true, "hash/maphash": true, "encoding/binary": true, "strconv": true,
	"bytes": true, "strings": true, "slices": true, "sort": true, "unicode/utf8": true, "fmt": true,
	"errors": true, "internal/abi": true, "cmp": true, "maps": true, "iter": true,
}

func isHelper(fn string) bool {
	if helperPackages[packageOf(fn)] {
		return true
	}
	switch fn {
	case module + "/workloads.(*Spec).Check", module + "/workloads.Digest":
		return true // the harness verifying results, not the workload's work
	}
	return hasAnyPrefix(fn, "runtime.memmove", "runtime.memclr", "runtime.memequal", "runtime.memhash",
		"runtime.aeshash", "runtime.strhash", "runtime.cmpstring", "runtime.duffcopy", "runtime.duffzero")
}

// isPreemptEntry reports whether fn is the frame an asynchronous
// preemption injects at the interrupted instruction (see Classify, rule 2).
func isPreemptEntry(fn string) bool { return fn == "runtime.asyncPreempt" }

// runtimeCategory decides a runtime frame that names a syscall or
// scheduler path; ok is false for the rest of the runtime.
func runtimeCategory(fn string) (Category, bool) {
	pkg := packageOf(fn)
	if strings.HasPrefix(pkg, "internal/runtime/syscall") || hasAnyPrefix(fn, "runtime.netpoll", "runtime.entersyscall",
		"runtime.exitsyscall", "runtime.reentersyscall", "runtime.syscall_", "runtime.poll_runtime_",
		"runtime.(*pollDesc)", "runtime.epoll", "runtime.read", "runtime.write", "runtime.pipe") {
		return Syscall, true
	}
	name := strings.TrimPrefix(fn, "runtime.")
	if schedulerFuncs[name] || hasAnyPrefix(name, "chan", "select", "sema", "sync_runtime_", "notesleep",
		"notetsleep", "notewakeup", "runq", "globrunq", "gosched", "goexit", "stopTheWorld", "startTheWorld",
		"mstart", "(*timers)", "lockOSThread", "unlockOSThread", "LockOSThread", "UnlockOSThread") {
		return Scheduler, true
	}
	return 0, false
}

var schedulerFuncs = map[string]bool{
	"schedule": true, "findRunnable": true, "findrunnable": true, "park_m": true, "mcall": true,
	"goready": true, "ready": true, "execute": true, "stealWork": true, "stopm": true, "startm": true,
	"wakep": true, "handoffp": true, "acquirep": true, "releasep": true, "newproc": true, "newproc1": true,
	"gdestroy": true, "gfget": true, "gfput": true, "sysmon": true, "retake": true, "preemptone": true,
	"preemptM": true, "asyncPreempt": true, "asyncPreempt2": true, "mPark": true, "newm": true,
	"newosproc": true, "checkTimers": true, "timeSleep": true, "resetForSleep": true, "injectglist": true,
	"goyield": true, "Gosched": true, "gopreempt_m": true,
}

var kernelFuncs = map[string]bool{
	"Kernels.Dot": true, "Kernels.MandelbrotRow": true, "Kernels.FNV1a": true, "Kernels.FNV1aMany": true,
	"Kernels.FNV1aSeeded": true, "dot16": true, "dot8": true, "sum8": true, "mandelbrot16": true,
	"mandelbrot8": true, "weigh": true, "fnvGroup16": true, "fnvGroupScalar": true, "dotUnrolled": true,
	"vectorSafe": true, "finite": true,
}

func packageCategory(pkg string, f Frame) Category {
	switch {
	case pkg == module+"/workloads":
		return Kernel
	case pkg == module+"/strategies/simd":
		name := strings.TrimPrefix(f.Function, pkg+".")
		base := path.Base(f.File)
		if kernelFuncs[name] || base == "kernels.go" || strings.HasPrefix(base, "vector_") {
			return Kernel
		}
		return Strategy
	case pkg == module+"/workloads/backend" || strings.HasPrefix(pkg, module+"/workloads/backend/"):
		return Backend
	case strings.HasPrefix(pkg, module+"/strategies"), strings.HasPrefix(pkg, module+"/workloads/resp"):
		return Strategy
	case strings.HasPrefix(pkg, module+"/harness"), strings.HasPrefix(pkg, module+"/params"),
		strings.HasPrefix(pkg, module+"/results"), strings.HasPrefix(pkg, module+"/cmd"),
		strings.HasPrefix(pkg, module+"/profiles"):
		return Harness
	case pkg == "syscall", pkg == "internal/poll", pkg == "net", pkg == "os", pkg == "golang.org/x/sys/unix",
		strings.HasPrefix(pkg, "internal/syscall/"):
		return Syscall
	case pkg == "sync", pkg == "internal/sync", pkg == "sync/atomic":
		return Scheduler
	}
	return Other
}
