package external_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/internal/testenv"
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
	// One set of backends a spec, started before the parallel subtests:
	// a spec's reference holds one backend secret at a time.
	specs := map[string]*workloads.Spec{}
	addrs := map[string][]string{}
	for _, wd := range workloads.All() {
		spec, err := wd.Build(small[wd.Name])
		if err != nil {
			t.Fatal(err)
		}
		specs[wd.Name] = spec
		addrs[wd.Name] = addrsOf(workloadtest.StartBackends(t, spec, backend.Faults{}))
	}
	for _, name := range pythonStrategies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			def, err := strategies.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := def.CheckAvailable(); err != nil {
				testenv.Need(t, err.Error(), external.InstallCommand)
			}
			for _, wd := range workloads.All() {
				spec := specs[wd.Name]
				t.Run(wd.Name, func(t *testing.T) {
					s, _, err := def.New(concurrency[name])
					if err != nil {
						t.Fatal(err)
					}
					job := strategies.NewJob(spec, addrs[wd.Name], 5*time.Second)
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

// runChild runs p on job with a watchdog: a run still going a minute
// later fails the test instead of hanging it (a bound on a hang, not a
// timing assertion; every child here that is not killed sleeps a minute).
func runChild(t *testing.T, ctx context.Context, p *external.Program, job *strategies.Job) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, job) }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("Run still going a minute later: the child was not killed")
		return nil
	}
}

// taskLines reports every task of a hash job of n tasks, as failed.
func taskLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `echo '{"task":%d,"error":"x"}'; `, i)
	}
	return b.String()
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
	// readJob consumes the job line, as every child must; started answers
	// it and takes the go line.
	const readJob = `read job; `
	const started = readJob + `echo '{"ready":true}'; read go; `
	// linger keeps a child that broke the protocol alive: the run must
	// kill it (its error then says "signal: killed") instead of waiting.
	const linger = `; exec sleep 60`
	for _, tc := range []struct {
		name, script string
		want         error
		contains     []string
	}{
		{"garbage", started + `echo 'Traceback? no: garbage'` + linger,
			external.ErrProtocol, []string{"line 2 is not JSON", "garbage", "signal: killed"}},
		{"exit 3", readJob + `echo 'something broke' >&2; exit 3`,
			external.ErrProtocol, []string{"output ended before the done line", "exit status 3", "something broke"}},
		{"fatal line", readJob + `echo '{"fatal":"cannot connect"}'; exit 1`,
			external.ErrChildFailed, []string{"cannot connect"}},
		{"unknown line", started + `echo '{"hello":1}'` + linger,
			external.ErrProtocol, []string{"none of ready, task, done, fatal", "signal: killed"}},
		{"second ready", started + `echo '{"ready":true}'` + linger,
			external.ErrProtocol, []string{"line 2: a second ready line", "signal: killed"}},
		{"task twice", started + `echo '{"task":0,"error":"x"}'; echo '{"task":0,"error":"x"}'` + linger,
			external.ErrProtocol, []string{"task 0 reported twice", "signal: killed"}},
		{"task out of range", started + `echo '{"task":3,"sum":"1"}'` + linger,
			external.ErrProtocol, []string{"out of range", "signal: killed"}},
		{"task with neither sum nor error", started + `echo '{"task":1,"start_ns":0,"end_ns":5}'` + linger,
			external.ErrProtocol, []string{`line 2: task 1: no "sum" and no "error"`, "signal: killed"}},
		{"bad sum", started + `echo '{"task":1,"sum":"-1"}'` + linger,
			external.ErrProtocol, []string{"not a decimal uint64", "signal: killed"}},
		{"done early", started + `echo '{"task":1,"sum":"7"}'; echo '{"done":true}'` + linger,
			external.ErrProtocol, []string{"done after 1 of 3 tasks", "signal: killed"}},
		{"task before ready", readJob + `echo '{"task":1,"sum":"7"}'` + linger,
			external.ErrProtocol, []string{"before ready", "signal: killed"}},
		// bufio.Scanner's limit: one line of a megabyte and more.
		{"over-long line", started + `head -c 1100000 /dev/zero | tr '\0' x; echo` + linger,
			external.ErrProtocol, []string{"reading output", "token too long", "signal: killed"}},
		{"non-zero exit after done", started + taskLines(3) + `echo '{"done":true}'; echo 'late trouble' >&2; exit 3`,
			external.ErrChildFailed, []string{"after its done line", "exit status 3", "late trouble"}},
		{"no such program", "", nil, []string{"start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := shell(tc.script)
			if tc.script == "" {
				p.Argv = []string{filepath.Join(t.TempDir(), "missing")}
			}
			job := strategies.NewJob(hash, nil, time.Second)
			err := runChild(t, context.Background(), p, job)
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
		})
	}
}

