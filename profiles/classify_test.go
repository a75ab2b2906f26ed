package profiles_test

import (
	"testing"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/profiles"
)

const mod = "github.com/concbench/concbench/"

// stack builds a leaf-first stack from function names.
func stack(fns ...string) []profiles.Frame {
	out := make([]profiles.Frame, len(fns))
	for i, f := range fns {
		out[i] = profiles.Frame{Function: f}
	}
	return out
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		stack []profiles.Frame
		want  profiles.Category
	}{
		{"scalar kernel", stack(mod+"workloads.MandelbrotRowScalar", mod+"strategies.(*pool).Run.func1",
			"runtime/pprof.Do", "runtime.goexit"), profiles.Kernel},
		{"helper counts for the kernel", stack("runtime.memmove", mod+"workloads.AppendValue",
			mod+"workloads.Render", "runtime.goexit"), profiles.Kernel},
		{"simd vector kernel by name", stack(mod+"strategies/simd.mandelbrot16", mod+"strategies/simd.Kernels.MandelbrotRow",
			mod+"strategies/simd.(*worker).runBatch"), profiles.Kernel},
		{"simd kernel by file", []profiles.Frame{{Function: mod + "strategies/simd.newHelper", File: "/x/strategies/simd/vector_amd64.go"}},
			profiles.Kernel},
		{"simd batching is strategy code", stack(mod+"strategies/simd.(*worker).runBatch", "runtime.goexit"), profiles.Strategy},
		{"RESP client is strategy code", stack(mod+"workloads/resp.(*Client).readReply", mod+"strategies.blocking.Run"), profiles.Strategy},
		{"syscall", stack("internal/runtime/syscall/linux.Syscall6", "syscall.RawSyscall6", "syscall.Syscall",
			"syscall.read", "internal/poll.(*FD).Read", "net.(*conn).Read", mod+"workloads/resp.(*Client).Do"), profiles.Syscall},
		{"entersyscall under runtime helpers", stack("runtime.casgstatus", "runtime.reentersyscall",
			"runtime.entersyscall", "syscall.Syscall"), profiles.Syscall},
		{"netpoll in findRunnable", stack("internal/runtime/syscall/linux.EpollWait", "runtime.netpoll",
			"runtime.findRunnable", "runtime.schedule", "runtime.park_m", "runtime.mcall"), profiles.Syscall},
		{"x/sys/unix epoll", stack("golang.org/x/sys/unix.EpollWait", mod+"strategies/reactor.(*loop).run"), profiles.Syscall},
		{"parked in netpoll (wall)", stack("runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait",
			"internal/poll.(*pollDesc).wait", "net.(*conn).Read"), profiles.Syscall},
		{"parked on a channel (wall)", stack("runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1",
			mod+"strategies.(*pool).Run"), profiles.Scheduler},
		{"scheduler", stack("runtime.runqgrab", "runtime.runqsteal", "runtime.stealWork", "runtime.findRunnable",
			"runtime.schedule", "runtime.park_m", "runtime.mcall"), profiles.Scheduler},
		{"futex wakeup in the scheduler", stack("runtime.futex", "runtime.futexwakeup", "runtime.notewakeup",
			"runtime.startm", "runtime.wakep", "runtime.ready"), profiles.Scheduler},
		{"sync.WaitGroup", stack("sync.(*WaitGroup).Wait", mod+"strategies.(*goroutines).Run"), profiles.Scheduler},
		{"profiling signal at a preemption's entry", stack("runtime.asyncPreempt", mod+"workloads.MandelbrotRowScalar",
			mod+"workloads.scalarKernels.MandelbrotRow"), profiles.Kernel},
		{"the preemption itself", stack("runtime.xRegSave", "runtime.asyncPreempt2.func1", "runtime.mcall",
			"runtime.asyncPreempt2", "runtime.asyncPreempt", mod+"workloads.MandelbrotRowScalar"), profiles.Scheduler},
		{"sysmon", stack("runtime.usleep", "runtime.sysmon", "runtime.mstart1", "runtime.mstart"), profiles.Scheduler},
		{"background mark worker", stack("runtime.scanobject", "runtime.gcDrainMarkWorkerDedicated",
			"runtime.gcBgMarkWorker.func2", "runtime.systemstack", "runtime.gcBgMarkWorker"), profiles.GC},
		{"mark assist from a kernel's allocation", stack("runtime.scanobject", "runtime.gcDrainN", "runtime.gcAssistAlloc1",
			"runtime.gcAssistAlloc", "runtime.mallocgc", mod+"workloads.AppendValue"), profiles.GC},
		{"green tea span scan", stack("internal/runtime/gc/scan.scanSpanPackedAVX512", "runtime.scanSpan",
			"runtime.gcDrain"), profiles.GC},
		{"allocation is runtime", stack("runtime.nextFreeFast", "runtime.mallocgc", "runtime.newobject",
			mod+"workloads.AppendValue"), profiles.Runtime},
		{"stack growth is runtime", stack("runtime.copystack", "runtime.newstack", "runtime.morestack",
			mod+"strategies.(*goroutines).Run.func1"), profiles.Runtime},
		{"runtime only", stack("runtime.nanotime1", "runtime.nanotime"), profiles.Runtime},
		{"harness", stack(mod+"harness.sortedDurations", mod+"harness.verify", mod+"harness.runCell"), profiles.Harness},
		{"verification counts as harness", stack(mod+"workloads.(*Spec).Check", mod+"harness.verify"), profiles.Harness},
		{"in-process backend", stack(mod+"workloads/backend.(*Server).serve", "runtime.goexit"), profiles.Backend},
		{"wall profiler", stack("runtime.goroutineProfileWithLabelsConcurrent", "runtime.goroutineProfileWithLabels",
			"runtime.GoroutineProfile", "github.com/felixge/fgprof.(*profiler).GoroutineProfile"), profiles.Profiler},
		{"pprof.Do is not the profiler", stack("runtime/pprof.Do", "runtime.goexit"), profiles.Other},
		{"other", stack("encoding/json.(*decodeState).object", "main.main"), profiles.Other},
		{"generic function", stack(mod + "workloads.sum[go.shape.float32]"), profiles.Kernel},
		{"empty", nil, profiles.Other},
	} {
		if got := profiles.Classify(tc.stack); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// synthetic builds a CPU-like profile with the given stacks and counts,
// labelled as one cell.
func synthetic(cell profiles.Cell, stacks map[int64][]string) *profile.Profile {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     10_000_000,
		Comments:   profiles.CommentsOf(cell),
	}
	funcs := map[string]*profile.Function{}
	locs := map[string]*profile.Location{}
	for n, fns := range stacks {
		s := &profile.Sample{Value: []int64{n, n * 10_000_000},
			Label: map[string][]string{"strategy": {cell.Strategy}, "workload": {cell.Workload}}}
		for _, fn := range fns {
			loc := locs[fn]
			if loc == nil {
				f := &profile.Function{ID: uint64(len(funcs) + 1), Name: fn, SystemName: fn}
				funcs[fn] = f
				loc = &profile.Location{ID: uint64(len(locs) + 1), Line: []profile.Line{{Function: f}}}
				locs[fn] = loc
				p.Function = append(p.Function, f)
				p.Location = append(p.Location, loc)
			}
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

func TestBreakdownOfSyntheticProfile(t *testing.T) {
	t.Parallel()
	cell := profiles.Cell{Name: "BenchmarkFanout/tasks=1/strategy=pool-2", Workload: "fanout", Params: "tasks=1", Strategy: "pool"}
	p := synthetic(cell, map[int64][]string{
		60: {mod + "workloads.MandelbrotRowScalar", mod + "strategies.(*pool).Run.func1"},
		20: {"syscall.Syscall", "internal/poll.(*FD).Read"},
		10: {"runtime.scanobject", "runtime.gcBgMarkWorker"},
		6:  {"runtime.mallocgc", mod + "workloads.AppendValue"},
		3:  {"runtime.findRunnable", "runtime.schedule"},
		1:  {mod + "harness.verify"},
	})
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	b := profiles.NewBreakdown(p, profiles.CPU)
	if b.Cell != cell || b.Total != 100 {
		t.Fatalf("cell %+v total %d", b.Cell, b.Total)
	}
	for c, want := range map[profiles.Category]float64{profiles.Kernel: .60, profiles.Syscall: .20, profiles.GC: .10,
		profiles.Runtime: .06, profiles.Scheduler: .03, profiles.Harness: .01, profiles.Other: 0} {
		if got := b.Share(c); got != want {
			t.Errorf("%v: share %.2f, want %.2f", c, got, want)
		}
	}
	if len(b.Top) != 5 || b.Top[0].Function != mod+"workloads.MandelbrotRowScalar" || b.Top[0].Samples != 60 {
		t.Errorf("top: %+v", b.Top)
	}
}
