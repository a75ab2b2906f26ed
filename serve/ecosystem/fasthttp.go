package ecosystem

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/concbench/concbench/serve"
)

// FastHTTP serves the page endpoint with valyala/fasthttp: a pool of worker
// goroutines reused across connections, request and response objects
// reused across requests, no allocation in its own steady state. The
// lookups block the worker, with a pooled backend connection. Its zero
// value is ready to use.
//
// One goroutine outlives Serve: fasthttp's idle-worker cleaner notices the
// stop only between its sleeps (MaxIdleWorkerDuration, 10 s by default),
// and fasthttp offers no way to wait for it.
type FastHTTP struct {
	// Concurrency bounds the connections served at once (fasthttp's
	// worker pool; 0: fasthttp's default, 256 × 1024).
	Concurrency int
	// BackendConns bounds the backend connections (0: serve.DefaultBackendConns).
	BackendConns int
}

// maxRequestBody bounds a request body: GET has none, and fasthttp reads
// one only up to this.
const maxRequestBody = 1 << 10

// Serve implements serve.Server.
func (s FastHTTP) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	env, err := env.WithDefaults()
	if err != nil {
		_ = ln.Close()
		return err
	}
	pool := serve.NewBackendPool(env, s.BackendConns)
	defer pool.Close()
	bufs := sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}
	srv := &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) {
			id, ok := serve.ParseTarget(c.Path(), env.Pages)
			if !ok {
				c.Error(string(serve.NotFoundBody), fasthttp.StatusNotFound)
				return
			}
			bp := bufs.Get().(*[]byte)
			page, err := pool.Page(c, (*bp)[:0], id, env.ValueSize)
			if err != nil {
				env.Logf("fasthttp: page %d: %v", id, err)
				c.Error(string(serve.BadGatewayBody), fasthttp.StatusBadGateway)
			} else {
				c.SetContentType(serve.ContentType)
				c.SetBody(page) // copies
			}
			*bp = page
			bufs.Put(bp)
		},
		Name:               "fasthttp",
		Concurrency:        s.Concurrency,
		ReadBufferSize:     env.MaxHead(), // also fasthttp's bound on a request head
		ReadTimeout:        env.Limits.HeaderTimeout,
		IdleTimeout:        env.Limits.IdleTimeout,
		MaxRequestBodySize: maxRequestBody,
		GetOnly:            true,
		CloseOnShutdown:    true,
		Logger:             fasthttpLogger{env.Logf},
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("fasthttp: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*env.FetchTimeout+time.Second)
	defer cancel()
	serr := srv.ShutdownWithContext(sctx)
	if err := <-done; err != nil {
		return fmt.Errorf("fasthttp: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("fasthttp: shutdown: %w", serr)
	}
	return nil
}

type fasthttpLogger struct{ logf func(string, ...any) }

func (l fasthttpLogger) Printf(format string, args ...any) { l.logf("fasthttp: "+format, args...) }
