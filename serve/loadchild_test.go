package serve_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/loadgen"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

// loadChildEnv makes this test binary, run as TestLoadChildProcess, act as
// `concbench loadgen`: the LoadChild tests' child process.
const loadChildEnv = "CONCBENCH_TEST_LOADGEN_CHILD"

// TestLoadChildProcess is not a test: it is the child of the LoadChild
// tests (run with loadChildEnv=1), doing what `concbench loadgen` does
// after its flags.
func TestLoadChildProcess(t *testing.T) {
	if os.Getenv(loadChildEnv) != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code, err := serve.RunLoadJob(ctx, os.Stdin, os.Stdout, slices.Contains(flag.Args(), "--allow-remote"))
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// loadChild runs this test binary as the generator's child process.
func loadChild() serve.LoadChild {
	return serve.LoadChild{Argv: []string{os.Args[0], "-test.run=^TestLoadChildProcess$", "--"},
		Env: append(os.Environ(), loadChildEnv+"=1")}
}

// pageServer starts net/http's page server on a backend whose values
// carry secret, and returns its address and the job's page parameters.
func pageServer(t *testing.T, secret uint64) (string, serve.LoadJob) {
	t.Helper()
	return countingPageServer(t, secret, nil)
}

// countingPageServer is pageServer counting the pages served in served.
func countingPageServer(t *testing.T, secret uint64, served *atomic.Int64) (string, serve.LoadJob) {
	t.Helper()
	b, err := backend.Start(context.Background(), backend.Config{ValueSize: 128, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	job := serve.LoadJob{Pages: 50, ValueSize: 128, Secret: secret}
	ref, err := job.Reference()
	if err != nil {
		t.Fatal(err)
	}
	r, err := serve.Start(context.Background(), pagesOverHTTP{served},
		serve.Env{Backends: []string{b.Addr()}, Pages: job.Pages, ValueSize: job.ValueSize}, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Error(err)
		}
	})
	return r.Addr(), job
}

// pagesOverHTTP is the page endpoint on net/http, its lookups on
// connections from a small pool: enough of a server for the generator's
// tests (the servers themselves are tested by servetest.Conformance).
// It counts the pages it served in served, when set.
type pagesOverHTTP struct{ served *atomic.Int64 }

func (s pagesOverHTTP) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	env, err := env.WithDefaults()
	if err != nil {
		return err
	}
	idle := make(chan *resp.Client, 16)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := serve.ParseTarget([]byte(r.URL.RequestURI()), env.Pages)
		if !ok {
			http.NotFound(w, r)
			return
		}
		var c *resp.Client
		select {
		case c = <-idle:
		default:
			var err error
			if c, err = resp.Dial(r.Context(), env.Backends[0], env.FetchTimeout); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		page, err := serve.FetchPage(nil, c, id, env.ValueSize)
		if err != nil {
			_ = c.Close()
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		select {
		case idle <- c:
		default:
			_ = c.Close()
		}
		_, _ = w.Write(page)
		if s.served != nil {
			s.served.Add(1)
		}
	})}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	for {
		select {
		case c := <-idle:
			_ = c.Close()
		default:
			return nil
		}
	}
}

// The generator runs in a child process, computes the reference itself
// from the job (the backend's secret included) and verifies every
// response: with the wrong secret every body is refused.
func TestLoadChildVerifiesEveryResponse(t *testing.T) {
	t.Parallel()
	const secret = 0x5eed
	addr, job := pageServer(t, secret)
	job.Config = loadgen.Config{Addr: addr, Rate: 200, Duration: 300 * time.Millisecond,
		Timeout: 5 * time.Second, MaxLag: time.Minute}
	res, err := loadChild().Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Scheduled == 0 || res.OK != res.Scheduled || res.Failed() != 0 {
		t.Fatalf("ok %d of %d, errors %v: %v", res.OK, res.Scheduled, res.Errors, res.ErrorSamples)
	}
	if res.Latencies != nil {
		t.Error("the result has samples: it did not come through the child's JSON")
	}
	if res.CPUScope != "process" {
		t.Errorf("CPU scope %q, want process", res.CPUScope)
	}

	job.Secret = secret + 1
	res, err = loadChild().Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.Errors[loadgen.KindBody.String()] != res.Scheduled {
		t.Fatalf("with the wrong secret: ok %d, errors %v; want every body refused", res.OK, res.Errors)
	}
}

