package simd

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/workloads"
)

// DefaultWindow is how long a lockstep server's batch gathers requests
// after its first by default: 200 µs, a fifth of the 1 ms backend latency
// of the I/O workloads, so that at a few thousand requests a second a batch
// holds several of them while the wait stays small beside the two lookups.
const DefaultWindow = 200 * time.Microsecond

// Serve implements serve.Server as a lockstep server (see lockstepServer)
// with the default window.
func (s *strategy) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	return s.server(DefaultWindow).Serve(ctx, ln, env)
}

// ServeParams implements serve.Tunable: the gathering window, a parameter
// of serve mode only (the closed workloads' batches are all ready at once).
func (s *strategy) ServeParams() []params.Spec {
	return []params.Spec{params.Duration("window", DefaultWindow, 0, 10*time.Second,
		"how long a batch gathers requests after its first before its lookups start")}
}

// WithServeParams implements serve.Tunable.
func (s *strategy) WithServeParams(set params.Set) (serve.Server, error) {
	return s.server(set.Duration("window")), nil
}

func (s *strategy) server(window time.Duration) *lockstepServer {
	return &lockstepServer{batch: s.batch, kernels: s.kernels, window: window, workers: runtime.GOMAXPROCS(0)}
}

// lockstepServer is the simd strategy's server: requests are gathered into
// batches and each batch moves through the page's steps in lockstep, as the
// closed strategy moves its batches of tasks.
//
// Each connection has a reader goroutine that reads and parses its
// requests (serve.ServeConn) and hands each to one shared queue. One worker
// a core takes from it: the first request opens a batch, which gathers
// whatever else arrives within the window of that request's arrival, up to
// batch requests (a full batch closes at once). Then the batch runs:
//
//  1. the session lookups of all its pages as one pipelined GET batch on
//     the worker's backend connection, the replies hashed together in
//     vector lanes (Kernels.FNV1aMany);
//  2. the user lookups likewise, each key named by its page's first reply;
//  3. the render of every page, its two hashes (the page head, then the
//     1 KiB table) taken across the pages in lanes (Kernels.FNV1aSeeded);
//
// and every reader gets its page at once. The trade-off shows in the
// latency figures: a request waits up to the window for its batch to close
// (the whole window when it comes alone, at low rates), then for the
// slowest lookup of the batch, then for the rest of the batch's render; in
// exchange a batch of n pages costs two backend round trips and one
// vectorised render, not 2n round trips and n scalar renders. While one
// worker's batch waits on the backend, another gathers the next.
//
// A key whose lookup fails (timeout, error or null reply, wrong size,
// broken connection) fails only its page (502); the others of the batch
// are answered.
type lockstepServer struct {
	batch   int
	kernels Kernels
	window  time.Duration
	workers int // one a core
}

// Serve implements serve.Server.
func (ls *lockstepServer) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	env, err := env.WithDefaults()
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("simd: %w", err)
	}
	nw := ls.workers
	backend := serve.NewBackendPool(env, nw) // a connection per worker
	defer backend.Close()
	var conns serve.ConnSet
	release := serve.OnDone(ctx, func() {
		_ = ln.Close()
		conns.CloseAll()
		backend.Close() // lookups in flight fail at once
	})
	defer release()

	sessionKeys := make([]string, env.Pages) // the routing table: made once, read by every worker
	for id := range sessionKeys {
		sessionKeys[id] = serve.SessionKey(id)
	}
	// The queue holds a full batch for every worker; past that, readers
	// wait on it in order.
	queue := make(chan *pageRequest, nw*ls.batch)
	var workers, readers sync.WaitGroup
	for range nw {
		w := newServeWorker(ls, env, backend, sessionKeys)
		workers.Go(func() { w.run(ctx, queue) })
	}
	defer func() {
		_ = ln.Close()
		conns.CloseAll()
		readers.Wait() // the workers answer what the readers wait for
		close(queue)
		workers.Wait()
	}()
	for {
		c, err := serve.Accept(ctx, ln, env.Logf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("simd: accept: %w", err)
		}
		if !conns.Add(c) {
			continue
		}
		readers.Go(func() {
			r := &pageRequest{done: make(chan struct{}, 1)}
			serve.ServeConn(c, env, func(dst []byte, id int) ([]byte, error) {
				r.id, r.body, r.err, r.arrived = id, dst, nil, time.Now()
				queue <- r
				<-r.done
				return r.body, r.err
			})
			conns.Remove(c)
		})
	}
}

// pageRequest is a reader's request on its way through a batch.
type pageRequest struct {
	id      int
	arrived time.Time
	body    []byte // the reader's buffer: the worker appends the page
	err     error
	done    chan struct{}
}

