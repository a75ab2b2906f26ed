//go:build linux

package reactor

import (
	"errors"
	"fmt"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/workloads/resp"
)

// lookupConn is a serve loop's connection to the backend: the closed
// strategy's socket half (conn: non-blocking connect, reads, partial
// writes, its read buffer and RESP parser), with the exchanges whose GETs
// are on it instead of tasks. A socket is opened when a lookup first needs
// the slot, and again after it broke.
type lookupConn struct {
	conn                    // the socket and its dirty flag; its task queue and timer stay unused
	lookups fifo[*exchange] // the exchanges whose requests are on it, oldest first
	timeout timer[*lookupConn]
	idle    bool // in the loop's idleConns
}

// newExchange implements lookups.
func (l *serveLoop) newExchange() *exchange {
	if n := len(l.spare); n > 0 {
		x := l.spare[n-1]
		l.spare = l.spare[:n-1]
		return x
	}
	return &exchange{}
}

// recycle implements lookups.
func (l *serveLoop) recycle(x *exchange) {
	*x = exchange{key: x.key[:0]}
	l.spare = append(l.spare, x)
}

// lookup implements lookups: x's first GET is issued, or queued until a
// connection can take it.
func (l *serveLoop) lookup(x *exchange) {
	x.stage = stageSession
	x.key = serve.AppendSessionKey(x.key[:0], x.id)
	l.issueOrQueue(x)
}

// issueOrQueue sends x's current GET on an idle connection, or queues x
// for the next one.
func (l *serveLoop) issueOrQueue(x *exchange) {
	n := len(l.idleConns)
	if n == 0 {
		x.since = l.now()
		l.queue.push(x)
		return
	}
	c := l.idleConns[n-1]
	l.idleConns = l.idleConns[:n-1]
	c.idle = false
	l.issue(c, x)
}

// issue appends x's GET to c's requests.
func (l *serveLoop) issue(c *lookupConn, x *exchange) {
	x.deadline = l.now() + int64(l.st.env.FetchTimeout)
	c.lookups.push(x)
	if c.lookups.len() == 1 {
		l.timeouts.schedule(&c.timeout, x.deadline)
	}
	c.out = resp.AppendArrayHeader(c.out, 2)
	c.out = resp.AppendBulkString(c.out, "GET")
	c.out = resp.AppendBulk(c.out, x.key)
	l.release(c)
	appendDirty(&l.dirty, c)
}

// release makes c idle again if it can take another request, or gives
// the request at the head of the queue to it. A queued lookup that has
// waited longer than the fetch timeout fails (502) instead: the wait for a
// connection is part of a lookup, as in serve.BackendPool.
func (l *serveLoop) release(c *lookupConn) {
	if c.idle || c.lookups.len() >= l.st.depth {
		return
	}
	now := l.now()
	for {
		x, ok := l.queue.pop()
		if !ok {
			break
		}
		switch {
		case x.sess == nil: // its client has gone
			l.recycle(x)
		case now-x.since > int64(l.st.env.FetchTimeout):
			l.st.env.Logf("reactor: page %d: no backend connection free within %v", x.id, l.st.env.FetchTimeout)
			l.answer(x, false, serve.PageSums{})
		default:
			l.issue(c, x)
			return
		}
	}
	c.idle = true
	l.idleConns = append(l.idleConns, c)
}

// answer answers x (200 with its sums, or 502) and readies its client,
// or recycles x if the client has gone.
func (l *serveLoop) answer(x *exchange, ok bool, sums serve.PageSums) {
	if x.sess == nil {
		l.recycle(x)
		return
	}
	x.finish(ok, sums)
	l.markReady(l.clients[int(x.sess.handle)-len(l.backends)])
}

// backendEvent reacts to readiness of a backend socket (see connEvent).
func (l *serveLoop) backendEvent(c *lookupConn, events uint32) {
	connEvent(l, l.poller, c, events)
}

