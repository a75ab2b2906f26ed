package external_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/external"
	"github.com/concbench/concbench/strategies/strategytest"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/workloadtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// small keeps Python's share of the package's test time to seconds: the
// Python kernels are about a hundred times slower than Go's.
var small = workloadtest.Small()

func addrsOf(addrs []string, _ []*backend.Server) []string { return addrs }

// concurrency makes each strategy's concurrency visible on tiny workloads.
var concurrency = map[string]params.Values{
	"py-threads": {"max": "7"},
	"py-pool":    {"workers": "3"},
	"py-asyncio": {"conns": "5"},
	"py-uvloop":  {"conns": "5"},
	"py-gevent":  {"conns": "5"},
	"py-tornado": {"conns": "5"},
	"py-twisted": {"conns": "5"},
}

var pythonStrategies = []string{"py-blocking", "py-threads", "py-pool", "py-asyncio", "py-uvloop", "py-gevent", "py-tornado", "py-twisted"}

func TestPythonStrategiesMatchTheReference(t *testing.T) {
	specs := map[string]*workloads.Spec{}
	for _, wd := range workloads.All() {
		spec, err := wd.Build(small[wd.Name])
		if err != nil {
			t.Fatal(err)
		}
		specs[wd.Name] = spec
	}
	for _, name := range pythonStrategies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			def, err := strategies.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := def.CheckAvailable(); err != nil {
				t.Skipf("%v (install with: %s)", err, external.InstallCommand)
			}
			for _, wd := range workloads.All() {
				spec := specs[wd.Name]
				t.Run(wd.Name, func(t *testing.T) {
					s, _, err := def.New(concurrency[name])
					if err != nil {
						t.Fatal(err)
					}
					job := strategies.NewJob(spec, addrsOf(workloadtest.StartBackends(t, spec, backend.Faults{})), 5*time.Second)
					before := time.Now()
					err = s.Run(context.Background(), job)
					if wd.Name == "stream" {
						// Not in protocol 1 (see PROTOCOL.md): refused before the child starts.
						if !errors.Is(err, external.ErrUnsupportedKernel) {
							t.Fatalf("stream: Run = %v, want ErrUnsupportedKernel", err)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					began := job.Began()
					if !began.After(before) {
						t.Errorf("Begin was not called during Run")
					}
					strategytest.VerifiedResults(t, job)
				})
			}
		})
	}
}

func TestStacklessIsUnavailableWithAReason(t *testing.T) {
	def, err := strategies.Lookup("py-stackless")
	if err != nil {
		t.Fatal(err)
	}
	err = def.CheckAvailable()
	if !errors.Is(err, strategies.ErrUnavailable) || !strings.Contains(err.Error(), "not packaged") {
		t.Fatalf("CheckAvailable = %v, want unavailable: not packaged", err)
	}
}

// shell runs a POSIX shell script as a child: the misbehaving children.
func shell(script string) *external.Program {
	return &external.Program{Name: "test-child", Argv: []string{"/bin/sh", "-c", script}, Cores: 1, InFlight: 1}
}

