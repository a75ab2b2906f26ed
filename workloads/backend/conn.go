package backend

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

const (
	// readBufferSize is a connection's initial read buffer: a pipelined
	// batch of several hundred GETs fits; larger requests grow it, and it
	// shrinks back once they are served.
	readBufferSize = 16 << 10
	// flushBytes is how many reply bytes the reader generates before it
	// hands them on and checks the server's reply budget: a read of small
	// requests can ask for far more bytes than it holds (a GET of a few
	// bytes for a value of a megabyte).
	flushBytes = 256 << 10
	// freeAfterBytes: when a connection that held this many bytes (replies
	// or one large request) closes, the server returns the memory to the
	// operating system at once instead of whenever the runtime next
	// collects, which an idle server may not do for minutes.
	freeAfterBytes = 16 << 20
	// dripChunk and dripPause shape the SlowDrip fault: a 64-byte GET reply
	// arrives in 18 pieces over about 18 ms.
	dripChunk = 4
	dripPause = time.Millisecond
)

// conn serves one client connection with two goroutines: the reader (serve's
// own) parses requests and queues their replies, the writer writes them as
// they come due. See outQueue.
type conn struct {
	srv        *Server
	nc         net.Conn
	id         uint64
	rng        *rand.Rand
	q          outQueue
	writerDone chan struct{}

	// Accounting, of this connection's share of the server's counters; the
	// connection gives back what is left when it ends.
	held     atomic.Int64  // reply bytes generated and not yet written
	inFlight atomic.Int64  // data requests read whose replies are not yet being written
	drained  chan struct{} // capacity 1: held fell to 0
	peak     int64         // the most bytes held or buffered, for freeAfterBytes; reader only

	// Reader state.
	parser  resp.RequestParser
	authed  bool
	scratch []byte // replies of the requests parsed and not yet handed on
	batch   []item // their items; ends are offsets in scratch
	asked   int    // keys their GETs and MGETs asked for
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	return &conn{
		srv: s, nc: nc, id: id,
		rng:        rand.New(rand.NewPCG(uint64(s.cfg.Seed), id)),
		q:          newOutQueue(),
		writerDone: make(chan struct{}),
		drained:    make(chan struct{}, 1),
		parser:     resp.RequestParser{MaxBulk: s.cfg.MaxBulk},
		authed:     s.cfg.Auth == "",
	}
}

// serve runs the connection until the client goes, a fault or QUIT ends it,
// or the server closes; it returns after the writer has.
func (c *conn) serve() {
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		c.writeLoop()
	}()
	c.readLoop()
	<-c.writerDone
	c.nc.Close()
	// Whatever was still queued is dropped with the connection.
	st := &c.srv.stats
	st.addInFlight(-c.inFlight.Swap(0))
	if n := c.held.Swap(0); n > 0 {
		st.addHeld(-n)
		c.srv.room.wake()
	}
	c.q.mu.Lock()
	c.q.empty()
	c.q.mu.Unlock()
	if c.peak >= freeAfterBytes {
		c.scratch, c.batch = nil, nil
		debug.FreeOSMemory()
	}
}

func (c *conn) readLoop() {
	defer c.q.finish()
	buf := make([]byte, readBufferSize)
	r, w := 0, 0 // buf[r:w] is read but not parsed
	for {
		n, rerr := c.nc.Read(buf[w:])
		w += n
		var readAt time.Time // taken lazily: latency 0 needs no clock
		stop := false
		for r < w && !stop {
			if len(c.batch) > 0 && (len(c.scratch) >= flushBytes || c.srv.wouldPassBudget(len(c.scratch))) {
				if !c.flush() || !c.waitRoom() {
					return
				}
			}
			args, m, err := c.parser.Parse(buf[r:w])
			if errors.Is(err, resp.ErrIncomplete) {
				break
			}
			if err != nil {
				c.srv.cfg.Logf("backend: conn %d from %s: closing: %v", c.id, c.nc.RemoteAddr(), err)
				c.srv.stats.errors.Add(1)
				c.scratch = resp.AppendError(c.scratch, "ERR Protocol error: "+err.Error())
				c.batch = append(c.batch, item{end: len(c.scratch), count: 1, act: actClose})
				stop = true
				break
			}
			r += m
			if len(args) == 0 {
				continue
			}
			stop = c.handle(args, &readAt)
		}
		if !c.flush() || stop {
			return
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) && !errors.Is(rerr, net.ErrClosed) {
				c.srv.cfg.Logf("backend: conn %d: read: %v", c.id, rerr)
			}
			return
		}
		if !c.waitRoom() {
			return
		}
		// Make room: move a partial request to the front, grow if full,
		// shrink a buffer a large request grew once it is served. The
		// parser's limits bound how large a request can make it.
		if r == w {
			r, w = 0, 0
			if len(buf) > 4*readBufferSize {
				buf = make([]byte, readBufferSize)
			}
		} else if r > 0 {
			w = copy(buf, buf[r:w])
			r = 0
		}
		if w == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
			c.peak = max(c.peak, int64(len(buf)))
		}
	}
}

