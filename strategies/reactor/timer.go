package reactor

// timer is a deadline in a timerHeap, owned by one connection: the deadline
// of the oldest request waiting on it.
type timer[T any] struct {
	when  int64 // nanoseconds on the loop's clock
	index int   // position in the heap; -1 when not scheduled
	owner T
}

func newTimer[T any](owner T) timer[T] { return timer[T]{index: -1, owner: owner} }

func (t *timer[T]) scheduled() bool { return t.index >= 0 }

// timerHeap is a min-heap of timers by deadline whose entries know their
// position, so a deadline can move or be cancelled in O(log n) without
// leaving dead entries behind: a loop at 200k requests/s with a 5 s timeout
// would otherwise carry a million stale ones. Its earliest deadline is the
// loop's epoll_wait timeout.
type timerHeap[T any] []*timer[T]

// schedule sets t's deadline to when, adding t if it is not in the heap.
func (h *timerHeap[T]) schedule(t *timer[T], when int64) {
	if t.index < 0 {
		t.when, t.index = when, len(*h)
		*h = append(*h, t)
		h.up(t.index)
		return
	}
	old := t.when
	t.when = when
	if when < old {
		h.up(t.index)
	} else {
		h.down(t.index)
	}
}

// cancel removes t from the heap; a timer not in it is left alone.
func (h *timerHeap[T]) cancel(t *timer[T]) {
	i := t.index
	if i < 0 {
		return
	}
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	t.index = -1
	if i != last {
		h.down(i)
		h.up(i)
	}
}

// peek returns the timer with the earliest deadline, or nil.
func (h timerHeap[T]) peek() *timer[T] {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

func (h timerHeap[T]) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h timerHeap[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].when <= h[i].when {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap[T]) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].when < h[l].when {
			m = r
		}
		if h[i].when <= h[m].when {
			return
		}
		h.swap(i, m)
		i = m
	}
}
