package httpwire

import (
	"bytes"
	"errors"
)

// Default limits. They are those of common servers (nginx's
// large_client_header_buffers is 4 × 8 KiB; Go's net/http allows 1 MiB of
// headers) scaled to what a load generator and a browser send: a request of
// this benchmark is under 100 bytes.
const (
	DefaultMaxRequestLine = 8 << 10
	DefaultMaxHeaderBytes = 16 << 10
	DefaultMaxHeaders     = 64
)

// Limits bound what one request may hold. The zero value means the
// defaults and no body.
type Limits struct {
	// MaxRequestLine is the longest request line, CRLF included; longer
	// gets 414. 0 means DefaultMaxRequestLine.
	MaxRequestLine int
	// MaxHeaderBytes bounds the header section after the request line,
	// the empty line that ends it included; more gets 431. 0 means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header fields; more gets 431. 0
	// means DefaultMaxHeaders.
	MaxHeaders int
	// MaxBody is the largest request body accepted (Content-Length);
	// larger gets 413. 0 refuses every body: GET requests have none.
	MaxBody int
}

func (l Limits) withDefaults() Limits {
	if l.MaxRequestLine <= 0 {
		l.MaxRequestLine = DefaultMaxRequestLine
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxBody < 0 {
		l.MaxBody = 0
	}
	return l
}

// Request is a parsed request. Its slices alias the buffer given to
// [Parser.Parse].
type Request struct {
	// Target is the request-target as sent: an origin-form path with an
	// optional query ("/page/7?x=1"), never empty.
	Target []byte
	// Minor is the HTTP/1 minor version: 0 or 1 (HTTP/1.x with x > 1 is
	// reported as 1).
	Minor int
	// KeepAlive reports whether the connection may carry another request
	// after this one's response: HTTP/1.1 without "Connection: close", or
	// HTTP/1.0 with "Connection: keep-alive".
	KeepAlive bool
	// Body is the request body (only when Limits.MaxBody allows one).
	Body []byte
}

// Path returns Target without its query.
func (r *Request) Path() []byte {
	if i := bytes.IndexByte(r.Target, '?'); i >= 0 {
		return r.Target[:i]
	}
	return r.Target
}

// Head returns the head of a response to r: its Connection header follows
// r (close unless r keeps the connection alive; keep-alive spelled out for
// an HTTP/1.0 client that asked for it).
func (r *Request) Head(status int, contentType string, contentLength int) ResponseHead {
	return ResponseHead{
		Status:        status,
		ContentType:   contentType,
		ContentLength: contentLength,
		Close:         !r.KeepAlive,
		KeepAlive:     r.KeepAlive && r.Minor == 0,
	}
}

// ErrIncomplete is returned by the parsers when the buffer does not yet hold
// a whole message: read more, append it, and call Parse again.
var ErrIncomplete = errors.New("httpwire: incomplete message")

// Error is a request the server refuses. Answer it with [AppendError] and
// close the connection.
type Error struct {
	Status int    // the response status: 400, 405, 413, 414, 431, 501 or 505
	Reason string // a short explanation, sent as the response body
}

func (e *Error) Error() string { return "httpwire: " + StatusText(e.Status) + ": " + e.Reason }

// The refusals, allocated once: Parse never allocates.
var (
	errBadRequestLine  = &Error{400, "malformed request line"}
	errBadMethod       = &Error{400, "malformed method"}
	errBadTarget       = &Error{400, "malformed request target"}
	errBadVersion      = &Error{400, "malformed HTTP version"}
	errBareLF          = &Error{400, "line not ended by CRLF"}
	errBadHeader       = &Error{400, "malformed header field"}
	errObsFold         = &Error{400, "obsolete header line folding"}
	errBadLength       = &Error{400, "malformed Content-Length"}
	errTwoLengths      = &Error{400, "conflicting Content-Length headers"}
	errNoHost          = &Error{400, "HTTP/1.1 request without Host"}
	errTwoHosts        = &Error{400, "more than one Host header"}
	errMethod          = &Error{405, "only GET is served"}
	errBodyTooLarge    = &Error{413, "request body not accepted"}
	errLineTooLong     = &Error{414, "request line too long"}
	errHeadersTooLarge = &Error{431, "header section too large"}
	errTooManyHeaders  = &Error{431, "too many header fields"}
	errTransferCoding  = &Error{501, "Transfer-Encoding not supported"}
	errVersion         = &Error{505, "HTTP version not supported"}
)

type parseState uint8

const (
	stateRequestLine parseState = iota
	stateHeaders
	stateBody
)

// Parser parses requests incrementally. Set Limits before the first call;
// the zero Parser uses the defaults and refuses bodies. A Parser serves one
// connection; it is not safe for concurrent use.
//
// The contract with the caller: buf starts at the first byte of the request
// being parsed, and between calls that return ErrIncomplete the caller only
// appends to it (it may move the bytes to a new backing array, but not drop
// or change any). After a call returns a request or an *Error the parser
// starts afresh: the next request begins at buf[n:]. Every byte is examined
// once, however the input is split.
type Parser struct {
	Limits Limits

	started bool   // a request is under way: the fields below are valid
	lim     Limits // Limits with defaults, taken at the start of each request
	state   parseState
	scanned int // bytes of buf examined: no line break before it unaccounted for
	line    int // start of the current line
	heads   int // start of the header section
	headers int // header fields seen
	bodyEnd int

	target     [2]int
	minor      int
	length     int64 // -1: no Content-Length
	hosts      int
	close      bool // Connection: close
	keepAlive  bool // Connection: keep-alive
	transfer   bool // Transfer-Encoding present
	skippedCRL int  // empty lines skipped before the request line
}

// Reset forgets a partly parsed request (a new connection).
func (p *Parser) Reset() {
	lim := p.Limits
	*p = Parser{Limits: lim}
}

// Parse parses the request at the front of buf. It returns the request and
// the number of bytes it took (its body included), ErrIncomplete when buf
// holds only part of it, or an *Error when the request must be refused.
func (p *Parser) Parse(buf []byte) (req Request, n int, err error) {
	if !p.started {
		p.begin()
	}
	for {
		switch p.state {
		case stateRequestLine, stateHeaders:
			i := bytes.IndexByte(buf[p.scanned:], '\n')
			if i < 0 {
				p.scanned = len(buf)
				return Request{}, 0, p.incomplete(len(buf))
			}
			end := p.scanned + i // index of the LF
			p.scanned = end + 1
			if err := p.lineDone(buf, end); err != nil {
				p.Reset()
				return Request{}, 0, err
			}
			if p.state == stateRequestLine || p.state == stateHeaders {
				continue
			}
			if p.state != stateBody { // the request ended without a body
				return p.finish(buf, p.scanned)
			}
		case stateBody:
			if len(buf) < p.bodyEnd {
				return Request{}, 0, ErrIncomplete
			}
			return p.finish(buf, p.bodyEnd)
		default:
			return p.finish(buf, p.scanned)
		}
	}
}

// stateDone marks a request whose head ended with no body to read.
const stateDone parseState = 255

func (p *Parser) begin() {
	lim := p.Limits
	*p = Parser{Limits: lim, started: true, lim: lim.withDefaults(), length: -1}
}

// incomplete checks the limits against the bytes buffered so far, so an
// endless line is refused when it passes the limit, not when it ends.
func (p *Parser) incomplete(buffered int) error {
	switch p.state {
	case stateRequestLine:
		if buffered-p.line > p.lim.MaxRequestLine {
			p.Reset()
			return errLineTooLong
		}
	case stateHeaders:
		if buffered-p.heads > p.lim.MaxHeaderBytes {
			p.Reset()
			return errHeadersTooLarge
		}
	}
	return ErrIncomplete
}

// lineDone handles the line buf[p.line:lf].
func (p *Parser) lineDone(buf []byte, lf int) error {
	// The limits first: a line over its limit is refused whether or not
	// its end has arrived, so the outcome does not depend on read sizes.
	switch {
	case p.state == stateRequestLine && lf+1-p.line > p.lim.MaxRequestLine:
		return errLineTooLong
	case p.state == stateHeaders && lf+1-p.heads > p.lim.MaxHeaderBytes:
		return errHeadersTooLarge
	}
	if lf == p.line || buf[lf-1] != '\r' {
		return errBareLF
	}
	line := buf[p.line : lf-1]
	start := p.line
	p.line = lf + 1
	switch p.state {
	case stateRequestLine:
		if len(line) == 0 {
			// RFC 9112 section 2.2: a server SHOULD ignore at least one
			// empty line received before the request line. The skipped
			// lines count against the request line's limit.
			p.skippedCRL++
			if p.skippedCRL > 4 {
				return errBadRequestLine
			}
			p.line = lf + 1
			return nil
		}
		if err := p.requestLine(line, start); err != nil {
			return err
		}
		p.state = stateHeaders
		p.heads = lf + 1
	case stateHeaders:
		if len(line) == 0 {
			return p.endOfHead(lf + 1)
		}
		p.headers++
		if p.headers > p.lim.MaxHeaders {
			return errTooManyHeaders
		}
		return p.header(line)
	}
	return nil
}

// requestLine parses "GET /target HTTP/1.1"; off is line's offset in buf.
func (p *Parser) requestLine(line []byte, off int) error {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errBadRequestLine
	}
	method := line[:sp1]
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return errBadRequestLine
	}
	target, version := rest[:sp2], rest[sp2+1:]
	for _, c := range method {
		if !isTchar(c) {
			return errBadMethod
		}
	}
	if target[0] != '/' {
		return errBadTarget
	}
	for _, c := range target {
		if c <= ' ' || c >= 0x7f {
			return errBadTarget
		}
	}
	if len(version) != 8 || string(version[:5]) != "HTTP/" || version[6] != '.' ||
		!isDigit(version[5]) || !isDigit(version[7]) {
		return errBadVersion
	}
	if version[5] != '1' {
		return errVersion
	}
	p.minor = min(int(version[7]-'0'), 1)
	// The method is checked after the version so that a request we could
	// parse but do not serve gets 405, not 400.
	if string(method) != "GET" {
		return errMethod
	}
	p.target = [2]int{off + sp1 + 1, off + sp1 + 1 + sp2}
	return nil
}

