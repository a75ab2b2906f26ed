package simd

import "github.com/concbench/concbench/serve"

// maxRenderPasses bounds the record passes of a render batch: the render
// hashes twice (the page head, then the table seeded with the head's
// hash), so the third pass completes every page; past the bound, the
// rest runs on the scalar loop.
const maxRenderPasses = 4

// renderBatch renders many pages at once with their hashing in vector
// lanes. serve.SumsWith calls its kernels' FNV1a itself, one message at a
// time, so, as hashBatch does for the closed workloads' hashing steps, the
// batch runs it in passes: each pass answers the calls already hashed
// from a per-page list and records the first it cannot answer (its seed
// and message), and then the recorded calls of all pages are hashed
// together with Kernels.FNV1aSeeded. A pass whose calls were all answered
// gives the page's sums. The result is SumsWith's with any kernels, bit for
// bit: only where the hashing runs moves.
type renderBatch struct {
	kernels Kernels
	answers [][]uint64 // by page: the calls answered so far
	pending []int      // the pages not yet rendered
	replay  replayKernels

	// the calls recorded in a pass
	who   []int
	seeds []uint64
	msgs  [][]byte
	out   []uint64
}

// run sets sums[k] to serve.SumsWith(_, ids[k], sess[k], user[k]).
func (b *renderBatch) run(ids []int, sess, user []uint64, sums []serve.PageSums) {
	n := len(ids)
	for len(b.answers) < n {
		b.answers = append(b.answers, make([]uint64, 0, 2))
	}
	b.pending = b.pending[:0]
	for k := range n {
		b.answers[k] = b.answers[k][:0]
		b.pending = append(b.pending, k)
	}
	for pass := 0; len(b.pending) > 0; pass++ {
		b.who, b.seeds, b.msgs = b.who[:0], b.seeds[:0], b.msgs[:0]
		still := b.pending[:0]
		for _, k := range b.pending {
			b.replay.start(b.kernels, b.answers[k], pass == maxRenderPasses-1)
			s := serve.SumsWith(&b.replay, ids[k], sess[k], user[k])
			if !b.replay.missed {
				sums[k] = s
				continue
			}
			still = append(still, k)
			b.who = append(b.who, k)
			b.seeds = append(b.seeds, b.replay.seed)
			b.msgs = append(b.msgs, b.replay.msg)
		}
		b.pending = still
		if len(b.who) == 0 {
			break
		}
		if cap(b.out) < len(b.who) {
			b.out = make([]uint64, len(b.who))
		}
		b.out = b.out[:len(b.who)]
		b.kernels.FNV1aSeeded(b.seeds, b.msgs, b.out)
		for x, k := range b.who {
			b.answers[k] = append(b.answers[k], b.out[x])
		}
		clear(b.msgs) // drop references to the page heads
	}
}
