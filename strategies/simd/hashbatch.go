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
// [Kernels.FNV1aSeeded]. A copy whose calls were all answered holds the
// task's next state. The kernel code runs unchanged; only the hashing moves
// into lanes.
type hashBatch struct {
	kernels Kernels
	tasks   []int      // indices into the round's cursors
	answers [][]uint64 // by position in tasks: the task's calls answered so far
	pending []int      // positions in tasks of the steps not yet complete
	replay  replayKernels

	// the calls recorded in a pass
	who   []int
	seeds []uint64
	msgs  [][]byte
	out   []uint64
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
	h.pending = h.pending[:0]
	for j := range h.tasks {
		h.pending = append(h.pending, j)
	}
	for pass := 0; len(h.pending) > 0; pass++ {
		h.who, h.seeds, h.msgs = h.who[:0], h.seeds[:0], h.msgs[:0]
		still := h.pending[:0]
		for _, j := range h.pending {
			k := h.tasks[j]
			c := cursors[k] // a copy: kept only if every call was answered
			h.replay.start(h.kernels, h.answers[j], pass == maxHashPasses-1)
			c.Compute(&h.replay)
			if !h.replay.missed {
				cursors[k] = c
				continue
			}
			still = append(still, j)
			h.who = append(h.who, j)
			h.seeds = append(h.seeds, h.replay.seed)
			h.msgs = append(h.msgs, h.replay.msg)
		}
		h.pending = still
		if len(h.who) == 0 {
			break
		}
		if cap(h.out) < len(h.who) {
			h.out = make([]uint64, len(h.who))
		}
		h.out = h.out[:len(h.who)]
		h.kernels.FNV1aSeeded(h.seeds, h.msgs, h.out)
		for x, j := range h.who {
			h.answers[j] = append(h.answers[j], h.out[x])
		}
		clear(h.msgs) // drop references to messages
	}
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
