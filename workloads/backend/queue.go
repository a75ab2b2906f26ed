package backend

import (
	"sync"
	"time"
)

// action is what the writer does with a queued reply.
type action uint8

const (
	actReply action = iota // write it
	actClose               // write it, then close the connection (QUIT, protocol error)
	actReset               // injected faults, see Faults
	actStall
	actPartial
	actDrip
)

// item is one queued reply, or a run of consecutive replies that are all
// due at once and carry no action: at latency 0 a whole pipelined batch is
// one item, so the writer's bookkeeping does not grow with the batch.
type item struct {
	end   int       // offset in outQueue.buf where the item's bytes end
	due   time.Time // when it may be written; zero means at once
	count int       // replies in the item
	act   action
}

func (it item) mergeable() bool { return it.act == actReply && it.due.IsZero() }

// compactMin is the consumed prefix of the queue's buffer below which the
// queue does not bother moving the rest down: small moves are not worth it.
const compactMin = 64 << 10

// outQueue is a connection's ordered queue of replies between its reader,
// which parses requests and appends their replies with the time each is
// due, and its writer, which writes the replies in order as they come due.
// A reply that is not yet due holds back the ones after it (replies leave
// in request order, as with Redis pipelining), but their delays run
// concurrently because each was timed from when its request was read.
type outQueue struct {
	mu         sync.Mutex
	buf        []byte // bytes of the queued replies, from start
	items      []item // queued items, from head
	head       int
	start      int
	readerDone bool
	writing    bool          // bytes taken from the queue are being written, by the writer or the reader
	missed     bool          // the writer found the reader writing and waits for a wake-up
	wake       chan struct{} // capacity 1: the reader queued something, finished, or stopped writing
}

func newOutQueue() outQueue { return outQueue{wake: make(chan struct{}, 1)} }

// push appends replies (their bytes, and items whose ends are offsets in
// bytes) and returns the bytes now queued.
func (q *outQueue) push(bytes []byte, items []item) int {
	q.mu.Lock()
	base := len(q.buf)
	q.buf = append(q.buf, bytes...)
	for _, it := range items {
		it.end += base
		if n := len(q.items); n > q.head && q.items[n-1].mergeable() && it.mergeable() {
			q.items[n-1].end = it.end
			q.items[n-1].count += it.count
			continue
		}
		q.items = append(q.items, it)
	}
	backlog := len(q.buf) - q.start
	q.mu.Unlock()
	q.signal()
	return backlog
}

// finish records that the reader will push nothing more.
func (q *outQueue) finish() {
	q.mu.Lock()
	q.readerDone = true
	q.mu.Unlock()
	q.signal()
}

func (q *outQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// takeState says what the writer should do after writing what take returned.
type takeState uint8

const (
	stIdle     takeState = iota // the queue is empty: wait for a wake-up
	stWait                      // the head is not due yet: wait until it is
	stSpecial                   // the last item taken carries an action
	stFinished                  // empty, and the reader is done: exit
)

// taken is the result of take.
type taken struct {
	out     []byte    // bytes to write, in order
	split   int       // out[:split] are plain replies; out[split:] is the special item's reply
	special item      // the item with an action, when state is stSpecial
	replies int       // plain replies in out[:split]
	wait    time.Time // when the head is due, when state is stWait
	state   takeState
}

// take appends to dst every reply that is due, in order, stopping after
// one that carries an action.
// While the writer writes what take returned, q.writing is set; the writer
// clears it with doneWriting.
func (q *outQueue) take(dst []byte) taken {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := taken{state: stIdle, out: dst}
	if q.writing {
		q.missed = true
		return t // the reader is writing directly; it wakes us when done
	}
	var now time.Time
	for q.head < len(q.items) {
		it := q.items[q.head]
		if !it.due.IsZero() {
			if now.IsZero() {
				now = time.Now()
			}
			if it.due.After(now) {
				t.wait, t.state = it.due, stWait
				break
			}
		}
		t.split = len(dst)
		dst = append(dst, q.buf[q.start:it.end]...)
		q.start = it.end
		q.head++
		if it.act != actReply {
			t.special, t.state = it, stSpecial
			break
		}
		t.replies += it.count
	}
	if t.state != stSpecial {
		t.split = len(dst)
	}
	t.out = dst
	q.writing = len(dst) > 0
	switch {
	case q.head == len(q.items):
		q.buf, q.items, q.head, q.start = q.buf[:0], q.items[:0], 0, 0
		if t.state == stIdle && q.readerDone {
			t.state = stFinished
		}
	case q.start >= compactMin && q.start > len(q.buf)/2:
		// Items are always waiting (steady latency): move the rest down
		// so the buffer does not grow without bound.
		n := copy(q.buf, q.buf[q.start:])
		q.buf = q.buf[:n]
		m := copy(q.items, q.items[q.head:])
		q.items = q.items[:m]
		for i := range q.items {
			q.items[i].end -= q.start
		}
		q.head, q.start = 0, 0
	}
	return t
}

// doneWriting records that the writer has written what take returned.
func (q *outQueue) doneWriting() {
	q.mu.Lock()
	q.writing = false
	q.mu.Unlock()
}

// claimDirect lets the reader write replies itself instead of queueing them,
// which at latency 0 saves waking the writer for every request: allowed when
// nothing is queued or being written, so order is kept. On true the caller
// writes and then calls releaseDirect.
func (q *outQueue) claimDirect() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.writing || q.head < len(q.items) || q.readerDone {
		return false
	}
	q.writing = true
	return true
}

func (q *outQueue) releaseDirect() {
	q.mu.Lock()
	q.writing = false
	missed := q.missed
	q.missed = false
	q.mu.Unlock()
	if missed {
		q.signal()
	}
}

// discard drops everything queued (a stalled connection never replies) and
// reports whether the reader is done.
func (q *outQueue) discard() (readerDone bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.buf, q.items, q.head, q.start = q.buf[:0], q.items[:0], 0, 0
	return q.readerDone
}
