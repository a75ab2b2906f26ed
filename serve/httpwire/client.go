package httpwire

import (
	"bytes"
	"errors"
	"fmt"
)

// AppendGet appends a keep-alive HTTP/1.1 GET of target to dst, with host
// as its Host header: the whole request a load generator sends.
func AppendGet(dst, target []byte, host string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\n\r\n"...)
}

// Response is a parsed response. Body aliases the buffer given to
// [ResponseParser.Parse].
type Response struct {
	Status int
	Body   []byte
	// Close reports that the server will close the connection after this
	// response ("Connection: close", or an HTTP/1.0 response without
	// "Connection: keep-alive").
	Close bool
}

// Response limits: a page of this benchmark is about 1 KiB.
const (
	DefaultMaxResponseHead = 16 << 10
	DefaultMaxResponseBody = 1 << 20
)

// ErrResponse is wrapped by every error of [ResponseParser.Parse] other
// than ErrIncomplete: the response is malformed or framed in a way this
// client does not read, and the connection cannot be reused.
var ErrResponse = errors.New("httpwire: bad response")

// ResponseParser parses responses incrementally, with the same contract as
// [Parser]: buf starts at the response's first byte and only grows between
// calls that return ErrIncomplete; each byte is examined once. It reads
// what this project's servers must send: a status line, headers, and a
// body framed by Content-Length (a response without one, or with a
// Transfer-Encoding, is an error: the serve contract requires
// Content-Length). The zero value uses the default limits.
type ResponseParser struct {
	MaxHead int // 0: DefaultMaxResponseHead
	MaxBody int // 0: DefaultMaxResponseBody

	inBody  bool
	scanned int
	line    int
	status  int
	minor   int
	length  int64
	close   bool
	keep    bool
	bodyEnd int
}

// Reset forgets a partly parsed response (a new connection).
func (p *ResponseParser) Reset() {
	h, b := p.MaxHead, p.MaxBody
	*p = ResponseParser{MaxHead: h, MaxBody: b}
}

// Parse parses the response at the front of buf and returns it with the
// number of bytes it took, ErrIncomplete, or an error wrapping ErrResponse.
func (p *ResponseParser) Parse(buf []byte) (Response, int, error) {
	maxHead := p.MaxHead
	if maxHead <= 0 {
		maxHead = DefaultMaxResponseHead
	}
	for !p.inBody {
		i := bytes.IndexByte(buf[p.scanned:], '\n')
		if i < 0 {
			p.scanned = len(buf)
			if len(buf) > maxHead {
				p.Reset()
				return Response{}, 0, fmt.Errorf("%w: head over %d bytes", ErrResponse, maxHead)
			}
			return Response{}, 0, ErrIncomplete
		}
		lf := p.scanned + i
		p.scanned = lf + 1
		if lf+1 > maxHead {
			p.Reset()
			return Response{}, 0, fmt.Errorf("%w: head over %d bytes", ErrResponse, maxHead)
		}
		if err := p.lineDone(buf, lf); err != nil {
			p.Reset()
			return Response{}, 0, err
		}
	}
	if len(buf) < p.bodyEnd {
		return Response{}, 0, ErrIncomplete
	}
	r := Response{Status: p.status, Body: buf[p.bodyEnd-int(p.length) : p.bodyEnd : p.bodyEnd]}
	if p.minor >= 1 {
		r.Close = p.close
	} else {
		r.Close = p.close || !p.keep
	}
	n := p.bodyEnd
	p.Reset()
	return r, n, nil
}

func (p *ResponseParser) lineDone(buf []byte, lf int) error {
	if lf == p.line || buf[lf-1] != '\r' {
		return fmt.Errorf("%w: line not ended by CRLF", ErrResponse)
	}
	line := buf[p.line : lf-1]
	first := p.line == 0
	p.line = lf + 1
	if first {
		p.length = -1
		// HTTP/1.1 200 OK
		if len(line) < 12 || string(line[:7]) != "HTTP/1." || !isDigit(line[7]) || line[8] != ' ' ||
			!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) || (len(line) > 12 && line[12] != ' ') {
			return fmt.Errorf("%w: status line %q", ErrResponse, clip(line))
		}
		p.minor = int(line[7] - '0')
		p.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
		if p.status < 200 {
			return fmt.Errorf("%w: informational status %d not expected", ErrResponse, p.status)
		}
		return nil
	}
	if len(line) == 0 {
		return p.endOfHead(lf + 1)
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return fmt.Errorf("%w: header line %q", ErrResponse, clip(line))
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	switch {
	case equalFold(name, "content-length"):
		n, ok := parseLength(value)
		if !ok || (p.length >= 0 && n != p.length) {
			return fmt.Errorf("%w: Content-Length %q", ErrResponse, clip(value))
		}
		p.length = n
	case equalFold(name, "transfer-encoding"):
		return fmt.Errorf("%w: Transfer-Encoding %q (the contract requires Content-Length)", ErrResponse, clip(value))
	case equalFold(name, "connection"):
		c, k := connectionTokens(value)
		p.close = p.close || c
		p.keep = p.keep || k
	}
	return nil
}

func (p *ResponseParser) endOfHead(next int) error {
	maxBody := p.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxResponseBody
	}
	switch {
	case p.status == 204 || p.status == 304:
		p.length = 0
	case p.length < 0:
		return fmt.Errorf("%w: status %d without Content-Length", ErrResponse, p.status)
	case p.length > int64(maxBody):
		return fmt.Errorf("%w: body of %d bytes, over %d", ErrResponse, p.length, maxBody)
	}
	p.inBody = true
	p.bodyEnd = next + int(p.length)
	return nil
}

func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
