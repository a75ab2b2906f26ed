package harness

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// Selection chooses the matrix. Empty lists mean every workload and every
// available strategy. Param values may be comma-separated sweeps.
type Selection struct {
	Workloads      []string
	Strategies     []string
	WorkloadParams map[string]params.Values // by workload name
	StrategyParams map[string]params.Values // by strategy name
	// Quick uses each workload's quick values instead of its matrix values.
	Quick bool
}

// Cell is one workload spec run by one strategy instance.
type Cell struct {
	Spec     *workloads.Spec
	Strategy strategies.Strategy
	// StrategyLabel is the strategy with its parameters: "pool(workers=8)".
	StrategyLabel string
	// Name is the benchmark name: "BenchmarkMandelbrot/width=1024/.../strategy=pool(workers=8)-2".
	Name string
}

// Plan is the list of cells in the order one round runs them: grouped by
// spec, strategies in registry order within a spec.
type Plan struct {
	Cells []*Cell
	// Skipped names strategies left out because they cannot run here, with why.
	Skipped []string
}

// NewPlan resolves a selection: it validates every name and parameter first
// (so a typo fails before any work), then builds the specs with their
// reference results.
func NewPlan(sel Selection) (*Plan, error) {
	wdefs, err := lookupWorkloads(sel.Workloads)
	if err != nil {
		return nil, err
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
	plan := &Plan{}
	type instance struct {
		s     strategies.Strategy
		label string
	}
	var insts []instance
	sdefs, err := lookupStrategies(sel.Strategies)
	if err != nil {
		return nil, err
	}
	var optedOut []string
	for _, d := range sdefs {
		if d.OptIn && len(sel.Strategies) == 0 {
			optedOut = append(optedOut, d.Name)
			continue
		}
		if err := d.CheckAvailable(); err != nil {
			if len(sel.Strategies) > 0 {
				return nil, err // asked for by name: say why it cannot run
			}
			plan.Skipped = append(plan.Skipped, err.Error())
			continue
		}
		for _, v := range params.Expand(sel.StrategyParams[d.Name]) {
			s, set, err := d.New(v)
			if err != nil {
				return nil, err
			}
			insts = append(insts, instance{s, strategies.Label(d.Name, set)})
		}
	}
	if len(optedOut) > 0 {
		plan.Skipped = append(plan.Skipped, fmt.Sprintf("opt-in strategies run only when named with --strategies: %s", strings.Join(optedOut, ", ")))
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
		for _, in := range insts {
			plan.Cells = append(plan.Cells, &Cell{Spec: spec, Strategy: in.s, StrategyLabel: in.label,
				Name: CellName(spec, in.label)})
		}
	}
	return plan, nil
}

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

func lookupWorkloads(names []string) ([]*workloads.Definition, error) {
	if len(names) == 0 {
		return workloads.All(), nil
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
