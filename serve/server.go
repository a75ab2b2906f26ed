package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve/httpwire"
	"github.com/concbench/concbench/workloads/resp"
)

// Server is a web server model: something that serves the page endpoint.
// The Go ecosystem's servers (package serve/ecosystem) implement it, and so
// does every Go strategy's type (what its strategies.Definition's Make
// returns): a strategy serves when its instance is a Server.
type Server interface {
	// Serve serves the page endpoint on connections accepted from ln until
	// ctx is done. Then it closes ln and every connection, waits for every
	// goroutine and thread it started, and returns nil. It returns early,
	// with an error, only when it cannot serve at all.
	//
	// A server that must own its listening socket (gnet binds its own) may
	// close ln and listen on ln's address instead; it must then be
	// listening within a second. Callers wait for a verified page before
	// they send load ([Start] does), as they must anyway for a server
	// in another process.
	Serve(ctx context.Context, ln net.Listener, env Env) error
}

// ConnLimit is implemented by a server model that serves at most
// MaxConns client connections at once and leaves the others in the
// listener's accept backlog until one of its connections closes: the
// iterative server (1) and a thread per connection with a bound on
// threads. A client whose connection waits there is not answered at all
// in the meantime, keep-alive or not: the model's lesson, which a load
// generator with more connections than that shows as timeouts. Tools say
// so; the conformance suite (serve/servetest) opens no more connections
// at once than MaxConns.
type ConnLimit interface {
	// MaxConns returns the most connections served at once; 0 means no
	// bound.
	MaxConns() int
}

// Tunable is implemented by a server model with settings of its own that
// have no meaning outside serve mode, such as the simd server's gathering
// window. They are kept out of the strategy's parameters, which name its
// closed-batch cells and would change every one of them.
type Tunable interface {
	// ServeParams declares the serve-only parameters, with defaults.
	ServeParams() []params.Spec
	// WithServeParams returns the server configured by set, resolved
	// against ServeParams (params.Resolve).
	WithServeParams(set params.Set) (Server, error)
}

// ErrCannotServe is wrapped by Configure's error for a model that is not a
// Server (a strategy without a server model).
var ErrCannotServe = errors.New("serve: cannot serve")

// Configure returns model (a strategy's instance, say) as a Server, set up
// with its serve-only parameter values (values names only those: see
// Tunable.ServeParams), and those parameters resolved, for the cell's name.
// A model that is not a Tunable takes no values. The error wraps
// ErrCannotServe when model is not a Server, params.ErrUnknown or
// params.ErrInvalid for a bad value.
func Configure(model any, values params.Values) (Server, params.Set, error) {
	srv, ok := model.(Server)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %T has no server model", ErrCannotServe, model)
	}
	t, ok := srv.(Tunable)
	if !ok {
		if len(values) > 0 {
			_, err := params.Resolve(nil, values) // names the unknown parameter
			return nil, nil, err
		}
		return srv, nil, nil
	}
	set, err := params.Resolve(t.ServeParams(), values)
	if err != nil {
		return nil, nil, err
	}
	srv, err = t.WithServeParams(set)
	if err != nil {
		return nil, nil, err
	}
	return srv, set, nil
}

// Env is what a server needs to know: where the backend is, what the pages
// are, and its limits. Servers read it; they never change its slices.
type Env struct {
	// Backends are the RESP backends' host:port addresses. Every lookup
	// of a page goes to Backends[0], as the webrequest task's fetches do;
	// the list leaves room for sharded lookups later.
	Backends []string
	// Pages is the number of pages: ids [0, Pages) exist, others are 404.
	Pages int
	// ValueSize is the size of every backend value: a reply of another
	// size is a failed lookup (502).
	ValueSize int
	// Credentials are what every backend connection sends before its
	// first lookup (AUTH), when they are not None: a backend with a
	// password (redis://) or a token (concbench://). [BackendPool] logs
	// its connections in; an event loop queues Credentials.AppendAuth
	// ahead of a new socket's first request; a server in another process
	// gets them in its job line ([Job].Auth).
	Credentials resp.Credentials
	// FetchTimeout bounds one backend lookup; past it the lookup fails
	// (502). Zero means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Limits bound what clients may make a server hold.
	Limits Limits
	// Logf, if set, receives diagnostics (connections refused for
	// malformed requests, failed lookups). Servers must not log per
	// request in the steady state.
	Logf func(format string, args ...any)
}

// Limits bound what a client may make a server hold: how long it may take
// to send a request, and how large its head may be.
type Limits struct {
	// HeaderTimeout bounds the time from a request's first byte to the end
	// of its head: the slowloris bound. Zero means DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection. Zero means DefaultIdleTimeout. A load generator's
	// connections may idle between requests at low rates, so it is long.
	IdleTimeout time.Duration
	// Wire bounds the request line, header section and header count
	// (zero values: the httpwire defaults). Servers built on other
	// parsers apply MaxRequestLine + MaxHeaderBytes as their bound on a
	// request head.
	Wire httpwire.Limits
}

