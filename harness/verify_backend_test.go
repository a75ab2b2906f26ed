package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	_ "github.com/concbench/concbench/strategies/reactor" // registers reactor
	_ "github.com/concbench/concbench/strategies/simd"    // registers simd
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

// countsCase is a round for checkRoundCounts: 10 tasks of fanout (one
// fetch each) × 3 passes, or webrequest (two), and a strategy whose
// in-flight limit is 4.
func countsRound(t *testing.T, workload string) *Round {
	t.Helper()
	spec := smallSpec(t, workload, params.Values{"tasks": "10", "latency": "0s"})
	return &Round{Cell: cell(spec, limitStrategy{inFlight: 4}, "limit4"), Passes: 3}
}

// limitStrategy is a strategy that claims an in-flight limit and runs
// nothing: for checks of the counts alone.
type limitStrategy struct{ inFlight int }

func (s limitStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: s.inFlight}
}
func (limitStrategy) Run(context.Context, *strategies.Job) error { return nil }

// Every rule of the check, at its edges: exact counts without errors;
// the bounds errors allow (F − E·m answered at least, F + E·N asked at
// most); in flight within the limit only when nothing failed.
func TestCheckRoundCounts(t *testing.T) {
	t.Parallel()
	fan, web := countsRound(t, "fanout"), countsRound(t, "webrequest") // F = 30 and 60; m = 1 and 2; N = 4
	tests := []struct {
		name   string
		round  *Round
		c      roundCounts
		errors int
		want   string // "" passes
	}{
		{"exact", fan, roundCounts{30, 30, []int64{4}}, 0, ""},
		{"exact, two servers", fan, roundCounts{30, 30, []int64{4, 3}}, 0, ""},
		{"nothing asked", fan, roundCounts{0, 0, []int64{0}}, 0,
			"the backend answered 0 GETs but the tasks made 30 fetches: the strategy produced results without asking the backend"},
		{"one pass asked", fan, roundCounts{10, 10, []int64{1}}, 0,
			"the backend answered 10 GETs but the tasks made 30 fetches, and none failed: the strategy produced results for 20 fetches without asking the backend"},
		{"asked, not answered", fan, roundCounts{30, 29, []int64{1}}, 0, "answered 29 GETs but the tasks made 30 fetches"},
		{"asked twice", fan, roundCounts{60, 60, []int64{1}}, 0,
			"the backend was asked for 60 values but the tasks made 30 fetches, and none failed: the strategy sent requests its tasks did not make"},
		{"over its limit", fan, roundCounts{30, 30, []int64{2, 5}}, 0,
			"backend 1 had 5 requests in flight at once, but the strategy's model allows 4 (its Concurrency)"},
		{"no in-flight counts (redis)", fan, roundCounts{30, 30, nil}, 0, ""},
		// 3 failed webrequest tasks: at least 60 − 3·2 = 54 answered,
		// at most 60 + 3·4 = 72 asked; in flight not checked.
		{"errors, least answered", web, roundCounts{54, 54, []int64{9}}, 3, ""},
		{"errors, one fewer", web, roundCounts{60, 53, []int64{1}}, 3,
			"the backend answered 53 GETs, but the tasks that succeeded made at least 54 fetches (the round's 60, less at most 2 for each of its 3 failed tasks)"},
		{"errors, most asked", web, roundCounts{72, 60, []int64{1}}, 3, ""},
		{"errors, one more", web, roundCounts{73, 60, []int64{1}}, 3,
			"the backend was asked for 73 values, more than the round's 60 fetches and the 12 a strategy may send again after its 3 failed tasks (at most its in-flight limit, 4, for each)"},
	}
	for _, tt := range tests {
		err := checkRoundCounts(tt.c, tt.round, &CellResult{Errors: tt.errors})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want no error", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// Strategies that produce results without the backend, or more
// concurrently than they say, each the way a mutation of a real one would.
type (
	// localAnswers runs a real strategy against a stand-in backend of its
	// own that holds no secret: the mutation "answer the fetches
	// locally", whatever the strategy's I/O code.
	localAnswers struct{ inner strategies.Strategy }
	// ignoresReplies asks the backend for every value, then folds a value
	// made locally instead of the reply.
	ignoresReplies struct{}
	// copiesReference reports the reference's results without doing
	// anything: what a strategy that learnt the values another way would
	// report.
	copiesReference struct{}
	// cachesPasses fetches in the first pass only and reuses the replies
	// in the passes after it.
	cachesPasses struct{}
	// fetchesTwice sends every GET twice.
	fetchesTwice struct{}
	// hiddenConcurrency claims one fetch in flight and runs 8 at once.
	hiddenConcurrency struct{}
	// failsOdd fails every odd task without fetching; even tasks run
	// properly, or copy the reference when cheat is set.
	failsOdd struct{ cheat bool }
)

func one() strategies.Concurrency { return strategies.Concurrency{Cores: 1, InFlight: 1} }

func (s localAnswers) Concurrency(spec *workloads.Spec) strategies.Concurrency {
	return s.inner.Concurrency(spec)
}
func (ignoresReplies) Concurrency(*workloads.Spec) strategies.Concurrency    { return one() }
func (copiesReference) Concurrency(*workloads.Spec) strategies.Concurrency   { return one() }
func (cachesPasses) Concurrency(*workloads.Spec) strategies.Concurrency      { return one() }
func (fetchesTwice) Concurrency(*workloads.Spec) strategies.Concurrency      { return one() }
func (hiddenConcurrency) Concurrency(*workloads.Spec) strategies.Concurrency { return one() }
func (failsOdd) Concurrency(*workloads.Spec) strategies.Concurrency          { return one() }

func (s localAnswers) Run(ctx context.Context, job *strategies.Job) error {
	var standIns []string
	for range job.Spec.Backend.Instances {
		b, err := backend.Start(context.WithoutCancel(ctx), backend.Config{ValueSize: job.Spec.Backend.ValueSize})
		if err != nil {
			return err
		}
		defer b.Close()
		standIns = append(standIns, b.Addr())
	}
	job.Backends = standIns
	return s.inner.Run(ctx, job)
}

func (ignoresReplies) Run(ctx context.Context, job *strategies.Job) error {
	conns, err := job.Dial(ctx)
	if err != nil {
		return err
	}
	defer conns.Close()
	job.Begin()
	for i := range job.Tasks() {
		start, c := time.Now(), job.Cursor(i)
		var err error
		for !c.Done() && err == nil {
			if c.Step().Kind == workloads.StepCompute {
				c.Compute(workloads.Scalar)
				continue
			}
			key := c.Key()
			if _, err = conns.Get(c.Step().Backend, key); err == nil {
				err = c.Fetched(workloads.Value(key, job.Spec.Backend.ValueSize))
			}
		}
		job.Finish(i, start, c.Result(), err)
	}
	return nil
}

func (copiesReference) Run(_ context.Context, job *strategies.Job) error {
	job.Begin()
	for i := range job.Tasks() {
		job.Finish(i, time.Now(), job.Spec.Reference[job.SpecTask(i)], nil)
	}
	return nil
}

// cachingFetcher answers a key it fetched before from its copy.
type cachingFetcher struct {
	conns *strategies.Conns
	seen  map[string][]byte
}

func (f *cachingFetcher) Get(b int, key string) ([]byte, error) {
	if v, ok := f.seen[key]; ok {
		return v, nil
	}
	v, err := f.conns.Get(b, key)
	if err == nil {
		f.seen[key] = append([]byte(nil), v...)
	}
	return v, err
}

func (cachesPasses) Run(ctx context.Context, job *strategies.Job) error {
	conns, err := job.Dial(ctx)
	if err != nil {
		return err
	}
	defer conns.Close()
	f := &cachingFetcher{conns: conns, seen: map[string][]byte{}}
	job.Begin()
	for i := range job.Tasks() {
		job.RunTask(i, workloads.Scalar, f)
	}
	return nil
}

// twiceFetcher sends every GET twice and keeps the second reply.
type twiceFetcher struct{ conns *strategies.Conns }

func (f twiceFetcher) Get(b int, key string) ([]byte, error) {
	if _, err := f.conns.Get(b, key); err != nil {
		return nil, err
	}
	return f.conns.Get(b, key)
}

func (fetchesTwice) Run(ctx context.Context, job *strategies.Job) error {
	conns, err := job.Dial(ctx)
	if err != nil {
		return err
	}
	defer conns.Close()
	job.Begin()
	for i := range job.Tasks() {
		job.RunTask(i, workloads.Scalar, twiceFetcher{conns})
	}
	return nil
}

func (hiddenConcurrency) Run(ctx context.Context, job *strategies.Job) error {
	const workers = 8
	pool, err := job.DialPool(ctx, workers)
	if err != nil {
		return err
	}
	defer pool.Close()
	job.Begin()
	var wg sync.WaitGroup
	next := make(chan int, job.Tasks())
	for i := range job.Tasks() {
		next <- i
	}
	close(next)
	for range workers {
		conns, err := pool.Borrow(ctx)
		if err != nil {
			return err
		}
		wg.Go(func() {
			defer pool.Return(conns)
			for i := range next {
				job.RunTask(i, workloads.Scalar, conns)
			}
		})
	}
	wg.Wait()
	return nil
}

func (s failsOdd) Run(ctx context.Context, job *strategies.Job) error {
	conns, err := job.Dial(ctx)
	if err != nil {
		return err
	}
	defer conns.Close()
	job.Begin()
	for i := range job.Tasks() {
		switch {
		case i%2 == 1:
			job.Finish(i, time.Now(), workloads.Result{}, errors.New("fetch timed out"))
		case s.cheat:
			job.Finish(i, time.Now(), job.Spec.Reference[job.SpecTask(i)], nil)
		default:
			job.RunTask(i, workloads.Scalar, conns)
		}
	}
	return nil
}

// newStrategy makes a registered strategy with parameters v.
func newStrategy(t *testing.T, name string, v params.Values) (strategies.Strategy, string) {
	t.Helper()
	d, err := strategies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	s, set, err := d.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return s, strategies.Label(name, set)
}

// A strategy that produces its results without asking the backend fails
// its cell, with a message that says so, whichever strategy it is and
// however it does it; one that asks the backend but not as its model
// says fails too.
func TestStrategiesThatSkipTheBackendFail(t *testing.T) {
	ctx := context.Background()
	p := &InProcessBackends{}
	defer p.Close()
	opt := Options{Timeout: time.Minute, FetchTimeout: 5 * time.Second, Backends: p}
	fanout := smallSpec(t, "fanout", params.Values{"tasks": "40", "backends": "2", "latency": "0s"})
	web := smallSpec(t, "webrequest", params.Values{"tasks": "20", "latency": "0s"})
	slow := smallSpec(t, "fanout", params.Values{"tasks": "24", "backends": "1", "latency": "30ms"})

	for _, name := range []string{"blocking", "threads", "goroutines", "pool", "reactor", "simd"} {
		inner, label := newStrategy(t, name, nil)
		for _, spec := range []*workloads.Spec{fanout, web} {
			// The real strategy passes, checked by the backend's counts.
			if res := runCell(ctx, cell(spec, inner, label), opt); res.Err != nil || res.Verified != res.Tasks {
				t.Fatalf("%s on %s: %v, %d of %d verified", label, spec.Workload, res.Err, res.Verified, res.Tasks)
			}
			res := runCell(ctx, cell(spec, localAnswers{inner}, label+" answering locally"), opt)
			if !errors.Is(res.Err, ErrCellFailed) || !strings.Contains(res.Err.Error(), workloads.ErrAnsweredLocally.Error()) ||
				!strings.Contains(res.Err.Error(), "digest mismatch") {
				t.Errorf("%s answering %s's fetches locally: %v; want a digest mismatch that says the fetches were answered without the backend",
					label, spec.Workload, res.Err)
			}
		}
	}

	for _, tt := range []struct {
		name  string
		s     strategies.Strategy
		spec  *workloads.Spec
		extra Options
		want  string
	}{
		{"ignores replies", ignoresReplies{}, web, Options{},
			"digest mismatch: task 0 (pass 0): task 0: result differs from the scalar reference"},
		{"copies the reference", copiesReference{}, fanout, Options{},
			"backend check: the backend answered 0 GETs but the tasks made 40 fetches: the strategy produced results without asking the backend"},
		{"fetches twice", fetchesTwice{}, web, Options{},
			"backend check: the backend was asked for 80 values but the tasks made 40 fetches, and none failed"},
		{"hides its concurrency", hiddenConcurrency{}, slow, Options{},
			"backend check: backend 0 had 8 requests in flight at once, but the strategy's model allows 1 (its Concurrency)"},
		{"fails half, copies the rest", failsOdd{cheat: true}, fanout, Options{MaxErrors: 0.6},
			"backend check: the backend answered 0 GETs, but the tasks that succeeded made at least 20 fetches"},
	} {
		o := opt
		o.MaxErrors = tt.extra.MaxErrors
		res := runCell(ctx, cell(tt.spec, tt.s, tt.name), o)
		if !errors.Is(res.Err, ErrCellFailed) || !strings.Contains(res.Err.Error(), tt.want) {
			t.Errorf("%s: %v; want the cell failed with %q", tt.name, res.Err, tt.want)
		}
	}
	if err := runCell(ctx, cell(web, ignoresReplies{}, "ignores"), opt).Err; err == nil || !strings.Contains(err.Error(), workloads.ErrAnsweredLocally.Error()) {
		t.Errorf("ignores replies: %v; want it named as answered without the backend", err)
	}

	// Failed tasks within --max-errors are not cheating: the half that
	// ran asked the backend.
	if res := runCell(ctx, cell(fanout, failsOdd{}, "fails half"), Options{Timeout: time.Minute, Backends: p, MaxErrors: 0.6}); res.Err != nil || res.Errors != 20 {
		t.Errorf("fails half, runs the rest: %v, %d errors; want the cell to pass with 20", res.Err, res.Errors)
	}

	// A round of several passes must ask for every pass's values.
	r := newRunner(opt.withDefaults())
	res := r.run(ctx, cell(fanout, cachesPasses{}, "caches"), 3, false, true, false)
	want := "backend check: the backend answered 40 GETs but the tasks made 120 fetches, and none failed: the strategy produced results for 80 fetches without asking the backend"
	if res.Err == nil || !strings.Contains(res.Err.Error(), want) {
		t.Errorf("caching replies across passes: %v; want %q", res.Err, want)
	}
	if res := r.run(ctx, blockingCell(t, fanout), 3, false, true, false); res.Err != nil {
		t.Errorf("blocking, 3 passes: %v", res.Err)
	}
}

// Under injected faults the real strategies' rounds stay within the
// bounds their failed tasks allow: the check never fails a strategy for
// the backend's faults, the retries of the reactor's pipelines and of
// simd's batches included.
func TestBackendCheckAllowsFaults(t *testing.T) {
	ctx := context.Background()
	p := &InProcessBackends{Faults: backend.Faults{Reset: 0.02, Stall: 0.01, PartialClose: 0.02, SlowDrip: 0.01}}
	defer p.Close()
	spec := smallSpec(t, "webrequest", params.Values{"tasks": "200", "latency": "0s"})
	for _, s := range []struct {
		name string
		v    params.Values
	}{
		{"blocking", nil}, {"threads", params.Values{"max": "16"}}, {"goroutines", params.Values{"conns": "16"}},
		{"pool", params.Values{"workers": "8"}}, {"reactor", params.Values{"conns": "8", "depth": "4"}},
		{"simd", params.Values{"batch": "50"}},
	} {
		st, label := newStrategy(t, s.name, s.v)
		res := runCell(ctx, cell(spec, st, label), Options{Timeout: time.Minute, FetchTimeout: 200 * time.Millisecond, MaxErrors: 0.9, Backends: p})
		if res.Err != nil {
			t.Errorf("%s under faults: %v", label, res.Err)
			continue
		}
		t.Logf("%s: %d of %d tasks failed under faults", label, res.Errors, res.Tasks)
	}
}

// A RemoteBackends (a `concbench backend` elsewhere; here on loopback,
// where it needs no token) checks rounds as the built-in providers do.
func TestRemoteBackendsCheckRounds(t *testing.T) {
	ctx := context.Background()
	s, err := backend.Start(ctx, backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewRemoteBackends(ctx, "concbench://"+s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	spec := smallSpec(t, "fanout", params.Values{"tasks": "30", "backends": "3", "latency": "0s"})
	opt := Options{Timeout: time.Minute, Backends: p}
	if res := runCell(ctx, blockingCell(t, spec), opt); res.Err != nil || res.Verified != res.Tasks {
		t.Fatalf("blocking on a remote backend: %v", res.Err)
	}
	res := runCell(ctx, cell(spec, copiesReference{}, "copies"), opt)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "the backend answered 0 GETs but the tasks made 30 fetches") {
		t.Errorf("copying the reference on a remote backend: %v", res.Err)
	}
}

// A Redis counts the GETs it runs (INFO commandstats): a strategy that
// does not ask it fails there too.
func TestRedisBackendChecksRounds(t *testing.T) {
	addr := testenv.RedisServer(t)
	ctx := context.Background()
	r, err := NewRedisBackend(ctx, "redis://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ok, why := r.Counted(); !ok {
		t.Fatalf("redis-server does not count its GETs: %s", why)
	}
	spec := smallSpec(t, "webrequest", params.Values{"tasks": "25", "latency": "0s"})
	opt := Options{Timeout: time.Minute, Backends: r}
	if res := runCell(ctx, blockingCell(t, spec), opt); res.Err != nil || res.Verified != res.Tasks {
		t.Fatalf("blocking on redis: %v", res.Err)
	}
	// A server that closed the connection the counts are read on (its
	// idle timeout, say): it is dialled again.
	c, err := contact(ctx, addr, resp.Credentials{}, time.Second, "password")
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Do("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"); err != nil || rep.Int < 1 {
		t.Fatalf("CLIENT KILL: %v, %v", rep, err)
	}
	c.Close()
	if res := runCell(ctx, blockingCell(t, spec), opt); res.Err != nil || res.Verified != res.Tasks {
		t.Fatalf("blocking on redis after its counting connection was closed: %v", res.Err)
	}
	for _, tt := range []struct {
		s    strategies.Strategy
		want string
	}{
		{copiesReference{}, "the backend answered 0 GETs but the tasks made 50 fetches"},
		{fetchesTwice{}, "the backend was asked for 100 values but the tasks made 50 fetches"},
	} {
		res := runCell(ctx, cell(spec, tt.s, fmt.Sprintf("%T", tt.s)), opt)
		if res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
			t.Errorf("%T on redis: %v; want %q", tt.s, res.Err, tt.want)
		}
	}
}

func TestParseGetCalls(t *testing.T) {
	t.Parallel()
	const info = "# Commandstats\r\ncmdstat_set:calls=40,usec=80,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_get:calls=1234,usec=2000,usec_per_call=1.62,rejected_calls=1,failed_calls=0\r\n" +
		"cmdstat_getex:calls=7,usec=1\r\n"
	if n, err := parseGetCalls(info); err != nil || n != 1234 {
		t.Errorf("parseGetCalls = %d, %v; want 1234", n, err)
	}
	if n, err := parseGetCalls("# Commandstats\r\ncmdstat_ping:calls=3\r\n"); err != nil || n != 0 {
		t.Errorf("no GET yet: %d, %v; want 0", n, err)
	}
	if _, err := parseGetCalls("cmdstat_get:calls=x,usec=1\r\n"); err == nil {
		t.Error("a malformed count was accepted")
	}
}

// Every provider draws a fresh secret for its run unless told one: the
// values its servers serve are that secret's, never the plain values a
// strategy could make, and two runs have different ones.
func TestProvidersDrawASecretPerRun(t *testing.T) {
	ctx := context.Background()
	spec := smallSpec(t, "fanout", params.Values{"tasks": "4", "backends": "1", "latency": "0s"})
	redis, err := NewRedisBackend(ctx, "redis://"+testenv.RedisServer(t))
	if err != nil {
		t.Fatal(err)
	}
	a, b := &InProcessBackends{}, &InProcessBackends{}
	seen := map[uint64]string{}
	for _, p := range []BackendProvider{a, b, redis} {
		defer p.Close()
		addrs, err := p.Prepare(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		secret := p.(secretHolder).runSecret()
		if secret == 0 || seen[secret] != "" {
			t.Fatalf("%s drew secret %#x (seen: %q)", p.Describe(), secret, seen[secret])
		}
		seen[secret] = p.Describe()
		c, err := contact(ctx, addrs[0], BackendCredentials(p), time.Second, "password")
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Get("item:1")
		c.Close()
		if err != nil || string(v) != string(workloads.SecretValue(secret, "item:1", 64)) || string(v) == string(workloads.Value("item:1", 64)) {
			t.Fatalf("%s serves %q, %v; want the value of its secret", p.Describe(), v, err)
		}
		r, _ := spec.RunTask(1, workloads.Scalar, fixedReply(v))
		if err := spec.Check(1, r); err != nil {
			t.Fatalf("%s: the spec's reference is not that of the values served: %v", p.Describe(), err)
		}
	}
}

// fixedReply answers every fetch with one value.
type fixedReply []byte

func (f fixedReply) Get(int, string) ([]byte, error) { return f, nil }
