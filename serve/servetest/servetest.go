package servetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/httpwire"
	"github.com/concbench/concbench/serve/loadgen"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
)

// Test sizes: enough pages that ids of several digits occur, values of the
// webrequest workload's size.
const (
	Pages     = 100
	ValueSize = 128
	// HeaderTimeout is the slowloris bound servers get in these tests:
	// short, so the test is quick, and far above a request's arrival even
	// on a machine loaded by the race detector and other tests.
	HeaderTimeout = time.Second
)

// Env starts an in-process backend with the given latency (closed when the
// test ends) and returns the env servers get in these tests and the
// reference for it.
func Env(t testing.TB, latency time.Duration) (serve.Env, *serve.Reference, *backend.Server) {
	t.Helper()
	return EnvWith(t, backend.Config{Latency: backend.Constant(latency)})
}

// EnvWith is Env with a backend configured by cfg (its ValueSize is set to
// ValueSize).
func EnvWith(t testing.TB, cfg backend.Config) (serve.Env, *serve.Reference, *backend.Server) {
	t.Helper()
	cfg.ValueSize = ValueSize
	b, err := backend.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ref, err := serve.NewReference(Pages, ValueSize, workloads.AppendValue)
	if err != nil {
		t.Fatal(err)
	}
	env := serve.Env{Backends: []string{b.Addr()}, Pages: Pages, ValueSize: ValueSize,
		FetchTimeout: 2 * time.Second,
		Limits:       serve.Limits{HeaderTimeout: HeaderTimeout, IdleTimeout: 10 * time.Second},
		Logf:         t.Logf}
	return env, ref, b
}

