package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/serve/httpwire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// seqTarget asks for "/n/{seq}" and expects the body "ok {seq}".
type seqTarget struct{}

func (seqTarget) AppendPath(dst []byte, seq uint64) ([]byte, uint64) {
	return strconv.AppendUint(append(dst, "/n/"...), seq, 10), seq
}

var errWrongBody = errors.New("wrong body")

func (seqTarget) VerifyResponse(tag uint64, body []byte) error {
	if len(body) < 4 || string(body[:3]) != "ok " {
		return errWrongBody
	}
	var n uint64
	for _, c := range body[3:] {
		if c < '0' || c > '9' {
			return errWrongBody
		}
		n = n*10 + uint64(c-'0')
	}
	if n != tag {
		return errWrongBody
	}
	return nil
}

// server is a real TCP server for the generator's tests: a goroutine per
// connection, requests parsed with httpwire, answered one at a time after
// delay, without allocating per request.
type server struct {
	delay     time.Duration // before each response
	status    int           // 0: 200
	wrongBody bool          // answer "ok {seq+1}"
	closeEach bool          // Connection: close on every response
	silent    bool          // read requests, never answer

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
}

func (s *server) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.conns = ln, map[net.Conn]bool{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go s.serve(c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return ln.Addr().String()
}

func (s *server) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	var p httpwire.Parser
	buf := make([]byte, 4096)
	var out, body []byte
	n := 0
	for {
		m, err := c.Read(buf[n:])
		if err != nil {
			return
		}
		n += m
		for {
			req, used, err := p.Parse(buf[:n])
			if errors.Is(err, httpwire.ErrIncomplete) {
				break
			}
			if err != nil {
				return
			}
			if s.silent {
				n = copy(buf, buf[used:n])
				continue
			}
			seq, _ := strconv.ParseUint(string(req.Target[3:]), 10, 64)
			if s.wrongBody {
				seq++
			}
			body = strconv.AppendUint(append(body[:0], "ok "...), seq, 10)
			status := s.status
			if status == 0 {
				status = 200
			}
			h := req.Head(status, "text/plain", 0)
			h.Close = h.Close || s.closeEach
			out = httpwire.AppendResponse(out[:0], h, body)
			n = copy(buf, buf[used:n])
			if s.delay > 0 {
				time.Sleep(s.delay)
			}
			if _, err := c.Write(out); err != nil || h.Close {
				return
			}
		}
	}
}

func run(t *testing.T, cfg Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg, seqTarget{})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	return res
}

func TestOpenVerifiesEveryResponse(t *testing.T) {
	t.Parallel()
	for _, arrival := range []Arrival{Constant, Poisson} {
		t.Run(string(arrival), func(t *testing.T) {
			t.Parallel()
			addr := new(server).start(t)
			res := run(t, Config{Addr: addr, Rate: 400, Arrival: arrival, Seed: 7, Timeout: 10 * time.Second,
				Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, MaxLag: time.Minute})
			if res.Failed() != 0 || res.OK != res.Scheduled || res.Sent != res.Scheduled || res.Scheduled < 80 {
				t.Fatalf("scheduled %d, sent %d, ok %d, errors %v %v", res.Scheduled, res.Sent, res.OK, res.Errors, res.ErrorSamples)
			}
			if res.Latency.N != int(res.OK) || len(res.Latencies) != int(res.OK) || res.Lag.N != int(res.Scheduled) {
				t.Errorf("samples: latency %d, lag %d, for %d requests", res.Latency.N, res.Lag.N, res.OK)
			}
			if res.UnderOffered {
				t.Errorf("a modest rate flagged under-offered: %s", res.UnderOfferedReason)
			}
			if res.Conns < 1 || res.MaxOpen < 1 || res.MaxOpen > DefaultMaxConns {
				t.Errorf("connections: %d opened, %d at most", res.Conns, res.MaxOpen)
			}
			if !(res.Latency.P50 <= res.Latency.P99 && res.Latency.P99 <= res.Latency.Max && res.Latency.P50 > 0) {
				t.Errorf("percentiles out of order: %+v", res.Latency)
			}
		})
	}
}

func TestFailuresAreCountedByKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		srv  *server
		kind Kind
	}{
		{"wrong body", &server{wrongBody: true}, KindBody},
		{"status", &server{status: 502}, KindStatus},
		{"no answer", &server{silent: true}, KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := tt.srv.start(t)
			res := run(t, Config{Addr: addr, Rate: 200, Duration: 100 * time.Millisecond, Timeout: 500 * time.Millisecond})
			if res.OK != 0 || res.Errors[tt.kind.String()] != res.Scheduled || res.Scheduled == 0 {
				t.Fatalf("scheduled %d, ok %d, errors %v", res.Scheduled, res.OK, res.Errors)
			}
			if res.ErrorSamples[tt.kind.String()] == "" {
				t.Error("no sample message")
			}
		})
	}
}

func TestConnectionRefusedIsAConnectError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := run(t, Config{Addr: addr, Rate: 500, Duration: 100 * time.Millisecond})
	if res.OK != 0 || res.Errors["connect"] != res.Scheduled {
		t.Fatalf("scheduled %d, errors %v", res.Scheduled, res.Errors)
	}
}

func TestServerClosingEachConnection(t *testing.T) {
	t.Parallel()
	addr := (&server{closeEach: true}).start(t)
	res := run(t, Config{Addr: addr, Rate: 500, Duration: 100 * time.Millisecond, Timeout: 10 * time.Second})
	if res.Failed() != 0 || res.OK != res.Scheduled {
		t.Fatalf("ok %d of %d, errors %v %v", res.OK, res.Scheduled, res.Errors, res.ErrorSamples)
	}
	if res.Conns < int(res.OK) {
		t.Errorf("%d connections for %d responses that each closed theirs", res.Conns, res.OK)
	}
}

// With one connection and a server slower than the schedule, requests wait
// for the connection; their latency must count that wait, from their
// intended times. A generator that timed from the send would see every
// request take about the server's 20 ms.
func TestWaitForAConnectionIsLatency(t *testing.T) {
	t.Parallel()
	const service = 20 * time.Millisecond
	addr := (&server{delay: service}).start(t)
	res := run(t, Config{Addr: addr, Rate: 200, Duration: 200 * time.Millisecond, Conns: 1, Timeout: 5 * time.Second})
	if res.Failed() != 0 || res.OK != res.Scheduled || res.MaxOpen != 1 {
		t.Fatalf("ok %d of %d, errors %v, %d connections", res.OK, res.Scheduled, res.Errors, res.MaxOpen)
	}
	// 40 requests due 5 ms apart, served 20 ms apart: the last is due at
	// 195 ms and answered at 800 ms or later.
	n := int(res.OK)
	if floor := time.Duration(n)*service - 200*time.Millisecond; res.Latency.Max < floor {
		t.Errorf("max latency %v, want at least %v: the queueing was not counted", res.Latency.Max, floor)
	}
	if res.SendDelay.Max < 10*service {
		t.Errorf("send delay max %v: requests did not wait for the connection", res.SendDelay.Max)
	}
	if res.Lag.P99 > 10*time.Millisecond && !res.UnderOffered {
		t.Errorf("lag %v not flagged", res.Lag.P99)
	}
}

// slowTarget costs the generator 3 ms a request: a generator starved of
// CPU, made deterministic.
type slowTarget struct{ seqTarget }

func (s slowTarget) AppendPath(dst []byte, seq uint64) ([]byte, uint64) {
	time.Sleep(3 * time.Millisecond)
	return s.seqTarget.AppendPath(dst, seq)
}

