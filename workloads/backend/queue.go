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
	data  int       // data requests among them (see Stats)
	gets  int       // keys their GETs and MGETs asked for
	act   action
}

func (it item) mergeable() bool { return it.act == actReply && it.due.IsZero() }

// add merges the counts of a following item into it.
func (it *item) add(next item) {
	it.end = next.end
	it.count += next.count
	it.data += next.data
	it.gets += next.gets
}

const (
	// compactItems is the count of taken items below which the queue does
	// not bother moving the rest down: small moves are not worth it.
	compactItems = 1024
	// maxTake bounds the bytes one take copies out for one write (a whole
	// item may pass it), so the writer's buffer stays small however much
	// is queued: the bytes are held once, in the queue.
	maxTake = 1 << 20
	// maxMerge bounds the bytes of the items push merges into one, so that
	// take can stop near maxTake.
	maxMerge = 256 << 10
	// keepBuffer is the capacity above which an emptied buffer is let go
	// rather than kept for reuse: a burst of megabytes of replies should
	// not stay with the connection for its whole life.
	keepBuffer = 1 << 20
	// minBlock and maxBlock bound the blocks of a blockQueue: a connection
	// with a reply or two queued holds a small block, one with megabytes
	// queued holds them in blocks of maxBlock.
	minBlock = 512
	maxBlock = 64 << 10
)

// blockQueue holds a queue's bytes in blocks: appending never copies or
// reallocates what is queued (an append-grown slice would, and would hold
// up to twice the bytes queued, plus the garbage of its earlier copies),
// and blocks are let go as soon as their bytes are taken, so the memory
// held follows the bytes queued. Positions are offsets from the first byte
// ever appended since the last reset.
type blockQueue struct {
	blocks [][]byte // every block but the last is full (len == cap)
	base   int      // position of blocks[0][0]
	end    int      // position just past the last byte
}

func (b *blockQueue) append(p []byte) {
	for len(p) > 0 {
		n := len(b.blocks)
		if n == 0 || len(b.blocks[n-1]) == cap(b.blocks[n-1]) {
			size := minBlock
			if n > 0 {
				size = min(2*cap(b.blocks[n-1]), maxBlock)
			}
			b.blocks = append(b.blocks, make([]byte, 0, max(size, min(len(p), maxBlock))))
			n++
		}
		last := b.blocks[n-1]
		k := min(cap(last)-len(last), len(p))
		b.blocks[n-1] = append(last, p[:k]...)
		p = p[k:]
		b.end += k
	}
}

// appendTo appends the bytes from position from to position to to dst,
// and lets go of the blocks wholly before to: the caller takes bytes in
// order and never goes back.
func (b *blockQueue) appendTo(dst []byte, from, to int) []byte {
	for from < to {
		blk := b.blocks[0]
		off := from - b.base
		k := min(len(blk)-off, to-from)
		dst = append(dst, blk[off:off+k]...)
		from += k
		if off+k == len(blk) && len(blk) == cap(blk) {
			b.blocks[0] = nil
			b.blocks = b.blocks[1:]
			b.base += len(blk)
		}
	}
	return dst
}

// reset empties the queue, keeping one small block for reuse.
func (b *blockQueue) reset() {
	var keep []byte
	if len(b.blocks) > 0 && cap(b.blocks[0]) <= 4*minBlock {
		keep = b.blocks[0][:0]
	}
	clear(b.blocks)
	b.blocks = b.blocks[:0]
	if keep != nil {
		b.blocks = append(b.blocks, keep)
	}
	b.base, b.end = 0, 0
}

// outQueue is a connection's ordered queue of replies between its reader,
// which parses requests and appends their replies with the time each is
// due, and its writer, which writes the replies in order as they come due.
// A reply that is not yet due holds back the ones after it (replies leave
// in request order, as with Redis pipelining), but their delays run
// concurrently because each was timed from when its request was read.
type outQueue struct {
	mu         sync.Mutex
	buf        blockQueue // bytes of the queued replies, from start
	items      []item     // queued items, from head
	head       int
	start      int
	readerDone bool
	writing    bool          // bytes taken from the queue are being written, by the writer or the reader
	missed     bool          // the writer found the reader writing and waits for a wake-up
	wake       chan struct{} // capacity 1: the reader queued something, finished, or stopped writing
}

func newOutQueue() outQueue { return outQueue{wake: make(chan struct{}, 1)} }

// push appends replies: their bytes, and items whose ends are offsets in
// bytes.
func (q *outQueue) push(bytes []byte, items []item) {
	q.mu.Lock()
	base := q.buf.end
	q.buf.append(bytes)
	for _, it := range items {
		it.end += base
		if n := len(q.items); n > q.head && q.items[n-1].mergeable() && it.mergeable() && q.itemSize(n-1) < maxMerge {
			q.items[n-1].add(it)
			continue
		}
		q.items = append(q.items, it)
	}
	q.mu.Unlock()
	q.signal()
}

// itemSize returns the bytes of queued item i.
func (q *outQueue) itemSize(i int) int {
	if i == q.head {
		return q.items[i].end - q.start
	}
	return q.items[i].end - q.items[i-1].end
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
	stMore                      // take stopped at maxTake: take again at once
)

// taken is the result of take.
type taken struct {
	out     []byte    // bytes to write, in order
	split   int       // out[:split] are plain replies; out[split:] is the special item's reply
	special item      // the item with an action, when state is stSpecial
	replies int       // plain replies in out[:split]
	data    int       // data requests among all the items taken, the special one included
	gets    int       // keys asked for by the plain replies' GETs and MGETs
	wait    time.Time // when the head is due, when state is stWait
	state   takeState
}

// take appends to dst every reply that is due, in order, stopping after
// one that carries an action, or once it has taken maxTake bytes.
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
		if len(dst) >= maxTake {
			t.state = stMore
			break
		}
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
		dst = q.buf.appendTo(dst, q.start, it.end)
		q.start = it.end
		q.head++
		t.data += it.data
		if it.act != actReply {
			t.special, t.state = it, stSpecial
			break
		}
		t.replies += it.count
		t.gets += it.gets
	}
	if t.state != stSpecial {
		t.split = len(dst)
	}
	t.out = dst
	q.writing = len(dst) > 0
	switch {
	case q.head == len(q.items):
		q.empty()
		if t.state == stIdle && q.readerDone {
			t.state = stFinished
		}
	case q.head >= compactItems && q.head > len(q.items)/2:
		// Items are always waiting (steady latency): move the rest down
		// so the slice does not grow without bound.
		n := copy(q.items, q.items[q.head:])
		q.items, q.head = q.items[:n], 0
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

// empty drops every item, letting go of a buffer grown large. The caller
// holds q.mu.
func (q *outQueue) empty() {
	q.buf.reset()
	q.items, q.head, q.start = q.items[:0], 0, 0
	if cap(q.items) > keepBuffer/32 {
		q.items = nil
	}
}

// discard drops everything queued (a stalled connection never replies) and
// reports the bytes and data requests dropped, and whether the reader is
// done.
func (q *outQueue) discard() (bytes, data int, readerDone bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	bytes = q.buf.end - q.start
	for _, it := range q.items[q.head:] {
		data += it.data
	}
	q.empty()
	return bytes, data, q.readerDone
}
