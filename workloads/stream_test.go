package workloads

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/concbench/concbench/params"
)

func TestStreamBuild(t *testing.T) {
	t.Parallel()
	d, err := Lookup("stream")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		v               params.Values
		kernel          Kernel
		elements, tasks int
		memoryBytes     int64
	}{
		{params.Values{"bytes": "4000", "chunk": "100"}, KernelSum, 1000, 10, 4000},
		{params.Values{"bytes": "4004", "chunk": "300"}, KernelSum, 1001, 4, 4004},
		{params.Values{"op": "triad", "bytes": "1200", "chunk": "33"}, KernelTriad, 100, 4, 1200},
		{params.Values{"op": "triad", "bytes": "1210", "chunk": "1000"}, KernelTriad, 100, 1, 1200},
	}
	for _, tt := range tests {
		s, err := d.Build(tt.v)
		if err != nil {
			t.Fatalf("%v: %v", tt.v, err)
		}
		if len(s.Input.Stream.B) != tt.elements || len(s.Tasks) != tt.tasks || s.MemoryBytes != tt.memoryBytes {
			t.Errorf("%v: %d elements, %d tasks, %d bytes; want %d, %d, %d", tt.v,
				len(s.Input.Stream.B), len(s.Tasks), s.MemoryBytes, tt.elements, tt.tasks, tt.memoryBytes)
		}
		// The tasks cover every element once, in order.
		next := 0
		for i, task := range s.Tasks {
			st := task.Steps[0]
			if st.Kernel != tt.kernel || st.Lo != next || st.Hi <= st.Lo {
				t.Fatalf("%v: task %d is %v [%d, %d), want %v from %d", tt.v, i, st.Kernel, st.Lo, st.Hi, tt.kernel, next)
			}
			next = st.Hi
		}
		if next != tt.elements {
			t.Errorf("%v: tasks cover %d of %d elements", tt.v, next, tt.elements)
		}
	}
}

func TestStreamTriadWritesItsOutput(t *testing.T) {
	t.Parallel()
	d, _ := Lookup("stream")
	s, err := d.Build(params.Values{"op": "triad", "bytes": "1200", "chunk": "40"})
	if err != nil {
		t.Fatal(err)
	}
	in := &s.Input.Stream
	clear(in.A)
	for i := range s.Tasks {
		r, err := s.RunTask(i, Scalar, nil)
		if err != nil || s.Check(i, r) != nil {
			t.Fatalf("task %d: %v, %v", i, err, s.Check(i, r))
		}
	}
	for i := range in.A {
		if want := in.B[i] + TriadScale*in.C[i]; in.A[i] != want {
			t.Fatalf("a[%d] = %v, want %v", i, in.A[i], want)
		}
	}
}

func TestStreamRejectsBadParameters(t *testing.T) {
	t.Parallel()
	d, _ := Lookup("stream")
	for _, v := range []params.Values{
		{"op": "copy"},
		{"chunk": "0"},
		{"chunk": "262145"}, // above MaxStreamChunk: sums would no longer be exact
		{"bytes": "10"},
	} {
		if _, err := d.Build(v); !errors.Is(err, params.ErrInvalid) {
			t.Errorf("%v: %v, want an invalid-parameter error", v, err)
		}
	}
	if _, err := d.Build(params.Values{"op": "triad", "bytes": "64", "chunk": "1"}); err != nil {
		t.Errorf("triad over 64 bytes (5 elements of each array): %v", err)
	}
}

// The stream inputs make a chunk's sums exact, so a vector kernel's order
// of additions cannot change a bit.
func TestStreamSumsAreExactInAnyOrder(t *testing.T) {
	t.Parallel()
	b := exactFloats(MaxStreamChunk, 1)
	c := exactFloats(MaxStreamChunk, 2)
	a := make([]float32, len(b))
	for _, tt := range []struct {
		name string
		want float32
		term func(i int) float32
	}{
		{"sum", SumScalar(b), func(i int) float32 { return b[i] }},
		{"triad", TriadScalar(a, b, c, TriadScale), func(i int) float32 { return b[i] + TriadScale*c[i] }},
	} {
		perm := rand.New(rand.NewPCG(3, 4)).Perm(len(b))
		var lanes [16]float32
		for i, j := range perm {
			lanes[i%16] += tt.term(j)
		}
		var got float32
		for _, l := range lanes {
			got += l
		}
		if got != tt.want {
			t.Errorf("%s: permuted 16-lane sum %v != sequential %v", tt.name, got, tt.want)
		}
	}
}

// Every pass over dot's span reads each chunk once, and the passes start
// far apart, so concurrent passes do not read the same memory together.
func TestDotPassesAreRotated(t *testing.T) {
	t.Parallel()
	for _, chunks := range []int{1, 2, 16, 8192} {
		for pass := range 3 {
			seen := make([]int, 0, chunks)
			for i := pass * chunks; i < (pass+1)*chunks; i++ {
				seen = append(seen, dotChunk(i, chunks))
			}
			slices.Sort(seen)
			for j, c := range seen {
				if c != j {
					t.Fatalf("chunks=%d pass %d does not read every chunk once: %v", chunks, pass, seen)
				}
			}
		}
		if chunks >= 16 {
			d := (dotChunk(chunks, chunks) - dotChunk(0, chunks) + chunks) % chunks
			if d < chunks/4 || d > 3*chunks/4 {
				t.Errorf("chunks=%d: pass 1 starts %d chunks after pass 0, want about 0.6 of the span", chunks, d)
			}
		}
	}
}
