package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The page's digest is the webrequest task's result: the server does the
// workload's task, not something like it.
func TestDigestIsTheWebrequestResult(t *testing.T) {
	t.Parallel()
	def, err := workloads.Lookup("webrequest")
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	spec, err := def.Build(params.Values{"tasks": fmt.Sprint(n), "latency": "0s"})
	if err != nil {
		t.Fatal(err)
	}
	spec.UseSecret(0) // plain values, as below
	size := spec.Backend.ValueSize
	for id := range n {
		s := ReplyHash(workloads.Value(SessionKey(id), size))
		u := ReplyHash(workloads.Value(UserKey(s), size))
		if got, want := Sums(id, s, u).Digest, spec.Reference[id].Sum; got != want {
			t.Fatalf("page %d: digest %#x, webrequest task's result %#x", id, got, want)
		}
	}
}

// pageTable must be the bytes the render kernel hashes after the head, or
// a server sending it would not send what it rendered.
func TestPageTableIsTheRenderedTable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		id     int
		sum, u uint64
	}{{0, 0, 0}, {7, 0xdeadbeef, 0x1234}, {999, 1<<64 - 1, 1}} {
		head := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nX-Request: %d\r\nETag: %x%x\r\n\r\n", c.id, c.sum, c.u)
		want := workloads.Render(workloads.Scalar, c.id, c.sum, c.u)
		if got := workloads.FNV1aScalar(workloads.FNV1aScalar(workloads.FNVOffset, head), pageTable); got != want {
			t.Fatalf("render of page %d: table hashes to %#x, workloads.Render %#x", c.id, got, want)
		}
	}
}

func TestPageBytes(t *testing.T) {
	t.Parallel()
	p := AppendPage(nil, 12, 0xabc, 0x0def)
	s := Sums(12, 0xabc, 0xdef)
	want := fmt.Sprintf("<!-- page 12 session abc user def render %x digest %x -->\n", s.Render, s.Digest)
	if !bytes.HasPrefix(p, []byte(want)) || !bytes.Equal(p[len(want):], pageTable) {
		t.Errorf("page starts %q, want %q", p[:min(len(p), 120)], want)
	}
	if !bytes.HasPrefix(pageTable, []byte("<!doctype html>")) || !bytes.HasSuffix(pageTable, []byte("</html>")) || len(pageTable) < 1000 {
		t.Errorf("table of %d bytes", len(pageTable))
	}
}

func TestReferenceVerifies(t *testing.T) { // not parallel: AllocsPerRun
	ref, err := NewReference(20, 64, workloads.AppendValue)
	if err != nil {
		t.Fatal(err)
	}
	for id := range 20 {
		s := ReplyHash(workloads.Value(SessionKey(id), 64))
		u := ReplyHash(workloads.Value(UserKey(s), 64))
		page := AppendPage(nil, id, s, u)
		if !bytes.Equal(ref.Page(nil, id), page) {
			t.Fatalf("page %d differs from the reference", id)
		}
		if err := ref.Verify(id, page); err != nil {
			t.Fatal(err)
		}
	}
	good := ref.Page(nil, 3)
	bad := []struct {
		name string
		body []byte
		want string
	}{
		{"other page", ref.Page(nil, 4), "first line"},
		{"empty", nil, "first line"},
		{"one byte off in the table", append(bytes.Clone(good[:len(good)-1]), 'X'), "table differs"},
		{"short", good[:len(good)-1], "table differs"},
		{"long", append(bytes.Clone(good), ' '), "table differs"},
	}
	for _, b := range bad {
		err := ref.Verify(3, b.body)
		if !errors.Is(err, ErrWrongPage) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v", b.name, err)
		}
	}
	if err := ref.Verify(20, good); !errors.Is(err, ErrWrongPage) {
		t.Errorf("page out of range: %v", err)
	}
	path := make([]byte, 0, 32)
	allocs := testing.AllocsPerRun(100, func() {
		if ref.Verify(3, good) != nil {
			t.Fatal("verify failed")
		}
		if _, tag := ref.AppendPath(path, 23); tag != 3 {
			t.Fatal("tag")
		}
	})
	if allocs != 0 {
		t.Errorf("Verify allocates %v", allocs)
	}
}

// The values are a parameter: a reference over other values expects other
// pages (a per-run secret will make the values unguessable).
func TestReferenceUsesTheValueFunction(t *testing.T) {
	t.Parallel()
	other := func(dst []byte, key string, size int) []byte { return workloads.AppendValue(dst, "secret/"+key, size) }
	a, _ := NewReference(5, 32, workloads.AppendValue)
	b, _ := NewReference(5, 32, other)
	if bytes.Equal(a.Page(nil, 1), b.Page(nil, 1)) {
		t.Error("two value functions, one page")
	}
	short := func(dst []byte, key string, size int) []byte { return append(dst, 'x') }
	if _, err := NewReference(5, 32, short); err == nil {
		t.Error("a value function of the wrong size accepted")
	}
	for _, c := range []struct{ pages, size int }{{0, 32}, {5, 0}} {
		if _, err := NewReference(c.pages, c.size, workloads.AppendValue); err == nil {
			t.Errorf("NewReference(%d, %d) accepted", c.pages, c.size)
		}
	}
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		target string
		id     int
		ok     bool
	}{
		{"/page/0", 0, true}, {"/page/9", 9, true}, {"/page/10", 10, true}, {"/page/99", 99, true},
		{"/page/7?a=b", 7, true}, {"/page/100", 0, false}, {"/page/007", 0, false}, {"/page/00", 0, false},
		{"/page/", 0, false}, {"/page", 0, false}, {"/page/-1", 0, false}, {"/page/+1", 0, false},
		{"/page/1/", 0, false}, {"/page/1x", 0, false}, {"/page/99999999999", 0, false}, {"/Page/1", 0, false},
		{"/pages/1", 0, false}, {"/", 0, false}, {"", 0, false}, {"/page/%31", 0, false},
	}
	for _, tt := range tests {
		id, ok := ParseTarget([]byte(tt.target), 100)
		if ok != tt.ok || (ok && id != tt.id) {
			t.Errorf("%q: %d %v, want %d %v", tt.target, id, ok, tt.id, tt.ok)
		}
	}
	if got := string(AppendPath(nil, 42)); got != "/page/42" {
		t.Errorf("AppendPath: %q", got)
	}
}

