package harness

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// Selection chooses the matrix. Empty lists mean every workload but serve
// (serve mode runs only when named) and every available strategy that is
// not opt-in. Param values may be comma-separated sweeps.
//
// A strategy's values may include its server model's serve-only parameters
// (serve.Tunable, such as simd's window): they configure its serve cells
// and are refused when no serve workload is selected.
type Selection struct {
	Workloads      []string
	Strategies     []string
	WorkloadParams map[string]params.Values // by workload name
	StrategyParams map[string]params.Values // by strategy name
	// Quick uses each workload's quick values instead of its matrix values.
	Quick bool
	// LoadGenerator runs the load generator of the serve cells in a child
	// process. Its zero value runs this executable's loadgen command (as
	// cmd/concbench does); set CPUs to place it (placement.Loadgen).
	LoadGenerator serve.LoadChild
}

// Cell is one workload spec run by one strategy instance.
type Cell struct {
	Spec     *workloads.Spec
	Strategy strategies.Strategy
	// StrategyLabel is the strategy with its parameters: "pool(workers=8)".
	StrategyLabel string
	// Name is the benchmark name: "BenchmarkMandelbrot/width=1024/.../strategy=pool(workers=8)-2".
	Name string
	// Serve is set on the cells of the serve workload, whose rounds run
	// the strategy's server model under a load generator instead of a
	// batch of tasks (see ServeCell); nil on every other cell.
	Serve *ServeCell
}

// Plan is the list of cells in the order one round runs them: grouped by
// spec, strategies in registry order within a spec.
type Plan struct {
	Cells []*Cell
	// Skipped names what was left out, with why: strategies that cannot
	// run here, opt-in strategies and the serve workload that were not
	// named, strategies without a server model in serve cells.
	Skipped []string
}

// ErrServeOnly is wrapped by NewPlan's error for a serve-only strategy
// (strategies.Definition.ServeOnly) named in a selection without a serve
// workload: it has nothing to run. It wraps strategies.ErrUnavailable.
var ErrServeOnly = fmt.Errorf("%w: it runs only in serve cells", strategies.ErrUnavailable)

// NewPlan resolves a selection: it validates every name and parameter first
// (so a typo fails before any work), then builds the specs with their
// reference results. Serve-only strategies get no batch cells; strategies
// without a server model get no serve cells (Plan.Skipped says which).
func NewPlan(sel Selection) (*Plan, error) {
	plan := &Plan{}
	wdefs, err := lookupWorkloads(sel.Workloads)
	if err != nil {
		return nil, err
	}
	if len(sel.Workloads) == 0 {
		plan.Skipped = append(plan.Skipped, fmt.Sprintf("workload %s (serve mode: each strategy as a web server under open-loop load) "+
			"runs only when named with --workloads %s", workloads.ServeWorkload, workloads.ServeWorkload))
	}
	for name := range sel.WorkloadParams {
		if _, err := workloads.Lookup(name); err != nil {
			return nil, fmt.Errorf("workload parameters: %w", err)
		}
	}
	for name := range sel.StrategyParams {
		if _, err := strategies.Lookup(name); err != nil {
			return nil, fmt.Errorf("strategy parameters: %w", err)
		}
	}
	serving := slices.ContainsFunc(wdefs, isServe)
	batching := slices.ContainsFunc(wdefs, func(d *workloads.Definition) bool { return !isServe(d) })
	insts, err := instances(sel, serving, batching, plan)
	if err != nil {
		return nil, err
	}
	// Validate every workload's values before building anything: building
	// computes references, which takes time a typo should not cost.
	type build struct {
		def *workloads.Definition
		v   params.Values
	}
	var builds []build
	for _, d := range wdefs {
		base := d.Matrix
		if sel.Quick {
			base = merge(d.Matrix, d.Quick)
		}
		for _, v := range params.Expand(merge(base, sel.WorkloadParams[d.Name])) {
			if _, err := params.Resolve(d.Params, v); err != nil {
				return nil, fmt.Errorf("workload %s: %w", d.Name, err)
			}
			builds = append(builds, build{d, v})
		}
	}
	for _, b := range builds {
		spec, err := b.def.Build(b.v)
		if err != nil {
			return nil, err
		}
		settings, serves := workloads.ServeSettingsOf(spec)
		for _, in := range insts {
			if (in.server != nil) != serves {
				continue
			}
			c := &Cell{Spec: spec, Strategy: in.s, StrategyLabel: in.label, Name: CellName(spec, in.label)}
			if serves {
				c.Serve = &ServeCell{Server: in.server, Settings: settings, MaxConns: in.maxConns, Load: sel.LoadGenerator}
			}
			plan.Cells = append(plan.Cells, c)
		}
	}
	return plan, nil
}

// A strategyInstance is a strategy made with one combination of its parameters:
// for batch cells, or (server set) for serve cells.
type strategyInstance struct {
	s        strategies.Strategy
	label    string
	server   serve.Server // the server model, configured; nil for batch cells
	maxConns int          // the server model's serve.ConnLimit, 0: none
}

