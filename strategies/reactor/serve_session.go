package reactor

import (
	"errors"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/httpwire"
)

// The HTTP side of the reactor's server, apart from its I/O: what one
// client connection has read, the requests it is answering in order, and
// the responses it has to write. The loop (serve_loop_linux.go) reads into
// a session, writes from it and runs the lookups it asks for; everything
// here is plain computation on buffers, so FuzzSession drives it without
// sockets.

// maxPipelined bounds a connection's requests being answered at once: a
// client that pipelines deeper is not read from until answers have gone
// out (TCP's flow control then holds it back), so it cannot make the
// server hold unbounded work. The gnet reference server bounds it alike.
const maxPipelined = 128

// sessionReadBuffer is a session's first read buffer: many requests of
// this benchmark (under 100 bytes each). It grows, doubling, only for a
// request head that does not fit, up to the head limit plus this.
const sessionReadBuffer = 4 << 10

// textPlain is the Content-Type of 404 and 502 answers.
const textPlain = "text/plain; charset=utf-8"

// lookups is what a session needs from its loop: exchanges, and the
// lookups of the pages asked for. *serveLoop implements it; so does the
// fuzz test's fake.
type lookups interface {
	// newExchange returns a cleared exchange.
	newExchange() *exchange
	// lookup starts x's lookups; the loop later calls done on x (x.sess
	// may have gone by then: the loop then only recycles x).
	lookup(x *exchange)
	// recycle takes back an exchange no one holds any more.
	recycle(x *exchange)
}

// exchange is one request and, once known, its answer. While its lookups
// run the loop holds it (busy); its session holds it in pending until it
// is answered, in order.
type exchange struct {
	sess    *session // nil once its client has gone
	id      int      // the page; -1: not a page (404)
	head    httpwire.ResponseHead
	refused *httpwire.Error // the parser refused the request: answer it, then close
	done    bool            // answered: head.Status and, for 200, sums are set
	busy    bool            // held by the loop (queued for a connection or in flight)
	sums    serve.PageSums

	// The loop's lookup state.
	stage       lookupStage
	key         []byte // the key being looked up
	sessionHash uint64
	since       int64 // when it was queued for a backend connection (loop clock)
	deadline    int64 // of the lookup in flight (loop clock)
}

// lookupStage is where an exchange's lookups are.
type lookupStage uint8

const (
	stageSession lookupStage = iota // GET session:{id}
	stageUser                       // GET user:{hash of the session}
)

// finish records x's answer: 200 with sums, or 502 (ok false).
func (x *exchange) finish(ok bool, sums serve.PageSums) {
	x.done, x.busy = true, false
	if ok {
		x.head.Status, x.sums = 200, sums
		return
	}
	x.head.Status, x.head.ContentType = 502, textPlain
}

// session is one client connection's HTTP state.
type session struct {
	env    *serve.Env
	owner  lookups
	handle int32 // the owner's name for the connection (the loop's: its client's slot)
	parser httpwire.Parser

	in    []byte // in[r:w]: read, not yet parsed
	r, w  int
	maxIn int

	pending fifo[*exchange] // requests in order, not yet written
	out     []byte          // responses: out[sent:] not yet written
	sent    int

	closing   bool  // no request is read any more: answer pending, then close
	eof       bool  // the client closed its side
	headSince int64 // when the partial request in[r:w] began to arrive; 0: none
}

// reset prepares s for a new connection, keeping its buffers.
func (s *session) reset(env *serve.Env, owner lookups, handle int32) {
	in, out := s.in, s.out
	if cap(out) > 64<<10 {
		out = nil // a deep pipeline's burst: do not keep it
	}
	*s = session{env: env, owner: owner, handle: handle, in: in, out: out[:0], maxIn: env.MaxHead() + sessionReadBuffer}
	if len(s.in) != sessionReadBuffer {
		s.in = make([]byte, sessionReadBuffer)
	}
	s.parser.Limits = env.Limits.Wire
}

// space returns the free tail of the read buffer for the next read, or nil
// when the session takes no input now: it is closing, its pipeline is
// full, or (a backstop: the parser refuses a head past the limits first)
// its buffer is full.
func (s *session) space() []byte {
	if s.closing || s.pending.len() >= maxPipelined {
		return nil
	}
	if s.r == s.w {
		s.r, s.w = 0, 0
	}
	if s.w == len(s.in) {
		switch {
		case s.r > 0: // the parser allows its bytes to move (see httpwire.Parser)
			s.w = copy(s.in, s.in[s.r:s.w])
			s.r = 0
		case len(s.in) < s.maxIn:
			grown := make([]byte, min(2*len(s.in), s.maxIn))
			copy(grown, s.in[:s.w])
			s.in = grown
		default:
			return nil
		}
	}
	return s.in[s.w:]
}

