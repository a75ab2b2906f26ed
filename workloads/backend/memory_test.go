package backend

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// neverReads opens a connection that pipelines GETs for as long as the
// server takes them and never reads a reply. blocked is closed once a write
// has waited for a second: the server has stopped reading from it (or was
// slow for that long; the tests wait for the budget to fill as well). stop closes the connection and waits for the
// writing goroutine.
func neverReads(t *testing.T, addr string) (blocked <-chan struct{}, stop func()) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var batch []byte
	for i := range 256 {
		batch = resp.AppendCommand(batch, "GET", "item:"+strconv.Itoa(i))
	}
	block := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		once := sync.OnceFunc(func() { close(block) })
		for {
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			n, err := nc.Write(batch)
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				once()
				batch = batch[n:] // keep the stream whole
				if len(batch) == 0 {
					return
				}
			case err != nil:
				return // closed by stop
			}
		}
	})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			nc.Close()
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return block, stop
}

// waitBlocked waits until the server has stopped reading from a client
// that never reads, for up to 20 seconds.
func waitBlocked(t *testing.T, blocked <-chan struct{}, what func() string) {
	t.Helper()
	select {
	case <-blocked:
	case <-time.After(20 * time.Second):
		t.Fatalf("the server never stopped reading from a client that never reads; %s", what())
	}
}

// The tests of clients that never read are not parallel: they keep the
// server busy for a second or so, which would stretch the other tests'
// injected delays.

// A client that pipelines GETs and never reads is held to the server's
// reply budget (the server stops reading from it), other connections are
// still served meanwhile, and everything it held is released when it goes.
func TestClientThatNeverReadsIsHeldToTheBudget(t *testing.T) {
	const budget, size = 1 << 20, 4096
	reply := len(resp.AppendBulkHeader(nil, size)) + size + 2
	s := start(t, Config{MaxQueuedBytes: budget, ValueSize: size, Latency: Constant(time.Millisecond)})
	blocked, stop := neverReads(t, s.Addr())
	// The socket buffers fill first, then the server's budget.
	waitBlocked(t, blocked, func() string { return s.Stats().String() })
	eventually(t, s, func(st Stats) bool { return st.QueuedBytes >= budget })

	good := dial(t, s, 10*time.Second)
	for i := range 20 {
		key := "good:" + strconv.Itoa(i)
		v, err := good.Get(key)
		if err != nil {
			t.Fatalf("a well-behaved client is not served while another never reads: %v", err)
		}
		if !bytes.Equal(v, workloads.Value(key, size)) {
			t.Fatalf("GET %s: wrong value", key)
		}
	}
	// Each of the two connections may pass the budget by one reply.
	if st := s.Stats(); st.PeakQueuedBytes > budget+2*int64(reply) {
		t.Fatalf("the server held %d bytes of replies at most, over its budget of %d (+ one %d-byte reply per connection)",
			st.PeakQueuedBytes, budget, reply)
	}
	stop()
	st := eventually(t, s, func(st Stats) bool { return st.ActiveConns == 1 && st.QueuedBytes == 0 })
	if st.InFlight != 0 {
		t.Fatalf("%d requests still in flight after the connection closed", st.InFlight)
	}
	if st.PeakQueuedBytes > budget+2*int64(reply) {
		t.Fatalf("peak %d bytes held, over the budget of %d", st.PeakQueuedBytes, budget)
	}
}

// The same at latency 0, where the reader writes replies itself: it blocks
// in its write, and the server still serves others.
func TestClientThatNeverReadsAtLatencyZero(t *testing.T) {
	const budget, size = 1 << 20, 4096
	s := start(t, Config{MaxQueuedBytes: budget, ValueSize: size})
	blocked, stop := neverReads(t, s.Addr())
	waitBlocked(t, blocked, func() string { return s.Stats().String() })
	good := dial(t, s, 10*time.Second)
	if _, err := good.Get("good"); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.PeakQueuedBytes > budget+2*flushBytes {
		t.Fatalf("peak %d bytes held at latency 0", st.PeakQueuedBytes)
	}
	stop()
	eventually(t, s, func(st Stats) bool { return st.ActiveConns == 1 && st.QueuedBytes == 0 && st.InFlight == 0 })
}

// rss returns the resident memory of process pid, from /proc.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// In a process of its own, the server's resident memory follows its reply
// budget while a client never reads (the unbounded backlog cost 1.3 GB for
// one such client), and goes back down once that client has gone (it used
// to stay up for as long as the server ran idle).
func TestServerMemoryIsBoundedAndGivenBack(t *testing.T) {
	if raceDetector {
		t.Skip("resident memory under the race detector is mostly its shadow memory; make test-nosimd runs this test without it")
	}
	const budget = 32 << 20
	addr, pid := childServer(t, "queued="+strconv.Itoa(budget)+",size=4096,latency=1ms")
	ctl, err := DialControl(context.Background(), addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	blocked, stop := neverReads(t, addr)
	waitBlocked(t, blocked, func() string { st, _ := ctl.Stats(); return st.String() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, err := ctl.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.QueuedBytes >= budget {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never filled its budget: %s", st)
		}
	}
	held := rss(t, pid)
	t.Logf("resident with %d MiB of replies held: %d MiB", budget>>20, held>>20)
	if held > 3*budget {
		t.Fatalf("resident memory %d MiB with a %d MiB reply budget", held>>20, budget>>20)
	}
	stop()
	for deadline := time.Now().Add(20 * time.Second); ; {
		st, err := ctl.Stats()
		if err != nil {
			t.Fatal(err)
		}
		now := rss(t, pid)
		if st.ActiveConns == 1 && now < budget {
			t.Logf("resident after the client left: %d MiB", now>>20)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("resident memory still %d MiB 20 s after the client left (%d MiB while it was there)", now>>20, held>>20)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
