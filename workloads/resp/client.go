package resp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// readBufferSize is the client's initial read buffer: a pipelined batch of a
// few hundred small replies fits, and larger replies grow it.
const readBufferSize = 16 << 10

// Client is a synchronous RESP client over one TCP connection: each call
// writes its request(s) and waits for the reply. A Client is not safe for
// concurrent use; strategies give each worker its own.
//
// Every call sets the connection's deadline to now plus the timeout given
// to Dial (zero: no deadline). After a timeout or an I/O or protocol error
// the stream position is unknown, so the Client refuses every later call
// with an error wrapping the first one. It never retries.
type Client struct {
	conn    net.Conn
	timeout time.Duration
	parser  ReplyParser
	wbuf    []byte
	rbuf    []byte // rbuf[r:w] holds bytes read but not yet parsed
	r, w    int
	err     error // sticky: the connection is unusable
}

// Dial connects to addr. timeout bounds the dial and later every request.
func Dial(ctx context.Context, addr string, timeout time.Duration) (*Client, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("resp: dial %s: %w", addr, err)
	}
	return NewClient(conn, timeout), nil
}

// DialLogin is Dial within dialTimeout, then Login with cred, for a client
// whose later requests get timeout: a connection as every user of a
// backend that may want AUTH opens it. A failed login closes it.
func DialLogin(ctx context.Context, addr string, cred Credentials, dialTimeout, timeout time.Duration) (*Client, error) {
	c, err := Dial(ctx, addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	c.SetTimeout(timeout)
	if err := c.Login(cred); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// NewClient returns a client over an established connection.
func NewClient(conn net.Conn, timeout time.Duration) *Client {
	return &Client{conn: conn, timeout: timeout, rbuf: make([]byte, readBufferSize)}
}

// SetTimeout changes the limit of every later request (see Dial).
func (c *Client) SetTimeout(timeout time.Duration) { c.timeout = timeout }

// Close closes the connection.
func (c *Client) Close() error {
	if c.err == nil {
		c.err = errors.New("resp: client closed")
	}
	return c.conn.Close()
}

// Get fetches key. The returned slice aliases the client's read buffer and
// is valid until the next call on c. A null reply returns an error wrapping
// ErrNil; an error reply, a *ServerError.
func (c *Client) Get(key string) ([]byte, error) {
	c.wbuf = AppendArrayHeader(c.wbuf[:0], 2)
	c.wbuf = AppendBulkString(c.wbuf, "GET")
	c.wbuf = AppendBulkString(c.wbuf, key)
	r, err := c.roundTrip()
	if err != nil {
		return nil, fmt.Errorf("resp: GET %q: %w", key, err)
	}
	v, err := bulkValue(r)
	if err != nil {
		return nil, fmt.Errorf("resp: GET %q: %w", key, err)
	}
	return v, nil
}

// Set stores value under key.
func (c *Client) Set(key string, value []byte) error {
	c.wbuf = AppendArrayHeader(c.wbuf[:0], 3)
	c.wbuf = AppendBulkString(c.wbuf, "SET")
	c.wbuf = AppendBulkString(c.wbuf, key)
	c.wbuf = AppendBulk(c.wbuf, value)
	if _, err := c.expectSimple("OK"); err != nil {
		return fmt.Errorf("resp: SET %q: %w", key, err)
	}
	return nil
}

// Auth authenticates the connection: AUTH password, or, when username is
// not empty, AUTH username password (Redis 6 ACLs). The password never
// appears in the error, which wraps the server's *ServerError (WRONGPASS,
// or ERR when the server has no password set).
func (c *Client) Auth(username, password string) error {
	args := []string{"AUTH", password}
	if username != "" {
		args = []string{"AUTH", username, password}
	}
	c.wbuf = AppendCommand(c.wbuf[:0], args...)
	r, err := c.roundTrip()
	if err != nil {
		return fmt.Errorf("resp: AUTH: %w", err)
	}
	return CheckAuthReply(r)
}

// Ping checks that the server answers.
func (c *Client) Ping() error {
	c.wbuf = AppendCommand(c.wbuf[:0], "PING")
	if _, err := c.expectSimple("PONG"); err != nil {
		return fmt.Errorf("resp: PING: %w", err)
	}
	return nil
}

// Do sends one command and returns its reply, which aliases the client's
// memory until the next call. An error reply is returned as a Reply of
// KindError with a nil error: Do is for callers that inspect replies.
func (c *Client) Do(args ...string) (Reply, error) {
	c.wbuf = AppendCommand(c.wbuf[:0], args...)
	r, err := c.roundTrip()
	if err != nil {
		name := ""
		if len(args) > 0 {
			name = args[0]
		}
		return Reply{}, fmt.Errorf("resp: %s: %w", name, err)
	}
	return r, nil
}

// GetMany pipelines a GET of every key: it writes all requests in one write,
// then reads the replies in order and calls fn(i, value) for keys[i]. The
// value is valid only during the call. GetMany stops at the first error,
// from the connection, the server or fn; the deadline is renewed for each
// reply, so the timeout bounds the wait for any one of them.
func (c *Client) GetMany(keys []string, fn func(i int, v []byte) error) error {
	if c.err != nil {
		return fmt.Errorf("resp: GET batch: %w", c.err)
	}
	c.wbuf = c.wbuf[:0]
	for _, k := range keys {
		c.wbuf = AppendArrayHeader(c.wbuf, 2)
		c.wbuf = AppendBulkString(c.wbuf, "GET")
		c.wbuf = AppendBulkString(c.wbuf, k)
	}
	if err := c.write(); err != nil {
		return fmt.Errorf("resp: GET batch of %d: %w", len(keys), err)
	}
	for i, k := range keys {
		r, err := c.readReply(i > 0)
		if err != nil {
			return fmt.Errorf("resp: GET %q (%d of %d in batch): %w", k, i+1, len(keys), err)
		}
		v, err := bulkValue(r)
		if err == nil {
			err = fn(i, v)
		}
		if err != nil {
			// The remaining replies are still in flight: the stream
			// position is lost for the next call.
			if i < len(keys)-1 {
				c.err = fmt.Errorf("batch abandoned with %d replies unread: %w", len(keys)-1-i, err)
			}
			return fmt.Errorf("resp: GET %q (%d of %d in batch): %w", k, i+1, len(keys), err)
		}
	}
	return nil
}

// SetMany pipelines a SET of values[i] under keys[i] for every key: it
// writes all requests in one write, then reads the replies in order and
// checks that each is +OK. It stops at the first error, naming the key; the
// deadline is renewed for each reply.
func (c *Client) SetMany(keys []string, values [][]byte) error {
	if len(keys) != len(values) {
		return fmt.Errorf("resp: SET batch: %d keys, %d values", len(keys), len(values))
	}
	if c.err != nil {
		return fmt.Errorf("resp: SET batch: %w", c.err)
	}
	c.wbuf = c.wbuf[:0]
	for i, k := range keys {
		c.wbuf = AppendArrayHeader(c.wbuf, 3)
		c.wbuf = AppendBulkString(c.wbuf, "SET")
		c.wbuf = AppendBulkString(c.wbuf, k)
		c.wbuf = AppendBulk(c.wbuf, values[i])
	}
	if err := c.write(); err != nil {
		return fmt.Errorf("resp: SET batch of %d: %w", len(keys), err)
	}
	for i, k := range keys {
		r, err := c.readReply(i > 0)
		if err == nil {
			switch {
			case r.Kind == KindError:
				err = r.Err()
			case r.Kind != KindSimple || string(r.Str) != "OK":
				err = fmt.Errorf("unexpected reply %s", r)
			}
			if err != nil && i < len(keys)-1 {
				c.err = fmt.Errorf("batch abandoned with %d replies unread: %w", len(keys)-1-i, err)
			}
		}
		if err != nil {
			return fmt.Errorf("resp: SET %q (%d of %d in batch): %w", k, i+1, len(keys), err)
		}
	}
	return nil
}

func bulkValue(r Reply) ([]byte, error) {
	switch {
	case r.Kind == KindError:
		return nil, r.Err()
	case r.Kind != KindBulk:
		return nil, fmt.Errorf("unexpected %v reply %s", r.Kind, r)
	case r.Null:
		return nil, ErrNil
	}
	return r.Str, nil
}

func (c *Client) expectSimple(want string) (Reply, error) {
	r, err := c.roundTrip()
	if err != nil {
		return r, err
	}
	if r.Kind == KindError {
		return r, r.Err()
	}
	if r.Kind != KindSimple || string(r.Str) != want {
		return r, fmt.Errorf("unexpected reply %s", r)
	}
	return r, nil
}

// roundTrip writes c.wbuf and reads one reply.
func (c *Client) roundTrip() (Reply, error) {
	if c.err != nil {
		return Reply{}, c.err
	}
	if err := c.write(); err != nil {
		return Reply{}, err
	}
	return c.readReply(false)
}

func (c *Client) setDeadline() error {
	if c.timeout <= 0 {
		return nil
	}
	return c.conn.SetDeadline(time.Now().Add(c.timeout))
}

func (c *Client) write() error {
	if err := c.setDeadline(); err != nil {
		return c.fail(err)
	}
	if _, err := c.conn.Write(c.wbuf); err != nil {
		return c.fail(err)
	}
	return nil
}

// readReply parses the next reply, reading from the connection as needed.
// renew sets a fresh deadline before the first read; the request's write
// has just set one otherwise.
func (c *Client) readReply(renew bool) (Reply, error) {
	if c.err != nil {
		return Reply{}, c.err
	}
	deadlineSet := !renew
	for {
		r, n, err := c.parser.Parse(c.rbuf[c.r:c.w])
		if err == nil {
			c.r += n
			if c.r == c.w {
				c.r, c.w = 0, 0
			}
			return r, nil
		}
		if !errors.Is(err, ErrIncomplete) {
			return Reply{}, c.fail(err)
		}
		// Make room: move the partial reply to the front, grow if full.
		if c.r > 0 {
			c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
			c.r = 0
		}
		if c.w == len(c.rbuf) {
			c.rbuf = append(c.rbuf, make([]byte, len(c.rbuf))...)
		}
		if !deadlineSet {
			if err := c.setDeadline(); err != nil {
				return Reply{}, c.fail(err)
			}
			deadlineSet = true
		}
		m, err := c.conn.Read(c.rbuf[c.w:])
		c.w += m
		if err != nil && m == 0 {
			if errors.Is(err, io.EOF) && c.w > c.r {
				err = io.ErrUnexpectedEOF // the server hung up mid-reply
			}
			return Reply{}, c.fail(err)
		}
	}
}

// fail records err as the reason the connection is unusable and returns it.
func (c *Client) fail(err error) error {
	if c.err == nil {
		c.err = fmt.Errorf("connection unusable after: %w", err)
	}
	return err
}