// commit records n bytes read into space's slice.
func (s *session) commit(n int) { s.w += n }

// parse turns every whole request buffered into an exchange, in order, as
// far as the pipeline allows: a page starts its lookups, anything else is
// answered at once. A refusal, a request that closes the connection, or
// the client's EOF ends the reading. now is the loop's clock.
func (s *session) parse(now int64) {
	for !s.closing && s.r < s.w && s.pending.len() < maxPipelined {
		req, n, err := s.parser.Parse(s.in[s.r:s.w])
		if errors.Is(err, httpwire.ErrIncomplete) {
			if s.w-s.r >= s.maxIn { // the backstop of space
				s.refuse(&httpwire.Error{Status: 431, Reason: "request head too large"})
			}
			break
		}
		var perr *httpwire.Error
		if errors.As(err, &perr) {
			s.refuse(perr)
			break
		}
		x := s.owner.newExchange()
		x.sess, x.head = s, req.Head(200, serve.ContentType, 0)
		id, ok := serve.ParseTarget(req.Target, s.env.Pages)
		s.r += n // req aliases the bytes: done with it
		s.headSince = 0
		s.pending.push(x)
		if !req.KeepAlive {
			s.closing = true
		}
		if !ok {
			x.id, x.done = -1, true
			x.head.Status, x.head.ContentType = 404, textPlain
			continue
		}
		x.id, x.busy = id, true
		s.owner.lookup(x)
	}
	if s.r == s.w || s.closing {
		s.headSince = 0
	} else if s.headSince == 0 {
		s.headSince = now
	}
}

// refuse answers a request the parser refused, after those before it, and
// stops reading.
func (s *session) refuse(e *httpwire.Error) {
	s.env.Logf("reactor: refused a request: %v", e)
	x := s.owner.newExchange()
	x.sess, x.id, x.refused, x.done = s, -1, e, true
	s.pending.push(x)
	s.closing = true
}

// readEOF records that the client closed its side: the whole requests
// already read are answered, a partial one is dropped.
func (s *session) readEOF() {
	s.eof, s.closing = true, true
}

// collect appends the answers at the front of the pipeline that are ready
// to out, in order, with date as their Date header.
func (s *session) collect(date []byte) {
	if s.sent == len(s.out) {
		s.out, s.sent = s.out[:0], 0
	}
	for {
		x, ok := s.pending.front()
		if !ok || !x.done {
			return
		}
		s.pending.pop()
		h := x.head
		h.Date = date
		switch {
		case x.refused != nil:
			s.out = httpwire.AppendError(s.out, x.refused, date)
		case h.Status == 200:
			h.ContentLength = serve.PageLen(x.id, x.sums)
			s.out = httpwire.AppendResponseHead(s.out, h)
			s.out = serve.AppendPageSums(s.out, x.id, x.sums)
		case h.Status == 404:
			s.out = httpwire.AppendResponse(s.out, h, serve.NotFoundBody)
		default:
			s.out = httpwire.AppendResponse(s.out, h, serve.BadGatewayBody)
		}
		s.owner.recycle(x)
	}
}

// unsent returns the responses not yet written.
func (s *session) unsent() []byte { return s.out[s.sent:] }

// wrote records n bytes of unsent written.
func (s *session) wrote(n int) { s.sent += n }

// finished reports whether the connection has nothing left to do: it takes
// no more requests and every answer is written.
func (s *session) finished() bool {
	return s.closing && s.pending.len() == 0 && s.sent == len(s.out)
}

// waiting reports whether some request is waiting for its lookups.
func (s *session) waiting() bool { return s.pending.len() > 0 }

// partial reports whether part of a request head has arrived.
func (s *session) partial() bool { return !s.closing && s.r < s.w }

// abandon gives up the pending requests of a connection that has gone: an
// exchange the loop holds is left to it (it recycles it when its lookup
// ends), the others are recycled now.
func (s *session) abandon() {
	for {
		x, ok := s.pending.pop()
		if !ok {
			return
		}
		x.sess = nil
		if !x.busy {
			s.owner.recycle(x)
		}
	}
}
