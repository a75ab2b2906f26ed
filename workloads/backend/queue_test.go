package backend

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// blockQueue gives back the bytes appended, in order, whatever the sizes of
// the appends and takes, and lets go of every block it has taken in full.
func TestBlockQueue(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var q blockQueue
	var want, got []byte
	taken := 0
	for round := range 400 {
		if r.IntN(2) == 0 {
			n := []int{1, 100, minBlock, maxBlock - 1, 3 * maxBlock}[r.IntN(5)]
			p := bytes.Repeat([]byte{byte(round)}, n)
			q.append(p)
			want = append(want, p...)
		} else if taken < q.end {
			to := taken + 1 + r.IntN(q.end-taken)
			got = q.appendTo(got[:0], taken, to)
			if !bytes.Equal(got, want[taken:to]) {
				t.Fatalf("round %d: took bytes that differ from those appended", round)
			}
			taken = to
		}
		if q.end != len(want) {
			t.Fatalf("round %d: end %d, appended %d", round, q.end, len(want))
		}
		// Held: what is not yet taken, plus at most the block it starts
		// in and the unfilled rest of the last block.
		held := 0
		for _, b := range q.blocks {
			held += cap(b)
		}
		if held > q.end-taken+2*maxBlock {
			t.Fatalf("round %d: %d bytes in blocks for %d not taken", round, held, q.end-taken)
		}
	}
	q.reset()
	if q.end != 0 || q.base != 0 || len(q.blocks) > 1 {
		t.Fatalf("after reset: %+v", q)
	}
	q.append([]byte("abc"))
	if got := q.appendTo(nil, 0, 3); string(got) != "abc" {
		t.Fatalf("after reset: %q", got)
	}
}
