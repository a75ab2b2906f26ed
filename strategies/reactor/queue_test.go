package reactor

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFIFOKeepsOrderAcrossReclaims(t *testing.T) {
	t.Parallel()
	var q fifo[int]
	var want []int
	rng := rand.New(rand.NewPCG(1, 2))
	next := 0
	for range 10000 {
		if rng.IntN(3) > 0 { // push twice as often as pop: the queue grows and wraps
			q.push(next)
			want = append(want, next)
			next++
			continue
		}
		v, ok := q.pop()
		if len(want) == 0 {
			if ok {
				t.Fatalf("pop from empty queue returned %d", v)
			}
			continue
		}
		if !ok || v != want[0] {
			t.Fatalf("pop = %d, %v; want %d", v, ok, want[0])
		}
		want = want[1:]
		if f, ok := q.front(); len(want) > 0 && (!ok || f != want[0]) {
			t.Fatalf("front = %d, %v; want %d", f, ok, want[0])
		}
	}
	if q.len() != len(want) {
		t.Fatalf("len = %d, want %d", q.len(), len(want))
	}
}

func TestTimerHeapOrdersScheduleMoveAndCancel(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	var h timerHeap[int]
	timers := make([]timer[int], 200)
	for i := range timers {
		timers[i] = newTimer(i)
	}
	live := map[int]int64{}
	for range 20000 {
		i := rng.IntN(len(timers))
		switch rng.IntN(3) {
		case 0, 1:
			when := rng.Int64N(1000)
			h.schedule(&timers[i], when)
			live[i] = when
		case 2:
			h.cancel(&timers[i])
			delete(live, i)
		}
		for j, tm := range h {
			if tm.index != j {
				t.Fatalf("timer at %d has index %d", j, tm.index)
			}
			if j > 0 && h[(j-1)/2].when > tm.when {
				t.Fatalf("heap order broken at %d", j)
			}
		}
	}
	var got, want []int64
	for h.peek() != nil {
		tm := h.peek()
		got = append(got, tm.when)
		if live[tm.owner] != tm.when {
			t.Fatalf("timer %d has deadline %d, want %d", tm.owner, tm.when, live[tm.owner])
		}
		h.cancel(tm)
		if tm.scheduled() {
			t.Fatal("cancelled timer still scheduled")
		}
	}
	for _, w := range live {
		want = append(want, w)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("deadlines popped %v, want %v", got, want)
	}
}
