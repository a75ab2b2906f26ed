package harness

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/strategies"
	_ "github.com/concbench/concbench/strategies/reactor"
	_ "github.com/concbench/concbench/strategies/simd"
	"github.com/concbench/concbench/workloads"
)

// noServer is a strategy without a server model: it runs batches only.
type noServer struct{ erroryStrategy }

// serveOnly is a serve-only strategy, as the Go ecosystem's servers are
// (package strategies/ecosystem, whose gnet starts goroutines when it is
// imported, which this package's leak check would count): the goroutines
// strategy's server model and no batch.
type serveOnly struct{ serve.Server }

func (serveOnly) Run(context.Context, *strategies.Job) error {
	return errors.New("serve only")
}

func (serveOnly) Concurrency(*workloads.Spec) strategies.Concurrency { return strategies.Concurrency{} }

func init() {
	// Opt-in, so that no default selection of this package's tests
	// meets it.
	strategies.Register(&strategies.Definition{Name: "test-noserver", Summary: "a batch strategy with no server model",
		OptIn: true, Make: func(params.Set) (strategies.Strategy, error) { return noServer{}, nil }})
	strategies.Register(&strategies.Definition{Name: "test-serveonly", Summary: "the goroutines server model, serve only",
		ServeOnly: true, Params: []params.Spec{params.Int("conns", 256, 1, 1<<16, "backend connections")},
		Make: func(p params.Set) (strategies.Strategy, error) {
			d, err := strategies.Lookup("goroutines")
			if err != nil {
				return nil, err
			}
			s, _, err := d.New(params.Values{"conns": p.Get("conns")})
			if err != nil {
				return nil, err
			}
			return serveOnly{s.(serve.Server)}, nil
		}})
}

// cellNames lists plan's cell names without the GOMAXPROCS suffix.
func cellNames(plan *Plan) []string {
	var names []string
	suffix := "-" + strconv.Itoa(runtime.GOMAXPROCS(0))
	for _, c := range plan.Cells {
		names = append(names, strings.TrimSuffix(c.Name, suffix))
	}
	return names
}

