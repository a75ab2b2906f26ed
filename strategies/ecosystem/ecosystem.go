// Package ecosystem registers the Go ecosystem's web servers (package
// serve/ecosystem: net/http, gnet v2, fasthttp) as serve-only strategies,
// so that serve mode measures them beside the strategies' own server models
// in the same cells, tables and charts:
//
//	concbench run --workloads serve --strategies reactor,nethttp,gnet,fasthttp gnet.loops=1,2
//
// They are server models and nothing else (strategies.Definition.ServeOnly):
// the harness never puts them in a closed batch's cells, and their Run
// refuses every job with ErrServeOnly. Their parameters are the servers'
// settings, so they name the cells as any strategy's do. They register
// when this package is imported (cmd/concbench imports it).
package ecosystem

import (
	"context"
	"errors"
	"fmt"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	eco "github.com/concbench/concbench/serve/ecosystem"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// ErrServeOnly is returned by the Run of a serve-only strategy: it has no
// model of a closed batch of tasks.
var ErrServeOnly = errors.New("a serve-only strategy runs no batch of tasks: it runs in serve cells (--workloads serve)")

// backendConns is the parameter every one of them has: the bound of its
// pool of backend connections (serve.BackendPool), as the goroutines
// strategy's conns bounds its own.
func backendConns() params.Spec {
	return params.Int("conns", serve.DefaultBackendConns, 1, 1<<16, "most backend connections, pooled across requests")
}

func init() {
	// Orders 70 to 90: after the strategies' own models (blocking 10 ...
	// simd 60), before the Python servers, which have none.
	strategies.Register(&strategies.Definition{
		Name:      "nethttp",
		Summary:   "net/http, a goroutine per connection, ServeMux, pooled backend connections",
		ServeOnly: true,
		Order:     70,
		Params:    []params.Spec{backendConns()},
		Make: func(p params.Set) (strategies.Strategy, error) {
			return server{"nethttp", eco.NetHTTP{BackendConns: p.Int("conns")}}, nil
		},
	})
	strategies.Register(&strategies.Definition{
		Name:      "gnet",
		Summary:   "gnet v2 event loops parsing HTTP/1.1, lookups on its goroutine pool, AsyncWrite",
		ServeOnly: true,
		Order:     80,
		Params: []params.Spec{
			params.Int("loops", eco.DefaultGnetLoops(), 1, 1024, "event loops (default GOMAXPROCS-1, at least 1: a P left for the lookups)"),
			backendConns(),
		},
		Make: func(p params.Set) (strategies.Strategy, error) {
			return server{"gnet", eco.Gnet{Loops: p.Int("loops"), BackendConns: p.Int("conns")}}, nil
		},
	})
	strategies.Register(&strategies.Definition{
		Name:      "fasthttp",
		Summary:   "valyala/fasthttp, a worker pool and reused request objects",
		ServeOnly: true,
		Order:     90,
		Params:    []params.Spec{backendConns()},
		Make: func(p params.Set) (strategies.Strategy, error) {
			return server{"fasthttp", eco.FastHTTP{BackendConns: p.Int("conns")}}, nil
		},
	})
}

// server is a reference server as a strategy: a serve.Server whose Run
// refuses.
type server struct {
	name string
	serve.Server
}

// Run implements strategies.Strategy: it refuses, with ErrServeOnly.
func (s server) Run(context.Context, *strategies.Job) error {
	return fmt.Errorf("%s: %w", s.name, ErrServeOnly)
}

// Concurrency implements strategies.Strategy: a serve-only strategy has no
// batch to bound.
func (server) Concurrency(*workloads.Spec) strategies.Concurrency { return strategies.Concurrency{} }

var (
	_ strategies.Strategy = server{}
	_ serve.Server        = server{}
)