// A generator whose context ends is stopped by SIGTERM and still hands
// back what it measured.
func TestLoadChildInterrupted(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	addr, job := countingPageServer(t, 0, &served)
	job.Config = loadgen.Config{Addr: addr, Rate: 100, Duration: time.Minute, Timeout: 5 * time.Second, MaxLag: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := make(chan time.Time, 1)
	go func() { // once the child's load has begun
		for served.Load() < 5 {
			if ctx.Err() != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancelled <- time.Now()
		cancel()
	}()
	res, err := loadChild().Run(ctx, job)
	var at time.Time
	select {
	case at = <-cancelled:
	default:
		t.Fatalf("Run returned before it was cancelled: %v", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want the context's error", err)
	}
	if res == nil || !res.Interrupted || res.OK == 0 {
		t.Fatalf("partial result %v, want interrupted with the answers before", res)
	}
	if d := time.Since(at); d > 10*time.Second {
		t.Errorf("stopping took %v", d)
	}
}

// A job the child refuses fails Run with the child's reason.
func TestLoadChildRefusal(t *testing.T) {
	t.Parallel()
	job := serve.LoadJob{Pages: 10, ValueSize: 128, // refused for its duration too: nothing is sent
		Config: loadgen.Config{Addr: "192.0.2.1:80", Rate: 10}}
	_, err := loadChild().Run(context.Background(), job)
	if !errors.Is(err, serve.ErrLoadChild) || !strings.Contains(err.Error(), "not loopback") {
		t.Fatalf("Run = %v, want the child's refusal of a remote target", err)
	}
}

// RunLoadJob's exit statuses, in process.
func TestRunLoadJob(t *testing.T) {
	t.Parallel()
	addr, _ := pageServer(t, 0)
	tests := []struct {
		name, job   string
		allowRemote bool
		code        int
		want        string // in the error
	}{
		{name: "ok", code: serve.ExitLoadOK,
			job: `{"config":{"addr":"` + addr + `","rate":100,"duration_ns":200000000},"pages":50,"value_size":128}`},
		{name: "not JSON", job: `{"config":`, code: serve.ExitLoadRefused, want: "decode load job"},
		{name: "no pages", job: `{"config":{"addr":"` + addr + `","rate":100,"duration_ns":1},"value_size":128}`,
			code: serve.ExitLoadRefused, want: "0 pages"},
		// Remote targets in jobs refused for their duration as well: had
		// the address passed by mistake, still no packet would leave.
		{name: "remote", job: `{"config":{"addr":"192.0.2.1:80","rate":100,"duration_ns":0},"pages":1,"value_size":128}`,
			code: serve.ExitLoadRefused, want: "not loopback"},
		{name: "remote allowed by the job only",
			job:  `{"config":{"addr":"192.0.2.1:80","allow_remote":true,"rate":100,"duration_ns":0},"pages":1,"value_size":128}`,
			code: serve.ExitLoadRefused, want: "not loopback"},
		{name: "remote allowed", allowRemote: true, // refused for its duration: the address passed
			job:  `{"config":{"addr":"192.0.2.1:80","rate":100,"duration_ns":0},"pages":1,"value_size":128}`,
			code: serve.ExitLoadRefused, want: "duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := serve.RunLoadJob(context.Background(), strings.NewReader(tt.job), &out, tt.allowRemote)
			if code != tt.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.code)
			}
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want one about %q", err, tt.want)
				}
				if out.Len() != 0 {
					t.Errorf("wrote %q for a refused job", out.String())
				}
				return
			}
			res, derr := loadgen.DecodeResult(out.Bytes())
			if err != nil || derr != nil || res.OK == 0 || res.OK != res.Scheduled {
				t.Fatalf("err %v, decode %v, result %v", err, derr, res)
			}
		})
	}
}
