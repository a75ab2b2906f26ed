package external

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// ProtocolVersion is the version of PROTOCOL.md a job message speaks.
const ProtocolVersion = 1

// The job message: one JSON line on the child's stdin. Field names and
// meanings are documented in PROTOCOL.md; keep the two in step.
type wireJob struct {
	Protocol       int               `json:"protocol"`
	Strategy       string            `json:"strategy"`
	Workload       string            `json:"workload"`
	WorkloadParams map[string]string `json:"workload_params"`
	Params         map[string]string `json:"params"`
	Backends       []string          `json:"backends"`
	// Auth is the AUTH every backend connection sends first (absent: none).
	Auth           *wireAuth `json:"auth,omitempty"`
	ValueSize      int       `json:"value_size"`
	FetchTimeoutNs int64     `json:"fetch_timeout_ns"`
	// Repeat is how many passes over Tasks the job is (absent: 1).
	Repeat int          `json:"repeat,omitempty"`
	Input  wireInput    `json:"input"`
	Tasks  [][]wireStep `json:"tasks"`
}

// wireAuth is the job line's "auth": a backend's credentials
// (resp.Credentials). It travels on the child's stdin, never on its
// command line.
type wireAuth struct {
	User     string `json:"user,omitempty"` // empty: AUTH password (the default user)
	Password string `json:"password"`
}

// wireAuthOf returns the job line's auth for c: nil when c asks for no AUTH.
func wireAuthOf(c resp.Credentials) *wireAuth {
	if c.None() {
		return nil
	}
	return &wireAuth{User: c.User, Password: c.Password}
}

// wireInput is the shared input, sent once. []byte fields travel as
// standard base64 (encoding/json's encoding of []byte).
type wireInput struct {
	A           []byte          `json:"a,omitempty"` // float32 little-endian
	B           []byte          `json:"b,omitempty"`
	Mandelbrot  *wireMandelbrot `json:"mandelbrot,omitempty"`
	Messages    []byte          `json:"messages,omitempty"`
	MessageSize int             `json:"message_size,omitempty"`
	BurstBlock  []byte          `json:"burst_block,omitempty"`
}

// wireMandelbrot carries the float32 geometry as JSON numbers: a float32
// widened to float64 is printed exactly (shortest round-trip form), so the
// child reads back the same float32.
type wireMandelbrot struct {
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	MaxIter int     `json:"max_iter"`
	X0      float64 `json:"x0"`
	Y0      float64 `json:"y0"`
	DX      float64 `json:"dx"`
	DY      float64 `json:"dy"`
}

type wireStep struct {
	Op           string `json:"op"` // "fetch" or "compute"
	Kernel       string `json:"kernel,omitempty"`
	Lo           int    `json:"lo,omitempty"`
	Hi           int    `json:"hi,omitempty"`
	Backend      int    `json:"backend,omitempty"`
	Key          string `json:"key,omitempty"`
	KeyFromReply bool   `json:"key_from_reply,omitempty"`
}

// wireLine is any line the child prints; exactly one of Ready, Task, Done
// and Fatal is set. Unknown fields are ignored, so a child may add
// information for people reading its output.
type wireLine struct {
	Ready   bool     `json:"ready"`
	Task    *int     `json:"task"`
	StartNs int64    `json:"start_ns"`
	EndNs   int64    `json:"end_ns"`
	Sum     *string  `json:"sum"`
	Value   *float64 `json:"value"`
	Error   string   `json:"error"`
	Done    bool     `json:"done"`
	Fatal   string   `json:"fatal"`
}

// ErrUnsupportedKernel is wrapped by the error of a job whose spec uses a
// kernel that protocol 1 does not carry.
var ErrUnsupportedKernel = errors.New("kernel not in the external protocol")

// newWireJob encodes spec and the job's connection facts for a child:
// backends holds one address for each of spec's backend instances
// ([strategies.Job.BackendAddrs]); repeat is the job's passes over the
// tasks (sent only when above 1, so a job of one pass reads as it did
// before the field existed). The
// stream workload's kernels are not part of protocol 1: their hundreds of
// MiB of arrays would travel through a pipe as base64, and a bandwidth
// figure of an interpreter says nothing about its concurrency model.
func newWireJob(strategy string, params map[string]string, backends []string, fetchTimeoutNs int64, repeat int, spec *workloads.Spec) (*wireJob, error) {
	w := &wireJob{
		Protocol:       ProtocolVersion,
		Strategy:       strategy,
		Workload:       spec.Workload,
		WorkloadParams: map[string]string{},
		Params:         params,
		Backends:       []string{},
		ValueSize:      spec.Backend.ValueSize,
		FetchTimeoutNs: fetchTimeoutNs,
		Tasks:          make([][]wireStep, len(spec.Tasks)),
	}
	if repeat > 1 {
		w.Repeat = repeat
	}
	for _, kv := range spec.Params {
		w.WorkloadParams[kv.Name] = kv.Value
	}
	if len(backends) > 0 {
		w.Backends = backends
	}
	in := &spec.Input
	w.Input.A, w.Input.B = float32Bytes(in.A), float32Bytes(in.B)
	if g := in.Mandelbrot; g != nil {
		w.Input.Mandelbrot = &wireMandelbrot{Width: g.Width, Height: g.Height, MaxIter: g.MaxIter,
			X0: float64(g.X0), Y0: float64(g.Y0), DX: float64(g.DX), DY: float64(g.DY)}
	}
	w.Input.Messages, w.Input.MessageSize = in.Messages, in.MessageSize
	burst := false
	for i, t := range spec.Tasks {
		steps := make([]wireStep, len(t.Steps))
		for j, st := range t.Steps {
			if st.Kind == workloads.StepFetch {
				steps[j] = wireStep{Op: "fetch", Backend: st.Backend, Key: st.Key, KeyFromReply: st.KeyFromReply}
				continue
			}
			if st.Kernel == workloads.KernelSum || st.Kernel == workloads.KernelTriad {
				return nil, fmt.Errorf("%w: %s (workload %s): external strategies run every workload but stream", ErrUnsupportedKernel, st.Kernel, spec.Workload)
			}
			steps[j] = wireStep{Op: "compute", Kernel: st.Kernel.String(), Lo: st.Lo, Hi: st.Hi}
			burst = burst || st.Kernel == workloads.KernelBurst
		}
		w.Tasks[i] = steps
	}
	if burst {
		w.Input.BurstBlock = workloads.BurstBlock()
	}
	return w, nil
}

func float32Bytes(fs []float32) []byte {
	if len(fs) == 0 {
		return nil
	}
	b := make([]byte, 0, 4*len(fs))
	for _, f := range fs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return slices.Clip(b)
}