type fakeFetcher struct {
	err  error
	size int
}

func (f *fakeFetcher) Get(key string) ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	return workloads.Value(key, f.size), nil
}

func TestFetchPage(t *testing.T) {
	t.Parallel()
	ref, _ := NewReference(10, 64, workloads.AppendValue)
	page, err := FetchPage([]byte("keep"), &fakeFetcher{size: 64}, 7, 64)
	if err != nil || !bytes.HasPrefix(page, []byte("keep")) {
		t.Fatalf("%q, %v", page, err)
	}
	if err := ref.Verify(7, page[4:]); err != nil {
		t.Error(err)
	}
	for _, f := range []*fakeFetcher{{size: 63}, {err: resp.ErrNil}} {
		out, err := FetchPage([]byte("keep"), f, 7, 64)
		if !errors.Is(err, ErrBackend) || string(out) != "keep" {
			t.Errorf("fetcher %+v: %q, %v", f, out, err)
		}
	}
}

func TestEnvDefaults(t *testing.T) {
	t.Parallel()
	env, err := Env{Backends: []string{"127.0.0.1:1"}, Pages: 1, ValueSize: 1}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if env.FetchTimeout != DefaultFetchTimeout || env.Limits.HeaderTimeout != DefaultHeaderTimeout ||
		env.Limits.IdleTimeout != DefaultIdleTimeout || env.MaxHead() <= 0 || env.Logf == nil {
		t.Errorf("%+v", env)
	}
	for _, bad := range []Env{{Pages: 1, ValueSize: 1}, {Backends: []string{"x"}, ValueSize: 1},
		{Backends: []string{"x"}, Pages: 1}, {Backends: []string{"x"}, Pages: 1, ValueSize: 1, FetchTimeout: -1}} {
		if _, err := bad.WithDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestJob(t *testing.T) {
	t.Parallel()
	env := Env{Backends: []string{"127.0.0.1:9"}, Pages: 10, ValueSize: 128, FetchTimeout: time.Second}
	j, err := NewJob("py-asyncio", map[string]string{"workers": "8"}, env, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	line, err := j.Line()
	if err != nil || line[len(line)-1] != '\n' || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("%q, %v", line, err)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"protocol": 1.0, "mode": "serve", "listen_fd": 3.0, "pages": 10.0,
		"value_size": 128.0, "fetch_timeout_ns": 1e9, "header_timeout_ns": float64(DefaultHeaderTimeout)} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if _, err := NewJob("x", nil, env, 3, "127.0.0.1:1"); err == nil {
		t.Error("both a socket and an address accepted")
	}
	if _, err := NewJob("x", nil, env, 0, ""); err == nil {
		t.Error("neither a socket nor an address accepted")
	}
}

// exitingServer fails at once, as a server that cannot serve does.
type exitingServer struct{}

func (exitingServer) Serve(_ context.Context, ln net.Listener, _ Env) error {
	ln.Close()
	return errors.New("cannot serve")
}

func TestStartReportsAServerThatExits(t *testing.T) {
	t.Parallel()
	ref, _ := NewReference(1, 8, workloads.AppendValue)
	_, err := Start(context.Background(), exitingServer{}, Env{Backends: []string{"127.0.0.1:1"}, Pages: 1, ValueSize: 8}, ref)
	if err == nil || !strings.Contains(err.Error(), "cannot serve") {
		t.Errorf("err = %v", err)
	}
}

// tunable is a server with one serve-only parameter.
type tunable struct{ window string }

func (tunable) Serve(context.Context, net.Listener, Env) error { return nil }
func (tunable) ServeParams() []params.Spec {
	return []params.Spec{params.Duration("window", time.Millisecond, 0, time.Second, "a window")}
}
func (tunable) WithServeParams(set params.Set) (Server, error) {
	return tunable{window: set.Get("window")}, nil
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	srv, set, err := Configure(tunable{}, params.Values{"window": "2ms"})
	if err != nil || srv.(tunable).window != "2ms" || set.String() != "window=2ms" {
		t.Errorf("tunable: %v %v %v", srv, set, err)
	}
	if _, set, err := Configure(tunable{}, nil); err != nil || set.String() != "window=1ms" {
		t.Errorf("tunable, defaults: %v %v", set, err)
	}
	if _, _, err := Configure(tunable{}, params.Values{"window": "x"}); !errors.Is(err, params.ErrInvalid) {
		t.Errorf("bad value: %v", err)
	}
	if _, _, err := Configure(exitingServer{}, params.Values{"window": "1ms"}); !errors.Is(err, params.ErrUnknown) {
		t.Errorf("a value for a server without serve-only parameters: %v", err)
	}
	if srv, set, err := Configure(exitingServer{}, nil); err != nil || srv == nil || set != nil {
		t.Errorf("plain server: %v %v %v", srv, set, err)
	}
	if _, _, err := Configure(struct{}{}, nil); !errors.Is(err, ErrCannotServe) {
		t.Errorf("not a server: %v", err)
	}
}
