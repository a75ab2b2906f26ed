package simd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// errNoBackend fails fetch steps of a spec that declares no backend.
var errNoBackend = errors.New("simd: fetch step in a workload without a backend")

// links is one worker's connections, one a backend instance, owned by that
// worker. A connection that failed is closed and dialled again before its
// next use.
type links struct {
	addrs   []string
	timeout time.Duration
	clients []*resp.Client // nil: to be dialled before the next use
}

// dialLinks opens one connection to every backend of job. It is the
// worker's own Conns: the lockstep batches need the pipelined
// [resp.Client.GetMany], which [strategies.Conns] does not expose.
func dialLinks(ctx context.Context, job *strategies.Job) (*links, error) {
	n := job.Spec.Backend.Instances
	if len(job.Backends) < n {
		return nil, fmt.Errorf("simd: workload needs %d backends, job has %d addresses", n, len(job.Backends))
	}
	l := &links{addrs: job.Backends[:n], timeout: job.FetchTimeout, clients: make([]*resp.Client, n)}
	for b := range l.clients {
		if _, err := l.client(ctx, b); err != nil {
			l.close()
			return nil, err
		}
	}
	return l, nil
}

func (l *links) client(ctx context.Context, b int) (*resp.Client, error) {
	if l.clients[b] == nil {
		c, err := resp.Dial(ctx, l.addrs[b], l.timeout)
		if err != nil {
			return nil, fmt.Errorf("simd: dial backend %s: %w", l.addrs[b], err)
		}
		l.clients[b] = c
	}
	return l.clients[b], nil
}

// broken closes backend b's connection; the next use dials a new one.
func (l *links) broken(b int) {
	if c := l.clients[b]; c != nil {
		c.Close()
		l.clients[b] = nil
	}
}

func (l *links) close() {
	for b := range l.clients {
		l.broken(b)
	}
}

// maxReconnects is how many broken connections one backend's group of a
// round survives: each costs at most one fetch timeout (a stalled server).
const maxReconnects = 3

// fetchGroup is a round's fetch steps for one backend: the keys, and the
// positions of their tasks in the batch.
type fetchGroup struct {
	keys  []string
	tasks []int
}

// fetchRound runs the current fetch step of every unfinished task in the
// batch: one pipelined GetMany a backend, the backends concurrently (a
// worker's connections wait on different servers at once).
func (w *worker) fetchRound(ctx context.Context) {
	for b := range w.fetches {
		w.fetches[b].keys, w.fetches[b].tasks = w.fetches[b].keys[:0], w.fetches[b].tasks[:0]
	}
	busy := 0
	for k := range w.cursors {
		c := &w.cursors[k]
		if w.done[k] || w.errs[k] != nil || c.Done() || c.Step().Kind != workloads.StepFetch {
			continue
		}
		b := c.Step().Backend
		if b < 0 || b >= len(w.fetches) {
			err := errNoBackend
			if w.links != nil {
				err = fmt.Errorf("simd: fetch step names backend %d of %d", b, len(w.fetches))
			}
			w.errs[k] = fmt.Errorf("task %d: %w", c.Task(), err)
			continue
		}
		g := &w.fetches[b]
		if len(g.keys) == 0 {
			busy++
		}
		g.keys = append(g.keys, c.Key())
		g.tasks = append(g.tasks, k)
	}
	if busy == 0 {
		return
	}
	var wg sync.WaitGroup
	for b := range w.fetches {
		if len(w.fetches[b].keys) == 0 {
			continue
		}
		if busy--; busy == 0 {
			w.fetch(ctx, b) // the last group runs on the worker itself
			break
		}
		wg.Go(func() { w.fetch(ctx, b) })
	}
	wg.Wait()
}

// fetch sends backend b's group as pipelined GETs and folds each reply into
// its task. A reply that is an error (or the wrong size) fails only its
// task. After any error the connection is dialled again and the tasks whose
// replies had not arrived are resent (GET is idempotent). The task whose
// reply was being read when the connection broke (I/O error, timeout,
// protocol error) fails; after maxReconnects such breaks in one round the
// rest of the group fails too, so a dead or stalled backend costs a bounded
// number of timeouts, never a hang.
func (w *worker) fetch(ctx context.Context, b int) {
	g := &w.fetches[b]
	keys, tasks := g.keys, g.tasks
	for breaks := 0; len(keys) > 0; {
		cl, err := w.links.client(ctx, b)
		if err != nil {
			w.failAll(tasks, err)
			return
		}
		answered := 0
		err = cl.GetMany(keys, func(i int, v []byte) error {
			k := tasks[i]
			if err := w.cursors[k].Fetched(v); err != nil {
				w.errs[k] = fmt.Errorf("task %d: %w", w.cursors[k].Task(), err)
			}
			answered = i + 1
			return nil // never stop the batch: the other tasks' replies are fine
		})
		if err == nil {
			return
		}
		w.links.broken(b)
		k := tasks[answered]
		w.errs[k] = fmt.Errorf("task %d: %w", w.cursors[k].Task(), err)
		keys, tasks = keys[answered+1:], tasks[answered+1:]
		if !replyError(err) {
			if breaks++; breaks > maxReconnects {
				w.failAll(tasks, fmt.Errorf("connection lost %d times in one batch, last: %w", breaks, err))
				return
			}
		}
	}
}

func (w *worker) failAll(tasks []int, err error) {
	for _, k := range tasks {
		w.errs[k] = fmt.Errorf("task %d: %w", w.cursors[k].Task(), err)
	}
}

// replyError reports whether err is about one reply, with the connection
// itself healthy.
func replyError(err error) bool {
	var se *resp.ServerError
	return errors.As(err, &se) || errors.Is(err, resp.ErrNil)
}
