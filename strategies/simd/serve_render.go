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
// together with Kernels.FNV1aSeeded (see replayPasses). A pass whose calls
// were all answered gives the page's sums. The result is SumsWith's with
// any kernels, bit for bit: only where the hashing runs moves.
type renderBatch struct {
	kernels Kernels
	replayPasses
}

// run sets sums[k] to serve.SumsWith(_, ids[k], sess[k], user[k]).
func (b *renderBatch) run(ids []int, sess, user []uint64, sums []serve.PageSums) {
	n := len(ids)
	for len(b.answers) < n {
		b.answers = append(b.answers, make([]uint64, 0, 2))
	}
	for k := range n {
		b.answers[k] = b.answers[k][:0]
	}
	b.startPasses(n)
	for pass := 0; len(b.pending) > 0; pass++ {
		b.startPass()
		for _, k := range b.pending {
			b.replay.start(b.kernels, b.answers[k], pass == maxRenderPasses-1)
			s := serve.SumsWith(&b.replay, ids[k], sess[k], user[k])
			if !b.replay.missed {
				sums[k] = s
				continue
			}
			b.recordMiss(k)
		}
		if !b.endPass(b.kernels) {
			break
		}
	}
}
