package workloads

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/concbench/concbench/params"
)

// small are parameter values that keep every workload tiny for tests.
var small = map[string]params.Values{
	"noop":       {"tasks": "100"},
	"dot":        {"tasks": "64", "size": "100", "span": "1000"},
	"mandelbrot": {"width": "37", "rows": "9", "iter": "50"},
	"hash":       {"tasks": "50", "size": "13"},
	"fanout":     {"tasks": "20", "backends": "3"},
	"webrequest": {"tasks": "10"},
	"mixed":      {"tasks": "10", "cpu": "20us"},
	"stream":     {"op": "triad", "bytes": "12000", "chunk": "300"},
	"serve":      {"pages": "10", "latency": "0s"},
}

func buildSmall(t testing.TB, name string) *Spec {
	t.Helper()
	d, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Build(small[name])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEveryWorkloadBuildsAndChecks(t *testing.T) {
	t.Parallel()
	for _, d := range All() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			if _, ok := small[d.Name]; !ok {
				t.Fatalf("no small parameters for workload %s: add them to this test", d.Name)
			}
			s := buildSmall(t, d.Name)
			if len(s.Reference) != len(s.Tasks) || len(s.Tasks) == 0 {
				t.Fatalf("reference has %d results for %d tasks", len(s.Reference), len(s.Tasks))
			}
			const secret = 0x5eed
			s.UseSecret(secret)
			for i := range s.Tasks {
				r, err := s.RunTask(i, Scalar, &localValues{secret: secret, size: s.Backend.ValueSize})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Check(i, r); err != nil {
					t.Fatalf("rerun differs from reference: %v", err)
				}
			}
			if (s.Backend.Instances > 0) != (d.Class != ClassCPU) {
				t.Errorf("class %s but %d backend instances", d.Class, s.Backend.Instances)
			}
		})
	}
}

func TestCheckRejectsWrongResults(t *testing.T) {
	t.Parallel()
	s := buildSmall(t, "dot")
	ref := s.Reference[3]
	tests := []struct {
		name string
		r    Result
		ok   bool
	}{
		{"exact", ref, true},
		{"within tolerance", Result{Sum: ref.Sum, Value: ref.Value * (1 + 1e-7)}, true},
		{"value off", Result{Sum: ref.Sum, Value: ref.Value + 1.0/64}, false},
		{"sum off", Result{Sum: ref.Sum + 1, Value: ref.Value}, false},
	}
	for _, tt := range tests {
		err := s.Check(3, tt.r)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrWrongResult)) {
			t.Errorf("%s: Check = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// TestSkippingWorkChangesTheResult guards the contract: a strategy that skips
// a task, a step or a reply cannot produce the reference digest.
func TestSkippingWorkChangesTheResult(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"noop", "hash", "mandelbrot", "webrequest"} {
		s := buildSmall(t, name)
		if s.Reference[0] == s.Reference[1] {
			t.Errorf("%s: tasks 0 and 1 have equal results: a strategy could run one twice and skip the other", name)
		}
	}
	s := buildSmall(t, "webrequest")
	s.UseSecret(0)
	c := s.Cursor(0)
	if err := c.Fetched(Value("session:0", s.Backend.ValueSize)); err != nil {
		t.Fatal(err)
	}
	if err := c.Fetched(Value("user:wrong", s.Backend.ValueSize)); err != nil {
		t.Fatal(err)
	}
	c.Compute(Scalar)
	if err := s.Check(0, c.Result()); err == nil {
		t.Error("a wrong dependent lookup passed the check")
	}
	short := s.Cursor(0)
	if err := short.Fetched(make([]byte, 3)); err == nil {
		t.Error("a short reply was accepted")
	}
}

func TestDependentKeyComesFromTheReply(t *testing.T) {
	t.Parallel()
	s := buildSmall(t, "webrequest")
	c := s.Cursor(4)
	first := c.Key()
	reply := Value(first, s.Backend.ValueSize)
	if err := c.Fetched(reply); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Key(), DependentKey(FNV1aScalar(FNVOffset, reply)); got != want || !strings.HasPrefix(got, "user:") {
		t.Fatalf("dependent key = %q, want %q", got, want)
	}
	keys := s.Keys(0)
	if len(keys) != 2*len(s.Tasks) {
		t.Fatalf("Keys(0) = %d keys, want %d", len(keys), 2*len(s.Tasks))
	}
}

func TestDotSumsAreExactInAnyOrder(t *testing.T) {
	t.Parallel()
	d, _ := Lookup("dot")
	s, err := d.Build(params.Values{"tasks": "4", "size": "4096", "span": "16384"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Input.A[:4096], s.Input.B[:4096]
	want := DotScalar(a, b)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(len(a))
	var lanes [16]float32
	for i, j := range perm {
		lanes[i%16] += a[j] * b[j]
	}
	var got float32
	for _, l := range lanes {
		got += l
	}
	if got != want {
		t.Fatalf("permuted 16-lane sum %v != sequential %v: inputs do not make sums exact", got, want)
	}
}

func TestValueIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := Value("item:1", 100), Value("item:1", 100)
	if string(a) != string(b) || len(a) != 100 || string(a) == string(Value("item:2", 100)) {
		t.Fatal("Value is not a deterministic function of the key")
	}
	if strings.Trim(string(a), "abcdefghijklmnopqrstuvwxyz") != "" {
		t.Fatal("Value has bytes outside a-z")
	}
}

func TestLookupListsValidNames(t *testing.T) {
	t.Parallel()
	_, err := Lookup("nope")
	if !errors.Is(err, ErrUnknownWorkload) || !strings.Contains(err.Error(), "mandelbrot") {
		t.Fatalf("Lookup error = %v", err)
	}
	d, _ := Lookup("dot")
	if _, err := d.Build(params.Values{"size": "100", "span": "10"}); err == nil {
		t.Fatal("span < size accepted")
	}
	if _, err := d.Build(params.Values{"size": "1000000"}); !errors.Is(err, params.ErrInvalid) {
		t.Fatalf("size above the exactness limit: %v", err)
	}
}

func TestMandelbrotKnownValues(t *testing.T) {
	t.Parallel()
	// A 1-pixel image at c = 0 never escapes; at c = 2 it escapes at once
	// (|z1|² = 4 is not > 4, |z2|² = 36 is).
	g := &Mandelbrot{Width: 1, Height: 1, MaxIter: 100}
	if got := MandelbrotRowScalar(g, 0); got != 100 {
		t.Errorf("c=0: %d, want 100", got)
	}
	g.X0 = 2
	if got := MandelbrotRowScalar(g, 0); got != 2 {
		t.Errorf("c=2: %d, want 2", got)
	}
}