// instances makes every selected strategy with every combination of its
// values, in registry order: a batch instance when batching (not for a
// serve-only strategy), a serve instance when serving (for a strategy with
// a server model). It notes what it leaves out in plan.Skipped.
func instances(sel Selection, serving, batching bool, plan *Plan) ([]strategyInstance, error) {
	sdefs, err := lookupStrategies(sel.Strategies)
	if err != nil {
		return nil, err
	}
	named := len(sel.Strategies) > 0
	var batch, served []strategyInstance
	var optedOut, cannotServe []string
	seen := map[string]bool{} // batch labels: a sweep of serve-only values repeats them
	for _, d := range sdefs {
		if d.OptIn && !named {
			optedOut = append(optedOut, d.Name)
			continue
		}
		if d.ServeOnly && !serving {
			if named {
				return nil, fmt.Errorf("strategy %s: %w: select --workloads %s", d.Name, ErrServeOnly, workloads.ServeWorkload)
			}
			continue
		}
		if err := d.CheckAvailable(); err != nil {
			if named {
				return nil, err // asked for by name: say why it cannot run
			}
			plan.Skipped = append(plan.Skipped, err.Error())
			continue
		}
		for _, v := range params.Expand(sel.StrategyParams[d.Name]) {
			own, serveOnly := splitValues(d, v)
			s, set, err := d.New(own)
			if err != nil {
				return nil, err
			}
			if err := checkServeValues(d, s, serveOnly, serving); err != nil {
				return nil, err
			}
			label := strategies.Label(d.Name, set)
			if batching && !d.ServeOnly && !seen[label] {
				seen[label] = true
				batch = append(batch, strategyInstance{s: s, label: label})
			}
			if !serving {
				continue
			}
			srv, serveSet, err := serve.Configure(s, serveOnly)
			switch {
			case errors.Is(err, serve.ErrCannotServe):
				if !slices.Contains(cannotServe, d.Name) {
					cannotServe = append(cannotServe, d.Name)
				}
				continue
			case err != nil:
				return nil, fmt.Errorf("strategy %s: %w", d.Name, err)
			}
			served = append(served, strategyInstance{s: s, label: strategies.Label(d.Name, append(slices.Clip(set), serveSet...)),
				server: srv, maxConns: maxConnsOf(srv, s)})
		}
	}
	if len(optedOut) > 0 {
		plan.Skipped = append(plan.Skipped, fmt.Sprintf("opt-in strategies run only when named with --strategies: %s", strings.Join(optedOut, ", ")))
	}
	if len(cannotServe) > 0 {
		plan.Skipped = append(plan.Skipped, fmt.Sprintf("no server model, so no %s cells: %s", workloads.ServeWorkload, strings.Join(cannotServe, ", ")))
	}
	return append(batch, served...), nil
}

// splitValues splits a strategy's values into its own parameters' and the
// rest, which may be its server model's serve-only parameters.
func splitValues(d *strategies.Definition, v params.Values) (own, rest params.Values) {
	own, rest = params.Values{}, params.Values{}
	for name, value := range v {
		if slices.ContainsFunc(d.Params, func(p params.Spec) bool { return p.Name == name }) {
			own[name] = value
		} else {
			rest[name] = value
		}
	}
	return own, rest
}

// checkServeValues refuses values that are neither the strategy's own
// parameters nor its server model's serve-only ones (naming both kinds as
// the valid ones), and serve-only values in a selection without a serve
// workload.
func checkServeValues(d *strategies.Definition, s strategies.Strategy, serveOnly params.Values, serving bool) error {
	if len(serveOnly) == 0 {
		return nil
	}
	var specs []params.Spec
	if t, ok := s.(serve.Tunable); ok {
		specs = t.ServeParams()
	}
	names := make([]string, 0, len(serveOnly))
	for name := range serveOnly {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.ContainsFunc(specs, func(p params.Spec) bool { return p.Name == name }) {
			return fmt.Errorf("strategy %s: %w %q (valid: %s)", d.Name, params.ErrUnknown, name,
				params.Names(append(slices.Clip(d.Params), specs...)))
		}
	}
	if !serving {
		return fmt.Errorf("strategy %s: %w: %s is a parameter of its server model: it applies to --workloads %s",
			d.Name, params.ErrInvalid, names[0], workloads.ServeWorkload)
	}
	return nil
}

// maxConnsOf returns the bound on connections served at once of a server
// model (serve.ConnLimit), asked of the server and then of the strategy
// that made it; 0 when neither has one.
func maxConnsOf(srv serve.Server, s strategies.Strategy) int {
	if l, ok := srv.(serve.ConnLimit); ok {
		return l.MaxConns()
	}
	if l, ok := s.(serve.ConnLimit); ok {
		return l.MaxConns()
	}
	return 0
}

func isServe(d *workloads.Definition) bool { return d.Class == workloads.ClassServe }

// CellName is the Go benchmark name of a cell.
func CellName(spec *workloads.Spec, strategyLabel string) string {
	var b strings.Builder
	b.WriteString("Benchmark")
	b.WriteString(strings.ToUpper(spec.Workload[:1]) + spec.Workload[1:])
	for _, kv := range spec.Params {
		fmt.Fprintf(&b, "/%s=%s", kv.Name, kv.Value)
	}
	fmt.Fprintf(&b, "/strategy=%s-%d", strategyLabel, runtime.GOMAXPROCS(0))
	return b.String()
}

func merge(base, over params.Values) params.Values {
	out := params.Values{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// lookupWorkloads returns the named workloads; none named means all but
// serve mode's, whose load on every strategy's server takes minutes.
func lookupWorkloads(names []string) ([]*workloads.Definition, error) {
	if len(names) == 0 {
		return slices.DeleteFunc(workloads.All(), isServe), nil
	}
	var out []*workloads.Definition
	for _, n := range names {
		d, err := workloads.Lookup(n)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func lookupStrategies(names []string) ([]*strategies.Definition, error) {
	if len(names) == 0 {
		return strategies.All(), nil
	}
	var out []*strategies.Definition
	for _, n := range names {
		d, err := strategies.Lookup(n)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