// A generator that cannot keep its schedule says so: the round is flagged,
// not reported as having offered its rate.
func TestUnderOfferingIsFlagged(t *testing.T) {
	t.Parallel()
	addr := new(server).start(t)
	// Connections to spare, so the scheduler itself sends (and stalls).
	res, err := Run(context.Background(), Config{Addr: addr, Rate: 1000, Duration: 200 * time.Millisecond}, slowTarget{})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if !res.UnderOffered || !strings.Contains(res.UnderOfferedReason, "behind its schedule") {
		t.Fatalf("not flagged: lag %+v, dispatched %d of %d", res.Lag, res.Dispatched, res.Scheduled)
	}
	if res.Lag.P99 <= DefaultMaxLag {
		t.Errorf("lag p99 %v, want over %v", res.Lag.P99, DefaultMaxLag)
	}
}

// Not parallel: a closed loop takes every core it can, and would starve
// the open-loop tests beside it.
func TestClosedMode(t *testing.T) {
	addr := new(server).start(t)
	res := run(t, Config{Addr: addr, Mode: Closed, Conns: 4, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond})
	if res.Failed() != 0 || res.OK == 0 || res.Latency.N != int(res.OK) || res.MaxOpen != 4 || res.Conns != 4 {
		t.Fatalf("ok %d, errors %v, samples %d, conns %d/%d", res.OK, res.Errors, res.Latency.N, res.Conns, res.MaxOpen)
	}
	if res.AchievedRate <= 0 || res.OfferedRate != 0 {
		t.Errorf("achieved %v, offered %v", res.AchievedRate, res.OfferedRate)
	}
}

func TestClosedModeRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := run(t, Config{Addr: addr, Mode: Closed, Conns: 2, Duration: 100 * time.Millisecond})
	if res.OK != 0 || res.Errors["connect"] == 0 || res.Errors["connect"] > 100 {
		t.Fatalf("errors %v: want a few connect errors, paced", res.Errors)
	}
}

