package serve

import (
	"errors"
	"net"
	"time"

	"github.com/concbench/concbench/serve/httpwire"
)

// PageFunc answers page id for a server that blocks while it looks the
// page up: it appends the page's body to dst and returns it, or returns an
// error, which is answered 502 (a failed lookup). [BackendPool.Page] is
// one; a server that hands the lookups to workers or batches waits for
// them inside its PageFunc.
type PageFunc func(dst []byte, id int) ([]byte, error)

// Sizes and times of ServeConn.
const (
	// connReadBuffer is a connection's first read buffer: a request of
	// this benchmark is under 100 bytes, so one read takes several
	// pipelined ones. It grows (doubling) only for a request head that
	// does not fit, up to the head limit plus this.
	connReadBuffer = 4 << 10
	// maxPendingOut bounds the responses held back for one write while
	// pipelined requests are answered: past it they are written at once.
	maxPendingOut = 64 << 10
	// lingerTimeout and lingerBytes bound the lingering close: after its
	// last response the server shuts its side and reads what the client
	// still sends, so that closing with unread bytes does not reset the
	// connection before the client has read that response. net/http
	// waits half a second for the same reason; an iterative server is
	// stuck for the whole wait, hence shorter.
	lingerTimeout = 200 * time.Millisecond
	lingerBytes   = 256 << 10
)

// textPlain is the Content-Type of 404 and 502 answers.
const textPlain = "text/plain; charset=utf-8"

// ServeConn serves the page endpoint on one client connection with
// blocking reads and writes, the loop of a server that gives each
// connection a goroutine or a thread of its own (or, iteratively, the
// whole server): it reads, parses with httpwire, answers each request in
// order through page (pipelined requests included) and returns when the
// connection is over, having closed it:
//
//   - the client closed it (a half-close too: the requests already sent
//     are answered first);
//   - a request was refused (400, 405, 413, 414, 431, 501, 505 with
//     Connection: close), or asked for close (Connection: close, HTTP/1.0
//     without keep-alive): the answer is written, then the connection is
//     closed lingering (see lingerTimeout);
//   - a request head took longer than env.Limits.HeaderTimeout from the
//     read that brought its first bytes (slowloris), the client sent
//     nothing for env.Limits.IdleTimeout between requests, or did not take
//     a response within IdleTimeout: the connection is dropped;
//   - a read or write failed, as it does when the server's shutdown
//     closes conn from another goroutine.
//
// env must have its defaults ([Env.WithDefaults]). The connection's memory
// is bounded: its read buffer holds at most one request head over the
// limits (the parser refuses it as the bytes arrive), and pending
// responses are written once they pass 64 KiB.
func ServeConn(conn net.Conn, env Env, page PageFunc) {
	c := connServer{conn: conn, env: env, page: page,
		in: make([]byte, connReadBuffer), maxIn: env.MaxHead() + connReadBuffer}
	c.parser.Limits = env.Limits.Wire
	c.serve()
	_ = conn.Close()
}

// connServer is ServeConn's state: in[r:w] holds the bytes read and not yet
// parsed, out the responses not yet written.
type connServer struct {
	conn   net.Conn
	env    Env
	page   PageFunc
	parser httpwire.Parser
	in     []byte
	r, w   int
	maxIn  int
	out    []byte
	body   []byte
	date   httpwire.DateCache
}

// serve runs the connection until it is over; the caller closes it.
func (c *connServer) serve() {
	var headSince time.Time // when the first bytes of the partial request in[r:w] arrived
	for {
		// Answer every whole request buffered, in order.
		for c.r < c.w {
			req, n, err := c.parser.Parse(c.in[c.r:c.w])
			if errors.Is(err, httpwire.ErrIncomplete) {
				break
			}
			var perr *httpwire.Error
			if errors.As(err, &perr) {
				c.env.Logf("serve: %v: refused: %v", c.conn.RemoteAddr(), perr)
				c.out = httpwire.AppendError(c.out, perr, c.date.Get(time.Now()))
				c.closeLingering()
				return
			}
			headSince = time.Time{}
			// req aliases in[r:r+n]: answer it before moving past it.
			if !c.answer(req) {
				return
			}
			c.r += n
			if !req.KeepAlive {
				c.closeLingering()
				return
			}
		}
		if len(c.out) > 0 && !c.flush() {
			return
		}
		if c.r == c.w {
			c.r, c.w = 0, 0
			headSince = time.Time{}
		} else if headSince.IsZero() {
			headSince = time.Now()
		}
		if !c.makeRoom() {
			// The parser refuses a head past the limits before the buffer
			// is full; this is the backstop if it ever does not.
			c.out = httpwire.AppendError(c.out, &httpwire.Error{Status: 431, Reason: "request head too large"}, nil)
			c.closeLingering()
			return
		}
		deadline := time.Now().Add(c.env.Limits.IdleTimeout)
		if c.r < c.w {
			deadline = headSince.Add(c.env.Limits.HeaderTimeout)
		}
		if err := c.conn.SetReadDeadline(deadline); err != nil {
			return
		}
		n, err := c.conn.Read(c.in[c.w:])
		c.w += n
		if err != nil {
			// EOF (the client is done sending), a timeout (idle, or a
			// head too slow) or a failure: answer whatever whole
			// requests came with the last bytes, then close.
			c.answerBuffered()
			return
		}
	}
}

