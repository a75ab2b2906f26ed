package harness

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/loadgen"
	"github.com/concbench/concbench/strategies"
)

// A standalone server serves verified pages from its backend, and its
// load job, aimed at it, verifies every one: with the backend's secret
// every response passes, with another every response fails as a wrong
// page. The job offers the serve parameters' load as a serve round would.
func TestStartServerServesVerifiedPages(t *testing.T) {
	backends := &InProcessBackends{}
	defer backends.Close()
	ctx := context.Background()
	srv, err := StartServer(ctx, ServerOptions{Strategy: "goroutines", Listen: "127.0.0.1:0", Backends: backends,
		ServeParams: params.Values{"rate": "200", "duration": "200ms", "pages": "20", "latency": "0s", "slo": "200ms"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	job := srv.LoadJob()
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr %q (%v): want 127.0.0.1 and the port picked", srv.Addr(), err)
	}
	want := loadgen.Config{Addr: srv.Addr(), Rate: 200, Arrival: loadgen.Constant, Warmup: 50 * time.Millisecond,
		Duration: 200 * time.Millisecond, Timeout: 2 * time.Second, Conns: 256}
	if job.Config != want || job.Pages != 20 || job.ValueSize != 128 || job.Secret != backends.runSecret() || job.Secret == 0 {
		t.Fatalf("load job %+v, want config %+v, 20 pages of 128 bytes and the backend's secret", job, want)
	}
	if srv.Strategy() != "goroutines(conns=256)" {
		t.Errorf("Strategy %q", srv.Strategy())
	}

	res, err := job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Scheduled < 20 || res.OK != res.Scheduled || res.Failed() != 0 || !(res.AchievedRate > 0) {
		t.Fatalf("%d of %d verified, errors %v, achieved %v/s", res.OK, res.Scheduled, res.Errors, res.AchievedRate)
	}

	job.Secret ^= 1
	job.Config.Duration = 50 * time.Millisecond
	res, err = job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if body := res.Errors[loadgen.KindBody.String()]; res.OK != 0 || body == 0 {
		t.Fatalf("with another secret: %d verified, %d wrong pages (errors %v); want none verified", res.OK, body, res.Errors)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Done():
	default:
		t.Fatal("Done is open after Close")
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Close", srv.Addr())
	}
}

// The job keeps to what the server model serves at once (the iterative
// server: one connection) and to its serve-only parameters, and stops
// when StartServer's context ends.
func TestStartServerModels(t *testing.T) {
	backends := &InProcessBackends{}
	defer backends.Close()
	for _, tt := range []struct {
		strategy string
		values   params.Values
		label    string
		conns    int
	}{
		{"blocking", nil, "blocking", 1},
		{"simd", params.Values{"window": "1ms", "path": "scalar"}, "simd(batch=256,path=scalar,window=1ms)", 256},
		{"reactor", params.Values{"loops": "2"}, "reactor(loops=2,conns=0,depth=1,offload=off)", 256},
	} {
		t.Run(tt.strategy, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv, err := StartServer(ctx, ServerOptions{Strategy: tt.strategy, StrategyParams: tt.values, Listen: "127.0.0.1:0",
				Backends: backends, ServeParams: params.Values{"latency": "0s", "pages": "5"}})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if srv.Strategy() != tt.label || srv.LoadJob().Config.Conns != tt.conns {
				t.Errorf("strategy %q with job conns %d, want %q and %d", srv.Strategy(), srv.LoadJob().Config.Conns, tt.label, tt.conns)
			}
			cancel()
			select {
			case <-srv.Done():
			case <-time.After(serve.StopTimeout):
				t.Fatal("the server still serves after its context ended")
			}
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Wrong options are refused before anything starts: no backend is
// prepared, nothing listens.
func TestStartServerRefuses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tt := range []struct {
		name string
		opt  ServerOptions
		want error  // errors.Is, when set
		text string // in the message
	}{
		{"unknown strategy", ServerOptions{Strategy: "nope"}, strategies.ErrUnknownStrategy, `unknown strategy "nope" (valid: blocking,`},
		{"no strategy", ServerOptions{}, nil, "no strategy"},
		{"no server model", ServerOptions{Strategy: "test-noserver"}, serve.ErrCannotServe, "test-noserver: serve: cannot serve: it has no server model"},
		{"unknown strategy parameter", ServerOptions{Strategy: "goroutines", StrategyParams: params.Values{"size": "1"}},
			params.ErrUnknown, `"size"`},
		{"strategy sweep", ServerOptions{Strategy: "goroutines", StrategyParams: params.Values{"conns": "1,2"}},
			params.ErrInvalid, "conns=1,2 is a sweep"},
		{"serve sweep", ServerOptions{Strategy: "goroutines", ServeParams: params.Values{"rate": "100,200"}},
			params.ErrInvalid, "rate=100,200 is a sweep"},
		{"unknown serve parameter", ServerOptions{Strategy: "goroutines", ServeParams: params.Values{"tasks": "1"}},
			params.ErrUnknown, `"tasks"`},
		{"every interface", ServerOptions{Strategy: "goroutines", Listen: "0.0.0.0:0"}, ErrRemoteListen, "0.0.0.0:0"},
		{"every interface, no host", ServerOptions{Strategy: "goroutines", Listen: ":0"}, ErrRemoteListen, "binds every interface"},
		{"another host's address", ServerOptions{Strategy: "goroutines", Listen: "192.0.2.1:80"}, ErrRemoteListen, "192.0.2.1:80"},
		{"port in use", ServerOptions{Strategy: "goroutines", Listen: busy.Addr().String()}, nil, "address already in use"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			backends := &InProcessBackends{}
			defer backends.Close()
			tt.opt.Backends = backends
			srv, err := StartServer(context.Background(), tt.opt)
			if err == nil {
				srv.Close()
				t.Fatal("started")
			}
			if tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q, want %v and %q", err, tt.want, tt.text)
			}
			if len(backends.running) > 0 {
				t.Errorf("a backend was started for refused options")
			}
		})
	}
}

func TestCheckListen(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		listen      string
		allowRemote bool
		remote      bool // the error wraps ErrRemoteListen
		bad         bool // another error
	}{
		{listen: "127.0.0.1:8080"},
		{listen: "127.0.0.2:0"},
		{listen: "[::1]:0"},
		{listen: "localhost:0"},
		{listen: "0.0.0.0:8080", remote: true},
		{listen: "[::]:8080", remote: true},
		{listen: ":8080", remote: true},
		{listen: "192.0.2.1:8080", remote: true},
		{listen: "192.0.2.1:8080", allowRemote: true},
		{listen: ":8080", allowRemote: true},
		{listen: "127.0.0.1", bad: true},
		{listen: "127.0.0.1", allowRemote: true, bad: true},
	} {
		err := CheckListen(context.Background(), tt.listen, tt.allowRemote)
		if got := errors.Is(err, ErrRemoteListen); got != tt.remote || (err != nil && !got) != tt.bad {
			t.Errorf("CheckListen(%q, %v) = %v", tt.listen, tt.allowRemote, err)
		}
	}
}

// A listener on every interface is reached, and named, as it was asked
// for.
func TestBoundAndProbeAddresses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		listen      string
		bound       *net.TCPAddr
		named, dial string
	}{
		{"127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, "127.0.0.1:80", "127.0.0.1:80"},
		{"0.0.0.0:0", &net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, "0.0.0.0:80", "[::1]:80"},
		{"0.0.0.0:0", &net.TCPAddr{IP: net.IPv4zero, Port: 80}, "0.0.0.0:80", "127.0.0.1:80"},
		{":0", &net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, "[::]:80", "[::1]:80"},
		{"192.0.2.1:0", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80}, "192.0.2.1:80", "192.0.2.1:80"},
	} {
		if got := boundAddr(tt.listen, tt.bound); got != tt.named {
			t.Errorf("boundAddr(%q, %v) = %q, want %q", tt.listen, tt.bound, got, tt.named)
		}
		if got := probeAddr(tt.bound); got != tt.dial {
			t.Errorf("probeAddr(%v) = %q, want %q", tt.bound, got, tt.dial)
		}
	}
}