// Start starts srv with env and stops it when the test ends, failing the
// test if it does not stop cleanly.
func Start(t testing.TB, srv serve.Server, env serve.Env, ref *serve.Reference) *serve.Running {
	t.Helper()
	r, err := serve.Start(context.Background(), srv, env, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return r
}

// Load sends rate requests a second for d to addr (open loop) and fails the
// test unless every response was verified.
func Load(t testing.TB, addr string, ref *serve.Reference, rate float64, d time.Duration) *loadgen.Result {
	t.Helper()
	return LoadConns(t, addr, ref, rate, d, 0)
}

// LoadConns is Load on at most conns connections (0: the generator's
// default): a server that serves fewer connections at once than the
// generator opens leaves the others unanswered (see serve.ConnLimit).
func LoadConns(t testing.TB, addr string, ref *serve.Reference, rate float64, d time.Duration, conns int) *loadgen.Result {
	t.Helper()
	// A generous timeout: a test asserts that every response is right, not
	// how fast it came (the machine may be loaded by other tests).
	res, err := loadgen.Run(context.Background(), loadgen.Config{Addr: addr, Rate: rate, Conns: conns,
		Warmup: 50 * time.Millisecond, Duration: d, Timeout: 10 * time.Second, MaxLag: time.Minute}, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Failed() != 0 || res.OK != res.Scheduled || res.Scheduled == 0 {
		t.Fatalf("ok %d of %d; errors %v: %v", res.OK, res.Scheduled, res.Errors, res.ErrorSamples)
	}
	return res
}

// Conformance runs every check against srv.
//
// A server that serves a bounded number of connections at once
// (serve.ConnLimit) is checked within its bound: the load comes on at
// most that many connections, a bad input's witness connection (the proof
// that other connections go on) is held beside it only where the bound
// allows two, else opened after it, and a bound of up to 8 is checked to
// hold (ConnLimitHolds).
func Conformance(t *testing.T, srv serve.Server) {
	limit := maxConns(srv)
	env, ref, _ := Env(t, time.Millisecond)
	r := Start(t, srv, env, ref)
	t.Run("endpoint", func(t *testing.T) { Endpoint(t, r.Addr(), ref) })
	t.Run("load", func(t *testing.T) { LoadConns(t, r.Addr(), ref, 200, 500*time.Millisecond, limit) })
	t.Run("bad input", func(t *testing.T) { badInput(t, r.Addr(), ref, limit == 0 || limit >= 2) })
	if limit > 0 && limit <= 8 {
		t.Run("connection limit", func(t *testing.T) { ConnLimitHolds(t, r.Addr(), ref, limit) })
	}
	t.Run("backend gone", func(t *testing.T) { BackendGone(t, srv) })
	t.Run("backend faults", func(t *testing.T) { BackendFaults(t, srv, limit) })
}

// BackendFaults checks a server whose backend fails some lookups (resets,
// replies cut short, stalls past the fetch timeout, drawn with a fixed
// seed) while clients keep asking on min(4, conns) connections at once
// (conns: the server's bound, 0 for none): every answer is the verified
// page or a 502, no connection is closed, both occur, and pages keep
// coming to the end (a server that kept its broken backend connections
// would answer only 502 once each had failed).
func BackendFaults(t *testing.T, srv serve.Server, conns int) {
	env, ref, _ := EnvWith(t, backend.Config{Seed: 7,
		Faults: backend.Faults{Reset: 0.05, PartialClose: 0.05, Stall: 0.01}})
	env.FetchTimeout = 300 * time.Millisecond
	r := Start(t, srv, env, ref)
	if conns <= 0 || conns > 4 {
		conns = 4
	}
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for k := range conns {
		c := Dial(t, r.Addr())
		wg.Go(func() {
			lastPage := -1
			defer func() {
				if lastPage < 40 {
					t.Errorf("connection %d: last page at request %d of 50: the server stopped finding pages", k, lastPage)
				}
			}()
			for i := range 50 {
				id := (k*50 + i) % Pages
				st, err := c.Do(string(serve.AppendPath(nil, id)))
				switch {
				case err != nil:
					t.Error(err)
					return
				case st.Close:
					t.Errorf("page %d: the server closed the connection (status %d)", id, st.Status)
					return
				case st.Status == 200:
					if err := ref.Verify(id, st.Body); err != nil {
						t.Error(err)
						return
					}
					lastPage = i
				case st.Status != 502:
					t.Errorf("page %d: status %d, want 200 or 502", id, st.Status)
					return
				}
				mu.Lock()
				count[st.Status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("answers by status: %v", count)
	if !t.Failed() && (count[200] == 0 || count[502] == 0) {
		t.Errorf("answers by status %v: want pages and 502s both (the faults did not strike, or nothing got through)", count)
	}
}

// maxConns returns srv's bound on connections served at once, 0 for none.
func maxConns(srv serve.Server) int {
	if l, ok := srv.(serve.ConnLimit); ok {
		return max(l.MaxConns(), 0)
	}
	return 0
}

// ConnLimitHolds checks a server that serves at most limit connections at
// once: with limit connections open (each answered once, then idle), one
// more is not answered, however long it waits (here 300 ms: long enough
// for a loopback answer, short for a test); once one of the others
// closes, it is.
func ConnLimitHolds(t *testing.T, addr string, ref *serve.Reference, limit int) {
	held := make([]*Conn, limit)
	for i := range held {
		held[i] = Dial(t, addr)
		held[i].ExpectPage(t, i, ref)
	}
	extra := Dial(t, addr)
	if _, err := extra.conn.Write(httpwire.AppendGet(nil, serve.AppendPath(nil, 11), addr)); err != nil {
		t.Fatal(err)
	}
	_ = extra.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var b [1]byte
	if n, err := extra.conn.Read(b[:]); n > 0 || !isTimeout(err) {
		t.Fatalf("connection %d of a server that serves %d at once: read %d bytes, %v; want no answer while the others are open",
			limit+1, limit, n, err)
	}
	_ = held[0].conn.Close()
	// Get writes its request again: the server answers both, in order.
	_ = extra.conn.SetReadDeadline(time.Time{})
	first := extra.Get(t, string(serve.AppendPath(nil, 12)))
	if first.Status != 200 || ref.Verify(11, first.Body) != nil {
		t.Fatalf("the waiting connection's first answer: status %d, page 11 expected", first.Status)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Endpoint checks the answers to good requests and to paths that are not
// pages.
func Endpoint(t *testing.T, addr string, ref *serve.Reference) {
	c := Dial(t, addr)
	for _, id := range []int{0, 1, 42, Pages - 1} {
		c.ExpectPage(t, id, ref)
	}
	for _, target := range []string{"/page/" + fmt.Sprint(Pages), "/page/007", "/page/-1", "/page/x", "/page/",
		"/page/99999999999999999999", "/nope", "/"} {
		if st := c.Get(t, target); st.Status != 404 {
			t.Errorf("GET %s: status %d, want 404", target, st.Status)
		}
	}
	st := c.Get(t, "/page/3?utm=x")
	if st.Status != 200 {
		t.Fatalf("GET /page/3?utm=x: status %d", st.Status)
	}
	if err := ref.Verify(3, st.Body); err != nil {
		t.Errorf("a query changed the page: %v", err)
	}
}

// BackendGone checks that a server whose backend has gone answers 502 and
// keeps the client's connection.
func BackendGone(t *testing.T, srv serve.Server) {
	env, ref, b := Env(t, 0)
	r := Start(t, srv, env, ref)
	c := Dial(t, r.Addr())
	c.ExpectPage(t, 1, ref)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if st := c.Get(t, "/page/2"); st.Status != 502 {
			t.Fatalf("backend gone: status %d, want 502", st.Status)
		}
	}
}

// BadInput sends each kind of bad input on a connection of its own, and
// after each checks a witness connection opened before them all.
func BadInput(t *testing.T, addr string, ref *serve.Reference) { badInput(t, addr, ref, true) }

// badInput is BadInput; without hold, the witness is a fresh connection
// after each bad input, for a server that serves one connection at a time.
func badInput(t *testing.T, addr string, ref *serve.Reference, hold bool) {
	var held *Conn
	if hold {
		held = Dial(t, addr)
		held.ExpectPage(t, 5, ref)
	}
	witness := func(t *testing.T) {
		t.Helper()
		if held != nil {
			held.ExpectPage(t, 9, ref)
			return
		}
		c := Dial(t, addr)
		c.ExpectPage(t, 9, ref)
		_ = c.conn.Close()
	}
	get := func(target string, extra string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n"
	}
	tests := []struct {
		name  string
		input string
		// what may come back before the server closes the connection
		want func(t *testing.T, rs []httpwire.Response, closed bool)
		// for half-close: shut the write side after sending
		halfClose bool
		// for slowloris: trickle the input
		trickle bool
		// stop reading after this many responses (0: read until closed)
		upTo int
	}{
		{name: "garbage", input: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n", want: refusedOrClosed},
		{name: "binary zeros", input: strings.Repeat("\x00", 4096), want: refusedOrClosed},
		{name: "1 MB request line", input: "GET /" + strings.Repeat("a", 1<<20) + " HTTP/1.1\r\nHost: test\r\n\r\n", want: refusedOrClosed},
		{name: "oversized headers", input: "GET /page/1 HTTP/1.1\r\nHost: test\r\n" +
			strings.Repeat("X-Filler: "+strings.Repeat("b", 1000)+"\r\n", 200) + "\r\n", want: refusedOrClosed},
		{name: "slowloris", input: "GET /page/1 HTTP/1.1\r\nHost: test\r\n" + strings.Repeat("X-Slow: 1\r\n", 200) + "\r\n",
			trickle: true, want: refusedOrClosed},
		{name: "POST", input: "POST /page/1 HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\nhi", want: status4xx, upTo: 1},
		{name: "pipelined", input: get("/page/1", "") + get("/page/2", "") + get("/page/3", "Connection: close\r\n"),
			want: pages(ref, 1, 2, 3)},
		{name: "connection close", input: get("/page/4", "Connection: close\r\n"), want: pages(ref, 4)},
		{name: "http/1.0", input: "GET /page/6 HTTP/1.0\r\n\r\n", want: pages(ref, 6)},
		{name: "half-close", input: get("/page/7", ""), halfClose: true, want: pagesOrClosed(ref, 7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, closed := exchange(t, addr, tt.input, tt.halfClose, tt.trickle, tt.upTo)
			tt.want(t, rs, closed)
			witness(t)
		})
	}
}

func refusedOrClosed(t *testing.T, rs []httpwire.Response, closed bool) {
	t.Helper()
	if !closed {
		t.Error("the server kept the connection")
	}
	for _, r := range rs {
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("status %d, want a 4xx or none", r.Status)
		}
	}
}

func status4xx(t *testing.T, rs []httpwire.Response, closed bool) {
	t.Helper()
	if len(rs) == 0 || rs[0].Status < 400 || rs[0].Status >= 500 {
		t.Errorf("responses %v, want a 4xx", statuses(rs))
	}
}

func pages(ref *serve.Reference, ids ...int) func(*testing.T, []httpwire.Response, bool) {
	return func(t *testing.T, rs []httpwire.Response, closed bool) {
		t.Helper()
		if len(rs) != len(ids) || !closed {
			t.Fatalf("responses %v, closed %v; want %d pages then close", statuses(rs), closed, len(ids))
		}
		for i, r := range rs {
			if r.Status != 200 {
				t.Fatalf("response %d: status %d", i, r.Status)
			}
			if err := ref.Verify(ids[i], r.Body); err != nil {
				t.Errorf("response %d: %v", i, err)
			}
		}
	}
}

func pagesOrClosed(ref *serve.Reference, ids ...int) func(*testing.T, []httpwire.Response, bool) {
	return func(t *testing.T, rs []httpwire.Response, closed bool) {
		t.Helper()
		if len(rs) == 0 && closed {
			return
		}
		pages(ref, ids...)(t, rs, closed)
	}
}

func statuses(rs []httpwire.Response) []int {
	var s []int
	for _, r := range rs {
		s = append(s, r.Status)
	}
	return s
}

// exchangeTimeout bounds one bad-input exchange: a server that neither
// answers nor closes within it fails (slowloris must be cut off well
// before: HeaderTimeout).
const exchangeTimeout = 5 * time.Second

// exchange sends input on a new connection and reads responses until the
// server closes it. A write the server cut short (it closed first) is fine.
func exchange(t *testing.T, addr, input string, halfClose, trickle bool, upTo int) ([]httpwire.Response, bool) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(exchangeTimeout)
	_ = conn.SetDeadline(deadline)
	go func() { // write on its own, so a server that answers and closes early is seen
		data := []byte(input)
		for len(data) > 0 {
			n := len(data)
			if trickle {
				n = min(n, 4)
				time.Sleep(20 * time.Millisecond)
			}
			if _, err := conn.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
		}
		if halfClose {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
	}()
	var rs []httpwire.Response
	var p httpwire.ResponseParser
	var buf []byte
	chunk := make([]byte, 16<<10)
	for {
		n, err := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			r, used, perr := p.Parse(buf)
			if errors.Is(perr, httpwire.ErrIncomplete) {
				break
			}
			if perr != nil {
				// A refusal may end its body by closing the connection
				// (net/http's do): keep its status, read to the close.
				if st, ok := closeDelimitedStatus(buf); ok && st >= 400 {
					rs = append(rs, httpwire.Response{Status: st, Close: true})
					return rs, drainToClose(t, conn)
				}
				t.Fatalf("unreadable response: %v (%q)", perr, clip(buf))
			}
			r.Body = bytes.Clone(r.Body)
			rs = append(rs, r)
			buf = buf[used:]
			if upTo > 0 && len(rs) >= upTo {
				return rs, false
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || isReset(err) {
				if len(buf) > 0 {
					t.Errorf("connection closed mid-response: %q", clip(buf))
				}
				return rs, true
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server neither answered nor closed within %v (responses %v)", exchangeTimeout, statuses(rs))
			}
			t.Fatal(err)
		}
	}
}

// closeDelimitedStatus reads the status of a response without
// Content-Length whose body runs to the connection's close.
func closeDelimitedStatus(buf []byte) (int, bool) {
	head, _, ok := bytes.Cut(buf, []byte("\r\n\r\n"))
	if !ok || len(head) < 12 || string(head[:7]) != "HTTP/1." ||
		bytes.Contains(bytes.ToLower(head), []byte("content-length")) {
		return 0, false
	}
	st := 0
	for _, c := range head[9:12] {
		if c < '0' || c > '9' {
			return 0, false
		}
		st = st*10 + int(c-'0')
	}
	return st, true
}

// drainToClose reads until the server closes the connection.
func drainToClose(t *testing.T, conn net.Conn) bool {
	t.Helper()
	if _, err := io.Copy(io.Discard, conn); err != nil && !isReset(err) {
		t.Fatalf("waiting for the close: %v", err)
	}
	return true
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "reset")
}

func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// Conn is a keep-alive client connection for checks.
type Conn struct {
	conn net.Conn
	addr string
	p    httpwire.ResponseParser
	buf  []byte
}

// Dial opens a connection to addr, closed when the test ends.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &Conn{conn: conn, addr: addr}
}

// Close closes the connection (Dial closes it when the test ends anyway).
func (c *Conn) Close() { _ = c.conn.Close() }

// Get sends GET target and returns the response.
func (c *Conn) Get(t testing.TB, target string) httpwire.Response {
	t.Helper()
	r, err := c.Do(target)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Do is Get for goroutines other than the test's: it returns its error.
func (c *Conn) Do(target string) (httpwire.Response, error) {
	_ = c.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write(httpwire.AppendGet(nil, []byte(target), c.addr)); err != nil {
		return httpwire.Response{}, fmt.Errorf("GET %s: %w", target, err)
	}
	chunk := make([]byte, 8192)
	for {
		r, used, err := c.p.Parse(c.buf)
		if err == nil {
			r.Body = bytes.Clone(r.Body)
			c.buf = c.buf[used:]
			return r, nil
		}
		if !errors.Is(err, httpwire.ErrIncomplete) {
			return httpwire.Response{}, fmt.Errorf("GET %s: %w", target, err)
		}
		n, err := c.conn.Read(chunk)
		c.buf = append(c.buf, chunk[:n]...)
		if err != nil && n == 0 {
			return httpwire.Response{}, fmt.Errorf("GET %s: %w", target, err)
		}
	}
}

// Page gets page id and returns an error unless it is 200, verified, on a
// connection kept alive: ExpectPage for goroutines other than the test's.
func (c *Conn) Page(id int, ref *serve.Reference) error {
	r, err := c.Do(string(serve.AppendPath(nil, id)))
	switch {
	case err != nil:
		return err
	case r.Status != 200:
		return fmt.Errorf("page %d: status %d", id, r.Status)
	case r.Close:
		return fmt.Errorf("page %d: the server closed a keep-alive connection", id)
	}
	return ref.Verify(id, r.Body)
}

// ExpectPage gets page id and fails the test unless it is 200 and verified.
func (c *Conn) ExpectPage(t testing.TB, id int, ref *serve.Reference) {
	t.Helper()
	if err := c.Page(id, ref); err != nil {
		t.Fatal(err)
	}
}
