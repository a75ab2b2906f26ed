package workloads

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/concbench/concbench/params"
)

// StepKind says what a step does.
type StepKind uint8

const (
	// StepCompute runs a CPU kernel over part of the shared input.
	StepCompute StepKind = iota
	// StepFetch is one request/response round trip (RESP GET) to a backend.
	StepFetch
)

// Kernel names the CPU kernel of a compute step.
type Kernel uint8

const (
	KernelNoop       Kernel = iota // folds the task index: per-task overhead only
	KernelDot                      // Input.A[Lo:Hi] · Input.B[Lo:Hi]
	KernelMandelbrot               // row Lo of Input.Mandelbrot
	KernelHash                     // FNV-1a of message Lo of Input.Messages
	KernelRender                   // builds a response page from the task's replies and hashes it
	KernelBurst                    // Lo chained FNV-1a rounds over a 4 KiB block: a calibrated CPU burst
	KernelSum                      // sum of Input.Stream.B[Lo:Hi]
	KernelTriad                    // Input.Stream.A[Lo:Hi] = B + TriadScale·C over [Lo:Hi], summed
)

var kernelNames = [...]string{"noop", "dot", "mandelbrot", "hash", "render", "burst", "sum", "triad"}

func (k Kernel) String() string {
	if int(k) < len(kernelNames) {
		return kernelNames[k]
	}
	return fmt.Sprintf("kernel(%d)", k)
}

// Step is one unit of a task.
type Step struct {
	Kind   StepKind
	Kernel Kernel // compute steps
	Lo, Hi int    // compute steps: the kernel's range (see the Kernel constants)

	Backend int    // fetch steps: which backend instance (index into the harness's addresses)
	Key     string // fetch steps: the key; empty when KeyFromReply
	// KeyFromReply makes the key depend on the previous fetch's reply
	// ([DependentKey]): the strategy cannot issue this step before that
	// reply has arrived.
	KeyFromReply bool
}

// Task is one unit of work: steps executed in order.
type Task struct {
	Steps []Step
}

// Input is the data shared by all tasks. It is read-only while a cell runs,
// except Stream.A, which triad steps write: each task its own range, the
// same values every round.
type Input struct {
	A, B        []float32   // dot
	Mandelbrot  *Mandelbrot // mandelbrot
	Messages    []byte      // hash: message i is Messages[i*MessageSize:(i+1)*MessageSize]
	MessageSize int
	Stream      StreamArrays // stream
}

// StreamArrays are the stream workload's arrays, named as in McCalpin's
// STREAM: the sum kernel reads B; the triad reads B and C and writes A.
type StreamArrays struct {
	A, B, C []float32
}

// Message returns message i of the hash workload.
func (in *Input) Message(i int) []byte {
	return in.Messages[i*in.MessageSize : (i+1)*in.MessageSize]
}

// Backend describes the backend a spec's fetch steps need.
type Backend struct {
	Instances int           // distinct backend servers addressed by Step.Backend (0: no I/O)
	ValueSize int           // bytes in every value
	Latency   time.Duration // injected latency per request on the built-in backend
}

// Spec is a built workload: identical input for every strategy.
type Spec struct {
	Workload string
	Params   params.Set // resolved, in declared order; part of the cell name
	Tasks    []Task
	Input    Input
	Backend  Backend

	// Tolerance is the relative tolerance for Result.Value. The dot
	// workload's inputs make every sum exact (see Kernels.Dot), so the
	// tolerance is a stated safety margin, not slack a strategy lives on.
	Tolerance float64
	// Reference holds the scalar reference result of every task. The
	// results of fetch steps depend on the backend's secret (see
	// UseSecret): until the harness gives the spec the secret of the
	// backend that serves it, they are computed with a secret nobody
	// holds, so no result of a task that fetches can match them.
	Reference []Result
	// ReferenceTime is the wall time of the scalar reference on one core,
	// measured when the spec was built (a second, warm pass): the basis of
	// the CPU bound.
	ReferenceTime time.Duration
	// Notes are facts about this build worth recording with the run (for
	// example a calibration), as "key: value" file configuration.
	Notes []params.KV
	// MemoryBytes is the memory traffic of one round's compute steps,
	// counted as STREAM does (each element read or written counts once;
	// the read a cache's write-allocate adds is not counted), for
	// workloads whose kernels stream through arrays: dot and stream. The
	// harness reports MemoryBytes per second of wall time as B/s. Zero for
	// the other workloads.
	MemoryBytes int64

	// reference says which secret Reference was computed with (see
	// UseSecret). Unexported, so that a strategy, which sees the spec, has
	// no way to the backend's values but the backend.
	reference referenceSecret
}