// The serve workload runs only when named; its cells are the server
// models of the strategies that have one, serve-only strategies included,
// and no batch cell has a serve-only strategy.
func TestPlanServeCells(t *testing.T) {
	t.Parallel()
	for _, sel := range []Selection{
		{Quick: true, Strategies: []string{"blocking"}}, // every workload
		{Workloads: []string{"hash"}},                   // every strategy
	} {
		plan, err := NewPlan(sel)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range plan.Cells {
			if c.Serve != nil || c.Spec.Workload == workloads.ServeWorkload || strings.Contains(c.StrategyLabel, "serveonly") {
				t.Errorf("a default selection has cell %s", c.Name)
			}
		}
		if sel.Workloads == nil && !slices.ContainsFunc(plan.Skipped, func(s string) bool { return strings.Contains(s, "--workloads serve") }) {
			t.Errorf("Skipped does not say the serve workload runs only when named: %q", plan.Skipped)
		}
	}

	plan, err := NewPlan(Selection{
		Workloads:      []string{"serve", "hash"},
		Strategies:     []string{"blocking", "test-noserver", "test-serveonly", "simd"},
		WorkloadParams: map[string]params.Values{"serve": {"rate": "500,2000"}, "hash": {"tasks": "10"}},
		StrategyParams: map[string]params.Values{"simd": {"window": "1ms,5ms", "path": "scalar"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, rate := range []string{"500", "2000"} {
		row := "BenchmarkServe/rate=" + rate + "/latency=1ms/arrival=constant/duration=1s/slo=10ms/pages=100/conns=256/strategy="
		want = append(want, row+"blocking", row+"test-serveonly(conns=256)",
			row+"simd(batch=256,path=scalar,window=1ms)", row+"simd(batch=256,path=scalar,window=5ms)")
	}
	want = append(want,
		"BenchmarkHash/tasks=10/size=64/strategy=blocking",
		"BenchmarkHash/tasks=10/size=64/strategy=test-noserver",
		"BenchmarkHash/tasks=10/size=64/strategy=simd(batch=256,path=scalar)", // once, whatever the window
	)
	if got := cellNames(plan); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cells:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.ContainsFunc(plan.Skipped, func(s string) bool {
		return strings.Contains(s, "no server model") && strings.Contains(s, "test-noserver")
	}) {
		t.Errorf("Skipped does not name the strategy without a server model: %q", plan.Skipped)
	}
	for _, c := range plan.Cells {
		if (c.Serve != nil) != (c.Spec.Workload == workloads.ServeWorkload) {
			t.Errorf("%s: Serve set %v", c.Name, c.Serve != nil)
			continue
		}
		if c.Serve == nil {
			continue
		}
		s := c.Serve
		if s.Server == nil || s.Settings.Pages != 100 || s.Settings.ValueSize != 128 || s.Settings.Arrival != workloads.ArrivalConstant {
			t.Errorf("%s: serve cell %+v", c.Name, *s)
		}
		if wantConns := map[bool]int{true: 1, false: 0}[c.StrategyLabel == "blocking"]; s.MaxConns != wantConns {
			t.Errorf("%s: MaxConns %d, want %d (the iterative server serves one connection)", c.Name, s.MaxConns, wantConns)
		}
	}
}

// Bad selections fail before anything is built, each saying why: an
// unknown parameter names the strategy's own and its server model's, a
// serve-only parameter needs the serve workload, and so does a serve-only
// strategy.
func TestPlanRefusesServeMisuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sel  Selection
		err  error
		msg  string
	}{
		{"unknown parameter", Selection{Workloads: []string{"serve"}, Strategies: []string{"simd"},
			StrategyParams: map[string]params.Values{"simd": {"size": "1"}}},
			params.ErrUnknown, `strategy simd: unknown parameter "size" (valid: batch, path, window)`},
		{"unknown parameter of a strategy with no serve-only ones", Selection{Workloads: []string{"hash"},
			StrategyParams: map[string]params.Values{"pool": {"size": "1"}}},
			params.ErrUnknown, `strategy pool: unknown parameter "size" (valid: workers)`},
		{"a serve-only parameter without serve cells", Selection{Workloads: []string{"hash"}, Strategies: []string{"simd"},
			StrategyParams: map[string]params.Values{"simd": {"window": "1ms"}}},
			params.ErrInvalid, "window is a parameter of its server model: it applies to --workloads serve"},
		{"a bad serve-only value", Selection{Workloads: []string{"serve"}, Strategies: []string{"simd"},
			StrategyParams: map[string]params.Values{"simd": {"window": "soon"}}},
			params.ErrInvalid, `window="soon"`},
		{"a serve-only strategy without serve cells", Selection{Workloads: []string{"hash"}, Strategies: []string{"test-serveonly"}},
			ErrServeOnly, "strategy test-serveonly: strategy unavailable: it runs only in serve cells: select --workloads serve"},
		{"a rate that offers nothing", Selection{Workloads: []string{"serve"}, Strategies: []string{"blocking"},
			WorkloadParams: map[string]params.Values{"serve": {"rate": "1", "duration": "100ms"}}},
			params.ErrInvalid, "rate=1 for duration=100ms offers no request"},
		{"a bad arrival", Selection{Workloads: []string{"serve"},
			WorkloadParams: map[string]params.Values{"serve": {"arrival": "bursty"}}},
			params.ErrInvalid, "must be one of constant, poisson"},
	}
	for _, tt := range tests {
		_, err := NewPlan(tt.sel)
		if err == nil || (tt.err != nil && !errors.Is(err, tt.err)) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want %v saying %q", tt.name, err, tt.err, tt.msg)
		}
	}
}

// A serve cell is not profiled: a profiled pass over it fails at once,
// saying so, without starting a server.
func TestServeCellsAreNotProfiled(t *testing.T) {
	t.Parallel()
	plan, err := NewPlan(Selection{Workloads: []string{"serve"}, Strategies: []string{"goroutines"},
		WorkloadParams: map[string]params.Values{"serve": {"rate": "100"}}})
	if err != nil {
		t.Fatal(err)
	}
	res := runCellAsIs(context.Background(), plan.Cells[0], Options{Count: 1})
	if !errors.Is(res.Err, ErrServeNotProfiled) {
		t.Errorf("profiled pass over a serve cell: %v, want ErrServeNotProfiled", res.Err)
	}
}
