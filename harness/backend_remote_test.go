package harness

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

// startAuthBackend starts a built-in backend with a token, as `concbench
// backend --listen ... --auth TOKEN` runs on another machine.
func startAuthBackend(t *testing.T, token string) *backend.Server {
	t.Helper()
	s, err := backend.Start(context.Background(), backend.Config{Auth: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// RemoteBackends sets every server's secret, value size and latency over
// its control connection, spreads the instances, and reads the servers'
// windows.
func TestRemoteBackends(t *testing.T) {
	t.Parallel()
	const token = "remote-t0ken"
	a, b := startAuthBackend(t, token), startAuthBackend(t, token)
	ctx := context.Background()
	p, err := NewRemoteBackends(ctx, "concbench://"+token+"@"+a.Addr()+","+b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	if cred := BackendCredentials(p); cred != (resp.Credentials{Password: token}) {
		t.Fatalf("BackendCredentials = %+v", cred)
	}
	if strings.Contains(p.Describe(), token) || !strings.Contains(p.Describe(), a.Addr()+","+b.Addr()) {
		t.Errorf("Describe = %q", p.Describe())
	}
	p.Secret = 0xabc
	spec := smallSpec(t, "fanout", params.Values{"tasks": "20", "backends": "3", "size": "100", "latency": "2ms"})
	addrs, err := p.Prepare(ctx, spec)
	if err != nil || strings.Join(addrs, " ") != a.Addr()+" "+b.Addr()+" "+a.Addr() {
		t.Fatalf("Prepare = %v, %v; want the 3 instances spread over the 2 servers", addrs, err)
	}
	for _, s := range []*backend.Server{a, b} {
		if s.ValueSize() != 100 || s.Latency() != backend.Constant(2*time.Millisecond) {
			t.Errorf("server %s: value size %d, latency %v after Prepare", s.Addr(), s.ValueSize(), s.Latency())
		}
	}
	// A strategy's connection logs in with the credentials and gets the
	// secret's values, which no command reads back.
	c, err := resp.Dial(ctx, addrs[1], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(BackendCredentials(p)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Windows(); err != nil { // start the windows
		t.Fatal(err)
	}
	if v, err := c.Get("item:1"); err != nil || string(v) != string(workloads.SecretValue(0xabc, "item:1", 100)) {
		t.Fatalf("GET = %q, %v; want the secret's value", v, err)
	}
	ws, err := p.Windows()
	if err != nil || len(ws) != 2 || ws[0].Gets != 0 || ws[1].Gets != 1 {
		t.Fatalf("Windows = %+v, %v; want one get, on the second server", ws, err)
	}
	// Another latency, secret and size reach every server.
	p.Secret = 0xdef
	next := smallSpec(t, "fanout", params.Values{"tasks": "5", "backends": "1", "size": "32", "latency": "0s"})
	if addrs, err := p.Prepare(ctx, next); err != nil || len(addrs) != 1 || addrs[0] != a.Addr() {
		t.Fatalf("Prepare = %v, %v", addrs, err)
	}
	for _, s := range []*backend.Server{a, b} {
		if s.ValueSize() != 32 || s.Latency() != (backend.Distribution{}) {
			t.Errorf("server %s: value size %d, latency %v after the second Prepare", s.Addr(), s.ValueSize(), s.Latency())
		}
	}
	if v, err := c.Get("item:1"); err != nil || string(v) != string(workloads.SecretValue(0xdef, "item:1", 32)) {
		t.Fatalf("GET after a new secret = %q, %v", v, err)
	}
	sts, err := p.Stats()
	if err != nil || len(sts) != 2 || sts[1].Gets != 2 {
		t.Fatalf("Stats = %+v, %v", sts, err)
	}
	if err := p.StartCPUProfiles(); err == nil { // the servers share this test's process: its profiler may be taken
		if _, err := p.StopCPUProfiles(); err != nil {
			t.Fatal(err)
		}
	}
	if p.Restarts() != nil {
		t.Error("a remote server was restarted")
	}
}

// Every bad input is one line, not a usage error, names the server and
// says why; none shows the token; nothing stays connected.
func TestRemoteBackendsRefusals(t *testing.T) {
	t.Parallel()
	const token = "refusal-t0ken"
	good := startAuthBackend(t, token)
	open, err := backend.Start(context.Background(), backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	defer func() {
		silent.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()

	for _, tt := range []struct{ url, want string }{
		{"concbench://wrong@" + good.Addr(), "concbench backend " + good.Addr() + ": wrong token: the server refused it (WRONGPASS"},
		{"concbench://" + good.Addr(), "concbench backend " + good.Addr() + ": the server requires a token, and the URL gives none (NOAUTH"},
		{"concbench://" + token + "@" + open.Addr(), "concbench backend " + open.Addr() + ": the URL gives a token, but the server refused AUTH"},
		{"concbench://" + web.Listener.Addr().String(), "it does not speak the Redis protocol (RESP): unexpected type byte 'H'"},
		{"concbench://" + silent.Addr().String(), "no answer within 1s"},
		{"concbench://" + token + "@" + good.Addr() + "," + refusedAddr, "concbench backend " + refusedAddr + ": connection refused: nothing listens there"},
		{"concbench://" + token + "@no-such-host.invalid:6380", `concbench backend no-such-host.invalid:6380: cannot resolve host "no-such-host.invalid"`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		p, err := NewRemoteBackends(ctx, tt.url)
		cancel()
		if err == nil {
			p.Close()
			t.Errorf("NewRemoteBackends(%q) accepted it", tt.url)
			continue
		}
		msg := err.Error()
		if errors.Is(err, ErrBadBackendURL) || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
			t.Errorf("NewRemoteBackends(%q): %v; want one line with %q", tt.url, err, tt.want)
		}
		if strings.Contains(msg, token) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	// Every connection made to the good server was closed.
	deadline := time.Now().Add(10 * time.Second) // a bound on a hang, not a timing assertion
	for good.Stats().ActiveConns != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to the good server left open", good.Stats().ActiveConns)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := NewRemoteBackends(context.Background(), "concbench://"+token+"@h"); !errors.Is(err, ErrBadBackendURL) || strings.Contains(err.Error(), token) {
		t.Errorf("a URL without a port: %v; want ErrBadBackendURL without the token", err)
	}
	if _, err := NewRemoteBackends(context.Background(), "concbench://h:1/x"); !errors.Is(err, ErrBadBackendURL) {
		t.Errorf("a URL with a path: %v; want ErrBadBackendURL", err)
	}
}

// A real Redis is a RESP server, but not a concbench backend.
func TestRemoteBackendsRefuseARedis(t *testing.T) {
	addr := testenv.RedisServer(t)
	_, err := NewRemoteBackends(context.Background(), "concbench://"+addr)
	if err == nil || !strings.Contains(err.Error(), "concbench backend "+addr+": it speaks RESP but is not a concbench backend (ERR unknown command") ||
		!strings.Contains(err.Error(), "use --backend redis://HOST:PORT") {
		t.Fatalf("NewRemoteBackends on a redis-server: %v", err)
	}
}