// dispatchReplies implements connOwner: it hands every whole reply in c's
// buffer to the lookup at the front of c's queue. It reports whether c is
// still open.
func (l *serveLoop) dispatchReplies(c *lookupConn) bool {
	for {
		r, err := c.in.next(&c.parser)
		if errors.Is(err, resp.ErrIncomplete) {
			return true
		}
		if err == nil {
			auth, aerr := c.authReplied(&r)
			if aerr != nil { // refused: every lookup on it fails
				l.failAll(c, aerr)
				return false
			}
			if auth {
				continue
			}
		}
		x, ok := c.lookups.front()
		if err == nil && !ok {
			err = errors.New("reply with no request outstanding")
		}
		if err != nil { // the stream cannot be resynchronised
			l.failConn(c, err)
			return false
		}
		c.lookups.pop()
		l.replied(x, r) // before the next read: r aliases c's buffer
		l.requestDone(c)
	}
}

// awaiting implements connOwner.
func (l *serveLoop) awaiting(c *lookupConn) int { return c.lookups.len() }

// requestDone moves c's deadline to its next request and frees it for
// another.
func (l *serveLoop) requestDone(c *lookupConn) {
	if x, ok := c.lookups.front(); ok {
		l.timeouts.schedule(&c.timeout, x.deadline)
	} else {
		l.timeouts.cancel(&c.timeout)
	}
	l.release(c)
}

// replied moves x on with the reply to its GET: the session reply names
// the user key, the user reply completes the page. A reply that is not a
// value of the page's size answers 502; the connection is still in step.
func (l *serveLoop) replied(x *exchange, r resp.Reply) {
	if x.sess == nil {
		l.recycle(x)
		return
	}
	var err error
	switch {
	case r.Kind == resp.KindError:
		err = r.Err()
	case r.Kind != resp.KindBulk:
		err = fmt.Errorf("unexpected %v reply", r.Kind)
	case r.Null:
		err = resp.ErrNil
	case len(r.Str) != l.st.env.ValueSize:
		err = fmt.Errorf("reply of %d bytes, want %d", len(r.Str), l.st.env.ValueSize)
	}
	if err != nil {
		l.st.env.Logf("reactor: page %d: GET %s: %v", x.id, x.key, err)
		l.answer(x, false, serve.PageSums{})
		return
	}
	h := serve.ReplyHash(r.Str)
	if x.stage == stageSession {
		x.stage, x.sessionHash = stageUser, h
		x.key = serve.AppendUserKey(x.key[:0], h)
		l.issueOrQueue(x)
		return
	}
	l.answer(x, true, serve.Sums(x.id, x.sessionHash, h))
}

// failConn implements connOwner: it closes c's socket after an I/O or
// protocol error or a timeout. The lookup whose reply was due fails (502);
// those behind it (depth > 1) are sent again, in order, on a fresh socket
// in the same slot, as the closed strategy's loop.failConn does: GET is
// idempotent.
func (l *serveLoop) failConn(c *lookupConn, cause error) {
	c.closeSocket(l.poller)
	if x, ok := c.lookups.pop(); ok {
		l.st.env.Logf("reactor: page %d: GET %s from %s: %v", x.id, x.key, c.addr.name, cause)
		l.answer(x, false, serve.PageSums{})
	}
	deadline := l.now() + int64(l.st.env.FetchTimeout)
	for range c.lookups.len() {
		x, _ := c.lookups.pop()
		x.deadline = deadline
		c.lookups.push(x)
		c.out = resp.AppendArrayHeader(c.out, 2)
		c.out = resp.AppendBulkString(c.out, "GET")
		c.out = resp.AppendBulk(c.out, x.key)
	}
	l.requestDone(c)
	if c.lookups.len() > 0 {
		appendDirty(&l.dirty, c)
	}
}

// flushConns writes the requests the turn queued and dials the
// connections that need a socket (see flushDirty).
func (l *serveLoop) flushConns() { flushDirty(l, l.poller, &l.dirty) }

// failAll implements connOwner: it fails every lookup on c, whose socket
// could not even be opened: the backend is gone, and each of them answers
// 502.
func (l *serveLoop) failAll(c *lookupConn, cause error) {
	c.closeSocket(l.poller)
	logged := false
	for {
		x, ok := c.lookups.pop()
		if !ok {
			break
		}
		if !logged {
			l.st.env.Logf("reactor: connect %s: %v", c.addr.name, cause)
			logged = true
		}
		l.answer(x, false, serve.PageSums{})
	}
	l.requestDone(c)
}
