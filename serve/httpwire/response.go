package httpwire

import (
	"strconv"
	"time"
)

// ResponseHead is the status line and headers of a response framed by
// Content-Length (this package never writes chunked responses).
type ResponseHead struct {
	Status        int
	ContentType   string // omitted when empty
	ContentLength int
	// Close adds "Connection: close": the server closes the connection
	// after this response.
	Close bool
	// KeepAlive adds "Connection: keep-alive", which an HTTP/1.0 client
	// needs to keep the connection (ignored when Close is set).
	KeepAlive bool
	// Date, when set, is sent as the Date header: see [DateCache].
	Date []byte
	// Allow, when set, is sent as the Allow header (a 405 must have one).
	Allow string
}

// AppendResponseHead appends h as an HTTP/1.1 status line and headers,
// the empty line included, to dst.
func AppendResponseHead(dst []byte, h ResponseHead) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(h.Status), 10)
	dst = append(dst, ' ')
	dst = append(dst, StatusText(h.Status)...)
	dst = append(dst, "\r\n"...)
	if h.Date != nil {
		dst = append(dst, "Date: "...)
		dst = append(dst, h.Date...)
		dst = append(dst, "\r\n"...)
	}
	if h.ContentType != "" {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, h.ContentType...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(h.ContentLength), 10)
	dst = append(dst, "\r\n"...)
	if h.Allow != "" {
		dst = append(dst, "Allow: "...)
		dst = append(dst, h.Allow...)
		dst = append(dst, "\r\n"...)
	}
	switch {
	case h.Close:
		dst = append(dst, "Connection: close\r\n"...)
	case h.KeepAlive:
		dst = append(dst, "Connection: keep-alive\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// AppendResponse appends a whole response: h with ContentLength set to
// len(body), then body.
func AppendResponse(dst []byte, h ResponseHead, body []byte) []byte {
	h.ContentLength = len(body)
	dst = AppendResponseHead(dst, h)
	return append(dst, body...)
}

// AppendError appends the response to a refused request: e's status, its
// reason as a text body, and Connection: close (the caller closes the
// connection after writing it). date may be nil.
func AppendError(dst []byte, e *Error, date []byte) []byte {
	h := ResponseHead{Status: e.Status, ContentType: "text/plain; charset=utf-8",
		ContentLength: len(e.Reason) + 1, Close: true, Date: date}
	if e.Status == 405 {
		h.Allow = "GET"
	}
	dst = AppendResponseHead(dst, h)
	dst = append(dst, e.Reason...)
	return append(dst, '\n')
}

// StatusText returns the reason phrase of the statuses this project's
// servers send, "Status" for others (the phrase carries no meaning in
// HTTP/1.1: clients read the code).
func StatusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Status"
}

// DateCache formats the Date header (RFC 9110's IMF-fixdate) at most once a
// second. Origin servers with a clock must send Date; net/http and fasthttp
// do, so ours do too, for a fair byte count. A DateCache is not safe for
// concurrent use: keep one per connection or per event loop.
type DateCache struct {
	sec int64
	buf [len(time.RFC1123)]byte
	n   int
}

// Get returns the Date value for now; it aliases the cache until a later
// call with another second.
func (c *DateCache) Get(now time.Time) []byte {
	if s := now.Unix(); s != c.sec || c.n == 0 {
		c.sec = s
		c.n = len(now.UTC().AppendFormat(c.buf[:0], "Mon, 02 Jan 2006 15:04:05 GMT"))
	}
	return c.buf[:c.n]
}
