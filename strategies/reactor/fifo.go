package reactor

// fifo is a first-in first-out queue. A connection keeps its waiting tasks
// in one: replies come back in request order, so the reply at the front of
// the read buffer belongs to the task at the front of the queue.
type fifo[T any] struct {
	items []T
	head  int // items[head:] are queued
}

func (q *fifo[T]) len() int { return len(q.items) - q.head }

func (q *fifo[T]) push(v T) {
	// Reclaim the consumed front once it is at least half the slice, so a
	// queue that never empties (depth > 1) does not grow without bound.
	if q.head > 0 && q.head >= len(q.items)/2 && len(q.items) == cap(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, v)
}

// front returns the oldest item; ok is false when the queue is empty.
func (q *fifo[T]) front() (v T, ok bool) {
	if q.head == len(q.items) {
		return v, false
	}
	return q.items[q.head], true
}

// pop removes and returns the oldest item; ok is false when the queue is empty.
func (q *fifo[T]) pop() (v T, ok bool) {
	if q.head == len(q.items) {
		return v, false
	}
	v = q.items[q.head]
	var zero T
	q.items[q.head] = zero // let the garbage collector have it
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return v, true
}