// header parses one "Name: value" field.
func (p *Parser) header(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return errObsFold
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return errBadHeader
	}
	name := line[:colon]
	for _, c := range name {
		if !isTchar(c) {
			return errBadHeader
		}
	}
	value := trimOWS(line[colon+1:])
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return errBadHeader
		}
	}
	switch {
	case equalFold(name, "host"):
		p.hosts++
		if p.hosts > 1 {
			return errTwoHosts
		}
	case equalFold(name, "content-length"):
		n, ok := parseLength(value)
		if !ok {
			return errBadLength
		}
		if p.length >= 0 && p.length != n {
			return errTwoLengths
		}
		p.length = n
	case equalFold(name, "transfer-encoding"):
		p.transfer = true
	case equalFold(name, "connection"):
		c, k := connectionTokens(value)
		p.close = p.close || c
		p.keepAlive = p.keepAlive || k
	}
	return nil
}

// endOfHead validates the head once its empty line (ending at next) is in.
func (p *Parser) endOfHead(next int) error {
	switch {
	case p.transfer:
		return errTransferCoding
	case p.minor >= 1 && p.hosts == 0:
		return errNoHost
	case p.length > int64(p.lim.MaxBody):
		return errBodyTooLarge
	case p.length > 0:
		p.state = stateBody
		p.bodyEnd = next + int(p.length)
	default:
		p.state = stateDone
	}
	return nil
}

