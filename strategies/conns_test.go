package strategies_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

// oneBackend is a spec whose fetch steps use one backend instance: all
// that Job.Dial reads.
var oneBackend = &workloads.Spec{Backend: workloads.Backend{Instances: 1}}

// startStored starts the built-in backend with each of keys SET to a value
// of its own ("value of <key>"), so that replies are checked against what
// was stored, not against how the backend derives values.
func startStored(t *testing.T, keys []string) *backend.Server {
	t.Helper()
	s, err := backend.Start(context.Background(), backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cl, err := resp.Dial(context.Background(), s.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, k := range keys {
		if err := cl.Set(k, []byte(valueOf(k))); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func valueOf(key string) string { return "value of " + key }

// reply is what GetMany gave for one key.
type reply struct {
	calls int
	value string
	err   error
}

// getMany runs c.GetMany and returns what it gave each key, failing t
// unless fn was called once a key, in order.
func getMany(t *testing.T, c *strategies.Conns, keys []string) []reply {
	t.Helper()
	got := make([]reply, len(keys))
	next := 0
	c.GetMany(context.Background(), 0, keys, func(i int, v []byte, err error) {
		if i != next {
			t.Errorf("fn called for key %d, want %d: keys out of order", i, next)
		}
		next = i + 1
		got[i].calls++
		got[i].value, got[i].err = string(v), err
	})
	for i, r := range got {
		if r.calls != 1 {
			t.Fatalf("key %d (%q): fn called %d times, want once", i, keys[i], r.calls)
		}
	}
	return got
}

func dialOne(t *testing.T, addr string, timeout time.Duration) *strategies.Conns {
	t.Helper()
	c, err := strategies.NewJob(oneBackend, []string{addr}, timeout).Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestGetManyAnswersEveryKeyInOrderOnOneConnection(t *testing.T) {
	t.Parallel()
	keys := []string{"a", "b", "c", "a", "d", "e", "f", "g"} // a repeated key is asked twice
	s := startStored(t, keys)
	c := dialOne(t, s.Addr(), time.Second)
	for round := range 3 {
		for i, r := range getMany(t, c, keys) {
			if r.err != nil || r.value != valueOf(keys[i]) {
				t.Fatalf("round %d, key %q: %q, %v; want %q", round, keys[i], r.value, r.err, valueOf(keys[i]))
			}
		}
		if v, err := c.Get(0, "c"); err != nil || string(v) != valueOf("c") {
			t.Fatalf("round %d: Get(c) = %q, %v", round, v, err)
		}
	}
	getMany(t, c, nil) // nothing to send: no call, no error
	// Setup's connection plus the one Dial opened: batches and single
	// GETs share it.
	if got := s.Stats().Conns; got != 2 {
		t.Errorf("the backend accepted %d connections, want 2 (setup's and Dial's)", got)
	}
}

// TestBrokenConnectionIsRedialled stalls the backend far past the fetch
// timeout: each timeout breaks the connection, which is dialled again and
// the unanswered keys resent, up to the reconnect bound; once the backend
// answers in time again, the next call's fresh connection works.
func TestBrokenConnectionIsRedialled(t *testing.T) {
	t.Parallel()
	keys := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}
	s := startStored(t, keys)
	const timeout = 100 * time.Millisecond
	c := dialOne(t, s.Addr(), timeout)
	getMany(t, c, keys) // the connection is open and accepted
	before := s.Stats().Conns

	const stall = time.Minute
	if err := s.SetLatency(backend.Constant(stall)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := getMany(t, c, keys)
	const breaks = 4 // the first, and the three reconnects it survives
	for i, r := range got {
		switch {
		case r.err == nil:
			t.Fatalf("key %d answered %q through a stalled backend", i, r.value)
		case !errors.Is(r.err, os.ErrDeadlineExceeded):
			t.Errorf("key %d: %v, want a timeout", i, r.err)
		case i >= breaks && !strings.Contains(r.err.Error(), "connection lost 4 times"):
			t.Errorf("key %d: %v, want the batch given up after 4 broken connections", i, r.err)
		}
	}
	// Each break costs one timeout, never the stalled reply's wait.
	if el := time.Since(start); el > stall/2 {
		t.Errorf("a stalled backend held GetMany for %v (timeout %v)", el, timeout)
	}

	if err := s.SetLatency(backend.Constant(0)); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(0, "k1"); err != nil || string(v) != valueOf("k1") {
		t.Fatalf("Get after the backend recovered: %q, %v", v, err)
	}
	for i, r := range getMany(t, c, keys) {
		if r.err != nil || r.value != valueOf(keys[i]) {
			t.Fatalf("key %q after the backend recovered: %q, %v", keys[i], r.value, r.err)
		}
	}
	// One redial after each of the first three breaks, within the batch,
	// and one after the last, on the next use (the backend accepts in
	// order, and the last one has answered, so every one is counted).
	if d := s.Stats().Conns - before; d != breaks {
		t.Errorf("%d connections dialled after the stall began, want %d", d, breaks)
	}
}

func TestDeadBackendFailsEveryKeyOnce(t *testing.T) {
	t.Parallel()
	keys := []string{"x", "y", "z"}
	s := startStored(t, keys)
	c := dialOne(t, s.Addr(), time.Second)
	s.Close()
	start := time.Now()
	for i, r := range getMany(t, c, keys) {
		if r.err == nil {
			t.Errorf("key %d answered %q by a closed backend", i, r.value)
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("a closed backend held GetMany for %v", el)
	}
	if _, err := c.Get(0, "x"); err == nil {
		t.Error("Get answered by a closed backend")
	}
}

// scriptedServer answers GET on a real loopback socket with what the
// built-in backend never sends (it has a value for every key), as Redis
// does for a missing key or a failing command: a key that starts with
// "nil:" gets a null reply, one that starts with "err:" an error reply,
// and any other key its valueOf. It counts the connections it accepts.
type scriptedServer struct {
	ln       net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startScripted(t *testing.T) *scriptedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedServer{ln: ln}
	s.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return // closed
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, nc)
			s.mu.Unlock()
			s.wg.Go(func() { serveScripted(nc) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, nc := range s.conns {
			nc.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func serveScripted(nc net.Conn) {
	defer nc.Close()
	var (
		parser resp.RequestParser
		in     []byte
		out    []byte
		buf    = make([]byte, 4096)
	)
	for {
		n, err := nc.Read(buf)
		if n == 0 && err != nil {
			return
		}
		in = append(in, buf[:n]...)
		out = out[:0]
		for {
			args, used, err := parser.Parse(in)
			if errors.Is(err, resp.ErrIncomplete) {
				break
			}
			if err != nil {
				return
			}
			var key string
			if len(args) == 2 {
				key = string(args[1])
			}
			switch {
			case len(args) != 2 || !strings.EqualFold(string(args[0]), "GET"):
				out = resp.AppendError(out, "ERR only GET key is scripted")
			case strings.HasPrefix(key, "nil:"):
				out = resp.AppendNull(out)
			case strings.HasPrefix(key, "err:"):
				out = resp.AppendError(out, "ERR scripted failure of "+key)
			default:
				out = resp.AppendBulkString(out, valueOf(key))
			}
			in = append(in[:0], in[used:]...)
		}
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

func wantNil(err error) error {
	if !errors.Is(err, resp.ErrNil) {
		return fmt.Errorf("%v, want a null reply (resp.ErrNil)", err)
	}
	return nil
}

func wantServerError(err error) error {
	var se *resp.ServerError
	if !errors.As(err, &se) {
		return fmt.Errorf("%v, want an error reply (*resp.ServerError)", err)
	}
	return nil
}

// TestNullAndErrorRepliesKeepTheConnection: such a reply fails only its
// key, and the connection, still in step, serves the next requests.
func TestNullAndErrorRepliesKeepTheConnection(t *testing.T) {
	t.Parallel()
	s := startScripted(t)
	c := dialOne(t, s.ln.Addr().String(), time.Second)
	for _, key := range []string{"nil:a", "err:b"} {
		_, err := c.Get(0, key)
		check := wantNil
		if strings.HasPrefix(key, "err:") {
			check = wantServerError
		}
		if err := check(err); err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		if v, err := c.Get(0, "v"); err != nil || string(v) != valueOf("v") {
			t.Fatalf("Get after Get(%q): %q, %v", key, v, err)
		}
	}
	// Ending a batch, such a reply leaves no reply unread.
	for _, last := range []string{"nil:c", "err:d"} {
		got := getMany(t, c, []string{"v1", "v2", last})
		if got[0].err != nil || got[1].err != nil || got[2].err == nil {
			t.Fatalf("batch ending with %q: %+v", last, got)
		}
	}
	if v, err := c.Get(0, "v3"); err != nil || string(v) != valueOf("v3") {
		t.Fatalf("Get after the batches: %q, %v", v, err)
	}
	if n := s.accepted.Load(); n != 1 {
		t.Errorf("the server accepted %d connections, want 1: a null or error reply cost a connection", n)
	}
}

// TestNullAndErrorRepliesMidBatchFailOnlyTheirKey: the keys around them
// get their values, however many there are: such replies are not broken
// connections, so they never exhaust the reconnect bound.
func TestNullAndErrorRepliesMidBatchFailOnlyTheirKey(t *testing.T) {
	t.Parallel()
	s := startScripted(t)
	c := dialOne(t, s.ln.Addr().String(), time.Second)
	var keys []string
	for i := range 6 { // more than the reconnect bound allows breaks
		keys = append(keys, fmt.Sprintf("v%d", i), fmt.Sprintf("nil:%d", i), fmt.Sprintf("err:%d", i))
	}
	keys = append(keys, "last")
	for i, r := range getMany(t, c, keys) {
		var err error
		switch k := keys[i]; {
		case strings.HasPrefix(k, "nil:"):
			err = wantNil(r.err)
		case strings.HasPrefix(k, "err:"):
			err = wantServerError(r.err)
		case r.err != nil || r.value != valueOf(k):
			err = fmt.Errorf("%q, %v; want %q", r.value, r.err, valueOf(k))
		}
		if err != nil {
			t.Errorf("key %d (%q): %v", i, keys[i], err)
		}
	}
}

func TestDialNeedsAnAddressForEveryBackend(t *testing.T) {
	t.Parallel()
	spec := &workloads.Spec{Backend: workloads.Backend{Instances: 2}}
	job := strategies.NewJob(spec, []string{"127.0.0.1:1"}, time.Second)
	if _, err := job.Dial(context.Background()); err == nil || !strings.Contains(err.Error(), "needs 2 backends, job has 1") {
		t.Errorf("Dial with 1 address for 2 backends: %v", err)
	}
	if _, err := job.BackendAddrs(); err == nil {
		t.Error("BackendAddrs with 1 address for 2 backends: no error")
	}
	job = strategies.NewJob(spec, []string{"a:1", "b:2", "c:3"}, time.Second)
	if addrs, err := job.BackendAddrs(); err != nil || strings.Join(addrs, " ") != "a:1 b:2" {
		t.Errorf("BackendAddrs = %v, %v; want the first 2", addrs, err)
	}
}
