// Package ecosystem holds the Go ecosystem's web servers as serve mode
// references: what a Go programmer would deploy instead of writing a
// server model by hand. Each serves the page endpoint of package serve
// with the same two backend lookups, and each implements serve.Server:
//
//   - NetHTTP: the standard library's net/http, a goroutine per connection,
//     a ServeMux route, a pool of backend connections.
//   - Gnet: gnet v2's event loops (epoll) parsing HTTP with serve/httpwire,
//     lookups on gnet's goroutine pool, answers by AsyncWrite.
//   - FastHTTP: valyala/fasthttp's worker pool and reused request objects.
//
// The backend pool (serve.BackendPool: at most BackendConns connections,
// dialled on demand, a request waiting for a free one up to the fetch
// timeout) is shared by the three and by the strategies' servers that
// block per request, so they differ in how they serve HTTP, not in how
// they reach the backend.
//
//	ref, _ := serve.NewReference(env.Pages, env.ValueSize, workloads.AppendValue)
//	for _, e := range ecosystem.Entries() {
//		r, err := serve.Start(ctx, e.Server, env, ref)
//		...
//	}
package ecosystem

import "github.com/concbench/concbench/serve"

// Entry names a reference server for listings and cell names.
type Entry struct {
	Name    string
	Summary string
	Server  serve.Server
}

// Entries returns the reference servers with their default settings.
func Entries() []Entry {
	return []Entry{
		{"nethttp", "net/http: a goroutine per connection, ServeMux, pooled backend connections", NetHTTP{}},
		{"gnet", "gnet v2 event loops parsing HTTP/1.1; lookups on a goroutine pool, AsyncWrite", Gnet{}},
		{"fasthttp", "valyala/fasthttp: a worker pool, reused request objects", FastHTTP{}},
	}
}
