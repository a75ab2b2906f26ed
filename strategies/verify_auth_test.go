package strategies_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/servetest"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/external"
	"github.com/concbench/concbench/strategies/strategytest"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
	"github.com/concbench/concbench/workloads/workloadtest"
)

const authToken = "strategy-t0ken"

// authStrategies are every strategy's connection code: the Go ones
// (the reactor pipelining too, where AUTH goes ahead of requests already
// queued), and each Python system's client. refusals marks those whose
// refusals are checked too: every Go one, and one Python strategy of each
// client class (py-threads, py-pool and py-gevent share py-blocking's,
// py-uvloop py-asyncio's), as a Python child costs seconds here.
var authStrategies = []struct {
	name     string
	v        params.Values
	refusals bool
}{
	{"blocking", nil, true}, {"threads", params.Values{"max": "4"}, true}, {"goroutines", params.Values{"conns": "4"}, true},
	{"pool", params.Values{"workers": "3"}, true}, {"reactor", nil, true},
	{"reactor", params.Values{"loops": "2", "conns": "2", "depth": "3"}, true}, {"simd", params.Values{"batch": "7"}, true},
	{"py-blocking", nil, true}, {"py-threads", params.Values{"max": "3"}, false}, {"py-pool", params.Values{"workers": "2"}, false},
	{"py-asyncio", params.Values{"conns": "3"}, true}, {"py-uvloop", params.Values{"conns": "3"}, false},
	{"py-gevent", params.Values{"conns": "3"}, false}, {"py-tornado", params.Values{"conns": "3"}, true},
	{"py-twisted", params.Values{"conns": "3"}, true},
}

// pythonSlots bounds the Python children these tests run at once: each
// takes a second or more to start on 2 cores, and eight at once on a
// machine running other packages' tests could outlast a server's start
// timeout.
var pythonSlots = make(chan struct{}, 2)

// takePythonSlot waits for a slot when name is a Python strategy and
// gives it back when the test ends.
func takePythonSlot(t *testing.T, name string) {
	if !strings.HasPrefix(name, "py-") {
		return
	}
	pythonSlots <- struct{}{}
	t.Cleanup(func() { <-pythonSlots })
}

// available makes the strategy called name with v, or skips the test
// where it cannot run here (fails under CI=true, where nothing skips).
func available(t *testing.T, name string, v params.Values) strategies.Strategy {
	t.Helper()
	def, err := strategies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := def.CheckAvailable(); err != nil {
		testenv.Need(t, err.Error(), external.InstallCommand)
	}
	s, _, err := def.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Against a backend that wants a token (a `concbench backend --auth` or a
// Redis with a password), every strategy's own connections log in with
// the job's credentials, the first ones and those dialled again; without
// them, or with a wrong token, no task gets a value.
func TestStrategiesLogIn(t *testing.T) {
	t.Parallel()
	spec := workloadtest.Build(t, "webrequest", params.Values{"tasks": "20", "latency": "0s"})
	addrs, _ := workloadtest.StartBackendsConfig(t, spec, backend.Config{Auth: authToken})
	for _, st := range authStrategies {
		t.Run(st.name+label(st.v), func(t *testing.T) {
			t.Parallel()
			s := available(t, st.name, st.v)
			takePythonSlot(t, st.name)
			job := strategies.NewJob(spec, addrs, 5*time.Second, strategies.Repeat(2),
				strategies.WithCredentials(resp.Credentials{Password: authToken}))
			if err := s.Run(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			strategytest.VerifiedResults(t, job)
			if !st.refusals {
				return
			}
			for _, tc := range []struct {
				cred resp.Credentials
				want string
			}{{resp.Credentials{}, "NOAUTH"}, {resp.Credentials{Password: "wrong"}, "WRONGPASS"}} {
				job := strategies.NewJob(spec, addrs, 5*time.Second, strategies.WithCredentials(tc.cred))
				err := s.Run(context.Background(), job)
				if err == nil {
					for _, o := range job.Outcomes() {
						if o.Done && o.Err == nil {
							t.Fatalf("with %s a task got its values", tc.cred)
						}
					}
					if errs := job.Errors(); len(errs) > 0 {
						err = errs[0].Err
					}
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("with %s: %v; want every task refused (%s)", tc.cred, err, tc.want)
				}
			}
		})
	}
}

// The strategies' servers log in too: serve.Env's credentials reach every
// backend connection of the Go servers (serve.BackendPool's, the reactor
// loops' sockets) and of the Python servers (their job line's auth). The
// pages verify against the reference of the backend's secret.
func TestServersLogIn(t *testing.T) {
	t.Parallel()
	const secret = 0x5e12e
	b, err := backend.Start(context.Background(), backend.Config{Auth: authToken, ValueSize: servetest.ValueSize, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ref, err := serve.NewReference(servetest.Pages, servetest.ValueSize, func(dst []byte, key string, n int) []byte {
		return workloads.AppendSecretValue(dst, secret, key, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	env := serve.Env{Backends: []string{b.Addr()}, Pages: servetest.Pages, ValueSize: servetest.ValueSize,
		FetchTimeout: 2 * time.Second, Credentials: resp.Credentials{Password: authToken}, Logf: t.Logf}
	for _, st := range authStrategies {
		t.Run(st.name+label(st.v), func(t *testing.T) {
			t.Parallel()
			srv, ok := available(t, st.name, st.v).(serve.Server)
			if !ok {
				t.Fatalf("%s is not a server", st.name)
			}
			takePythonSlot(t, st.name)
			r := servetest.Start(t, srv, env, ref) // verified page 0
			c := servetest.Dial(t, r.Addr())
			for id := range 5 {
				c.ExpectPage(t, id+10, ref)
			}
			c.Close()
		})
	}
	// Without the token, no page: the server answers 502 and never
	// becomes ready.
	for _, name := range []string{"goroutines", "reactor", "py-asyncio"} {
		t.Run(name+"/no token", func(t *testing.T) {
			t.Parallel()
			srv := available(t, name, nil).(serve.Server)
			takePythonSlot(t, name)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			noToken := env
			noToken.Credentials, noToken.Logf = resp.Credentials{}, nil // every lookup fails: no log of each
			r, err := serve.Start(ctx, srv, noToken, ref)
			if err == nil {
				_ = r.Stop()
				t.Fatal("a server without the token served a verified page")
			}
			if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "502") {
				t.Errorf("Start without the token: %v; want no verified page (502s until the deadline)", err)
			}
		})
	}
}