// gone reports whether process pid has ended and been reaped.
func gone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// readPID reads the process id a child wrote to path.
func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the child wrote no pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

// A child that says done but does not exit is killed once the grace period
// is over, and the run fails: PROTOCOL.md ("a child that lingers more than
// 5 s after done is killed"). The test waits out that grace period.
func TestChildLingeringAfterDoneIsKilled(t *testing.T) {
	t.Parallel()
	spec, err := workloads.Lookup("hash")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := spec.Build(params.Values{"tasks": "3", "size": "8"})
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	// exec keeps the pid and the output pipe: the sleeping process is the
	// child itself.
	script := `read job; echo '{"ready":true}'; read go; ` + taskLines(3) + `echo '{"done":true}'; ` +
		`echo $$ > ` + pidFile + `; exec sleep 60`
	job := strategies.NewJob(hash, nil, time.Second)
	err = runChild(t, context.Background(), shell(script), job)
	if !errors.Is(err, external.ErrChildFailed) || !strings.Contains(err.Error(), "after its done line") ||
		!strings.Contains(err.Error(), "signal: killed") {
		t.Fatalf("Run = %v, want the child failed after its done line, killed", err)
	}
	if pid := readPID(t, pidFile); !gone(pid) {
		t.Errorf("the child (pid %d) still runs after Run returned", pid)
	}
	if got := len(job.Errors()); got != 3 {
		t.Errorf("%d task errors recorded, want the 3 the child reported before done", got)
	}
}

// When the cell's context ends the child is killed, wherever it is: its
// process is gone by the time Run returns the context's error (a child
// left alive would sleep a minute, which the watchdog turns into a
// failure). The context is cancelled on an event: the child's ready line
// (Begin), or its pid file for a child that never gets that far.
func TestHungChildIsKilledWhenCtxEnds(t *testing.T) {
	spec, err := workloads.Lookup("noop")
	if err != nil {
		t.Fatal(err)
	}
	noop, err := spec.Build(params.Values{"tasks": "2"})
	if err != nil {
		t.Fatal(err)
	}
	// writePID writes the child's pid to $PIDFILE whole (a rename), so
	// that the file's existence says its content is there.
	const writePID = `echo $$ > "$PIDFILE.tmp"; mv "$PIDFILE.tmp" "$PIDFILE"; `
	for _, tc := range []struct {
		name, script string
		atReady      bool // cancel at the ready line, else once the pid file is there
	}{
		{"after ready", writePID + `read job; echo '{"ready":true}'; read go; exec sleep 60`, true},
		{"never reads its job", writePID + `exec sleep 60`, false},
		// The grandchild keeps stdout open after the child dies: WaitDelay
		// must still end the run.
		{"grandchild holds stdout", writePID + `read job; sleep 60 & echo $! > "$PIDFILE.grandchild"; echo '{"ready":true}'; wait`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pidFile := filepath.Join(t.TempDir(), "pid")
			t.Cleanup(func() { // the grandchild is not the run's to kill
				if b, err := os.ReadFile(pidFile + ".grandchild"); err == nil {
					if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var opts []strategies.JobOption
			if tc.atReady {
				opts = append(opts, strategies.OnBegin(cancel))
			} else {
				go func() {
					for {
						if _, err := os.Stat(pidFile); err == nil || ctx.Err() != nil {
							cancel()
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
			}
			job := strategies.NewJob(noop, nil, time.Second, opts...)
			p := shell(tc.script)
			p.Env = append(os.Environ(), "PIDFILE="+pidFile)
			err := runChild(t, ctx, p, job)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v, want context.Canceled", err)
			}
			if pid := readPID(t, pidFile); !gone(pid) {
				t.Errorf("the child (pid %d) still runs after Run returned", pid)
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
