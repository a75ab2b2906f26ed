package workloads

import (
	"fmt"

	"github.com/concbench/concbench/params"
)

// The CPU workloads. A round repeats a workload's task set until it lasts
// the round time (harness.Options.RoundTime), so a task count does not set
// how long a round is timed for; it sets one pass, which the slowest
// strategy (threads: a thread created and ended per task, about 100 µs on
// this project's 2-core VM) must finish within a round time or so, lest
// its cells alone stretch make bench past its few minutes.

func init() {
	register(&Definition{
		Name:    "noop",
		Summary: "empty tasks: each strategy's per-task overhead (spawn, hand-off)",
		Class:   ClassCPU,
		// 2000 tasks: a pass of a thread per task (about 100 µs each here)
		// takes a round time; the cheaper strategies repeat it.
		Params: []params.Spec{params.Int("tasks", 2000, 1, 1<<24, "number of tasks")},
		Quick:  params.Values{"tasks": "500"},
		build: func(p params.Set) (*Spec, error) {
			return &Spec{Tasks: oneStepTasks(p.Int("tasks"), func(int) Step {
				return Step{Kind: StepCompute, Kernel: KernelNoop}
			})}, nil
		},
	})
	register(&Definition{
		Name:    "dot",
		Summary: "float32 dot products over chunks of two shared arrays (in cache, or span=32Mi for 256 MiB out of cache)",
		Class:   ClassCPU,
		Params: []params.Spec{
			// 4096 tasks of 4096 floats read 128 MiB of the out-of-cache
			// row's arrays a pass (half of them), far beyond the cache a
			// VM here gets, while a pass of the threads strategy stays
			// near a round time.
			params.Int("tasks", 4096, 1, 1<<24, "number of tasks (one dot product each)"),
			params.Int("size", 4096, 1, maxDotSize, "floats per task"),
			// 64 Ki floats: two 256 KiB arrays, inside L2 of the VMs we run on.
			params.Int("span", 65536, 1, 1<<28, "floats in each shared array; task i reads chunk i mod (span/size)"),
		},
		// The second span is 2 × 128 MiB: out of every cache, so the
		// kernel runs at memory bandwidth.
		Matrix: params.Values{"span": "64Ki,32Mi"},
		// Quick: the out-of-cache row's arrays a quarter of the size, so
		// that building them costs a quick run little, and a pass of 32
		// MiB of them.
		Quick: params.Values{"tasks": "1024", "span": "64Ki,8Mi"},
		build: buildDot,
	})
	register(&Definition{
		Name:    "mandelbrot",
		Summary: "escape counts of an image, one row a task: compute-bound, no memory traffic",
		Class:   ClassCPU,
		Params: []params.Spec{
			params.Int("width", 1024, 1, 1<<16, "pixels a row"),
			params.Int("rows", 512, 1, 1<<16, "rows, one task each"),
			params.Int("iter", 256, 1, 1<<16, "maximum iterations a pixel"),
		},
		Quick: params.Values{"rows": "128"},
		build: func(p params.Set) (*Spec, error) {
			w, h := p.Int("width"), p.Int("rows")
			g := &Mandelbrot{Width: w, Height: h, MaxIter: p.Int("iter"),
				X0: -2, Y0: -1.25, DX: 3 / float32(w), DY: 2.5 / float32(h)}
			return &Spec{Input: Input{Mandelbrot: g}, Tasks: oneStepTasks(h, func(i int) Step {
				return Step{Kind: StepCompute, Kernel: KernelMandelbrot, Lo: i, Hi: i + 1}
			})}, nil
		},
	})
	register(&Definition{
		Name:    "hash",
		Summary: "FNV-1a of one small message a task, like hashing a session token per request",
		Class:   ClassCPU,
		Params: []params.Spec{
			// As noop: a pass of a thread per task takes a round time.
			params.Int("tasks", 2000, 1, 1<<24, "number of tasks (messages)"),
			params.Int("size", 64, 1, 1<<20, "bytes a message"),
		},
		Quick: params.Values{"tasks": "500"},
		build: func(p params.Set) (*Spec, error) {
			n, size := p.Int("tasks"), p.Int("size")
			if n*size > 1<<30 {
				return nil, fmt.Errorf("tasks×size = %d bytes: more than 1 GiB of messages", n*size)
			}
			msgs := make([]byte, 0, n*size)
			for i := 0; i < n; i++ {
				msgs = AppendValue(msgs, fmt.Sprintf("token:%d", i), size)
			}
			return &Spec{Input: Input{Messages: msgs, MessageSize: size}, Tasks: oneStepTasks(n, func(i int) Step {
				return Step{Kind: StepCompute, Kernel: KernelHash, Lo: i, Hi: i + 1}
			})}, nil
		},
	})
}

// maxDotSize keeps every partial sum of a chunk exact in float32: products
// are multiples of 1/64 below 1, so a chunk's sum stays under
// maxDotSize·49/64 < 2^18, where float32 still resolves 1/64.
const maxDotSize = 1 << 18

func buildDot(p params.Set) (*Spec, error) {
	n, size, span := p.Int("tasks"), p.Int("size"), p.Int("span")
	if span < size {
		return nil, fmt.Errorf("span=%d is smaller than size=%d", span, size)
	}
	a, b := make([]float32, span), make([]float32, span)
	// Multiples of 1/8 in [0, 1): exact products and sums (see Kernels.Dot).
	x := uint64(0x2545f4914f6cdd1d)
	for i := range a {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		a[i] = float32(x&7) / 8
		b[i] = float32(x>>3&7) / 8
	}
	chunks := span / size
	return &Spec{Input: Input{A: a, B: b}, Tolerance: 1e-6, MemoryBytes: int64(n) * int64(size) * 8,
		Tasks: oneStepTasks(n, func(i int) Step {
			lo := dotChunk(i, chunks) * size
			return Step{Kind: StepCompute, Kernel: KernelDot, Lo: lo, Hi: lo + size}
		})}, nil
}

// dotChunk is the chunk task i reads. Tasks walk the chunks in order, pass
// after pass, and each pass starts about 0.618 of the span further on than
// the one before. Without that rotation, a strategy that runs two passes
// at once (simd splits the tasks into one contiguous range a core) would
// have both cores start on the same chunk, and the core that trails could
// be served from the shared cache: an out-of-cache row partly in cache.
func dotChunk(i, chunks int) int {
	pass := i / chunks
	return (i + pass*(chunks*618/1000)) % chunks
}

func oneStepTasks(n int, step func(i int) Step) []Task {
	steps := make([]Step, n)
	tasks := make([]Task, n)
	for i := range tasks {
		steps[i] = step(i)
		tasks[i].Steps = steps[i : i+1 : i+1]
	}
	return tasks
}
