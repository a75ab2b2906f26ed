// Package httpwire is the HTTP/1.1 wire format our hand-built servers share:
// an incremental request parser, a response writer, and the client half the
// load generator uses (a request writer and an incremental response parser).
//
// Everything works on byte slices and never does I/O, so the same code runs
// under a goroutine per connection and on an epoll loop. The parsers keep
// their state between calls: a caller appends what it read to its buffer and
// calls Parse again with the longer buffer; the parser resumes where it
// stopped, so the work is linear in the bytes received however they are
// split. Parsed values alias the buffer (no copy, no allocation) and are
// valid until the caller overwrites those bytes.
//
// The server half accepts a deliberately small HTTP/1.1:
//
//   - GET only. Another well-formed method gets 405 (with Allow: GET); a
//     malformed request line gets 400.
//   - origin-form targets ("/path?query"), printable ASCII only.
//   - HTTP/1.0 and HTTP/1.1 (HTTP/1.x with x > 1 is served as 1.1); another
//     major version gets 505.
//   - lines end in CRLF; a bare LF, obsolete line folding, a control
//     character or a space before a header's colon is 400.
//   - HTTP/1.1 requires exactly one Host header (RFC 9112, section 3.2).
//   - bodies are refused unless [Limits].MaxBody allows them: a request with
//     a Content-Length above it gets 413; any Transfer-Encoding gets 501 (no
//     chunked request bodies, which also closes the door on request
//     smuggling).
//   - limits on the request line (414 past it), the header section and the
//     header count (431 past either) are enforced as bytes arrive, so a
//     1 MB request line costs the server its limit, not a megabyte.
//   - pipelined requests are parsed one after another from the same buffer.
//
// Every refusal is an [*Error] carrying the status to send; the server
// answers it with [AppendError] (which says Connection: close) and closes
// the connection, since the rest of the stream cannot be trusted.
//
// A server's read loop:
//
//	var p httpwire.Parser
//	for {
//		req, n, err := p.Parse(buf)
//		if err == httpwire.ErrIncomplete {
//			break // read more, append to buf, call Parse again
//		}
//		var perr *httpwire.Error
//		if errors.As(err, &perr) {
//			out = httpwire.AppendError(out, perr)
//			// write out, then close the connection
//		}
//		out = httpwire.AppendResponse(out, req.Head(200, "text/plain", len(body)), body)
//		buf = buf[n:] // req aliases the bytes just dropped: use it first
//		if !req.KeepAlive {
//			// write out, then close
//		}
//	}
package httpwire
