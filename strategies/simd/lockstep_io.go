package simd

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/concbench/concbench/workloads"
)

// errNoBackend fails fetch steps of a spec that declares no backend.
var errNoBackend = errors.New("simd: fetch step in a workload without a backend")

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
			if len(w.fetches) > 0 {
				err = fmt.Errorf("simd: fetch step names backend %d of %d", b, len(w.fetches))
			}
			w.errs[k] = fmt.Errorf("task %d: %w", w.first+k, err)
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

// fetch sends backend b's group as one pipelined batch
// ([strategies.Conns.GetMany]) and folds each reply into its task. A key
// that gets no value (an error or null reply, a broken connection, a dead
// backend) or a reply of the wrong size fails only its task.
func (w *worker) fetch(ctx context.Context, b int) {
	g := &w.fetches[b]
	w.conns.GetMany(ctx, b, g.keys, func(i int, v []byte, err error) {
		k := g.tasks[i]
		if err == nil {
			err = w.cursors[k].Fetched(v)
		}
		if err != nil {
			w.errs[k] = fmt.Errorf("task %d: %w", w.first+k, err)
		}
	})
}
