// Package resp speaks RESP2, the Redis serialization protocol, for the
// built-in backend, its client and the epoll reactor.
//
// RESP2 has five kinds of value, each introduced by one byte and ended by
// CRLF: simple strings (+OK), errors (-ERR ...), integers (:42), bulk strings
// ($3 CRLF abc, or the null bulk $-1) and arrays (*2 followed by two values,
// or the null array *-1). A request is an array of bulk strings, or an
// "inline" line of space-separated words as telnet and nc send.
//
// The package has three parts:
//
//   - Append functions ([AppendCommand], [AppendBulk], [AppendInt], ...)
//     encode values onto a byte slice, so a caller can batch many requests or
//     replies into one write without allocating.
//   - Incremental parsers ([ReplyParser], [RequestParser]) decode one value
//     from the front of a buffer. Given a buffer that does not yet hold a
//     whole value they return [ErrIncomplete] and the caller reads more and
//     calls again with the longer buffer. That is what a non-blocking event
//     loop needs. The reply parser keeps no state between calls; the request
//     parser remembers how far it got through a partial request, so a
//     request of megabytes arriving in many reads is parsed in time linear
//     in its bytes. Parsed values alias the buffer (no copy, no allocation
//     for bulk strings); they are valid until the buffer is modified or the
//     parser is called again.
//   - A synchronous [Client] over one TCP connection, with a per-request
//     deadline, AUTH, and a pipelined [Client.GetMany].
//   - [Credentials], what every connection to a server with a password
//     sends first: [Client.Login] for the client, and
//     [Credentials.AppendAuth] with [CheckAuthReply] for an event loop that
//     writes its own requests.
//
// Parsing replies in an event loop:
//
//	var p resp.ReplyParser
//	buf = append(buf, readBytes...)
//	for {
//		r, n, err := p.Parse(buf)
//		if errors.Is(err, resp.ErrIncomplete) {
//			break // wait for more bytes
//		}
//		if err != nil {
//			return err // wraps resp.ErrProtocol: close the connection
//		}
//		handle(r) // r.Str aliases buf
//		buf = buf[n:]
//	}
//
// Using the client:
//
//	c, err := resp.Dial(ctx, "127.0.0.1:6379", time.Second)
//	if err != nil { ... }
//	defer c.Close()
//	v, err := c.Get("item:1") // v is valid until the next call on c
package resp
