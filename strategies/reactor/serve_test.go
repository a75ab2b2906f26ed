//go:build linux

package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/httpwire"
	"github.com/concbench/concbench/serve/servetest"
	"github.com/concbench/concbench/workloads/backend"
)

func newServer(t testing.TB, v params.Values) serve.Server {
	t.Helper()
	srv, ok := newReactor(t, v).(serve.Server)
	if !ok {
		t.Fatal("the reactor does not implement serve.Server")
	}
	return srv
}

// serveConfigs are the server's settings under test: one loop, a loop per
// core, one backend connection (lookups queue for it), and pipelined
// lookups on few connections.
var serveConfigs = []params.Values{
	nil,
	{"loops": "2"},
	{"conns": "1"},
	{"depth": "4", "conns": "2"},
}

func configName(v params.Values) string {
	if len(v) == 0 {
		return "defaults"
	}
	var parts []string
	for _, k := range []string{"loops", "conns", "depth"} {
		if x, ok := v[k]; ok {
			parts = append(parts, k+"="+x)
		}
	}
	return strings.Join(parts, ",")
}

func TestServeConformance(t *testing.T) {
	t.Parallel()
	for _, v := range serveConfigs {
		t.Run(configName(v), func(t *testing.T) {
			t.Parallel()
			servetest.Conformance(t, newServer(t, v))
		})
	}
}

// A lookup the backend does not answer within the fetch timeout answers
// 502, and the client's connection goes on: once the backend answers
// again, so does the server, on the same connection.
func TestServeFetchTimeoutAnswers502(t *testing.T) {
	t.Parallel()
	for _, v := range []params.Values{nil, {"conns": "1"}} {
		t.Run(configName(v), func(t *testing.T) {
			t.Parallel()
			env, ref, b := servetest.Env(t, 0)
			env.FetchTimeout = 200 * time.Millisecond
			r := servetest.Start(t, newServer(t, v), env, ref)
			c := servetest.Dial(t, r.Addr())
			c.ExpectPage(t, 1, ref)
			if err := b.SetLatency(backend.Constant(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if st := c.Get(t, "/page/2"); st.Status != 502 || st.Close {
				t.Fatalf("stalled backend: status %d, close %v; want 502 on a kept connection", st.Status, st.Close)
			}
			if err := b.SetLatency(backend.Constant(0)); err != nil {
				t.Fatal(err)
			}
			c.ExpectPage(t, 3, ref)
		})
	}
}

// The loops serve every connection themselves: many idle keep-alive
// connections cost no goroutine (the goroutines strategy's server would
// have one each).
func TestServeNoGoroutinePerConnection(t *testing.T) { // not parallel: it counts goroutines
	env, ref, _ := servetest.Env(t, 0)
	r := servetest.Start(t, newServer(t, params.Values{"loops": "2"}), env, ref)
	before := runtime.NumGoroutine()
	for i := range 64 {
		servetest.Dial(t, r.Addr()).ExpectPage(t, i, ref)
	}
	if after := runtime.NumGoroutine(); after > before+8 {
		t.Errorf("goroutines: %d before, %d with 64 connections open", before, after)
	}
}

// Many clients at once, each pipelining, on few backend connections: every
// answer verified and in order.
func TestServeManyPipeliningClients(t *testing.T) {
	t.Parallel()
	env, ref, _ := servetest.Env(t, 0)
	r := servetest.Start(t, newServer(t, params.Values{"loops": "2", "conns": "3", "depth": "2"}), env, ref)
	var wg sync.WaitGroup
	for k := range 16 {
		wg.Go(func() {
			conn, err := net.Dial("tcp", r.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			var req []byte
			for i := range 20 {
				req = append(req, "GET "+string(serve.AppendPath(nil, (k*20+i)%servetest.Pages))+" HTTP/1.1\r\nHost: x\r\n\r\n"...)
			}
			if _, err := conn.Write(req); err != nil {
				t.Error(err)
				return
			}
			if err := readPages(conn, ref, k*20, 20); err != nil {
				t.Errorf("client %d: %v", k, err)
			}
		})
	}
	wg.Wait()
}

// Serve returns at once when its context ends, with clients idle, clients
// mid-request on a stalled backend, and a client mid-head.
func TestServeStops(t *testing.T) {
	t.Parallel()
	env, ref, b := servetest.Env(t, 0)
	env.FetchTimeout = time.Minute
	r, err := serve.Start(context.Background(), newServer(t, params.Values{"loops": "2"}), env, ref)
	if err != nil {
		t.Fatal(err)
	}
	servetest.Dial(t, r.Addr()).ExpectPage(t, 1, ref)
	if err := b.SetLatency(backend.Constant(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, req := range []string{"GET /page/2 HTTP/1.1\r\nHost: x\r\n\r\n", "GET /page/3 HTTP/1.1\r\nHo"} {
		c, err := net.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", r.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("the listening socket is still open after Serve returned")
	}
}

// readPages reads n responses from conn and checks they are pages first,
// first+1, ... (mod servetest.Pages), in order.
func readPages(conn net.Conn, ref *serve.Reference, first, n int) error {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var p httpwire.ResponseParser
	var buf []byte
	chunk := make([]byte, 16<<10)
	for got := 0; got < n; {
		r, used, err := p.Parse(buf)
		if errors.Is(err, httpwire.ErrIncomplete) {
			k, err := conn.Read(chunk)
			buf = append(buf, chunk[:k]...)
			if err != nil && k == 0 {
				return fmt.Errorf("after %d answers: %w", got, err)
			}
			continue
		}
		if err != nil {
			return err
		}
		id := (first + got) % servetest.Pages
		if r.Status != 200 {
			return fmt.Errorf("answer %d (page %d): status %d", got, id, r.Status)
		}
		if err := ref.Verify(id, r.Body); err != nil {
			return fmt.Errorf("answer %d: %w", got, err)
		}
		buf = buf[used:]
		got++
	}
	return nil
}
