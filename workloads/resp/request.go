package resp

import "bytes"

// DefaultMaxArgs bounds the arguments of one request: enough for an MGET of
// a whole lockstep batch, and small enough that a hostile count is refused.
const DefaultMaxArgs = 1 << 20

// RequestParser decodes requests on the server side: arrays of bulk strings
// and inline commands ("PING\r\n", words separated by spaces or tabs, as
// typed into telnet; quoting is not supported). The zero value is ready to
// use with the default limits.
type RequestParser struct {
	MaxArgs   int // most arguments in one request; 0 means DefaultMaxArgs
	MaxBulk   int // largest argument; 0 means DefaultMaxBulk
	MaxInline int // longest inline request line; 0 means DefaultMaxLine

	args [][]byte // reused between calls
}

// Parse decodes the request at the front of buf and returns its arguments
// and the number of bytes it spans. The arguments alias buf and the
// parser's memory: they are valid until the buffer changes or Parse is
// called again. An empty request (a blank inline line, "*0") returns no
// arguments and n > 0: skip it. ErrIncomplete and ErrProtocol are as for
// [ReplyParser.Parse].
func (p *RequestParser) Parse(buf []byte) (args [][]byte, n int, err error) {
	p.args = p.args[:0]
	if len(buf) == 0 {
		return nil, 0, ErrIncomplete
	}
	if buf[0] != '*' {
		return p.parseInline(buf)
	}
	count, n, err := readHeader(buf)
	switch {
	case err != nil:
		return nil, 0, err
	case count <= 0:
		return p.args, n, nil // Redis ignores "*0" and "*-1" requests too
	case count > int64(orDefault(p.MaxArgs, DefaultMaxArgs)):
		return nil, 0, protocolError("request of %d arguments over the limit of %d", count, orDefault(p.MaxArgs, DefaultMaxArgs))
	}
	maxBulk := orDefault(p.MaxBulk, DefaultMaxBulk)
	for i := int64(0); i < count; i++ {
		rest := buf[n:]
		if len(rest) == 0 {
			return nil, 0, ErrIncomplete
		}
		if rest[0] != '$' {
			return nil, 0, protocolError("expected '$' in request, got %q", rest[0])
		}
		size, h, err := readHeader(rest)
		if err != nil {
			return nil, 0, err
		}
		if size == -1 {
			return nil, 0, protocolError("null bulk string in request")
		}
		arg, m, err := bulkPayload(rest, h, size, maxBulk)
		if err != nil {
			return nil, 0, err
		}
		p.args = append(p.args, arg)
		n += m
	}
	return p.args, n, nil
}

func (p *RequestParser) parseInline(buf []byte) ([][]byte, int, error) {
	max := orDefault(p.MaxInline, DefaultMaxLine)
	lim := buf
	if len(lim) > max+1 {
		lim = lim[:max+1]
	}
	i := bytes.IndexByte(lim, '\n')
	if i < 0 {
		if len(buf) >= max+1 {
			return nil, 0, protocolError("inline request longer than %d bytes", max)
		}
		return nil, 0, ErrIncomplete
	}
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