func (p *Parser) finish(buf []byte, end int) (Request, int, error) {
	req := Request{
		Target: buf[p.target[0]:p.target[1]:p.target[1]],
		Minor:  p.minor,
	}
	if p.minor >= 1 {
		req.KeepAlive = !p.close
	} else {
		req.KeepAlive = p.keepAlive && !p.close
	}
	if p.state == stateBody {
		req.Body = buf[end-int(p.length) : end : end]
	}
	lim := p.Limits
	*p = Parser{Limits: lim}
	return req, end, nil
}

// parseLength parses 1*DIGIT up to 18 digits (no sign, no list).
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// connectionTokens reports whether a Connection header's comma-separated
// list holds "close" and "keep-alive".
func connectionTokens(value []byte) (close, keepAlive bool) {
	for len(value) > 0 {
		var tok []byte
		if i := bytes.IndexByte(value, ','); i >= 0 {
			tok, value = trimOWS(value[:i]), value[i+1:]
		} else {
			tok, value = trimOWS(value), nil
		}
		switch {
		case equalFold(tok, "close"):
			close = true
		case equalFold(tok, "keep-alive"):
			keepAlive = true
		}
	}
	return close, keepAlive
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals the lowercase ASCII string s, ignoring
// ASCII case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isTchar reports whether c may appear in a token (RFC 9110, section 5.6.2).
func isTchar(c byte) bool { return c < 0x80 && tchar[c] }

var tchar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
