package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// start starts a server for one test and closes it when the test ends.
func start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func dial(t testing.TB, s *Server, timeout time.Duration) *resp.Client {
	t.Helper()
	c, err := resp.Dial(context.Background(), s.Addr(), timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// exchange writes raw request bytes and returns the replies read until the
// server closes the connection or goes quiet for a moment, formatted one per
// line, with "EOF" appended if the server closed.
func exchange(t *testing.T, addr, req string, quiet time.Duration) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	var out []string
	var p resp.ReplyParser
	tmp := make([]byte, 4096)
	for {
		nc.SetReadDeadline(time.Now().Add(quiet))
		n, err := nc.Read(tmp)
		buf = append(buf, tmp[:n]...)
		for {
			r, m, perr := p.Parse(buf)
			if perr != nil {
				break
			}
			out = append(out, r.String())
			buf = buf[m:]
		}
		// A close with our request unread reaches us as a reset.
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			out = append(out, "EOF")
			break
		}
		if err != nil {
			break
		}
	}
	return strings.Join(out, "\n")
}

func TestCommands(t *testing.T) {
	t.Parallel()
	s := start(t, Config{ValueSize: 8, MaxConns: 100})
	v := func(k string) string { return strconv.Quote(string(workloads.Value(k, 8))) }
	cmd := func(args ...string) string { return string(resp.AppendCommand(nil, args...)) }
	tests := []struct {
		name, req, want string
	}{
		{"ping", cmd("PING"), `+"PONG"`},
		{"ping echo", cmd("ping", "hi"), `"hi"`},
		{"inline ping", "PING\r\n", `+"PONG"`},
		{"get", cmd("GET", "item:1"), v("item:1")},
		{"get lower case", cmd("get", "k"), v("k")},
		{"get arity", cmd("GET"), `-"ERR wrong number of arguments for 'get' command"`},
		{"mget", cmd("MGET", "a", "b"), "[" + v("a") + " " + v("b") + "]"},
		{"set get del", cmd("SET", "s:1", "xyz") + cmd("GET", "s:1") + cmd("DEL", "s:1", "nope") + cmd("GET", "s:1"),
			`+"OK"` + "\n" + `"xyz"` + "\n:1\n" + v("s:1")},
		{"command docs", cmd("COMMAND", "DOCS"), "[]"},
		{"command", cmd("COMMAND"), "[]"},
		{"hello", cmd("HELLO"), `["server" "concbench" "version" "7.0.0" "mode" "standalone" "role" "master" "proto" :2 "id" :` +
			"ID" + ` "modules" []]`},
		{"hello 3", cmd("HELLO", "3"), `-"NOPROTO unsupported protocol version"`},
		{"config get", cmd("CONFIG", "GET", "maxclients"), `["maxclients" "100"]`},
		{"config get glob", cmd("CONFIG", "GET", "concbench.*"), `["concbench.latency" "0s" "concbench.value-size" "8"]`},
		{"client setname", cmd("CLIENT", "SETNAME", "x"), `+"OK"`},
		{"select", cmd("SELECT", "0"), `+"OK"`},
		{"unknown then usable", cmd("FLY", "away") + cmd("PING"), `-"ERR unknown command 'FLY'"` + "\n" + `+"PONG"`},
		{"quit", cmd("QUIT") + cmd("PING"), "+\"OK\"\nEOF"},
		{"latency get", cmd("CONCBENCH.LATENCY"), `"0s"`},
		{"latency bad", cmd("CONCBENCH.LATENCY", "fast"), `-"ERR latency \"fast\": time: invalid duration \"fast\""`},
		{"malformed", "*1\r\n:1\r\n", `-"ERR Protocol error: resp: protocol error: expected '$' in request, got ':'"` + "\nEOF"},
		{"oversized bulk", "*1\r\n$999999999999\r\n", `-"ERR Protocol error: resp: protocol error: bulk length 999999999999 over the limit of 536870912"` + "\nEOF"},
		{"empty requests skipped", "\r\n*0\r\nPING\r\n", `+"PONG"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := exchange(t, s.Addr(), tt.req, 200*time.Millisecond)
			want := tt.want
			if strings.Contains(want, `"id" :ID`) { // connection ids vary
				i := strings.Index(got, `"id" :`)
				if i < 0 {
					t.Fatalf("no id in %s", got)
				}
				j := strings.IndexByte(got[i+6:], ' ')
				want = strings.Replace(want, "ID", got[i+6:i+6+j], 1)
			}
			if got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestClient(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	c := dial(t, s, time.Second)
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	v, err := c.Get("item:7")
	if err != nil || !bytes.Equal(v, workloads.Value("item:7", 64)) {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := c.Set("k", []byte("stored")); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get("k"); err != nil || string(v) != "stored" {
		t.Fatalf("Get after Set = %q, %v", v, err)
	}
	// A server error reply is an error, and the connection stays usable.
	_, err = c.Do("NOPE")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Do("NOPE")
	var se *resp.ServerError
	if !errors.As(r.Err(), &se) || !strings.Contains(se.Msg, "unknown command") {
		t.Fatalf("Do(NOPE) = %v", r)
	}
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestPipelinedRepliesInOrder(t *testing.T) {
	t.Parallel()
	// Uniform latency: later requests are often due before earlier ones,
	// yet their replies must leave in request order.
	s := start(t, Config{Latency: Uniform(0, 5*time.Millisecond), Seed: 1})
	c := dial(t, s, 5*time.Second)
	keys := make([]string, 300)
	for i := range keys {
		keys[i] = "item:" + strconv.Itoa(i)
	}
	err := c.GetMany(keys, func(i int, v []byte) error {
		if !bytes.Equal(v, workloads.Value(keys[i], 64)) {
			return fmt.Errorf("reply %d is not the value of %s", i, keys[i])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLatencyAppliedConcurrently(t *testing.T) {
	t.Parallel()
	const lat, n = 20 * time.Millisecond, 50
	s := start(t, Config{Latency: Constant(lat)})
	c := dial(t, s, 5*time.Second)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	begin := time.Now()
	if err := c.GetMany(keys, func(int, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(begin)
	if elapsed < lat {
		t.Errorf("%d pipelined GETs took %v, less than the latency %v", n, elapsed, lat)
	}
	if elapsed > n/2*lat {
		t.Errorf("%d pipelined GETs at %v took %v: latencies were not concurrent", n, lat, elapsed)
	}
}

func TestLatencyCommand(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	c := dial(t, s, time.Second)
	for _, d := range []string{"30ms", "uniform:1ms-2ms", "0s"} {
		if r, err := c.Do("CONCBENCH.LATENCY", d); err != nil || r.Kind != resp.KindSimple {
			t.Fatalf("set %s: %v %v", d, r, err)
		}
		if r, err := c.Do("CONCBENCH.LATENCY"); err != nil || string(r.Str) != d {
			t.Fatalf("get after set %s: %v %v", d, r, err)
		}
		if d == "30ms" {
			begin := time.Now()
			if _, err := c.Get("x"); err != nil {
				t.Fatal(err)
			}
			if el := time.Since(begin); el < 30*time.Millisecond {
				t.Fatalf("GET at 30ms latency took %v", el)
			}
		}
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults Faults
		check  func(err error) bool
		count  func(Stats) int64
	}{
		{"reset", Faults{Reset: 1}, func(err error) bool { return errors.Is(err, syscall.ECONNRESET) },
			func(s Stats) int64 { return s.Resets }},
		{"stall", Faults{Stall: 1}, func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) },
			func(s Stats) int64 { return s.Stalls }},
		{"partial close", Faults{PartialClose: 1}, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) },
			func(s Stats) int64 { return s.PartialCloses }},
		{"slow drip", Faults{SlowDrip: 1}, func(err error) bool { return err == nil },
			func(s Stats) int64 { return s.SlowDrips }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, Config{Faults: tt.faults})
			// Only a stall needs the deadline to pass; the others get a
			// deadline no loaded machine reaches (a dripped reply takes
			// about 20 ms).
			timeout := 10 * time.Second
			if tt.faults.Stall > 0 {
				timeout = 200 * time.Millisecond
			}
			c := dial(t, s, timeout)
			if err := c.Ping(); err != nil { // PING is never faulted
				t.Fatal(err)
			}
			v, err := c.Get("item:1")
			if !tt.check(err) {
				t.Fatalf("Get: %q, %v", v, err)
			}
			if err == nil && !bytes.Equal(v, workloads.Value("item:1", 64)) {
				t.Fatalf("Get = %q, wrong value", v)
			}
			if err != nil && !strings.Contains(err.Error(), `"item:1"`) {
				t.Errorf("error %q does not name the key", err)
			}
			if n := tt.count(s.Stats()); n != 1 {
				t.Errorf("fault count %d, want 1", n)
			}
		})
	}
}

func TestClientUnusableAfterTimeout(t *testing.T) {
	t.Parallel()
	s := start(t, Config{Latency: Constant(200 * time.Millisecond)})
	c := dial(t, s, 20*time.Millisecond)
	if _, err := c.Get("a"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Get: %v, want a deadline error", err)
	}
	// The late reply must not be taken for the next request's.
	if _, err := c.Get("b"); err == nil || !strings.Contains(err.Error(), "unusable") {
		t.Fatalf("Get after timeout: %v, want the connection refused", err)
	}
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	s := start(t, Config{MaxConns: 1})
	c := dial(t, s, time.Second)
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	got := exchange(t, s.Addr(), "PING\r\n", time.Second)
	if got != `-"ERR max connections"`+"\nEOF" {
		t.Fatalf("second connection got %s", got)
	}
	if st := s.Stats(); st.RejectedConns != 1 || st.ActiveConns != 1 {
		t.Fatalf("stats %+v", st)
	}
	c.Close()
	// The slot frees once the server has seen the close.
	deadline := time.Now().Add(2 * time.Second)
	for s.Stats().ActiveConns != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := dial(t, s, time.Second).Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	c := dial(t, s, time.Second)
	for i := 0; i < 3; i++ {
		if _, err := c.Get("k"); err != nil {
			t.Fatal(err)
		}
	}
	c.Do("NOPE")
	r, err := c.Do("CONCBENCH.STATS")
	if err != nil || !strings.Contains(string(r.Str), "requests:5\r\n") || !strings.Contains(string(r.Str), "errors:1\r\n") {
		t.Fatalf("CONCBENCH.STATS = %v, %v", r, err)
	}
	if st := s.Stats(); st.Requests != 5 || st.Replies < 4 || st.Conns != 1 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestContextStopsServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Config{Latency: Constant(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s, time.Minute)
	errc := make(chan error)
	go func() {
		_, err := c.Get("never answered")
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("Get succeeded on a closed server")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{Faults: Faults{Reset: 0.7, Stall: 0.7}},
		{Faults: Faults{SlowDrip: -1}},
		{Latency: Uniform(2, 1)},
		{ValueSize: -1},
		{Listen: "256.0.0.1:0"},
		{ValueSize: 1000, MaxQueuedBytes: 1000},
		{MaxStoredBytes: -1},
	} {
		if s, err := Start(context.Background(), cfg); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}

// A request of megabytes written in small pieces (an MGET of 100,000 keys
// in 7 KB writes) is served whole and right.
func TestLargeRequestInSmallWrites(t *testing.T) {
	t.Parallel()
	s := start(t, Config{ValueSize: 8})
	const keys = 100000
	args := []string{"MGET"}
	for i := range keys {
		args = append(args, "item:"+strconv.Itoa(i))
	}
	req := resp.AppendCommand(nil, args...)
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	go func() {
		for len(req) > 0 {
			n := min(7000, len(req))
			if _, err := nc.Write(req[:n]); err != nil {
				return
			}
			req = req[n:]
		}
	}()
	_ = nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	var p resp.ReplyParser
	buf := make([]byte, 0, 1<<20)
	tmp := make([]byte, 64<<10)
	for {
		n, err := nc.Read(tmp)
		buf = append(buf, tmp[:n]...)
		r, _, perr := p.Parse(buf)
		if perr == nil {
			if len(r.Elems) != keys || string(r.Elems[keys-1].Str) != string(workloads.Value("item:99999", 8)) {
				t.Fatalf("MGET reply of %d values", len(r.Elems))
			}
			return
		}
		if !errors.Is(perr, resp.ErrIncomplete) || err != nil {
			t.Fatalf("reply: %v, read: %v", perr, err)
		}
	}
}

func TestClientSetMany(t *testing.T) {
	t.Parallel()
	s := start(t, Config{MaxStoredBytes: 100})
	c := dial(t, s, time.Second)
	if err := c.SetMany([]string{"a", "b"}, [][]byte{[]byte("1"), []byte("22")}); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get("b"); err != nil || string(v) != "22" {
		t.Fatalf("GET b after SetMany = %q, %v", v, err)
	}
	// The second SET is over the store's bound: the error names its key,
	// and the replies still in flight make the connection unusable.
	err := c.SetMany([]string{"c", "d", "e"}, [][]byte{[]byte("3"), bytes.Repeat([]byte("x"), 200), []byte("5")})
	var se *resp.ServerError
	if !errors.As(err, &se) || !strings.HasPrefix(se.Msg, "OOM") || !strings.Contains(err.Error(), `SET "d" (2 of 3 in batch)`) {
		t.Fatalf("SetMany over the bound: %v", err)
	}
	if err := c.Ping(); err == nil || !strings.Contains(err.Error(), "abandoned") {
		t.Fatalf("Ping after an abandoned batch: %v", err)
	}
	if err := dial(t, s, time.Second).SetMany([]string{"k"}, nil); err == nil {
		t.Fatal("SetMany with no value for its key succeeded")
	}
}
