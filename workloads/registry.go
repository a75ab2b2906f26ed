package workloads

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/concbench/concbench/params"
)

// ErrUnknownWorkload is wrapped by Lookup for a name no workload has.
var ErrUnknownWorkload = errors.New("unknown workload")

// Class groups workloads by what bounds them.
type Class string

const (
	ClassCPU   Class = "cpu"   // compute steps only
	ClassIO    Class = "io"    // dominated by fetch steps
	ClassMixed Class = "mixed" // fetches and real CPU work per task
)

// Definition describes a workload and builds its specs.
type Definition struct {
	Name    string
	Summary string
	Class   Class
	Params  []params.Spec
	// Matrix are the parameter values of the default matrix (make bench),
	// sweeps included ("cpu=0,50us,500us"); Quick are those of the quick
	// matrix (make bench-quick). Both override defaults as user values do,
	// and a user's value for the same parameter overrides them.
	Matrix, Quick params.Values
	// build makes the tasks and input from resolved parameters; Build adds
	// the reference results. Unexported: only this package defines
	// workloads (see register).
	build func(p params.Set) (*Spec, error)
}

// Build resolves v against the workload's parameters, builds the spec and
// computes its scalar reference results.
func (d *Definition) Build(v params.Values) (*Spec, error) {
	set, err := params.Resolve(d.Params, v)
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", d.Name, err)
	}
	spec, err := d.build(set)
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", d.Name, err)
	}
	spec.Workload, spec.Params = d.Name, set
	if err := spec.measureReference(); err != nil {
		return nil, err
	}
	return spec, nil
}

var registry = map[string]*Definition{}

// register adds a workload. It panics on a duplicate name: registration
// happens in init functions, where a duplicate is a programming error.
//
// The registry is closed: every workload is defined in this package, next
// to the scalar reference kernels its steps run ([Kernel] is a closed set
// that every strategy's [Kernels] implements, so a workload from elsewhere
// could not bring a kernel of its own). Other packages look workloads up
// and build them; they do not add any.
func register(d *Definition) {
	if _, dup := registry[d.Name]; dup {
		panic("workloads: duplicate workload " + d.Name)
	}
	registry[d.Name] = d
}

// Lookup returns the workload called name, or an error listing the valid names.
func Lookup(name string) (*Definition, error) {
	if d, ok := registry[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownWorkload, name, strings.Join(Names(), ", "))
}

// All returns every registered workload, sorted by name.
func All() []*Definition {
	out := make([]*Definition, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the sorted names of every registered workload.
func Names() []string {
	var names []string
	for _, d := range All() {
		names = append(names, d.Name)
	}
	return names
}