// referenceSecret identifies the secret of a spec's reference results
// without holding it: a fingerprint, and whether it is the zero secret
// (plain values, workloads.Value).
type referenceSecret struct {
	given       bool   // UseSecret was called; before, a random secret nobody holds
	fingerprint uint64 // of the secret given
	zero        bool   // the secret given is 0: values are Value(key, size)
}

// fingerprintOf returns a value that tells secrets apart without giving
// one away: the hash of a value the secret derives.
func fingerprintOf(secret uint64) uint64 {
	return FNV1aScalar(FNVOffset, SecretValue(secret, "\x00concbench:reference", 32))
}

// Fetches returns the number of fetch steps over all tasks.
func (s *Spec) Fetches() int {
	n := 0
	for _, t := range s.Tasks {
		for _, st := range t.Steps {
			if st.Kind == StepFetch {
				n++
			}
		}
	}
	return n
}

// MaxFetchesPerTask returns the longest chain of fetch steps in one task.
func (s *Spec) MaxFetchesPerTask() int {
	most := 0
	for _, t := range s.Tasks {
		n := 0
		for _, st := range t.Steps {
			if st.Kind == StepFetch {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// Result is what one task produces.
type Result struct {
	Sum   uint64  // folded checksums of replies and integer kernel outputs
	Value float64 // sum of float kernel outputs (dot)
}

// ErrWrongResult is wrapped by Check when a task's result is not the reference.
var ErrWrongResult = fmt.Errorf("result differs from the scalar reference")

// ErrAnsweredLocally is wrapped by Check, besides ErrWrongResult, when a
// task's wrong result is exactly what its fetches give when answered with
// plain values (Value, no secret): the values a strategy can make without
// the backend. The backend that serves the spec holds a secret, so a
// strategy that produced them did not ask it.
var ErrAnsweredLocally = errors.New("the fetches were answered without the backend: the result is that of values made locally, without the backend's secret")

// Check compares the result of task i with the reference.
func (s *Spec) Check(i int, r Result) error {
	ref := s.Reference[i]
	if r.Sum != ref.Sum {
		return s.wrong(i, r, fmt.Errorf("task %d: %w: sum %#x, want %#x", i, ErrWrongResult, r.Sum, ref.Sum))
	}
	if !closeEnough(r.Value, ref.Value, s.Tolerance) {
		return s.wrong(i, r, fmt.Errorf("task %d: %w: value %g, want %g (relative tolerance %g)", i, ErrWrongResult, r.Value, ref.Value, s.Tolerance))
	}
	return nil
}

// wrong returns the error of task i's wrong result r, with what it shows
// about the task's fetches: that they were answered locally (r is the
// result of plain values while the backend holds a secret), or that the
// spec was never given the backend's secret. It is on the failure path
// only: it runs the task once more, with the scalar kernels.
func (s *Spec) wrong(i int, r Result, err error) error {
	if !s.taskFetches(i) {
		return err
	}
	if !s.reference.given {
		return fmt.Errorf("%w (the reference was computed with no backend's secret: whoever starts the backend must give the spec its secret with Spec.UseSecret)", err)
	}
	if s.reference.zero {
		return err
	}
	plain, perr := s.RunTask(i, Scalar, &localValues{size: s.Backend.ValueSize})
	if perr == nil && plain.Sum == r.Sum && closeEnough(r.Value, plain.Value, s.Tolerance) {
		return fmt.Errorf("%w: %w", err, ErrAnsweredLocally)
	}
	return err
}

// taskFetches reports whether task i has a fetch step.
func (s *Spec) taskFetches(i int) bool {
	for _, st := range s.Tasks[i].Steps {
		if st.Kind == StepFetch {
			return true
		}
	}
	return false
}

func closeEnough(got, want, tol float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= tol*math.Max(math.Abs(got), math.Abs(want))
}

// Digest folds the results of all tasks, in task order, into one value for
// display. Equality of digests is implied by equality of every task result,
// which is what the harness checks.
func Digest(results []Result) uint64 {
	h := FNVOffset
	for _, r := range results {
		h = mix(h, r.Sum)
		h = mix(h, math.Float64bits(float32Round(r.Value)))
	}
	return h
}

// float32Round drops float64 bits below float32 precision so that values
// within the dot workload's tolerance digest alike.
func float32Round(v float64) float64 { return float64(float32(v)) }

func mix(h, v uint64) uint64 {
	h ^= v
	h *= FNVPrime
	return h ^ h>>29
}

// UseSecret makes the reference results those of a backend holding secret
// (SecretValue; 0: plain Value): whoever starts the backends that serve
// the spec (the harness's backend providers) calls it with their secret
// before the spec's results are checked. The results of a spec without
// fetch steps do not depend on it. A second call with the same secret
// does nothing; another secret computes the results again.
//
// The secret itself is not kept: strategies see the spec, and the only
// way they may learn a value is to ask the backend for it. Not safe to
// call while the spec's results are being checked.
func (s *Spec) UseSecret(secret uint64) {
	if s.Fetches() == 0 {
		return
	}
	want := referenceSecret{given: true, fingerprint: fingerprintOf(secret), zero: secret == 0}
	if s.reference == want {
		return
	}
	if len(s.Reference) != len(s.Tasks) { // a spec made by hand, not built
		s.Reference = make([]Result, len(s.Tasks))
	}
	local := &localValues{secret: secret, size: s.Backend.ValueSize}
	for i := range s.Tasks {
		r, err := s.RunTask(i, Scalar, local)
		if err != nil { // cannot happen: local values have the right size
			panic(fmt.Sprintf("workloads: %s: reference task %d: %v", s.Workload, i, err))
		}
		s.Reference[i] = r
	}
	s.reference = want
}

// localValues answers fetches with the values a backend holding secret
// serves, computed here: the reference's fetcher. It is unexported: a
// strategy has no secret to give it, and must ask the backend.
type localValues struct {
	secret uint64
	size   int
	buf    []byte
}

func (l *localValues) Get(_ int, key string) ([]byte, error) {
	l.buf = AppendSecretValue(l.buf[:0], l.secret, key, l.size)
	return l.buf, nil
}

// measureReference computes the reference results (also warming caches and
// pages) and then times a second pass. Fetches are answered with the
// values of a fresh random secret that is then forgotten, so that until
// UseSecret gives the spec its backend's secret no fetching task can
// verify.
func (s *Spec) measureReference() error {
	s.Reference = make([]Result, len(s.Tasks))
	local := &localValues{secret: NewSecret(), size: s.Backend.ValueSize}
	for pass := 0; pass < 2; pass++ {
		start := time.Now()
		for i := range s.Tasks {
			r, err := s.RunTask(i, Scalar, local)
			if err != nil {
				return fmt.Errorf("%s: reference task %d: %w", s.Workload, i, err)
			}
			s.Reference[i] = r
		}
		s.ReferenceTime = time.Since(start)
	}
	s.reference = referenceSecret{}
	return nil
}