// Defaults of Env and Limits.
const (
	DefaultFetchTimeout  = 5 * time.Second
	DefaultHeaderTimeout = 5 * time.Second
	DefaultIdleTimeout   = 60 * time.Second
)

// WithDefaults returns env with zero limits and timeouts replaced by their
// defaults, or an error if env cannot be served.
func (env Env) WithDefaults() (Env, error) {
	switch {
	case len(env.Backends) == 0:
		return env, errors.New("serve: env has no backend")
	case env.Pages < 1:
		return env, fmt.Errorf("serve: env has %d pages", env.Pages)
	case env.ValueSize < 1:
		return env, fmt.Errorf("serve: env has values of %d bytes", env.ValueSize)
	case env.FetchTimeout < 0 || env.Limits.HeaderTimeout < 0 || env.Limits.IdleTimeout < 0:
		return env, errors.New("serve: env has a negative timeout")
	}
	if env.FetchTimeout == 0 {
		env.FetchTimeout = DefaultFetchTimeout
	}
	if env.Limits.HeaderTimeout == 0 {
		env.Limits.HeaderTimeout = DefaultHeaderTimeout
	}
	if env.Limits.IdleTimeout == 0 {
		env.Limits.IdleTimeout = DefaultIdleTimeout
	}
	w := &env.Limits.Wire
	if w.MaxRequestLine <= 0 {
		w.MaxRequestLine = httpwire.DefaultMaxRequestLine
	}
	if w.MaxHeaderBytes <= 0 {
		w.MaxHeaderBytes = httpwire.DefaultMaxHeaderBytes
	}
	if w.MaxHeaders <= 0 {
		w.MaxHeaders = httpwire.DefaultMaxHeaders
	}
	if env.Logf == nil {
		env.Logf = func(string, ...any) {}
	}
	return env, nil
}

// MaxHead is the largest request head (request line and headers) env
// allows: the bound for servers whose parser takes one number.
func (env Env) MaxHead() int {
	return env.Limits.Wire.MaxRequestLine + env.Limits.Wire.MaxHeaderBytes
}

// Running is a server started by Start.
type Running struct {
	addr   string
	cancel context.CancelFunc
	done   chan struct{} // closed when Serve has returned
	err    error         // Serve's error, once done is closed
}

// Start listens on a free loopback port, runs srv.Serve there, and returns
// once the server has answered page 0 as ref says it must (so a server
// still starting never meets the load). Stop it with Stop.
func Start(ctx context.Context, srv Server, env Env, ref *Reference) (*Running, error) {
	env, err := env.WithDefaults()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("serve: listen: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	r := &Running{addr: ln.Addr().String(), cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = srv.Serve(sctx, ln, env)
		close(r.done)
	}()
	pctx, pcancel := context.WithTimeout(ctx, StartTimeout)
	defer pcancel()
	if err := Probe(pctx, r.addr, ref, r.done); err != nil {
		cancel()
		<-r.done
		if r.err != nil {
			err = fmt.Errorf("%w (Serve returned: %w)", err, r.err)
		}
		return nil, err
	}
	return r, nil
}

// StartTimeout bounds Start's wait for a server to answer.
const StartTimeout = 10 * time.Second

// Addr returns the server's host:port.
func (r *Running) Addr() string { return r.addr }

// StopTimeout bounds the wait for Serve to return after Stop.
const StopTimeout = 10 * time.Second

// Stop cancels the server's context and waits for Serve to return; it
// returns Serve's error, or an error if Serve did not return within
// StopTimeout (a server that leaks).
func (r *Running) Stop() error {
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(StopTimeout):
		return fmt.Errorf("serve: server on %s did not stop within %v", r.addr, StopTimeout)
	}
}

// Probe requests page 0 from the server at addr until it answers 200 with
// the page ref expects, retrying while connections are refused or the
// answer is wrong, until ctx is done. If exited is closed first (the
// server's Serve returned), Probe gives up; exited may be nil.
func Probe(ctx context.Context, addr string, ref *Reference, exited <-chan struct{}) error {
	var last error
	for {
		if last = probeOnce(ctx, addr, ref); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("serve: server on %s not ready: %w (last try: %w)", addr, ctx.Err(), last)
		case <-exited:
			return fmt.Errorf("serve: server on %s exited before it answered", addr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func probeOnce(ctx context.Context, addr string, ref *Reference) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	if _, err := c.Write(httpwire.AppendGet(nil, AppendPath(nil, 0), addr)); err != nil {
		return err
	}
	var p httpwire.ResponseParser
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		resp, _, perr := p.Parse(buf)
		switch {
		case perr == nil && resp.Status != 200:
			return fmt.Errorf("page 0: status %d", resp.Status)
		case perr == nil:
			return ref.Verify(0, resp.Body)
		case !errors.Is(perr, httpwire.ErrIncomplete):
			return perr
		case err != nil:
			return err
		}
	}
}
