package harness

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/servetest"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// localPages is a server model that makes every page from values it
// computes itself (workloads.Value), never asking the backend: what a
// server that skipped its lookups would serve.
type localPages struct{}

func (localPages) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 4096)
			n, _ := c.Read(buf)
			target := strings.Fields(string(buf[:n]))
			id := 0
			if len(target) > 1 {
				id, _ = serve.ParseTarget([]byte(target[1]), env.Pages)
			}
			s := serve.ReplyHash(workloads.Value(serve.SessionKey(id), env.ValueSize))
			u := serve.ReplyHash(workloads.Value(serve.UserKey(s), env.ValueSize))
			body := serve.AppendPage(nil, id, s, u)
			head := "HTTP/1.1 200 OK\r\nContent-Type: " + serve.ContentType + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
			_, _ = c.Write(append([]byte(head), body...))
		}()
	}
}

// Serve mode's backend holds the run's secret too, through the provider:
// after Prepare, the provider's secret (what a serve round reads, for
// the pages' reference and the load generator's job) makes the reference
// a real server's pages match, and a server that makes its pages without
// asking the backend never passes it.
func TestServePagesNeedTheBackendsSecret(t *testing.T) {
	ctx := context.Background()
	p := &InProcessBackends{}
	defer p.Close()
	spec := smallSpec(t, "webrequest", params.Values{"tasks": "100", "latency": "0s"})
	addrs, err := p.Prepare(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	secret := p.runSecret()
	ref, err := serve.LoadJob{Pages: len(spec.Tasks), ValueSize: spec.Backend.ValueSize, Secret: secret}.Reference()
	if err != nil {
		t.Fatal(err)
	}
	env := serve.Env{Backends: addrs, Pages: len(spec.Tasks), ValueSize: spec.Backend.ValueSize,
		Credentials: BackendCredentials(p), FetchTimeout: 2 * time.Second, Logf: t.Logf}

	d, err := strategies.Lookup("goroutines")
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := d.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := servetest.Start(t, s.(serve.Server), env, ref)
	c := servetest.Dial(t, r.Addr())
	for id := range 10 {
		c.ExpectPage(t, id*9, ref)
	}
	c.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- localPages{}.Serve(lctx, ln, env) }()
	defer func() {
		stop()
		<-done
	}()
	lc := servetest.Dial(t, ln.Addr().String())
	defer lc.Close()
	if err := lc.Page(3, ref); !errors.Is(err, serve.ErrWrongPage) {
		t.Fatalf("a page made without the backend: %v; want it refused (serve.ErrWrongPage)", err)
	}
}