// serveWorker is one worker's state, reused batch after batch.
type serveWorker struct {
	ls          *lockstepServer
	env         serve.Env
	backend     *serve.BackendPool
	sessionKeys []string
	timer       *time.Timer

	batch  []*pageRequest
	live   []int    // positions in batch of the pages whose lookups have not failed
	keys   []string // of the lookup round, by position in live
	values []byte   // the round's replies, ValueSize each, by position in live
	msgs   [][]byte
	hashes []uint64
	sess   []uint64 // session hashes, by position in batch
	user   []uint64 // user hashes, likewise

	// The render's input and output, by position in live.
	ids    []int
	sh, uh []uint64
	sums   []serve.PageSums
	render renderBatch
}

func newServeWorker(ls *lockstepServer, env serve.Env, backend *serve.BackendPool, sessionKeys []string) *serveWorker {
	t := time.NewTimer(time.Hour)
	t.Stop()
	n := ls.batch
	return &serveWorker{ls: ls, env: env, backend: backend, sessionKeys: sessionKeys, timer: t,
		batch: make([]*pageRequest, 0, n), live: make([]int, 0, n), keys: make([]string, 0, n),
		values: make([]byte, n*env.ValueSize), msgs: make([][]byte, 0, n), hashes: make([]uint64, n),
		sess: make([]uint64, n), user: make([]uint64, n), sums: make([]serve.PageSums, n),
		ids: make([]int, 0, n), sh: make([]uint64, 0, n), uh: make([]uint64, 0, n),
		render: renderBatch{kernels: ls.kernels}}
}

// run takes batches from queue and answers them until queue closes.
func (w *serveWorker) run(ctx context.Context, queue <-chan *pageRequest) {
	for {
		first, ok := <-queue
		if !ok {
			return
		}
		w.batch = append(w.batch[:0], first)
		w.gather(queue, first.arrived.Add(w.ls.window))
		w.answer(ctx)
		for i, r := range w.batch {
			r.done <- struct{}{}
			w.batch[i] = nil
		}
	}
}

// gather adds to the batch the requests already queued, then those that
// arrive before deadline, until the batch is full.
func (w *serveWorker) gather(queue <-chan *pageRequest, deadline time.Time) {
	for len(w.batch) < w.ls.batch {
		select {
		case r, ok := <-queue:
			if !ok {
				return
			}
			w.batch = append(w.batch, r)
			continue
		default:
		}
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		w.timer.Reset(left)
		select {
		case r, ok := <-queue:
			w.timer.Stop()
			if !ok {
				return
			}
			w.batch = append(w.batch, r)
		case <-w.timer.C:
			return
		}
	}
}

// answer runs the batch's steps in lockstep and gives every request its
// page or its error.
func (w *serveWorker) answer(ctx context.Context) {
	w.live = w.live[:0]
	w.keys = w.keys[:0]
	for i, r := range w.batch {
		w.live = append(w.live, i)
		w.keys = append(w.keys, w.sessionKeys[r.id])
	}
	w.lookup(ctx, w.sess)
	w.keys = w.keys[:0]
	for _, i := range w.live {
		w.keys = append(w.keys, serve.UserKey(w.sess[i]))
	}
	w.lookup(ctx, w.user)
	w.ids, w.sh, w.uh = w.ids[:0], w.sh[:0], w.uh[:0]
	for _, i := range w.live {
		w.ids = append(w.ids, w.batch[i].id)
		w.sh = append(w.sh, w.sess[i])
		w.uh = append(w.uh, w.user[i])
	}
	sums := w.sums[:len(w.live)]
	w.render.run(w.ids, w.sh, w.uh, sums)
	for k, i := range w.live {
		r := w.batch[i]
		r.body = serve.AppendPageSums(r.body, r.id, sums[k])
	}
}

// lookup sends the round's keys (one for each live page) as one pipelined
// batch, hashes the replies together in lanes into into[page], and drops
// from live the pages whose lookup failed, recording their errors.
func (w *serveWorker) lookup(ctx context.Context, into []uint64) {
	size := w.env.ValueSize
	failed := false
	w.backend.GetMany(ctx, w.keys, func(k int, v []byte, err error) {
		if err == nil && len(v) != size {
			err = fmt.Errorf("%w: GET %s: reply of %d bytes, want %d", serve.ErrBackend, w.keys[k], len(v), size)
		}
		if err != nil {
			w.batch[w.live[k]].err = err
			failed = true
			return
		}
		copy(w.values[k*size:(k+1)*size], v)
	})
	if failed {
		w.env.Logf("simd: batch of %d: %v", len(w.batch), w.firstError())
	}
	w.msgs = w.msgs[:0]
	kept := w.live[:0]
	for k, i := range w.live {
		if w.batch[i].err == nil {
			w.msgs = append(w.msgs, w.values[k*size:(k+1)*size])
			kept = append(kept, i)
		}
	}
	w.live = kept
	w.ls.kernels.FNV1aMany(workloads.FNVOffset, w.msgs, w.hashes)
	for k, i := range w.live {
		into[i] = w.hashes[k]
	}
}

func (w *serveWorker) firstError() error {
	for _, r := range w.batch {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}
