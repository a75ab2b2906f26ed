package resp

import (
	"bytes"
	"errors"
)

// DefaultMaxArgs bounds the arguments of one request: enough for an MGET of
// a whole lockstep batch, and small enough that a hostile count is refused.
const DefaultMaxArgs = 1 << 20

// RequestParser decodes requests on the server side: arrays of bulk strings
// and inline commands ("PING\r\n", words separated by spaces or tabs, as
// typed into telnet; quoting is not supported). The zero value is ready to
// use with the default limits.
//
// Unlike [ReplyParser], a RequestParser remembers how far it got through a
// request that is not yet whole, so that a large request arriving in many
// reads (an MGET of a million keys) costs time linear in its bytes, not
// quadratic: after [ErrIncomplete], the next call must pass the same request
// again from its first byte, with more bytes after it (the buffer may have
// moved or grown; its first bytes must not change). Call [RequestParser.Reset]
// to parse a different stream.
type RequestParser struct {
	MaxArgs   int // most arguments in one request; 0 means DefaultMaxArgs
	MaxBulk   int // largest argument; 0 means DefaultMaxBulk
	MaxInline int // longest inline request line; 0 means DefaultMaxLine

	args [][]byte // reused between calls

	// Progress through the request at the front of the buffer, kept while
	// Parse returns ErrIncomplete.
	pos   int    // bytes of the request parsed so far: its array header and whole arguments
	count int    // arguments it announces; 0 while the header is still to come
	spans []span // where the whole arguments parsed so far lie, from the request's start
}

// span locates one argument in a request: buf[off : off+n].
type span struct{ off, n int }

// Reset forgets a partly parsed request.
func (p *RequestParser) Reset() {
	p.pos, p.count, p.spans = 0, 0, p.spans[:0]
}

// Parse decodes the request at the front of buf and returns its arguments
// and the number of bytes it spans. The arguments alias buf and the
// parser's memory: they are valid until the buffer changes or Parse is
// called again. An empty request (a blank inline line, "*0") returns no
// arguments and n > 0: skip it. ErrIncomplete and ErrProtocol are as for
// [ReplyParser.Parse]; after ErrIncomplete, pass the same request again
// with more bytes (see [RequestParser]).
func (p *RequestParser) Parse(buf []byte) (args [][]byte, n int, err error) {
	p.args = p.args[:0]
	if len(buf) < p.pos {
		p.Reset() // not the request we were part way through: start over
	}
	if len(buf) == 0 {
		return nil, 0, ErrIncomplete
	}
	if buf[0] != '*' {
		return p.parseInline(buf)
	}
	if p.count == 0 {
		count, h, err := readHeader(buf)
		switch {
		case err != nil:
			return nil, 0, err
		case count <= 0:
			return p.args, h, nil // Redis ignores "*0" and "*-1" requests too
		case count > int64(orDefault(p.MaxArgs, DefaultMaxArgs)):
			return nil, 0, protocolError("request of %d arguments over the limit of %d", count, orDefault(p.MaxArgs, DefaultMaxArgs))
		}
		p.count, p.pos = int(count), h
	}
	maxBulk := orDefault(p.MaxBulk, DefaultMaxBulk)
	for len(p.spans) < p.count {
		rest := buf[p.pos:]
		if len(rest) == 0 {
			return nil, 0, ErrIncomplete
		}
		if rest[0] != '$' {
			p.Reset()
			return nil, 0, protocolError("expected '$' in request, got %q", rest[0])
		}
		size, h, err := readHeader(rest)
		if err == nil {
			switch {
			case size == -1:
				err = protocolError("null bulk string in request")
			case size < -1:
				err = protocolError("bad bulk length %d", size)
			case size > int64(maxBulk):
				err = protocolError("bulk length %d over the limit of %d", size, maxBulk)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrIncomplete) {
				p.Reset()
			}
			return nil, 0, err
		}
		// The header is re-read (at most maxHeaderLine bytes) while the
		// payload is incomplete; the payload itself is not scanned.
		end := h + int(size)
		if len(rest) < end+2 {
			return nil, 0, ErrIncomplete
		}
		if rest[end] != '\r' || rest[end+1] != '\n' {
			p.Reset()
			return nil, 0, protocolError("bulk string not ended by CRLF")
		}
		p.spans = append(p.spans, span{off: p.pos + h, n: int(size)})
		p.pos += end + 2
	}
	for _, s := range p.spans {
		p.args = append(p.args, buf[s.off:s.off+s.n:s.off+s.n])
	}
	n = p.pos
	p.Reset()
	return p.args, n, nil
}

// parseInline parses an inline request. The line is at most MaxInline
// bytes, so searching it again for its end on every call costs at most
// MaxInline per read; pos remembers how far the search has gone.
func (p *RequestParser) parseInline(buf []byte) ([][]byte, int, error) {
	max := orDefault(p.MaxInline, DefaultMaxLine)
	lim := buf
	if len(lim) > max+1 {
		lim = lim[:max+1]
	}
	i := bytes.IndexByte(lim[p.pos:], '\n')
	if i < 0 {
		if len(buf) >= max+1 {
			p.Reset()
			return nil, 0, protocolError("inline request longer than %d bytes", max)
		}
		p.pos = len(lim)
		return nil, 0, ErrIncomplete
	}
	i += p.pos
	p.Reset()
	// Like Redis, accept a bare LF: nc and scripts send one.
	line := buf[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	for len(line) > 0 {
		j := 0
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		line = line[j:]
		j = 0
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if j > 0 {
			p.args = append(p.args, line[:j:j])
		}
		line = line[j:]
	}
	return p.args, i + 1, nil
}
