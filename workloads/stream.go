package workloads

import (
	"fmt"

	"github.com/concbench/concbench/params"
)

// The stream workload measures this machine's memory bandwidth with the
// same harness, strategies and verification as every other cell, so that
// a run can state what fraction of the measured bandwidth an out-of-cache
// cell (dot with span=32Mi) reaches. Its two kernels are those of
// McCalpin's STREAM benchmark that matter here: sum (read only, like dot)
// and triad (two reads and a write an element).

// TriadScale is q in the triad a[i] = b[i] + q·c[i]. With inputs that are
// multiples of 1/8 below 1, q = 3 keeps every product exact.
const TriadScale float32 = 3

// MaxStreamChunk is the most elements a stream task covers: with inputs
// that are multiples of 1/8 below 1, a triad chunk's sum stays below
// 2^18 × 3.5 < 2^20, where float32 still resolves 1/8, so every partial
// sum is exact in any order.
const MaxStreamChunk = 1 << 18

func init() {
	register(&Definition{
		Name:    "stream",
		Summary: "memory bandwidth, STREAM style: sum (read) or triad (a = b + 3c) over 256 MiB of arrays, a chunk a task",
		Class:   ClassCPU,
		Params: []params.Spec{
			params.Enum("op", "sum", []string{"sum", "triad"}, "kernel: sum reads one array; triad reads two and writes a third"),
			params.Int("bytes", 256<<20, 64, 1<<34, "total size of the arrays (sum: one array; triad: three of bytes/3 each); keep it far above the last-level cache"),
			params.Int("chunk", MaxStreamChunk, 1, MaxStreamChunk, "elements (float32) a task covers"),
		},
		Matrix: params.Values{"op": "sum,triad"},
		// Quick: a quarter of the arrays, so that building them costs a
		// quick run little; 64 MiB is still beyond the cache here.
		Quick: params.Values{"bytes": "64Mi"},
		build: buildStream,
	})
}

func buildStream(p params.Set) (*Spec, error) {
	op, size, chunk := p.Get("op"), p.Int("bytes"), p.Int("chunk")
	arrays, kernel := 1, KernelSum
	if op == "triad" {
		arrays, kernel = 3, KernelTriad
	}
	n := size / (4 * arrays) // elements in each array
	if n < 1 {
		return nil, fmt.Errorf("bytes=%d holds no element of each of the %d arrays of %s", size, arrays, op)
	}
	s := &Spec{Tolerance: 1e-6, MemoryBytes: int64(4 * arrays * n)}
	s.Input.Stream.B = exactFloats(n, 0x9e3779b97f4a7c15)
	if op == "triad" {
		s.Input.Stream.C = exactFloats(n, 0xd1b54a32d192ed03)
		s.Input.Stream.A = make([]float32, n)
	}
	s.Tasks = oneStepTasks((n+chunk-1)/chunk, func(i int) Step {
		lo := i * chunk
		return Step{Kind: StepCompute, Kernel: kernel, Lo: lo, Hi: min(lo+chunk, n)}
	})
	return s, nil
}

// exactFloats returns n pseudo-random multiples of 1/8 in [0, 1), from a
// xorshift generator seeded with seed: values whose sums and products the
// stream and dot kernels compute exactly in float32.
func exactFloats(n int, seed uint64) []float32 {
	out := make([]float32, n)
	x := seed
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = float32(x&7) / 8
	}
	return out
}