func TestBrokenChildrenFailTheRun(t *testing.T) {
	spec, err := workloads.Lookup("hash")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := spec.Build(params.Values{"tasks": "3", "size": "8"})
	if err != nil {
		t.Fatal(err)
	}
	// readJob consumes the job line, as every child must.
	const readJob = `read job; `
	for _, tc := range []struct {
		name, script string
		want         error
		contains     []string
	}{
		{"garbage", readJob + `echo '{"ready":true}'; read go; echo 'Traceback? no: garbage'; sleep 5`,
			external.ErrProtocol, []string{"line 2 is not JSON", "garbage"}},
		{"exit 3", readJob + `echo 'something broke' >&2; exit 3`,
			external.ErrProtocol, []string{"output ended before the done line", "exit status 3", "something broke"}},
		{"fatal line", readJob + `echo '{"fatal":"cannot connect"}'; exit 1`,
			external.ErrChildFailed, []string{"cannot connect"}},
		{"unknown line", readJob + `echo '{"ready":true}'; read go; echo '{"hello":1}'`,
			external.ErrProtocol, []string{"none of ready, task, done, fatal"}},
		{"task twice", readJob + `echo '{"ready":true}'; read go; echo '{"task":0,"error":"x"}'; echo '{"task":0,"error":"x"}'`,
			external.ErrProtocol, []string{"task 0 reported twice"}},
		{"task out of range", readJob + `echo '{"ready":true}'; read go; echo '{"task":3,"sum":"1"}'`,
			external.ErrProtocol, []string{"out of range"}},
		{"bad sum", readJob + `echo '{"ready":true}'; read go; echo '{"task":1,"sum":"-1"}'`,
			external.ErrProtocol, []string{"not a decimal uint64"}},
		{"done early", readJob + `echo '{"ready":true}'; read go; echo '{"task":1,"sum":"7"}'; echo '{"done":true}'`,
			external.ErrProtocol, []string{"done after 1 of 3 tasks"}},
		{"task before ready", readJob + `echo '{"task":1,"sum":"7"}'`,
			external.ErrProtocol, []string{"before ready"}},
		{"no such program", "", nil, []string{"start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := shell(tc.script)
			if tc.script == "" {
				p.Argv = []string{filepath.Join(t.TempDir(), "missing")}
			}
			job := strategies.NewJob(hash, nil, time.Second)
			start := time.Now()
			err := p.Run(context.Background(), job)
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Run took %v: the broken child was not killed promptly", d)
			}
		})
	}
}

func TestHungChildIsKilledWhenCtxEnds(t *testing.T) {
	spec, err := workloads.Lookup("noop")
	if err != nil {
		t.Fatal(err)
	}
	noop, err := spec.Build(params.Values{"tasks": "2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, script string }{
		{"after ready", `read job; echo '{"ready":true}'; read go; exec sleep 60`},
		{"never reads its job", `exec sleep 60`},
		// The grandchild keeps stdout open after the child dies: WaitDelay
		// must still end the run.
		{"grandchild holds stdout", `read job; sleep 60 & echo '{"ready":true}'; wait`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			job := strategies.NewJob(noop, nil, time.Second)
			start := time.Now()
			err := shell(tc.script).Run(ctx, job)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Run = %v, want context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Run returned %v after the deadline", d-300*time.Millisecond)
			}
		})
	}
}

func TestWellBehavedShellChild(t *testing.T) {
	spec, err := workloads.Lookup("noop")
	if err != nil {
		t.Fatal(err)
	}
	noop, err := spec.Build(params.Values{"tasks": "2"})
	if err != nil {
		t.Fatal(err)
	}
	// A child in any language: here a shell script replaying the reference
	// sums, one with a task error.
	script := `read job; echo '{"ready":true}'; read go; ` +
		`echo '{"task":1,"start_ns":1000,"end_ns":2000,"sum":"` + uintString(noop.Reference[1].Sum) + `","value":0}'; ` +
		`echo '{"task":0,"start_ns":0,"end_ns":10,"error":"backend said no"}'; echo '{"done":true}'`
	job := strategies.NewJob(noop, nil, time.Second)
	if err := shell(script).Run(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	o := job.Outcomes()
	if o[0].Err == nil || o[0].Err.Error() != "backend said no" {
		t.Errorf("task 0 error %v, want backend said no", o[0].Err)
	}
	if err := noop.Check(1, o[1].Result); err != nil || o[1].Err != nil {
		t.Errorf("task 1: %v, %v", err, o[1].Err)
	}
	if got := o[1].Start.Sub(job.Began()); got != time.Microsecond {
		t.Errorf("task 1 starts %v after begin, want 1µs (start_ns)", got)
	}
}

func uintString(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// TestScriptsAreEmbedded guards against a Python file added to python/
// without being shipped in the binary.
func TestScriptsAreEmbedded(t *testing.T) {
	files, err := filepath.Glob("python/*.py")
	if err != nil || len(files) == 0 {
		t.Fatalf("no python files: %v", err)
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
}