// flush hands the replies generated so far on: written at once by the
// reader when they are all due now, queued for the writer otherwise. It
// first counts their requests (one atomic add per batch, not per request)
// and counts them as in flight and their bytes as held. It reports whether
// the connection goes on.
func (c *conn) flush() bool {
	if len(c.batch) == 0 {
		return true
	}
	data := 0
	for _, it := range c.batch {
		data += it.data
	}
	st := &c.srv.stats
	if data > 0 {
		st.data.Add(int64(data))
		st.gets.Add(int64(c.asked))
		c.asked = 0
	}
	st.addInFlight(int64(data))
	c.inFlight.Add(int64(data))
	c.hold(len(c.scratch))
	ok := true
	if c.direct() {
		ok = c.writeDirect()
	} else {
		c.q.push(c.scratch, c.batch)
	}
	if cap(c.scratch) > keepBuffer {
		c.scratch = nil
	}
	c.scratch, c.batch = c.scratch[:0], c.batch[:0]
	return ok
}

// hold counts n more reply bytes as held by this connection.
func (c *conn) hold(n int) {
	c.srv.stats.addHeld(int64(n))
	c.peak = max(c.peak, c.held.Add(int64(n)))
}

// release counts n reply bytes as written (or dropped), waking readers that
// wait for room.
func (c *conn) release(n int) {
	if n == 0 {
		return
	}
	s := c.srv
	if s.stats.addHeld(-int64(n)) < int64(s.cfg.MaxQueuedBytes) {
		s.room.wake()
	}
	if c.held.Add(-int64(n)) == 0 {
		select {
		case c.drained <- struct{}{}:
		default:
		}
	}
}

// started counts data requests whose replies are being written (or were
// dropped) as no longer in flight, and the keys answered.
func (c *conn) started(data, gets int) {
	st := &c.srv.stats
	if data > 0 {
		c.inFlight.Add(-int64(data))
		st.addInFlight(-int64(data))
	}
	if gets > 0 {
		st.answered.Add(int64(gets))
	}
}

// waitRoom blocks while the server holds its budget of reply bytes and this
// connection holds some of them, so that it reads no more requests until
// its client reads replies (or others' do). It reports false when the
// connection or the server is closing.
func (c *conn) waitRoom() bool {
	s := c.srv
	for s.overBudget() && c.held.Load() > 0 {
		wake := s.room.wait()
		if !s.overBudget() || c.held.Load() == 0 {
			s.room.done()
			break
		}
		select {
		case <-wake:
		case <-c.drained:
		case <-c.writerDone:
			s.room.done()
			return false
		case <-s.done:
			s.room.done()
			return false
		}
		s.room.done()
	}
	return true
}

// direct reports whether every reply of the batch is due now with no action,
// so the reader may write the batch itself.
func (c *conn) direct() bool {
	for _, it := range c.batch {
		if !it.mergeable() {
			return false
		}
	}
	return true
}

// writeDirect writes the batch from the reader when the queue allows it,
// and queues it otherwise. It reports whether the connection goes on.
func (c *conn) writeDirect() bool {
	if !c.q.claimDirect() {
		c.q.push(c.scratch, c.batch)
		return true
	}
	replies, data, gets := 0, 0, 0
	for _, it := range c.batch {
		replies, data, gets = replies+it.count, data+it.data, gets+it.gets
	}
	c.started(data, gets)
	ok := c.write(c.scratch)
	c.release(len(c.scratch))
	c.q.releaseDirect()
	if ok {
		c.srv.stats.replies.Add(int64(replies))
	} else {
		c.nc.Close() // ends the writer too
	}
	return ok
}

