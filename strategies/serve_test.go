package strategies_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/servetest"
	"github.com/concbench/concbench/strategies"
	_ "github.com/concbench/concbench/strategies/reactor" // registers reactor
	_ "github.com/concbench/concbench/strategies/simd"    // registers simd
	"github.com/concbench/concbench/workloads/backend"
)

// label names a subtest by its parameters: "(max=2)".
func label(v params.Values) string {
	if len(v) == 0 {
		return ""
	}
	var parts []string
	for k, x := range v {
		parts = append(parts, k+"="+x)
	}
	slices.Sort(parts)
	return "(" + strings.Join(parts, ",") + ")"
}

// server makes strategy name with values and returns it as a server.
func server(t testing.TB, name string, values params.Values) serve.Server {
	t.Helper()
	def, err := strategies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := def.New(values)
	if err != nil {
		t.Fatal(err)
	}
	srv, ok := s.(serve.Server)
	if !ok {
		t.Fatalf("%s (%T) does not implement serve.Server", name, s)
	}
	return srv
}

// Every Go strategy has a server model: its instance is a serve.Server.
func TestEveryGoStrategyServes(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"blocking", "threads", "goroutines", "pool", "reactor", "simd"} {
		def, err := strategies.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if def.CheckAvailable() != nil {
			continue
		}
		s, _, err := def.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := serve.Configure(s, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Every model passes the conformance suite, at its defaults and at the
// smallest bounds (one backend connection, one worker, two threads: the
// suite then checks that the bound holds).
func TestServeConformance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		values params.Values
	}{
		{"blocking", nil},
		{"threads", nil},
		{"threads", params.Values{"max": "2"}},
		{"goroutines", nil},
		{"goroutines", params.Values{"conns": "1"}},
		{"pool", nil},
		{"pool", params.Values{"workers": "1"}},
	} {
		t.Run(c.name+label(c.values), func(t *testing.T) {
			t.Parallel()
			servetest.Conformance(t, server(t, c.name, c.values))
		})
	}
}

// The models that bound their connections say so, with the bound they
// keep; the others do not.
func TestServeConnLimits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		values params.Values
		want   int // 0: not a serve.ConnLimit
	}{
		{"blocking", nil, 1},
		{"threads", params.Values{"max": "7"}, 7},
		{"goroutines", params.Values{"conns": "1"}, 0},
		{"pool", params.Values{"workers": "1"}, 0},
	} {
		srv := server(t, c.name, c.values)
		got := 0
		if l, ok := srv.(serve.ConnLimit); ok {
			got = l.MaxConns()
		}
		if got != c.want {
			t.Errorf("%s %v: MaxConns %d, want %d", c.name, c.values, got, c.want)
		}
	}
}

