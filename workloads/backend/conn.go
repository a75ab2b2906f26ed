package backend

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

const (
	// readBufferSize is a connection's initial read buffer: a pipelined
	// batch of several hundred GETs fits; larger requests grow it.
	readBufferSize = 16 << 10
	// maxBacklog bounds the reply bytes queued on one connection, like
	// Redis's client-output-buffer-limit: a client that pipelines without
	// ever reading is disconnected rather than exhausting memory.
	maxBacklog = 256 << 20
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

	// Reader state.
	parser  resp.RequestParser
	scratch []byte // replies of the requests parsed from the current read
	batch   []item // their items; ends are offsets in scratch
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	return &conn{
		srv: s, nc: nc, id: id,
		rng:        rand.New(rand.NewPCG(uint64(s.cfg.Seed), id)),
		q:          newOutQueue(),
		writerDone: make(chan struct{}),
		parser:     resp.RequestParser{MaxBulk: s.cfg.MaxBulk},
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
		if len(c.batch) > 0 && c.direct() {
			if !c.writeDirect() {
				return
			}
		} else if len(c.batch) > 0 {
			backlog := c.q.push(c.scratch, c.batch)
			c.scratch, c.batch = c.scratch[:0], c.batch[:0]
			if backlog > maxBacklog {
				c.srv.cfg.Logf("backend: conn %d: closing: over %d bytes of replies unread", c.id, maxBacklog)
				c.nc.Close()
				return
			}
		}
		if stop {
			return
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) && !errors.Is(rerr, net.ErrClosed) {
				c.srv.cfg.Logf("backend: conn %d: read: %v", c.id, rerr)
			}
			return
		}
		// Make room: move a partial request to the front, grow if full.
		// The parser's limits bound how large a request can make it.
		if r == w {
			r, w = 0, 0
		} else if r > 0 {
			w = copy(buf, buf[r:w])
			r = 0
		}
		if w == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
	}
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
		c.scratch, c.batch = c.scratch[:0], c.batch[:0]
		return true
	}
	ok := c.write(c.scratch)
	c.q.releaseDirect()
	if ok {
		c.srv.stats.replies.Add(int64(len(c.batch)))
	} else {
		c.nc.Close() // ends the writer too
	}
	c.scratch, c.batch = c.scratch[:0], c.batch[:0]
	return ok
}

// handle runs one request and queues its reply in the current batch. It
// reports whether the connection is to be closed after it.
func (c *conn) handle(args [][]byte, readAt *time.Time) (stop bool) {
	c.srv.stats.requests.Add(1)
	start := len(c.scratch)
	var class commandClass
	c.scratch, class = c.execute(c.scratch, args)
	it := item{end: len(c.scratch), count: 1}
	if len(c.scratch) > start && c.scratch[start] == '-' {
		c.srv.stats.errors.Add(1)
	}
	if class == classQuit {
		it.act = actClose
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
		if t.split > 0 {
			if !c.write(out[:t.split]) {
				return
			}
			c.srv.stats.replies.Add(int64(t.replies))
		}
		if t.state == stSpecial && !c.act(t.special.act, out[t.split:]) {
			return
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
	for !c.q.discard() {
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
