package strategies

import (
	"context"
	"net"

	"github.com/concbench/concbench/serve"
)

// Serve implements serve.Server as an iterative server, the serve-mode
// twin of one task after another: the calling goroutine accepts one
// connection, serves it until it is over (the client closes it, asks for
// close, idles past the idle timeout, or is refused), then accepts the
// next. Each request's two lookups block it, on the one backend
// connection the server holds.
//
// The lesson: while a connection is served, every other client waits in
// the listening socket's accept backlog. The kernel completed its
// handshake, so its requests are sent and sit unread in the socket's
// buffer, unanswered until every connection accepted before it has closed;
// with keep-alive that is when its client leaves or idles out. The server
// is fast for one client and answers no second one: a load generator with
// more than one connection sees its other connections time out.
func (blocking) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	s, err := listen(ctx, "blocking", ln, env, 1)
	if err != nil {
		return err
	}
	defer s.stop()
	page := s.pageFunc(ctx)
	for {
		c, err := s.accept(ctx)
		if c == nil {
			return err
		}
		s.serveConn(c, page)
	}
}

// MaxConns implements serve.ConnLimit: one connection at a time.
func (blocking) MaxConns() int { return 1 }
