package ecosystem

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/concbench/concbench/serve"
)

// NetHTTP serves the page endpoint with the standard library's net/http,
// as a Go service is usually written: a ServeMux route "GET /page/{id}", a
// goroutine per connection (net/http's model), and a pool of backend
// connections shared by all requests. Its zero value is ready to use.
type NetHTTP struct {
	// BackendConns bounds the backend connections (0: serve.DefaultBackendConns).
	BackendConns int
}

// Serve implements serve.Server.
func (s NetHTTP) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	env, err := env.WithDefaults()
	if err != nil {
		_ = ln.Close()
		return err
	}
	pool := serve.NewBackendPool(env, s.BackendConns)
	defer pool.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := serve.ParseID([]byte(r.PathValue("id")), env.Pages)
		if !ok {
			http.NotFound(w, r)
			return
		}
		page, err := pool.Page(r.Context(), nil, id, env.ValueSize)
		if err != nil {
			env.Logf("nethttp: page %d: %v", id, err)
			http.Error(w, string(serve.BadGatewayBody), http.StatusBadGateway)
			return
		}
		h := w.Header()
		h["Content-Type"] = contentType
		h["Content-Length"] = []string{strconv.Itoa(len(page))}
		_, _ = w.Write(page)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: env.Limits.HeaderTimeout,
		IdleTimeout:       env.Limits.IdleTimeout,
		MaxHeaderBytes:    env.MaxHead(),
		ErrorLog:          log.New(logfWriter(env.Logf), "nethttp: ", 0),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done: // Serve failed before ctx ended
		return fmt.Errorf("nethttp: %w", err)
	case <-ctx.Done():
	}
	// Shutdown closes the listener and the idle connections at once and
	// waits for requests in progress (each bounded by two lookups); Close
	// is the fallback if a lookup hangs past its timeout.
	sctx, cancel := context.WithTimeout(context.Background(), 2*env.FetchTimeout+time.Second)
	defer cancel()
	serr := srv.Shutdown(sctx)
	if serr != nil {
		serr = errors.Join(serr, srv.Close())
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("nethttp: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("nethttp: shutdown: %w", serr)
	}
	return nil
}

// contentType is shared by every response: net/http stores header values
// as slices, and one shared slice spares an allocation a request.
var contentType = []string{serve.ContentType}

// logfWriter sends a log.Logger's lines to Env.Logf.
type logfWriter func(string, ...any)

func (w logfWriter) Write(p []byte) (int, error) {
	w("%s", p)
	return len(p), nil
}