// handle runs one request and adds its reply to the current batch. It
// reports whether the connection is to be closed after it.
func (c *conn) handle(args [][]byte, readAt *time.Time) (stop bool) {
	c.srv.stats.requests.Add(1)
	start := len(c.scratch)
	var class commandClass
	var gets int
	c.scratch, class, gets = c.execute(c.scratch, args)
	it := item{end: len(c.scratch), count: 1}
	failed := len(c.scratch) > start && c.scratch[start] == '-'
	if failed {
		c.srv.stats.errors.Add(1)
	}
	if class == classQuit {
		it.act = actClose
	}
	if class == classData {
		it.data = 1
		c.asked += gets
		if !failed { // an error reply (over the reply limit) answers no key
			it.gets = gets
		}
	}
	if class >= classTimed {
		if lat := c.srv.latency.Load(); !lat.IsZero() {
			if readAt.IsZero() {
				*readAt = time.Now()
			}
			it.due = readAt.Add(lat.Sample(c.rng))
		}
	}
	if class == classData && c.srv.cfg.Faults.Any() {
		it.act = c.rollFault()
	}
	c.batch = append(c.batch, it)
	return it.act == actClose
}

// rollFault draws whether this request's reply fails, and how.
func (c *conn) rollFault() action {
	f := c.srv.cfg.Faults
	u := c.rng.Float64()
	for _, p := range []struct {
		p   float64
		act action
	}{{f.Reset, actReset}, {f.Stall, actStall}, {f.PartialClose, actPartial}, {f.SlowDrip, actDrip}} {
		if u < p.p {
			return p.act
		}
		u -= p.p
	}
	return actReply
}

// writeLoop writes replies as they come due until the reader is done and
// the queue is empty, an action ends the connection, or the server closes.
// It closes the connection when it returns, which also ends the reader.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	defer c.nc.Close()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var out []byte
	for {
		t := c.q.take(out[:0])
		out = t.out
		gets := t.gets
		if t.state == stSpecial && t.special.act == actDrip {
			gets += t.special.gets // dripped replies are written in full
		}
		c.started(t.data, gets)
		if t.split > 0 {
			ok := c.write(out[:t.split])
			c.release(t.split)
			if !ok {
				return
			}
			c.srv.stats.replies.Add(int64(t.replies))
		}
		if t.state == stSpecial {
			ok := c.act(t.special.act, out[t.split:])
			c.release(len(out) - t.split)
			if !ok {
				return
			}
		}
		c.q.doneWriting()
		switch t.state {
		case stFinished:
			return
		case stIdle:
			select {
			case <-c.q.wake:
			case <-c.srv.done:
				return
			}
		case stMore:
			select {
			case <-c.srv.done:
				return
			default:
			}
		case stWait:
			// New items cannot overtake the head, so only its due time
			// (or shutdown) matters here.
			timer.Reset(time.Until(t.wait))
			select {
			case <-timer.C:
			case <-c.srv.done:
				return
			}
		}
	}
}

// act performs a reply's action and reports whether the connection goes on.
func (c *conn) act(a action, reply []byte) bool {
	s := c.srv
	switch a {
	case actClose:
		if c.write(reply) {
			s.stats.replies.Add(1)
		}
		return false
	case actReset:
		s.stats.resets.Add(1)
		s.cfg.Logf("backend: conn %d: injected reset", c.id)
		if tc, ok := c.nc.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close sends RST, not FIN
		}
		return false
	case actStall:
		s.stats.stalls.Add(1)
		s.cfg.Logf("backend: conn %d: injected stall", c.id)
		c.stall()
		return false
	case actPartial:
		s.stats.partials.Add(1)
		s.cfg.Logf("backend: conn %d: injected partial close", c.id)
		c.write(reply[:len(reply)/2])
		return false
	case actDrip:
		s.stats.drips.Add(1)
		for len(reply) > 0 {
			n := min(dripChunk, len(reply))
			if !c.write(reply[:n]) {
				return false
			}
			reply = reply[n:]
			if len(reply) > 0 && !c.sleep(dripPause) {
				return false
			}
		}
		s.stats.replies.Add(1)
		return true
	}
	return false
}

// stall discards every later reply until the client closes the connection
// (the reader then finishes) or the server closes.
func (c *conn) stall() {
	for {
		bytes, data, readerDone := c.q.discard()
		c.started(data, 0)
		c.release(bytes)
		if readerDone {
			return
		}
		select {
		case <-c.q.wake:
		case <-c.srv.done:
			return
		}
	}
}

func (c *conn) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.srv.done:
		return false
	}
}

func (c *conn) write(b []byte) bool {
	if _, err := c.nc.Write(b); err != nil {
		if !errors.Is(err, net.ErrClosed) {
			c.srv.cfg.Logf("backend: conn %d: write: %v", c.id, err)
		}
		return false
	}
	return true
}
