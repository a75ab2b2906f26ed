package simd

import "github.com/concbench/concbench/workloads"

// maxHashPasses bounds the record passes of a hash batch. A task's hashing
// step may chain its calls (the burst kernel hashes its block Lo times,
// each seeded with the previous hash), and each pass learns one more call
// of every task; past this many, the rest of a chain runs on the scalar
// loop. 32 covers the burst chains of the mixed workload's default cpu
// values (up to about 50 µs) while keeping the replay overhead small.
const maxHashPasses = 32

// hashBatch runs the hashing compute steps of a round across tasks, one
// message a vector lane. A cursor's Compute calls FNV1a itself, one
// message at a time, so the batch runs it in passes on copies of the
// cursors: each pass answers the calls already computed from a per-task
// list, records the first call it cannot answer (its seed and message), and
// then the recorded calls of all tasks are hashed together with
// [Kernels.FNV1aSeeded] (see replayPasses). A copy whose calls were all
// answered holds the task's next state. The kernel code runs unchanged;
// only the hashing moves into lanes.
type hashBatch struct {
	kernels Kernels
	tasks   []int // indices into the round's cursors
	replayPasses
}

func (h *hashBatch) reset() { h.tasks = h.tasks[:0] }

func (h *hashBatch) add(k int) {
	h.tasks = append(h.tasks, k)
	if len(h.answers) < len(h.tasks) {
		h.answers = append(h.answers, nil)
	}
	h.answers[len(h.tasks)-1] = h.answers[len(h.tasks)-1][:0]
}

// run advances every added cursor by its hashing step.
func (h *hashBatch) run(cursors []workloads.Cursor) {
	h.startPasses(len(h.tasks))
	for pass := 0; len(h.pending) > 0; pass++ {
		h.startPass()
		for _, j := range h.pending {
			k := h.tasks[j]
			c := cursors[k] // a copy: kept only if every call was answered
			h.replay.start(h.kernels, h.answers[j], pass == maxHashPasses-1)
			c.Compute(&h.replay)
			if !h.replay.missed {
				cursors[k] = c
				continue
			}
			h.recordMiss(j)
		}
		if !h.endPass(h.kernels) {
			break
		}
	}
}

// replayPasses is what hashBatch and renderBatch share: their items (a
// task's hashing step, a page's render) are steps that call FNV1a one
// message at a time, run in passes through replay. In each pass a batch
// runs every pending item's step itself (a direct call: the pass loop
// holds no function value), calls recordMiss for an item whose step met a
// call it has no answer to, and ends with endPass, which hashes the
// recorded calls of all items together. An item's answers are kept by its
// position, 0 to n-1.
type replayPasses struct {
	answers [][]uint64 // by item: the calls answered so far
	pending []int      // the items whose step is not yet complete
	replay  replayKernels

	// the calls recorded in a pass
	still []int // the items that stay pending, in pending's storage
	who   []int
	seeds []uint64
	msgs  [][]byte
	out   []uint64
}

// startPasses makes items 0 to n-1 pending. Their answers are the batch's
// to reset.
func (p *replayPasses) startPasses(n int) {
	p.pending = p.pending[:0]
	for j := range n {
		p.pending = append(p.pending, j)
	}
}

// startPass empties the record of the last pass.
func (p *replayPasses) startPass() {
	p.who, p.seeds, p.msgs = p.who[:0], p.seeds[:0], p.msgs[:0]
	p.still = p.pending[:0]
}

// recordMiss keeps item j pending and records the call replay could not
// answer, the first of its step.
func (p *replayPasses) recordMiss(j int) {
	p.still = append(p.still, j)
	p.who = append(p.who, j)
	p.seeds = append(p.seeds, p.replay.seed)
	p.msgs = append(p.msgs, p.replay.msg)
}

// endPass hashes the calls the pass recorded, all together, with
// kernels.FNV1aSeeded, and adds each hash to its item's answers. It
// reports whether there were any: false when every item is complete.
func (p *replayPasses) endPass(kernels Kernels) bool {
	p.pending = p.still
	if len(p.who) == 0 {
		return false
	}
	if cap(p.out) < len(p.who) {
		p.out = make([]uint64, len(p.who))
	}
	p.out = p.out[:len(p.who)]
	kernels.FNV1aSeeded(p.seeds, p.msgs, p.out)
	for x, j := range p.who {
		p.answers[j] = append(p.answers[j], p.out[x])
	}
	clear(p.msgs) // drop references to the messages
	return true
}

// replayKernels answers a task's FNV1a calls from its list of answers and
// records the first call beyond the list. In the last pass it computes
// unanswered calls itself instead. Other kernels go to the vector kernels.
type replayKernels struct {
	Kernels
	answers []uint64
	next    int
	compute bool // last pass: hash unanswered calls on the spot

	missed bool // a call was not answered; seed and msg are the first such
	seed   uint64
	msg    []byte
}

func (r *replayKernels) start(k Kernels, answers []uint64, compute bool) {
	*r = replayKernels{Kernels: k, answers: answers, compute: compute}
}

func (r *replayKernels) FNV1a(seed uint64, msg []byte) uint64 {
	if r.next < len(r.answers) {
		r.next++
		return r.answers[r.next-1]
	}
	if r.compute {
		return r.Kernels.FNV1a(seed, msg)
	}
	if !r.missed {
		r.missed, r.seed, r.msg = true, seed, msg
	}
	return 0 // a placeholder: this copy of the cursor will be discarded
}