// The lookups in flight are bounded where the model says: the goroutines'
// backend pool, the pool's workers. Eight clients ask at once with a
// backend slow enough that their lookups would overlap; the backend sees
// no more connections, and no more requests at once, than the bound. The
// unbounded row shows the overlap is there to be bounded.
func TestServeBoundsLookupsInFlight(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		values params.Values
		bound  int // the most lookups in flight; 0: expect more than 2
	}{
		{"goroutines", params.Values{"conns": "2"}, 2},
		{"pool", params.Values{"workers": "2"}, 2},
		{"goroutines", params.Values{"conns": "8"}, 0},
	} {
		t.Run(c.name+label(c.values), func(t *testing.T) {
			t.Parallel()
			env, ref, b := servetest.Env(t, 20*time.Millisecond)
			r := servetest.Start(t, server(t, c.name, c.values), env, ref)
			var wg sync.WaitGroup
			for i := range 8 {
				conn := servetest.Dial(t, r.Addr())
				wg.Go(func() {
					if err := conn.Page(i, ref); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			st := b.Stats()
			switch {
			case c.bound > 0 && (st.MaxInFlight > int64(c.bound) || st.Conns > int64(c.bound)):
				t.Errorf("backend saw %d requests in flight on %d connections, want at most %d", st.MaxInFlight, st.Conns, c.bound)
			case c.bound == 0 && st.MaxInFlight <= 2:
				t.Errorf("backend saw at most %d requests in flight: the clients' lookups did not overlap", st.MaxInFlight)
			}
		})
	}
}

// threads serves each connection on an OS thread of its own, which exits
// with it; goroutines parks them all on a few threads. Counted from the
// kernel's view of the process (Linux only), not timed.
func TestServeThreadPerConnection(t *testing.T) { // not parallel: it counts the process's threads
	if runtime.GOOS != "linux" {
		t.Skip("counts threads in /proc")
	}
	const n = 48
	for _, c := range []struct {
		name      string
		perThread bool
	}{{"threads", true}, {"goroutines", false}} {
		t.Run(c.name, func(t *testing.T) {
			env, ref, _ := servetest.Env(t, 0)
			r := servetest.Start(t, server(t, c.name, nil), env, ref)
			before := liveThreads(t)
			conns := make([]*servetest.Conn, n)
			for i := range conns {
				conns[i] = servetest.Dial(t, r.Addr())
				conns[i].ExpectPage(t, i, ref) // its server goroutine is running now
			}
			during := liveThreads(t)
			t.Logf("threads: %d before, %d with %d idle connections", before, during, n)
			if c.perThread && during < n {
				t.Fatalf("%d threads with %d connections open: not a thread per connection", during, n)
			}
			if !c.perThread && during-before >= n/2 {
				t.Fatalf("%d more threads for %d connections: goroutines should not need threads", during-before, n)
			}
			if !c.perThread {
				return
			}
			for _, conn := range conns {
				conn.Close()
			}
			// The threads exit with their connections (never unlocked,
			// never reused): the count comes down by most of n.
			deadline := time.Now().Add(10 * time.Second)
			for liveThreads(t) > during-n/2 {
				if time.Now().After(deadline) {
					t.Fatalf("threads %d after the connections closed, %d while open: the threads did not exit", liveThreads(t), during)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// liveThreads returns the process's thread count from /proc/self/status.
func liveThreads(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// pool takes requests, not connections: one worker serves more idle
// keep-alive clients than it has workers, each in turn.
func TestServePoolTakesRequestsNotConnections(t *testing.T) {
	t.Parallel()
	env, ref, _ := servetest.Env(t, 0)
	r := servetest.Start(t, server(t, "pool", params.Values{"workers": "1"}), env, ref)
	conns := make([]*servetest.Conn, 5)
	for i := range conns {
		conns[i] = servetest.Dial(t, r.Addr())
		conns[i].ExpectPage(t, i, ref)
	}
	for i, c := range conns { // every one of them is still served
		c.ExpectPage(t, 10+i, ref)
	}
}

// A pool request that waits for a worker is queued, not failed: the wait
// is the server's queueing, seen by the client as latency, while the fetch
// timeout bounds only the lookups (and a wait for a backend connection, of
// which each worker has its own). One worker, lookups of 100 ms and a fetch
// timeout of 300 ms: the fourth of four clients asking at once waits about
// 600 ms for the worker and still gets its page.
func TestServePoolQueueIsNotALookup(t *testing.T) {
	t.Parallel()
	env, ref, _ := servetest.Env(t, 100*time.Millisecond)
	env.FetchTimeout = 300 * time.Millisecond
	r := servetest.Start(t, server(t, "pool", params.Values{"workers": "1"}), env, ref)
	var wg sync.WaitGroup
	for k := range 4 {
		conn := servetest.Dial(t, r.Addr())
		wg.Go(func() {
			if err := conn.Page(k, ref); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// Serve returns once its context ends, with connections open and idle,
// mid-request on a stalled backend, and waiting in the backlog of a
// bounded server; goleak (TestMain) checks that nothing it started is
// left.
func TestServeStopsWithConnectionsOpen(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"blocking", "threads", "goroutines", "pool"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env, ref, b := servetest.Env(t, 0)
			env.FetchTimeout = time.Minute // a stop must not wait for it
			r, err := serve.Start(context.Background(), server(t, name, nil), env, ref)
			if err != nil {
				t.Fatal(err)
			}
			idle := servetest.Dial(t, r.Addr())
			idle.ExpectPage(t, 1, ref)
			if err := b.SetLatency(backend.Constant(time.Hour)); err != nil {
				t.Fatal(err)
			}
			busy, err := net.Dial("tcp", r.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			if _, err := busy.Write([]byte("GET /page/2 HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // let the request reach its lookup
			stopped := make(chan error, 1)
			go func() { stopped <- r.Stop() }()
			select {
			case err := <-stopped:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(serve.StopTimeout + time.Second):
				t.Fatal("Serve did not return")
			}
		})
	}
}
