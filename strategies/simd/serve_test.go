package simd

import (
	"context"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/servetest"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads/backend"
)

// newServer makes the simd strategy with values and, with serveValues, its
// serve-only parameters, as the harness does.
func newServer(t testing.TB, values, serveValues params.Values) serve.Server {
	t.Helper()
	def, err := strategies.Lookup("simd")
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := def.New(values)
	if err != nil {
		t.Fatal(err)
	}
	srv, _, err := serve.Configure(s, serveValues)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// The lockstep server passes the conformance suite on every kernel path,
// with the default window, with none, and with batches of one.
func TestServeConformance(t *testing.T) {
	t.Parallel()
	type config struct {
		name          string
		values, serve params.Values
	}
	var configs []config
	for _, p := range Paths() {
		configs = append(configs, config{"path=" + string(p), params.Values{"path": string(p)}, nil})
	}
	configs = append(configs,
		config{"window=0", nil, params.Values{"window": "0s"}},
		config{"batch=1", params.Values{"batch": "1"}, params.Values{"window": "1ms"}})
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			servetest.Conformance(t, newServer(t, c.values, c.serve))
		})
	}
}

// Rendering in lanes gives serve.Sums's answer for every page, on every
// path, for batches of every size up to a few vectors' worth.
func TestRenderBatchMatchesSums(t *testing.T) {
	eachPath(t, func(t *testing.T, k Kernels) {
		rng := rand.New(rand.NewPCG(3, 4))
		b := renderBatch{kernels: k}
		for n := range 40 {
			ids := make([]int, n)
			sess, user := make([]uint64, n), make([]uint64, n)
			for i := range n {
				ids[i], sess[i], user[i] = rng.IntN(1_000_000), rng.Uint64(), rng.Uint64()
			}
			sums := make([]serve.PageSums, n)
			b.run(ids, sess, user, sums)
			for i := range n {
				if want := serve.Sums(ids[i], sess[i], user[i]); sums[i] != want {
					t.Fatalf("batch of %d, page %d: %+v, want %+v", n, i, sums[i], want)
				}
			}
		}
	})
}

// The window at work: a request that comes alone is held for the window
// before its lookups start (a lower bound, which a loaded machine can only
// lengthen); a batch that fills closes without waiting for it.
func TestServeWindow(t *testing.T) {
	t.Parallel()
	env, ref, _ := servetest.Env(t, 0)

	const window = 300 * time.Millisecond
	lone := servetest.Start(t, newServer(t, nil, params.Values{"window": window.String()}), env, ref)
	c := servetest.Dial(t, lone.Addr())
	c.ExpectPage(t, 1, ref) // connects the backend
	start := time.Now()
	c.ExpectPage(t, 2, ref)
	if took := time.Since(start); took < window {
		t.Errorf("a lone request answered in %v, inside the window of %v: nothing gathered it", took, window)
	}

	// One worker, batches of two and a window of a minute: the second
	// client is answered (with the first) only because it fills the
	// batch, which then closes at once.
	// (Served without serve.Start, whose probe would come alone.)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- (&lockstepServer{batch: 2, kernels: DefaultKernels(), window: time.Minute, workers: 1}).Serve(ctx, ln, env)
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	var wg sync.WaitGroup
	for k := range 2 {
		conn := servetest.Dial(t, ln.Addr().String())
		wg.Go(func() {
			if err := conn.Page(k, ref); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// A batch's lookups go out pipelined on its worker's backend connection:
// many clients at once, few backend connections (one a worker), and the
// backend sees several of a connection's requests in flight at once.
func TestServePipelinesEachBatch(t *testing.T) {
	t.Parallel()
	env, ref, b := servetest.Env(t, 5*time.Millisecond)
	r := servetest.Start(t, newServer(t, nil, params.Values{"window": "20ms"}), env, ref)
	before := b.Stats()
	var wg sync.WaitGroup
	for k := range 32 {
		conn := servetest.Dial(t, r.Addr())
		wg.Go(func() {
			if err := conn.Page(k, ref); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st := b.Stats()
	w := int64(runtime.GOMAXPROCS(0))
	if st.Conns > w {
		t.Errorf("%d backend connections for %d workers", st.Conns, w)
	}
	if st.MaxInFlight <= w {
		t.Errorf("at most %d lookups in flight on %d connections: the batches were not pipelined", st.MaxInFlight, st.Conns)
	}
	t.Logf("backend: %d connections, %d GETs (before: %d), at most %d in flight", st.Conns, st.Gets, before.Gets, st.MaxInFlight)
}

// Serve returns when its context ends, with a batch's lookups stalled on
// the backend, its readers waiting, and clients idle.
func TestServeStopsMidBatch(t *testing.T) {
	t.Parallel()
	env, ref, b := servetest.Env(t, 0)
	env.FetchTimeout = time.Minute // a stop must not wait for it
	r, err := serve.Start(context.Background(), newServer(t, nil, nil), env, ref)
	if err != nil {
		t.Fatal(err)
	}
	servetest.Dial(t, r.Addr()).ExpectPage(t, 1, ref)
	if err := b.SetLatency(backend.Constant(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		conn := servetest.Dial(t, r.Addr())
		go func() { _, _ = conn.Do(string(serve.AppendPath(nil, k))) }() // fails when the server stops
	}
	time.Sleep(50 * time.Millisecond) // let the batch reach the backend
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
}
