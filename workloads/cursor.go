package workloads

import (
	"errors"
	"fmt"
	"strconv"
)

// Fetcher performs one synchronous GET against backend instance backend.
// The returned slice is read before the next call, so it may alias a buffer
// the fetcher reuses.
type Fetcher interface {
	Get(backend int, key string) ([]byte, error)
}

// Cursor walks the steps of one task. Strategies that run a task as a state
// machine (the reactor, lockstep batches) drive it step by step; others call
// [Spec.RunTask]. The zero Cursor is not usable: start one with [Spec.Cursor].
type Cursor struct {
	spec      *Spec
	task      int
	step      int
	res       Result
	lastReply uint64
}

// Cursor returns a cursor at the first step of task i.
func (s *Spec) Cursor(i int) Cursor {
	return Cursor{spec: s, task: i}
}

// Task returns the index of the cursor's task.
func (c *Cursor) Task() int { return c.task }

// Done reports whether every step has run.
func (c *Cursor) Done() bool { return c.step >= len(c.spec.Tasks[c.task].Steps) }

// Step returns the current step.
func (c *Cursor) Step() *Step { return &c.spec.Tasks[c.task].Steps[c.step] }

// Result returns the task's result so far (final once Done).
func (c *Cursor) Result() Result { return c.res }

// Key returns the resolved key of the current fetch step.
func (c *Cursor) Key() string {
	st := c.Step()
	if st.KeyFromReply {
		return DependentKey(c.lastReply)
	}
	return st.Key
}

// DependentKey is the key a KeyFromReply step fetches, given the FNV-1a hash
// of the previous reply.
func DependentKey(prevReplyHash uint64) string {
	return "user:" + strconv.FormatUint(prevReplyHash, 16)
}

// Fetched folds the reply of the current fetch step into the result and
// advances. The reply's length must be the configured value size: a short
// or long reply is an error (the task is counted as failed).
func (c *Cursor) Fetched(reply []byte) error {
	if len(reply) != c.spec.Backend.ValueSize {
		return fmt.Errorf("fetch %q: reply of %d bytes, want %d", c.Key(), len(reply), c.spec.Backend.ValueSize)
	}
	h := FNV1aScalar(FNVOffset, reply)
	c.res.Sum = mix(c.res.Sum, h)
	c.lastReply = h
	c.step++
	return nil
}

// Compute runs the current compute step with k and advances.
func (c *Cursor) Compute(k Kernels) {
	st := c.Step()
	in := &c.spec.Input
	switch st.Kernel {
	case KernelNoop:
		c.res.Sum = mix(c.res.Sum, uint64(c.task))
	case KernelDot:
		c.res.Value += float64(k.Dot(in.A[st.Lo:st.Hi], in.B[st.Lo:st.Hi]))
	case KernelMandelbrot:
		c.res.Sum = mix(c.res.Sum, k.MandelbrotRow(in.Mandelbrot, st.Lo))
	case KernelHash:
		c.res.Sum = mix(c.res.Sum, k.FNV1a(FNVOffset, in.Message(st.Lo)))
	case KernelRender:
		c.res.Sum = mix(c.res.Sum, Render(k, c.task, c.res.Sum, c.lastReply))
	case KernelBurst:
		h := c.res.Sum
		for r := 0; r < st.Lo; r++ {
			h = k.FNV1a(h, burstBlock[:])
		}
		c.res.Sum = mix(c.res.Sum, h)
	case KernelSum:
		c.res.Value += float64(k.Sum(in.Stream.B[st.Lo:st.Hi]))
	case KernelTriad:
		s := &in.Stream
		c.res.Value += float64(k.Triad(s.A[st.Lo:st.Hi], s.B[st.Lo:st.Hi], s.C[st.Lo:st.Hi], TriadScale))
	default:
		panic(fmt.Sprintf("workloads: unknown kernel %v", st.Kernel))
	}
	c.step++
}

// ErrNoFetcher is wrapped by RunTask's error for a fetch step run without
// a Fetcher: a strategy's bug. Every fetch must go to the backend the job
// names; the values depend on a secret only the backend holds, so there is
// no local answer to fall back on.
var ErrNoFetcher = errors.New("fetch step run with no Fetcher: the strategy must fetch through the job's backends (strategies.Job.Dial), never answer locally")

// RunTask runs task i to completion: fetch steps through f, compute steps
// with k. A task with fetch steps needs f: with f nil its first fetch
// fails with ErrNoFetcher.
func (s *Spec) RunTask(i int, k Kernels, f Fetcher) (Result, error) {
	c := s.Cursor(i)
	for !c.Done() {
		st := c.Step()
		if st.Kind == StepCompute {
			c.Compute(k)
			continue
		}
		if f == nil {
			return c.res, fmt.Errorf("task %d step %d: GET %q: %w", i, c.step, c.Key(), ErrNoFetcher)
		}
		reply, err := f.Get(st.Backend, c.Key())
		if err != nil {
			return c.res, fmt.Errorf("task %d step %d: %w", i, c.step, err)
		}
		if err := c.Fetched(reply); err != nil {
			return c.res, fmt.Errorf("task %d step %d: %w", i, c.step, err)
		}
	}
	return c.res, nil
}

// Keys returns every key the tasks fetch from a backend holding secret
// (SecretValue; 0: plain Value), dependent keys included (they are named
// by the previous reply, so they depend on the secret), once each, in the
// order the tasks first fetch them. A loader for a real Redis stores
// SecretValue(secret, key, size) under each.
func (s *Spec) Keys(secret uint64) []string {
	local := &localValues{secret: secret, size: s.Backend.ValueSize}
	seen := map[string]bool{}
	var keys []string
	for i := range s.Tasks {
		c := s.Cursor(i)
		for !c.Done() {
			if c.Step().Kind == StepCompute {
				c.step++ // keys never depend on kernel output
				continue
			}
			k := c.Key()
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
			v, _ := local.Get(c.Step().Backend, k)
			_ = c.Fetched(v) // a locally made value always has the right size
		}
	}
	return keys
}
