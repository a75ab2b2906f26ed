package backend

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

func dialControl(t testing.TB, s *Server, auth string) *Control {
	t.Helper()
	ctl, err := DialControl(context.Background(), s.Addr(), auth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	return ctl
}

func TestControlLatencyAndStats(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	ctl := dialControl(t, s, "")
	for _, d := range []Distribution{Constant(3 * time.Millisecond), Uniform(time.Millisecond, 2*time.Millisecond), LogNormal(time.Millisecond, 5*time.Millisecond), {}} {
		if err := ctl.SetLatency(d); err != nil {
			t.Fatal(err)
		}
		got, err := ctl.Latency()
		if err != nil || got != d || s.Latency() != d {
			t.Fatalf("Latency after SetLatency(%v) = %v, %v (server: %v)", d, got, err, s.Latency())
		}
	}
	if err := ctl.SetLatency(Uniform(2, 1)); err == nil || !strings.Contains(err.Error(), "backend "+s.Addr()+": CONCBENCH.LATENCY: ") {
		t.Fatalf("bad latency: %v, want an error naming the server and the command", err)
	}
	c := dial(t, s, time.Second)
	for range 3 {
		if _, err := c.Get("k"); err != nil {
			t.Fatal(err)
		}
	}
	st, err := ctl.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Gets != 3 || st.GetsAnswered != 3 || st.DataRequests != 3 || st.Conns != 2 || st.ActiveConns != 2 ||
		st.UserCPU+st.SystemCPU <= 0 {
		t.Fatalf("Control.Stats = %+v", st)
	}
	if err := ctl.Ping(); err != nil {
		t.Fatal(err)
	}
}

// The text forms parse back to what was formatted, field by field.
func TestStatsAndWindowTextRoundTrip(t *testing.T) {
	t.Parallel()
	st := Stats{Conns: 1, ActiveConns: 2, RejectedConns: 3, Requests: 4, Replies: 5, Errors: 6, Resets: 7, Stalls: 8,
		PartialCloses: 9, SlowDrips: 10, DataRequests: 11, Gets: 12, GetsAnswered: 13, InFlight: 14, MaxInFlight: 15,
		QueuedBytes: 16, PeakQueuedBytes: 17, StoredBytes: 18, UserCPU: 19, SystemCPU: 20}
	if got, err := ParseStats(st.String()); err != nil || got != st {
		t.Fatalf("ParseStats(String()) = %+v, %v; want %+v", got, err, st)
	}
	if !strings.Contains(st.String(), "faults:34\r\n") {
		t.Errorf("String lacks the sum of faults:\n%s", st)
	}
	w := Window{Duration: 1, DataRequests: 2, Gets: 3, GetsAnswered: 4, MaxInFlight: 5, Errors: 6, Faults: 7, UserCPU: 8, SystemCPU: 9}
	if got, err := ParseWindow(w.String()); err != nil || got != w {
		t.Fatalf("ParseWindow(String()) = %+v, %v; want %+v", got, err, w)
	}
	if _, err := ParseWindow("gets:x\r\n"); err == nil {
		t.Error("ParseWindow accepted a bad number")
	}
	if got, err := ParseWindow("# newer server\r\nsomething_new:1\r\ngets:3\r\n"); err != nil || got.Gets != 3 {
		t.Errorf("ParseWindow with an unknown name: %+v, %v", got, err)
	}
}

// A window counts the data requests and the keys of GET and MGET, reads
// and resets, and does not count control commands.
func TestWindowCounts(t *testing.T) {
	t.Parallel()
	s := start(t, Config{ValueSize: 16})
	ctl := dialControl(t, s, "")
	if _, err := ctl.Window(); err != nil { // what came before: not ours
		t.Fatal(err)
	}
	c := dial(t, s, time.Second)
	for i := range 3 {
		if _, err := c.Get("item:" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"MGET", "a", "b", "c", "d"}, {"SET", "k", "v"}, {"DEL", "k"}, {"PING"}, {"GET"}, {"NOPE"}} {
		if _, err := c.Do(args...); err != nil {
			t.Fatal(err)
		}
	}
	w, err := ctl.Window()
	if err != nil {
		t.Fatal(err)
	}
	// 3 GET + MGET + SET + DEL; GET with no key is an arity error, not a data request.
	want := Window{DataRequests: 6, Gets: 7, GetsAnswered: 7, MaxInFlight: 1, Errors: 2}
	got := w
	got.Duration, got.UserCPU, got.SystemCPU = 0, 0, 0
	if got != want {
		t.Fatalf("window %+v, want %+v", got, want)
	}
	if w.Duration <= 0 || w.UserCPU+w.SystemCPU < 0 {
		t.Errorf("window duration %v, CPU %v+%v", w.Duration, w.UserCPU, w.SystemCPU)
	}
	w, err = ctl.Window()
	if err != nil || w.DataRequests != 0 || w.Gets != 0 || w.MaxInFlight != 0 || w.Errors != 0 {
		t.Fatalf("the next window, with nothing done: %+v, %v", w, err)
	}
	if st := s.Stats(); st.Gets != 7 || st.GetsAnswered != 7 || st.DataRequests != 6 || st.InFlight != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Replies dropped by injected faults are asked for but not answered, and
// leave nothing in flight.
func TestWindowCountsFaults(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		faults   Faults
		answered int64
	}{
		{"reset", Faults{Reset: 1}, 0},
		{"partial", Faults{PartialClose: 1}, 0},
		{"drip", Faults{SlowDrip: 1}, 1},
		{"stall", Faults{Stall: 1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, Config{Faults: tt.faults})
			ctl := dialControl(t, s, "")
			c := dial(t, s, 100*time.Millisecond)
			_, _ = c.Get("item:1")
			c.Close()
			// The server sees the close in its own time.
			eventually(t, s, func(st Stats) bool { return st.ActiveConns == 1 })
			w, err := ctl.Window()
			if err != nil {
				t.Fatal(err)
			}
			if w.Gets != 1 || w.GetsAnswered != tt.answered || w.Faults != 1 || w.MaxInFlight != 1 {
				t.Fatalf("window %+v: want 1 get, %d answered, 1 fault, 1 in flight at most", w, tt.answered)
			}
			// Replies are released after their write, which may come
			// after the client has read them: wait for the control
			// connection's own reply to be released.
			st := eventually(t, s, func(st Stats) bool { return st.QueuedBytes == 0 })
			if st.InFlight != 0 {
				t.Fatalf("after the connection closed: %d in flight", st.InFlight)
			}
		})
	}
}