// answerBuffered answers the whole requests left in the buffer after the
// client stopped sending (a half-close after pipelined requests), as far
// as their keep-alive allows, and writes the answers.
func (c *connServer) answerBuffered() {
	for c.r < c.w {
		req, n, err := c.parser.Parse(c.in[c.r:c.w])
		if err != nil {
			break // a partial request is dropped; a refusal closes anyway
		}
		if !c.answer(req) {
			return
		}
		c.r += n
		if !req.KeepAlive {
			break
		}
	}
	if len(c.out) > 0 {
		c.flush()
	}
}

// answer appends the response to req to out. Before a page's lookups it
// writes the responses already pending, so a pipelined answer is never
// held back by a later request's backend wait. It reports false if a
// write failed.
func (c *connServer) answer(req httpwire.Request) bool {
	head := req.Head(200, ContentType, 0)
	head.Date = c.date.Get(time.Now())
	id, ok := ParseTarget(req.Target, c.env.Pages)
	if !ok {
		head.Status, head.ContentType = 404, textPlain
		c.out = httpwire.AppendResponse(c.out, head, NotFoundBody)
		return len(c.out) < maxPendingOut || c.flush()
	}
	if len(c.out) > 0 && !c.flush() {
		return false
	}
	body, err := c.page(c.body[:0], id)
	if err != nil {
		c.env.Logf("serve: page %d: %v", id, err)
		head.Status, head.ContentType = 502, textPlain
		c.out = httpwire.AppendResponse(c.out, head, BadGatewayBody)
		return true
	}
	c.body = body
	c.out = httpwire.AppendResponse(c.out, head, body)
	return true
}

// flush writes out. A client that does not take its responses within the
// idle timeout loses the connection.
func (c *connServer) flush() bool {
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.env.Limits.IdleTimeout)); err != nil {
		return false
	}
	_, err := c.conn.Write(c.out)
	c.out = c.out[:0]
	return err == nil
}

// makeRoom makes free space after in[w:] for the next read: it moves a
// partial request to the front, or grows the buffer up to maxIn. It
// reports false when the buffer is full at maxIn.
func (c *connServer) makeRoom() bool {
	if c.w < len(c.in) {
		return true
	}
	if c.r > 0 { // the parser allows its bytes to move (see httpwire.Parser)
		c.w = copy(c.in, c.in[c.r:c.w])
		c.r = 0
		return true
	}
	if len(c.in) >= c.maxIn {
		return false
	}
	grown := make([]byte, min(2*len(c.in), c.maxIn))
	copy(grown, c.in[:c.w])
	c.in = grown
	return true
}

// closeLingering writes out, shuts the write side and reads what the
// client still sends, for at most lingerTimeout and lingerBytes (see
// there). The caller closes the connection.
func (c *connServer) closeLingering() {
	if len(c.out) > 0 && !c.flush() {
		return
	}
	Linger(c.conn)
}

// Linger shuts conn's write side, so the client reads every response and
// then EOF, and discards what the client still sends for a short while
// (200 ms, 256 KiB at most), so that the close that follows does not
// reset the connection before the client has read the last response.
// The caller closes conn.
func Linger(conn net.Conn) {
	cw, ok := conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if conn.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		return
	}
	var buf [4 << 10]byte
	for read := 0; read < lingerBytes; {
		n, err := conn.Read(buf[:])
		read += n
		if err != nil {
			return
		}
	}
}