// A run of a minute is cancelled once the server has a connection from it:
// Run must stop early and say it was interrupted. The watchdog turns a run
// that ignores the cancel into a failure before its minute is up (a bound on
// a hang, not a timing assertion).
func TestCancelStopsEarly(t *testing.T) {
	t.Parallel()
	srv := &server{delay: 50 * time.Millisecond}
	addr := srv.start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			srv.mu.Lock()
			connected := len(srv.conns) > 0
			srv.mu.Unlock()
			if connected {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, Config{Addr: addr, Rate: 100, Duration: time.Minute}, seqTarget{})
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		if o.err == nil || o.res == nil || !o.res.Interrupted {
			t.Fatalf("err %v, result %v: want an interrupted run", o.err, o.res)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run still goes on 30 s after its cancel")
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	good := Config{Addr: "127.0.0.1:80", Rate: 10, Duration: time.Second}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"remote refused", func(c *Config) { c.Addr = "10.1.2.3:80" }, "not loopback"},
		{"name refused", func(c *Config) { c.Addr = "example.com:80" }, "not loopback"},
		{"no port", func(c *Config) { c.Addr = "127.0.0.1" }, "address"},
		{"no rate", func(c *Config) { c.Rate = 0 }, "rate"},
		{"no duration", func(c *Config) { c.Duration = 0 }, "duration"},
		{"bad mode", func(c *Config) { c.Mode = "half" }, "mode"},
		{"bad arrival", func(c *Config) { c.Arrival = "bursty" }, "arrival"},
		{"too many", func(c *Config) { c.Rate = 1e9 }, "over"},
		{"closed without conns", func(c *Config) { c.Mode = Closed; c.Rate = 0 }, "connections"},
		{"localhost", func(c *Config) { c.Addr = "localhost:80" }, ""},
		{"ipv6 loopback", func(c *Config) { c.Addr = "[::1]:80" }, ""},
		{"127/8", func(c *Config) { c.Addr = "127.0.0.2:80" }, ""},
		{"remote allowed", func(c *Config) { c.Addr = "10.1.2.3:80"; c.AllowRemote = true }, ""},
	}
	for _, tt := range tests {
		c := good
		tt.change(&c)
		_, err := c.withDefaults()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := Run(context.Background(), Config{Addr: "192.168.1.1:80", Rate: 1, Duration: time.Second}, seqTarget{}); err == nil {
		t.Error("Run accepted a remote address")
	}
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	c := Config{Rate: 1000, Duration: time.Second, Warmup: 500 * time.Millisecond}
	at := c.schedule()
	if len(at) != 1500 || at[1] != int64(time.Millisecond) || at[1499] != int64(1499*time.Millisecond) {
		t.Fatalf("constant: %d requests, %v ... %v", len(at), at[:2], at[len(at)-1])
	}
	c.Arrival, c.Seed = Poisson, 1
	p1, p2 := c.schedule(), c.schedule()
	if !reflect.DeepEqual(p1, p2) {
		t.Error("the same seed gave two schedules")
	}
	c.Seed = 2
	if reflect.DeepEqual(p1, c.schedule()) {
		t.Error("two seeds gave the same schedule")
	}
	if n := len(p1); n < 1350 || n > 1650 { // 1500 ± 4 standard deviations
		t.Errorf("poisson: %d requests in 1.5 s at 1000/s", n)
	}
	for i := 1; i < len(p1); i++ {
		if p1[i] < p1[i-1] || p1[i] >= int64(1500*time.Millisecond) {
			t.Fatalf("poisson: time %d = %d out of order or range", i, p1[i])
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	c := Config{Addr: "127.0.0.1:1", Mode: Open, Rate: 2.5, Arrival: Poisson, Seed: 3,
		Warmup: time.Second, Duration: 2 * time.Second, Timeout: time.Second, Conns: 7, MaxLag: time.Millisecond}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"duration_ns":2000000000`) {
		t.Errorf("durations not in ns: %s", b)
	}
	back, err := DecodeConfig(b)
	if err != nil || back != c {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	r := &Result{Config: c, OK: 3, Errors: map[string]int64{"timeout": 1}, Latency: Percentiles{N: 3, P99: 5}, Latencies: []int64{1, 2, 3}}
	b, err = r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rb, err := DecodeResult(b)
	if err != nil || rb.OK != 3 || rb.Errors["timeout"] != 1 || rb.Latency.P99 != 5 || rb.Latencies != nil {
		t.Errorf("round trip: %+v, %v", rb, err)
	}
}

func TestSummarizeIsNearestRank(t *testing.T) {
	t.Parallel()
	var d []int64
	for i := 1000; i >= 1; i-- {
		d = append(d, int64(i))
	}
	p := summarize(d)
	if p.P50 != 500 || p.P90 != 900 || p.P99 != 990 || p.P999 != 999 || p.Max != 1000 || p.N != 1000 || p.Mean != 500 {
		t.Errorf("%+v", p)
	}
	if summarize(nil) != (Percentiles{}) {
		t.Error("percentiles of nothing")
	}
}

// The steady state allocates nothing: a run twice as long allocates (about)
// the same. The server here allocates nothing per request either.
func TestNoAllocationPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	addr := new(server).start(t)
	for _, mode := range []Mode{Open, Closed} {
		t.Run(string(mode), func(t *testing.T) {
			measure := func(d time.Duration) (allocs uint64, requests int64) {
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				res := run(t, Config{Addr: addr, Mode: mode, Rate: 4000, Conns: 4, Duration: d, MaxLag: time.Second})
				runtime.ReadMemStats(&m1)
				if res.Failed() != 0 {
					t.Fatalf("errors %v", res.Errors)
				}
				return m1.Mallocs - m0.Mallocs, res.OK
			}
			measure(50 * time.Millisecond) // warm the runtime up
			a1, n1 := measure(150 * time.Millisecond)
			a2, n2 := measure(450 * time.Millisecond)
			if n2 <= n1 {
				t.Fatalf("requests %d then %d", n1, n2)
			}
			per := (float64(a2) - float64(a1)) / float64(n2-n1)
			t.Logf("%d allocations for %d requests, %d for %d: %.3f a request", a1, n1, a2, n2, per)
			if per > 0.05 {
				t.Errorf("%.3f allocations a request", per)
			}
		})
	}
}