// MaxInFlight is the most requests outstanding at once across connections:
// N clients that each keep one request outstanding reach N and never pass
// it, because a request stops counting before its client can see the reply
// and send the next one.
func TestWindowMaxInFlightIsTheClientsConcurrency(t *testing.T) {
	t.Parallel()
	for _, lat := range []Distribution{Constant(time.Millisecond), Uniform(0, 200*time.Microsecond)} {
		t.Run(lat.String(), func(t *testing.T) {
			t.Parallel()
			const clients, each = 4, 150
			s := start(t, Config{Latency: lat})
			ctl := dialControl(t, s, "")
			conns := make([]*resp.Client, clients)
			for i := range conns {
				conns[i] = dial(t, s, 5*time.Second)
			}
			if _, err := ctl.Window(); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for i, c := range conns {
				wg.Go(func() {
					for j := range each {
						if _, err := c.Get("item:" + strconv.Itoa(i*each+j)); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			w, err := ctl.Window()
			if err != nil {
				t.Fatal(err)
			}
			if w.Gets != clients*each || w.GetsAnswered != clients*each {
				t.Fatalf("window %+v: want %d gets", w, clients*each)
			}
			if w.MaxInFlight > clients {
				t.Fatalf("%d clients, one request outstanding each: max in flight %d", clients, w.MaxInFlight)
			}
			// Reached: at 1 ms each client has a request in flight nearly
			// all the time. At up to 200 µs overlap is likely, not certain.
			if lat.Kind == KindConstant && w.MaxInFlight != clients {
				t.Fatalf("%d clients, one request outstanding each for 1 ms at a time: max in flight %d", clients, w.MaxInFlight)
			}
		})
	}
	t.Run("pipelined", func(t *testing.T) {
		t.Parallel()
		s := start(t, Config{Latency: Constant(20 * time.Millisecond)})
		ctl := dialControl(t, s, "")
		c := dial(t, s, 5*time.Second)
		keys := make([]string, 64)
		for i := range keys {
			keys[i] = "item:" + strconv.Itoa(i)
		}
		if err := c.GetMany(keys, func(int, []byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
		w, err := ctl.Window()
		if err != nil {
			t.Fatal(err)
		}
		// One write of 64 requests, read in one or a few reads within
		// the 20 ms before the first reply is due.
		if w.MaxInFlight != 64 {
			t.Fatalf("64 pipelined GETs: max in flight %d", w.MaxInFlight)
		}
	})
}

func TestSecretValues(t *testing.T) {
	t.Parallel()
	const secret = 0x5eed
	s := start(t, Config{Secret: secret, ValueSize: 32})
	c := dial(t, s, time.Second)
	v, err := c.Get("item:1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v, workloads.SecretValue(secret, "item:1", 32)) || bytes.Equal(v, workloads.Value("item:1", 32)) {
		t.Fatalf("GET with secret %#x = %q: want SecretValue, not Value", secret, v)
	}
	r, err := c.Do("MGET", "a", "b")
	if err != nil || len(r.Elems) != 2 || string(r.Elems[1].Str) != string(workloads.SecretValue(secret, "b", 32)) {
		t.Fatalf("MGET = %v, %v", r, err)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	const token = "open sesame"
	s := start(t, Config{Auth: token})
	cmd := func(args ...string) string { return string(resp.AppendCommand(nil, args...)) }
	tests := []struct{ name, req, want string }{
		{"noauth", cmd("GET", "k"), `-"NOAUTH Authentication required."`},
		{"noauth stats", cmd("CONCBENCH.STATS"), `-"NOAUTH Authentication required."`},
		{"noauth latency", cmd("CONCBENCH.LATENCY", "1s"), `-"NOAUTH Authentication required."`},
		{"noauth set", cmd("SET", "k", "v") + cmd("DBSIZE"), `-"NOAUTH Authentication required."` + "\n" + `-"NOAUTH Authentication required."`},
		{"wrong", cmd("AUTH", "guess") + cmd("PING"), `-"WRONGPASS invalid username-password pair or user is disabled."` + "\n" + `-"NOAUTH Authentication required."`},
		{"wrong user", cmd("AUTH", "admin", token), `-"WRONGPASS invalid username-password pair or user is disabled."`},
		{"right", cmd("AUTH", token) + cmd("PING"), `+"OK"` + "\n" + `+"PONG"`},
		{"default user", cmd("AUTH", "default", token) + cmd("DBSIZE"), `+"OK"` + "\n:0"},
		{"quit", cmd("QUIT"), `+"OK"` + "\nEOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := exchange(t, s.Addr(), tt.req, 200*time.Millisecond); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	if _, err := DialControl(context.Background(), s.Addr(), "guess"); err == nil || !strings.Contains(err.Error(), "WRONGPASS") || strings.Contains(err.Error(), "guess") {
		t.Errorf("DialControl with the wrong token: %v (want WRONGPASS, without the token)", err)
	}
	ctl := dialControl(t, s, token)
	if err := ctl.SetLatency(Constant(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := dialControl(t, start(t, Config{}), "").Window(); err != nil {
		t.Fatal(err)
	}
	open := dial(t, start(t, Config{}), time.Second)
	if err := open.Auth("", "x"); err == nil || !strings.Contains(err.Error(), "without any password configured") {
		t.Errorf("AUTH on a server without a password: %v", err)
	}
	// An unauthenticated GET is not a data request.
	if st := s.Stats(); st.DataRequests != 0 || st.Gets != 0 {
		t.Errorf("unauthenticated requests counted: %+v", st)
	}
}

func TestSetIsBounded(t *testing.T) {
	t.Parallel()
	s := start(t, Config{MaxStoredBytes: 1000})
	c := dial(t, s, time.Second)
	big := bytes.Repeat([]byte("v"), 900)
	if err := c.Set("k1", big); err != nil {
		t.Fatal(err)
	}
	err := c.Set("k2", big[:200])
	var se *resp.ServerError
	if !errors.As(err, &se) || !strings.HasPrefix(se.Msg, "OOM ") {
		t.Fatalf("SET over the bound: %v, want -OOM", err)
	}
	if _, err := c.Get("k2"); err != nil {
		t.Fatal(err) // the derived value: the refused SET stored nothing
	}
	if st := s.Stats(); st.StoredBytes != 902 {
		t.Fatalf("stored %d bytes, want 902", st.StoredBytes)
	}
	if err := c.Set("k1", big[:10]); err != nil { // replacing frees the old value's bytes
		t.Fatal(err)
	}
	if err := c.Set("k2", big[:200]); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Do("DEL", "k1", "k2"); err != nil || r.Int != 2 {
		t.Fatalf("DEL = %v, %v", r, err)
	}
	if st := s.Stats(); st.StoredBytes != 0 {
		t.Fatalf("stored %d bytes after deleting everything", st.StoredBytes)
	}
}

func TestReplyLargerThanTheBudgetIsRefused(t *testing.T) {
	t.Parallel()
	s := start(t, Config{MaxQueuedBytes: 1000, ValueSize: 100})
	c := dial(t, s, time.Second)
	if _, err := c.Get("k"); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	r, err := c.Do(append([]string{"MGET"}, keys...)...)
	if err != nil || r.Kind != resp.KindError || !strings.Contains(string(r.Str), "over this server's limit of 1000 bytes") {
		t.Fatalf("MGET of 2 KB of values with a 1000-byte budget: %v, %v", r, err)
	}
	if st := s.Stats(); st.Gets != 21 || st.GetsAnswered != 1 {
		t.Fatalf("gets %d answered %d, want 21 and 1", st.Gets, st.GetsAnswered)
	}
}

func TestCPUProfile(t *testing.T) {
	// Not parallel: the Go runtime has one CPU profile per process.
	s := start(t, Config{})
	ctl := dialControl(t, s, "")
	if _, err := ctl.StopCPUProfile(); err == nil || !strings.Contains(err.Error(), "no CPU profile is running") {
		t.Fatalf("STOP before START: %v", err)
	}
	if err := ctl.StartCPUProfile(); err != nil {
		t.Fatal(err)
	}
	if err := ctl.StartCPUProfile(); err == nil || !strings.Contains(err.Error(), ErrProfileRunning.Error()) {
		t.Fatalf("second START: %v", err)
	}
	// Work until the process has used 200 ms of CPU: enough for samples.
	c := dial(t, s, 5*time.Second)
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "item:" + strconv.Itoa(i)
	}
	st0 := s.Stats()
	for st := st0; st.UserCPU+st.SystemCPU-st0.UserCPU-st0.SystemCPU < 200*time.Millisecond; st = s.Stats() {
		if err := c.GetMany(keys, func(int, []byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	data, err := ctl.StopCPUProfile()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sample) == 0 {
		t.Fatal("no samples in 200 ms of CPU")
	}
	for _, smp := range p.Sample {
		if got := smp.Label["side"]; len(got) != 1 || got[0] != "backend" {
			t.Fatalf("sample labels %v, want side=backend", smp.Label)
		}
	}
	if _, err := ctl.StopCPUProfile(); err == nil {
		t.Fatal("second STOP succeeded")
	}
	// A profile left running is stopped by Close, so the next can start.
	s2 := start(t, Config{})
	if err := dialControl(t, s2, "").StartCPUProfile(); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if err := ctl.StartCPUProfile(); err != nil {
		t.Fatalf("START after a server closed with its profile running: %v", err)
	}
	if _, err := ctl.StopCPUProfile(); err != nil {
		t.Fatal(err)
	}
}

func TestChildConfig(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	in := Config{Secret: 0xfedcba9876543210, Auth: "tok en"}
	if err := WriteChildConfig(&b, in); err != nil {
		t.Fatal(err)
	}
	b.WriteString("rest of stdin")
	var out Config
	r := bufioReader(&b)
	if err := ReadChildConfig(r, &out); err != nil || out.Secret != in.Secret || out.Auth != in.Auth {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	if rest, _ := r.ReadString(0); rest != "rest of stdin" {
		t.Fatalf("ReadChildConfig read past the blank line: rest %q", rest)
	}
	for _, bad := range []string{"secret xyz\n\n", "password x\n\n", "secret 1\n"} {
		if err := ReadChildConfig(bufioReader(strings.NewReader(bad)), &out); err == nil {
			t.Errorf("ReadChildConfig(%q) succeeded", bad)
		}
	}
	if err := WriteChildConfig(&b, Config{Auth: "a\nsecret 0"}); err == nil {
		t.Error("WriteChildConfig accepted a token with a line break")
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

// eventually polls the server's stats until cond holds, for up to ten
// seconds (a bound on a hang, not a timing assertion), and returns them.
func eventually(t testing.TB, s *Server, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached in 10s; stats:\n%s", st)
		}
		time.Sleep(time.Millisecond)
	}
}

// CONCBENCH.SECRET and CONCBENCH.VALUESIZE change what GET derives from
// the next request on, on every connection; the secret is never read back;
// both need AUTH on a server that has a token.
func TestControlSecretAndValueSize(t *testing.T) {
	t.Parallel()
	const token = "tok-secret-test"
	s := start(t, Config{Auth: token, MaxQueuedBytes: 1 << 20})
	ctl := dialControl(t, s, token)
	data := dial(t, s, 5*time.Second)
	if err := data.Auth("", token); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		secret uint64
		size   int
	}{{0x5eed, 64}, {0xffffffffffffffff, 1000}, {0, 7}, {1, 0}} {
		if err := ctl.SetSecret(tt.secret); err != nil {
			t.Fatal(err)
		}
		if err := ctl.SetValueSize(tt.size); err != nil {
			t.Fatal(err)
		}
		if n, err := ctl.ValueSize(); err != nil || n != tt.size || s.ValueSize() != tt.size {
			t.Fatalf("ValueSize after SetValueSize(%d) = %d, %v (server %d)", tt.size, n, err, s.ValueSize())
		}
		want := workloads.SecretValue(tt.secret, "item:3", tt.size)
		if v, err := data.Get("item:3"); err != nil || !bytes.Equal(v, want) {
			t.Fatalf("GET after secret %x size %d: %q, %v; want %q", tt.secret, tt.size, v, err, want)
		}
		r, err := data.Do("MGET", "a", "b")
		if err != nil || len(r.Elems) != 2 || !bytes.Equal(r.Elems[1].Str, workloads.SecretValue(tt.secret, "b", tt.size)) {
			t.Fatalf("MGET after secret %x size %d: %v, %v", tt.secret, tt.size, r, err)
		}
	}
	// Refused: a value no GET could be answered with, bad numbers, and a
	// read of the secret.
	for _, args := range [][]string{
		{"CONCBENCH.VALUESIZE", "1048576"}, {"CONCBENCH.VALUESIZE", "-1"}, {"CONCBENCH.VALUESIZE", "x"},
		{"CONCBENCH.SECRET", "xyz"}, {"CONCBENCH.SECRET", "12345678901234567"}, {"CONCBENCH.SECRET"},
	} {
		r, err := data.Do(args...)
		if err != nil || r.Kind != resp.KindError {
			t.Errorf("%v: %v, %v; want an error reply", args, r, err)
		}
	}
	if err := ctl.SetValueSize(1 << 20); err == nil || !strings.Contains(err.Error(), "CONCBENCH.VALUESIZE") {
		t.Errorf("SetValueSize over the reply budget: %v", err)
	}
	if s.ValueSize() != 0 {
		t.Errorf("a refused CONCBENCH.VALUESIZE changed the size to %d", s.ValueSize())
	}
	anon := dial(t, s, 5*time.Second)
	for _, args := range [][]string{{"CONCBENCH.SECRET", "1"}, {"CONCBENCH.VALUESIZE", "8"}} {
		if r, err := anon.Do(args...); err != nil || !strings.HasPrefix(string(r.Str), "NOAUTH") {
			t.Errorf("%v before AUTH: %v, %v; want NOAUTH", args, r, err)
		}
	}
	if v, err := data.Get("item:3"); err != nil || !bytes.Equal(v, workloads.SecretValue(1, "item:3", 0)) {
		t.Errorf("refused commands changed the values: GET = %q, %v", v, err)
	}
}
